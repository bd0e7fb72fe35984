//! The trade-details CSV (docs/INFINIA.md "Trade-details file"): one row per sale, return or
//! exchange. [`apply`] validates a whole file row by row against the app's state, keeps the good
//! rows (trades and the seller revenue they earn) and reports the bad ones with their row number,
//! column and reason. Pure: no I/O, no clock. It is two steps, so that the costly one needs no
//! lock: [`parse`] reads the file and checks every cell on its own (no state), and
//! [`Parsed::apply`] checks what needs the app's state (a tradeNo already taken, the sale a
//! RETURN or EXCHANGE names, the seller's earned revenue) and keeps the good rows.

use std::collections::BTreeMap;

use crate::clock::format;
use crate::money::{Currency, Money, MoneyError, MoneyErrorKind, MAX_MINOR};
use crate::store::infinia::{InfiniaState, Trade, TradeType, UploadStatus};
use crate::text::{bound, echo, message, ECHO_BYTES};

/// Every column, in the documented order; the last two are optional.
pub const COLUMNS: &[&str] = &[
    "tradeNo",
    "tradeType",
    "orderNo",
    "sellerId",
    "originalTradeNo",
    "tradeTime",
    "currency",
    "amount",
    "productName",
    "quantity",
];
const OPTIONAL_COLUMNS: &[&str] = &["productName", "quantity"];
const MAX_ID: usize = 64;

/// The longest name, in characters, of a file in `/upload`: the most `trade-details/query` takes
/// as its `fileName`, so SFTP refuses a longer new name (`sftp::paths::refused_name`) and every
/// upload can be queried. One definition for both.
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// What `trade-details/query` says of a temporary name (`w.csv.part`, `.w.csv`): never processed.
pub use super::paths::temporary_name_hint;

/// One problem: the file's row (the header is row 1: [`numbered_rows`]), the column, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: u64,
    pub trade_no: String,
    pub column: String,
    pub reason: String,
}

/// What processing a file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: UploadStatus,
    pub total_rows: u64,
    pub success_rows: u64,
    pub failed_rows: u64,
    pub errors: Vec<RowError>,
    /// Why the whole file failed.
    pub reason: Option<String>,
}

impl Outcome {
    /// The whole file failed for `reason`.
    pub fn failed(reason: String) -> Self {
        Self {
            status: UploadStatus::Failed,
            total_rows: 0,
            success_rows: 0,
            failed_rows: 0,
            errors: vec![RowError {
                row: 1,
                trade_no: String::new(),
                column: "-".into(),
                reason: reason.clone(),
            }],
            reason: Some(reason),
        }
    }

    /// The error file: `rowNumber,tradeNo,column,reason`.
    pub fn error_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(["rowNumber", "tradeNo", "column", "reason"]);
        for e in &self.errors {
            let row = e.row.to_string();
            let _ = w.write_record([row.as_str(), &e.trade_no, &e.column, &e.reason]);
        }
        w.into_inner().unwrap_or_default()
    }
}

/// The data rows of an uploaded CSV file, as [`open_csv`] opens it: the reader past the header,
/// and the file's text, so that [`numbered_rows`] can tell a blank line from a row.
pub struct CsvRows<'b> {
    reader: csv::Reader<&'b [u8]>,
    /// The text the reader reads (the byte-order mark skipped): its positions index this.
    bytes: &'b [u8],
}

/// An uploaded CSV file (SFTP trade details, platform trade materials) opened for its rows: a
/// UTF-8 byte-order mark skipped, cells trimmed, and its header row; or why the file as a whole
/// is refused (not UTF-8, a quote never closed, an unreadable or empty header).
pub fn open_csv(bytes: &[u8]) -> Result<(CsvRows<'_>, Vec<String>), String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(format!("the file is not UTF-8 ({})", message(e)));
    }
    if let Some(why) = unclosed_quote(bytes) {
        return Err(why);
    }
    let mut reader = csv_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => return Err(format!("the header row cannot be read: {}", message(e))),
    };
    if header.iter().all(String::is_empty) {
        return Err("the file is empty; the first row must be the header".into());
    }
    Ok((CsvRows { reader, bytes }, header))
}

fn csv_reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes)
}

/// Why the file is refused if a quoted cell is never closed: the CSV reader would take the rest
/// of the file into that cell and report no error, so every row after it would vanish. The
/// whole file is refused (nothing read from it), naming the row and the cell where the quote
/// opens. The scan follows the reader's rules: a quote opens a quoted cell only as the cell's
/// first character, `""` inside it is a quote, and a quote elsewhere is an ordinary character.
fn unclosed_quote(bytes: &[u8]) -> Option<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum At {
        CellStart,
        Cell,
        Quoted,
        QuoteInQuoted,
    }
    let mut at = At::CellStart;
    for &b in bytes {
        let ends = matches!(b, b',' | b'\n' | b'\r');
        at = match at {
            At::CellStart if b == b'"' => At::Quoted,
            At::Quoted if b == b'"' => At::QuoteInQuoted,
            At::Quoted => At::Quoted,
            At::QuoteInQuoted if b == b'"' => At::Quoted,
            _ if ends => At::CellStart,
            _ => At::Cell,
        };
    }
    if at != At::Quoted {
        return None;
    }
    // The cell that holds the rest of the file is the last cell of the last record.
    let mut records = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_reader(bytes)
        .into_records()
        .filter_map(Result::ok);
    let header = records.next().unwrap_or_default();
    let (rows, last) = records.fold((1u64, None), |(n, _), r| (n + 1, Some(r)));
    let fields = last.as_ref().unwrap_or(&header).len().max(1);
    let cell = match header.get(fields - 1) {
        Some(name) if last.is_some() && !name.is_empty() => format!("its {} cell", echo(name)),
        _ => format!("its cell {fields}"),
    };
    let row = match last {
        Some(_) => format!("row {rows}"),
        None => "the header row".into(),
    };
    Some(format!(
        "{row}: the quote that opens {cell} is never closed, so the rest of the file would be \
         read into that one cell; the file was not processed (no row was read): close the quote \
         (a quote inside a quoted cell is written twice: \"\")"
    ))
}

/// The data rows of a file opened by [`open_csv`], each with its row number: the header is row
/// 1, the first data row 2. Rows are CSV records, not lines, so a CRLF or CR-only file counts as
/// an LF one does, a quoted cell with line breaks is inside its one row (the next row is the
/// next number), and a blank line takes no number: an empty one (the reader skips it) and one
/// of only whitespace, which is blank once trimmed as every cell is ([`is_blank`]).
pub fn numbered_rows<'r, 'b>(
    rows: &'r mut CsvRows<'b>,
) -> impl Iterator<Item = (u64, csv::Result<csv::StringRecord>)> + use<'r, 'b> {
    let CsvRows { reader, bytes } = rows;
    let bytes: &'b [u8] = bytes;
    let records = std::iter::from_fn(move || loop {
        let start = reader.position().byte();
        let mut record = csv::StringRecord::new();
        return match reader.read_record(&mut record) {
            Ok(false) => None,
            Ok(true) if is_blank(&record, bytes, start, reader.position().byte()) => continue,
            Ok(true) => Some(Ok(record)),
            Err(e) => Some(Err(e)),
        };
    });
    (2u64..).zip(records)
}

/// Whether `record`, read from `bytes[start..end]`, is a blank line: one cell, empty once
/// trimmed, and not quoted (no `"` in its text). A quoted cell, even one holding only
/// whitespace or line breaks, is a row; so is a line of commas (its cells are several).
fn is_blank(record: &csv::StringRecord, bytes: &[u8], start: u64, end: u64) -> bool {
    let text = usize::try_from(start)
        .ok()
        .zip(usize::try_from(end).ok())
        .and_then(|(start, end)| bytes.get(start..end));
    record.len() == 1 && record.get(0) == Some("") && text.is_some_and(|text| !text.contains(&b'"'))
}

/// `n` and the noun for that many: `1 field`, `2 fields` (also the materials file's wording).
pub(super) fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Validates `bytes` and applies the good rows to `state`: [`parse`], then [`Parsed::apply`].
/// At most `max_error_rows` row errors are listed (the error file would otherwise grow with
/// every bad row, to many times the upload); the rest are counted in a last line. No bound on
/// the app's accepted trades (SFTP processing gives `[infinia] max_trades`: [`Limits`]).
pub fn apply(
    state: &mut InfiniaState,
    file_name: &str,
    bytes: &[u8],
    max_error_rows: usize,
) -> Outcome {
    let limits = Limits {
        max_error_rows,
        max_trades: usize::MAX,
    };
    parse(bytes).apply(state, file_name, limits)
}

/// The bounds [`Parsed::apply`] keeps to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Row errors listed (`[infinia] sftp_max_error_rows`); the rest are counted in a last line.
    pub max_error_rows: usize,
    /// Accepted trades the app keeps (`[infinia] max_trades`): a file whose good rows would take
    /// the app past it fails as a whole, keeping none of them.
    pub max_trades: usize,
}

/// A trade-details file read and checked as far as it can be without the app's state
/// ([`parse`]); [`Parsed::apply`] finishes the checks against the state and keeps the good rows.
/// Holds no reference to the file, so the file's bytes and the app's lock can be let go between
/// the two steps (SFTP processing parses off the async workers, without the lock).
#[derive(Debug)]
pub struct Parsed {
    /// The data rows, in file order, each with its row number; or why the whole file is refused.
    rows: Result<Vec<(u64, ParsedRow)>, String>,
}

/// One data row as [`parse`] leaves it.
#[derive(Debug)]
enum ParsedRow {
    /// Refused by its shape alone (a field count that is not the header's, an unreadable row):
    /// its tradeNo as the report shows it, and the problems.
    Refused(String, Problems),
    /// Its cells, read and checked each on its own.
    Cells(Box<Cells>),
}

/// A row's cells and the problems each has on its own, in the order [`check_cells`] reports
/// them: `head` (the ids), then the tradeNo's uniqueness (state), then `body` (every other
/// cell, and `originalTradeNo` where its type alone decides), then the checks of its sale and
/// of its seller's earned revenue (state).
#[derive(Debug)]
struct Cells {
    trade_no: String,
    order_no: String,
    seller_id: String,
    original: String,
    trade_time: String,
    trade_type: Option<TradeType>,
    currency: Option<Currency>,
    /// The amount as the cell states it (a RETURN's is not yet turned negative).
    amount: Option<Money>,
    head: Problems,
    body: Problems,
}

/// Reads a trade-details file: its header checked, and every data row read and checked cell by
/// cell, without the app's state (see [`Parsed`]). The costly step of processing a file: the
/// text is read once here.
pub fn parse(bytes: &[u8]) -> Parsed {
    Parsed {
        rows: parse_rows(bytes),
    }
}

fn parse_rows(bytes: &[u8]) -> Result<Vec<(u64, ParsedRow)>, String> {
    let (mut reader, header) = open_csv(bytes)?;
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, name) in header.iter().enumerate() {
        match COLUMNS.iter().find(|c| **c == name) {
            Some(c) if index.insert(c, i).is_some() => {
                return Err(format!("column {} appears twice in the header", echo(name)))
            }
            Some(_) => {}
            None => {
                return Err(format!(
                    "unknown column {} in the header; the columns are {}",
                    echo(name),
                    COLUMNS.join(",")
                ))
            }
        }
    }
    if let Some(missing) = COLUMNS
        .iter()
        .find(|c| !OPTIONAL_COLUMNS.contains(c) && !index.contains_key(**c))
    {
        return Err(format!("the header has no {missing:?} column"));
    }
    let mut rows = Vec::new();
    for (row, record) in numbered_rows(&mut reader) {
        let parsed = match record {
            Ok(r) if r.len() != header.len() => {
                let why = format!(
                    "the row has {}; the header has {}",
                    counted(r.len() as u64, "field", "fields"),
                    header.len()
                );
                let trade_no = index.get("tradeNo").and_then(|i| r.get(*i)).unwrap_or("");
                ParsedRow::Refused(
                    bound(trade_no, ECHO_BYTES).into_owned(),
                    vec![("-".to_owned(), why)],
                )
            }
            Ok(r) => {
                let fields: BTreeMap<&str, &str> = index
                    .iter()
                    .map(|(c, i)| (*c, r.get(*i).unwrap_or("")))
                    .collect();
                ParsedRow::Cells(Box::new(read_cells(&fields)))
            }
            Err(e) => ParsedRow::Refused(
                String::new(),
                vec![("-".into(), format!("unreadable row: {}", message(e)))],
            ),
        };
        rows.push((row, parsed));
    }
    Ok(rows)
}

impl Parsed {
    /// Checks every row against `state` in file order (a row sees the rows accepted before it)
    /// and keeps the good ones ([`apply`]'s second step). `file_name` is kept with each trade.
    /// A good row that would take the app past `limits.max_trades` fails the whole file: what
    /// the rows before it changed is undone ([`Kept::undo`]).
    pub fn apply(self, state: &mut InfiniaState, file_name: &str, limits: Limits) -> Outcome {
        let Limits {
            max_error_rows,
            max_trades,
        } = limits;
        let rows = match self.rows {
            Ok(rows) => rows,
            Err(why) => return Outcome::failed(why),
        };
        let mut out = Outcome {
            status: UploadStatus::Success,
            total_rows: 0,
            success_rows: 0,
            failed_rows: 0,
            errors: Vec::new(),
            reason: None,
        };
        let mut unlisted: u64 = 0;
        let mut kept = Kept::new(state);
        for (row, parsed) in rows {
            out.total_rows += 1;
            let result = match parsed {
                ParsedRow::Refused(trade_no, problems) => Err((trade_no, problems)),
                ParsedRow::Cells(cells) => check_cells(state, *cells, file_name),
            };
            match result {
                Ok(_) if state.trades.len() >= max_trades => {
                    let (held, good) = (state.trades.len() - kept.trades.len(), kept.trades.len());
                    kept.undo(state);
                    return Outcome::failed(format!(
                        "row {row} would take the app's accepted trades past {max_trades} \
                         ([infinia] max_trades): the app holds {} and this file's good rows up to \
                         row {row} are {}; the file was not processed (no row kept): upload fewer \
                         rows, reset the app (POST /__sim/reset) to drop its trades, or raise \
                         [infinia] max_trades",
                        counted(held as u64, "accepted trade", "accepted trades"),
                        good + 1,
                    ));
                }
                Ok(trade) => {
                    out.success_rows += 1;
                    kept.note(state, &trade);
                    accept(state, trade);
                }
                Err((trade_no, problems)) => {
                    out.failed_rows += 1;
                    for (column, reason) in problems {
                        if out.errors.len() < max_error_rows {
                            out.errors.push(RowError {
                                row,
                                trade_no: trade_no.clone(),
                                column,
                                reason,
                            });
                        } else {
                            unlisted += 1;
                        }
                    }
                }
            }
        }
        if unlisted > 0 {
            out.errors.push(RowError {
                row: 0,
                trade_no: String::new(),
                column: "-".into(),
                reason: format!(
                    "… {} not listed (at most {max_error_rows}: [infinia] sftp_max_error_rows)",
                    counted(unlisted, "more error", "more errors")
                ),
            });
        }
        if out.total_rows == 0 {
            return Outcome::failed("the file has a header but no trade rows".into());
        }
        out.status = match (out.success_rows, out.failed_rows) {
            (_, 0) => UploadStatus::Success,
            (0, _) => UploadStatus::Failed,
            _ => UploadStatus::PartiallyFailed,
        };
        out
    }
}

type Problems = Vec<(String, String)>;

/// What the rows of one file accepted so far changed in the app's state, so that a file that
/// fails as a whole after them ([`Limits::max_trades`]) leaves the state as it found it.
struct Kept {
    /// The sellers' earned revenue before the file (a map per seller and currency: small).
    earned: BTreeMap<String, BTreeMap<String, i64>>,
    /// The tradeNos accepted, in order.
    trades: Vec<String>,
    /// Each sale a RETURN or EXCHANGE changed, with its figures before, in order.
    sales: Vec<(String, i64, i64)>,
}

impl Kept {
    fn new(state: &InfiniaState) -> Self {
        Self {
            earned: state.earned.clone(),
            trades: Vec::new(),
            sales: Vec::new(),
        }
    }

    /// Notes what accepting `trade` is about to change.
    fn note(&mut self, state: &InfiniaState, trade: &Trade) {
        self.trades.push(trade.trade_no.clone());
        if let Some(sale) = trade
            .original_trade_no
            .as_ref()
            .and_then(|o| state.trades.get(o))
        {
            self.sales.push((
                sale.trade_no.clone(),
                sale.returned_minor,
                sale.exchanged_minor,
            ));
        }
    }

    /// Takes back every change noted, the latest first.
    fn undo(self, state: &mut InfiniaState) {
        for no in self.trades.iter().rev() {
            state.trades.remove(no);
        }
        for (no, returned, exchanged) in self.sales.into_iter().rev() {
            if let Some(sale) = state.trades.get_mut(&no) {
                sale.returned_minor = returned;
                sale.exchanged_minor = exchanged;
            }
        }
        state.earned = self.earned;
    }
}

/// A required cell left empty: every required column says so alike ("is required"), rather than
/// one the checks of its value would give (`"" is not SALE, …`). `amount` keeps its own wording
/// (`amount "" is empty`), the one every amount reader gives.
const REQUIRED: &str = "is required";

/// Reads a row's cells and checks each on its own, without the app's state: the first step of
/// [`check_cells`] (see [`Cells`] for the order the problems are reported in).
fn read_cells(fields: &BTreeMap<&str, &str>) -> Cells {
    let get = |c: &str| fields.get(c).copied().unwrap_or("");
    let mut head: Problems = Vec::new();
    for c in ["tradeNo", "orderNo", "sellerId"] {
        let v = get(c);
        if v.is_empty() {
            head.push((c.to_owned(), REQUIRED.into()));
        } else if v.chars().count() > MAX_ID {
            head.push((c.to_owned(), format!("is longer than {MAX_ID} characters")));
        }
    }
    let mut p: Problems = Vec::new();
    let mut bad = |c: &str, why: String| p.push((c.to_owned(), why));
    let trade_type = match get("tradeType") {
        "" => {
            bad("tradeType", REQUIRED.into());
            None
        }
        text => match trade_type(text) {
            Ok(t) => Some(t),
            Err(why) => {
                bad("tradeType", why);
                None
            }
        },
    };
    let trade_time = get("tradeTime");
    match format::china_time(trade_time) {
        Ok(_) => {}
        Err(_) if trade_time.is_empty() => bad("tradeTime", REQUIRED.into()),
        Err(format::TimeFault::Shape) => bad(
            "tradeTime",
            format!("{} is not yyyy-MM-dd HH:mm:ss", echo(trade_time)),
        ),
        Err(format::TimeFault::NotCalendar(why)) => bad("tradeTime", why),
    }
    let currency = match get("currency") {
        "" => {
            bad("currency", REQUIRED.into());
            None
        }
        text => match Currency::parse(text) {
            Ok(c) => Some(c),
            Err(e) => {
                bad("currency", message(e));
                None
            }
        },
    };
    // The amount's own problems are told whatever the currency; only the checks that need the
    // currency's precision (its decimal places, the largest amount) wait for a currency.
    let amount = {
        let text = get("amount");
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        // The magnitude in minor units; `None` for a number read without a currency.
        let magnitude = match currency {
            Some(c) => Money::parse(digits, c).map(|m| Some(m.minor)),
            None => unpriced_magnitude(digits),
        };
        match magnitude {
            // As every amount on every surface reads it (`money::Money::parse`), an EXCHANGE's
            // included: a zero has no sign.
            Ok(Some(0)) if negative => {
                bad(
                    "amount",
                    format!(
                        "amount {} is zero written with a minus sign; amounts are written \
                         without one",
                        echo(text)
                    ),
                );
                None
            }
            Ok(_) if negative && trade_type != Some(TradeType::Exchange) => {
                bad(
                    "amount",
                    format!(
                        "amount {} is negative; only an EXCHANGE may be negative",
                        echo(text)
                    ),
                );
                None
            }
            Ok(Some(0)) if trade_type != Some(TradeType::Exchange) => {
                bad("amount", "must be greater than zero".into());
                None
            }
            Ok(minor) => minor
                .zip(currency)
                .map(|(m, c)| Money::new(if negative { -m } else { m }, c)),
            Err(e) => {
                // Named as the cell has it, its sign included (`--1` is no number at all).
                let why = match digits.starts_with('-') {
                    true => format!("amount {text:?} is not a plain decimal number like 100.25"),
                    false => message(e).replacen(&format!("{digits:?}"), &format!("{text:?}"), 1),
                };
                bad("amount", why);
                None
            }
        }
    };
    let quantity = get("quantity");
    if let Some(why) = quantity_problem(quantity) {
        bad("quantity", why);
    }
    if get("productName").chars().count() > 256 {
        bad("productName", "is longer than 256 characters".into());
    }
    let original = get("originalTradeNo");
    match (trade_type, original.is_empty()) {
        (Some(TradeType::Sale), false) => bad("originalTradeNo", "must be empty for a SALE".into()),
        (Some(t @ (TradeType::Return | TradeType::Exchange)), true) => {
            let kind = if t == TradeType::Return {
                "RETURN"
            } else {
                "EXCHANGE"
            };
            bad("originalTradeNo", format!("is required for a {kind}"))
        }
        _ => {}
    }
    Cells {
        trade_no: get("tradeNo").to_owned(),
        order_no: get("orderNo").to_owned(),
        seller_id: get("sellerId").to_owned(),
        original: original.to_owned(),
        trade_time: trade_time.to_owned(),
        trade_type,
        currency,
        amount,
        head,
        body: p,
    }
}

/// Finishes a row's checks against the app's state (the tradeNo not taken, the sale a RETURN or
/// EXCHANGE names, the seller's earned revenue): the trade to keep, or the row's problems.
fn check_cells(
    state: &InfiniaState,
    cells: Cells,
    file_name: &str,
) -> Result<Trade, (String, Problems)> {
    let Cells {
        trade_no,
        order_no,
        seller_id,
        original,
        trade_time,
        trade_type,
        currency,
        amount,
        head: mut p,
        body,
    } = cells;
    if !trade_no.is_empty() && state.trades.contains_key(&trade_no) {
        p.push((
            "tradeNo".into(),
            format!(
                "{} was already accepted (tradeNo must be unique)",
                echo(&trade_no)
            ),
        ));
    }
    p.extend(body);
    let mut bad = |c: &str, why: String| p.push((c.to_owned(), why));
    if let (Some(t @ (TradeType::Return | TradeType::Exchange)), false) =
        (trade_type, original.is_empty())
    {
        match state.trades.get(&original) {
            Some(sale) if sale.trade_type == TradeType::Sale => {
                if sale.seller_id != seller_id {
                    bad(
                        "originalTradeNo",
                        format!("{} belongs to seller {:?}", echo(&original), sale.seller_id),
                    );
                } else if Some(sale.amount.currency) != currency {
                    bad(
                        "currency",
                        format!(
                            "the original sale {} is in {}",
                            echo(&original),
                            sale.amount.currency
                        ),
                    );
                } else if let Some(why) = amount.and_then(|a| takes_too_much(t, a, sale)) {
                    bad("amount", why);
                }
            }
            Some(_) => bad(
                "originalTradeNo",
                format!("{} is not a SALE", echo(&original)),
            ),
            None => bad(
                "originalTradeNo",
                format!(
                    "no accepted SALE with tradeNo {} (earlier rows and files count)",
                    echo(&original)
                ),
            ),
        }
    }
    // What the row adds to the seller's earned revenue: a RETURN takes its amount off.
    let amount = amount.map(|a| match trade_type {
        Some(TradeType::Return) => Money::new(-a.minor, a.currency),
        _ => a,
    });
    if let Some(why) = amount.and_then(|a| past_the_largest(state, &seller_id, a)) {
        bad("amount", why);
    }
    match (trade_type, amount, p.is_empty()) {
        (Some(trade_type), Some(amount), true) => Ok(Trade {
            trade_no,
            trade_type,
            seller_id,
            order_no,
            original_trade_no: (!original.is_empty()).then_some(original),
            trade_time,
            amount,
            returned_minor: 0,
            exchanged_minor: 0,
            file_name: file_name.to_owned(),
        }),
        _ => Err((bound(&trade_no, ECHO_BYTES).into_owned(), p)),
    }
}

/// An amount's magnitude read without its currency (the row's is refused): `Some(0)` for a zero,
/// `None` for another number, or why the text is no amount whatever the currency (empty, not a
/// plain decimal). Its decimal places and size are not judged: their limits are the currency's.
fn unpriced_magnitude(digits: &str) -> Result<Option<i64>, MoneyError> {
    // Any currency reads the text's form alike; only the two checks of its precision differ.
    let stand_in = Currency::parse("USD")?;
    match Money::parse(digits, stand_in) {
        Ok(m) => Ok((m.minor == 0).then_some(0)),
        Err(MoneyError(_, MoneyErrorKind::TooManyPlaces | MoneyErrorKind::TooLarge)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Why a RETURN, or an EXCHANGE that gives money back (a negative one), takes more than is left
/// of its `sale` ([`Trade::left_minor`]: the exchanges before it count), if it does. A SALE, and
/// an EXCHANGE the buyer pays, take nothing.
fn takes_too_much(t: TradeType, amount: Money, sale: &Trade) -> Option<String> {
    let (taken, verb) = match t {
        TradeType::Return => (amount.minor, "returns"),
        TradeType::Exchange if amount.minor < 0 => (amount.minor.saturating_neg(), "gives back"),
        _ => return None,
    };
    let left = sale.left_minor();
    (taken > left).then(|| {
        format!(
            "{verb} {} more than is left of sale {} ({})",
            Money::new(taken, amount.currency).to_decimal_string(),
            echo(&sale.trade_no),
            Money::new(left, amount.currency).to_decimal_string()
        )
    })
}

/// Why a row would take its seller's earned revenue in its currency past the largest amount the
/// simulator holds ([`MAX_MINOR`] minor units, as every amount), if it would: the revenue could
/// then be neither shared nor shown exactly.
fn past_the_largest(state: &InfiniaState, seller_id: &str, amount: Money) -> Option<String> {
    let c = amount.currency;
    let earned = state
        .earned
        .get(seller_id)
        .and_then(|by_currency| by_currency.get(c.code()))
        .copied()
        .unwrap_or(0);
    let total = earned.saturating_add(amount.minor);
    (amount.minor > 0 && total > MAX_MINOR).then(|| {
        format!(
            "would take seller {}'s earned revenue to {} {c}, more than the largest amount the \
             simulator holds, {} {c} (10^15 minor units); the seller has earned {} {c}",
            echo(seller_id),
            Money::new(total, c).to_decimal_string(),
            Money::new(MAX_MINOR, c).to_decimal_string(),
            Money::new(earned, c).to_decimal_string()
        )
    })
}

/// The `tradeType` column: `SALE`, `RETURN` or `EXCHANGE` exactly, as documented; a value that
/// differs only in case is told so rather than read as the word it resembles.
fn trade_type(text: &str) -> Result<TradeType, String> {
    if let Some(t) = TradeType::parse(text) {
        return Ok(t);
    }
    let hint = match TradeType::ALL
        .iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(text))
    {
        Some(t) => format!(" (the case counts: write {t})"),
        None => String::new(),
    };
    Err(format!(
        "{} is not SALE, RETURN or EXCHANGE{hint}",
        echo(text)
    ))
}

/// Keeps an accepted row: its trade, what it takes from or adds to its sale, and the revenue its
/// seller earns.
fn accept(state: &mut InfiniaState, trade: Trade) {
    let sale = trade
        .original_trade_no
        .as_ref()
        .and_then(|o| state.trades.get_mut(o));
    if let Some(sale) = sale {
        match trade.trade_type {
            TradeType::Return => {
                sale.returned_minor = sale.returned_minor.saturating_sub(trade.amount.minor)
            }
            TradeType::Exchange => {
                sale.exchanged_minor = sale.exchanged_minor.saturating_add(trade.amount.minor)
            }
            TradeType::Sale => {}
        }
    }
    let earned = state
        .earned
        .entry(trade.seller_id.clone())
        .or_default()
        .entry(trade.amount.currency.code().to_owned())
        .or_default();
    *earned = earned.saturating_add(trade.amount.minor);
    state.trades.insert(trade.trade_no.clone(), trade);
}

/// The largest `quantity` a row may state: a Java `int`'s largest value, what a Java server
/// reading the column as an integer takes (the vendor documents "a positive whole number" and
/// no bound; docs/FIDELITY.md).
pub const MAX_QUANTITY: u64 = i32::MAX as u64;

/// Why a `quantity` cell is refused, if it is: digits only (no sign, as an amount has none
/// either), at least 1 and at most [`MAX_QUANTITY`]; an empty cell is no quantity.
fn quantity_problem(cell: &str) -> Option<String> {
    if cell.is_empty() {
        return None;
    }
    if !cell.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!(
            "{} is not a positive whole number (digits only, like 3)",
            echo(cell)
        ));
    }
    match cell.parse::<u64>() {
        Ok(0) => Some(format!("{} must be at least 1", echo(cell))),
        Ok(n) if n <= MAX_QUANTITY => None,
        _ => Some(format!(
            "{} is too large: at most {MAX_QUANTITY}",
            echo(cell)
        )),
    }
}

#[cfg(test)]
mod tests;

/// Regression: a quoted cell never closed took the rest of the file into it without an error, so
/// the upload ended SUCCESS with the rows after it silently lost.
#[cfg(test)]
mod unclosed_quote_tests {
    use super::*;

    const HEADER: &str = "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount,quantity,productName";

    #[test]
    fn an_unclosed_quote_fails_the_whole_file_naming_its_row_and_cell() {
        for end in ["\n", "\r\n"] {
            let rows = [
                HEADER,
                "Q1,SALE,O1,S1,,2025-01-01 10:00:00,USD,10.00,1,\"Phone case",
                "Q2,SALE,O2,S1,,2025-01-01 11:00:00,USD,20.00,1,Earbuds",
                "Q3,SALE,O3,S1,,2025-01-01 12:00:00,USD,30.00,1,Watch",
            ];
            let text = rows.join(end) + end;
            let mut state = InfiniaState::default();
            let out = apply(&mut state, "uq.csv", text.as_bytes(), 1000);
            assert_eq!(out.status, UploadStatus::Failed, "{end:?}");
            assert_eq!((out.total_rows, out.success_rows), (0, 0));
            let why = out.reason.unwrap_or_default();
            assert!(why.starts_with("row 2: "), "{why}");
            assert!(why.contains("quote"), "{why}");
            assert!(why.contains("\"productName\""), "{why}");
            assert!(why.contains("never closed"), "{why}");
            assert!(state.trades.is_empty(), "nothing is applied");
        }
    }

    #[test]
    fn an_unclosed_quote_in_a_middle_cell_is_named_not_counted_as_fields() {
        let text = format!(
            "{HEADER}\nQ1,SALE,O1,S1,,2025-01-01 10:00:00,USD,10.00,1,Case\n\
             Q2,SALE,\"O2,S1,,2025-01-01 11:00:00,USD,20.00,1,Earbuds\n\
             Q3,SALE,O3,S1,,2025-01-01 12:00:00,USD,30.00,1,Watch\n"
        );
        let out = apply(&mut InfiniaState::default(), "f.csv", text.as_bytes(), 1000);
        assert_eq!(out.status, UploadStatus::Failed);
        let why = out.reason.unwrap_or_default();
        assert!(why.starts_with("row 3: "), "{why}");
        assert!(why.contains("\"orderNo\""), "{why}");
        assert!(!why.contains("fields"), "{why}");
    }

    #[test]
    fn an_unclosed_quote_in_the_header_is_named() {
        let text = "tradeNo,\"tradeType\nQ1,SALE\n";
        let out = apply(&mut InfiniaState::default(), "f.csv", text.as_bytes(), 1000);
        let why = out.reason.unwrap_or_default();
        assert!(why.starts_with("the header row: "), "{why}");
        assert!(why.contains("never closed"), "{why}");
    }

    #[test]
    fn closed_and_literal_quotes_are_read_as_before() {
        let text = format!(
            "\u{feff}{HEADER}\r\n\
             Q1,SALE,O1,S1,,2025-01-01 10:00:00,USD,10.00,1,\"Case, \"\"red\"\"\"\r\n\
             Q2,SALE,O2,S1,,2025-01-01 11:00:00,USD,20.00,1,12\" ruler\r\n\
             Q3,SALE,O3,S1,,2025-01-01 12:00:00,USD,30.00,1,\"two\nlines\"x\"\r\n\
             Q4,SALE,O4,S1,,2025-01-01 12:00:00,USD,30.00,1, \"spaced"
        );
        let mut state = InfiniaState::default();
        let out = apply(&mut state, "f.csv", text.as_bytes(), 1000);
        assert_eq!(out.reason, None);
        assert_eq!(
            (out.total_rows, out.success_rows),
            (4, 4),
            "{:?}",
            out.errors
        );
    }
}

/// Regression: an app's accepted trades had no bound (upload, process, remove, upload new
/// tradeNos …), and every one is held in memory, in the data dir and in each restart's checks.
/// A file whose good rows would take the app past `[infinia] max_trades` fails as a whole,
/// keeping none of its rows and changing nothing its rows before that one changed.
#[cfg(test)]
mod limit_tests {
    use super::*;

    const HEADER: &str =
        "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount";

    fn file(rows: &[&str]) -> Vec<u8> {
        format!("{HEADER}\n{}\n", rows.join("\n")).into_bytes()
    }

    fn limited(max_trades: usize) -> Limits {
        Limits {
            max_error_rows: 1000,
            max_trades,
        }
    }

    #[test]
    fn a_file_past_the_trade_limit_fails_as_a_whole_and_changes_nothing() {
        let mut state = InfiniaState::default();
        let first = file(&[
            "A1,SALE,O1,S1,,2025-01-01 10:00:00,USD,100.00",
            "A2,SALE,O2,S1,,2025-01-01 10:00:00,USD,50.00",
        ]);
        let out = parse(&first).apply(&mut state, "a.csv", limited(4));
        assert_eq!((out.status, out.success_rows), (UploadStatus::Success, 2));
        let before = format!("{:?}{:?}", *state.trades, state.earned);
        // A bad row does not count; the third good row would be the app's fifth trade.
        let second = file(&[
            "R1,RETURN,O1,S1,A1,2025-01-02 10:00:00,USD,10.00",
            "X1,EXCHANGE,O1,S1,A1,2025-01-02 10:00:00,USD,5.00",
            "B1,SALE,O3,S1,,bad time,USD,1.00",
            "B2,SALE,O4,S2,,2025-01-02 10:00:00,EUR,1.00",
        ]);
        let out = parse(&second).apply(&mut state, "b.csv", limited(4));
        assert_eq!(out.status, UploadStatus::Failed);
        assert_eq!(
            (out.total_rows, out.success_rows, out.failed_rows),
            (0, 0, 0)
        );
        let why = out.reason.unwrap_or_default();
        assert_eq!(
            why,
            "row 5 would take the app's accepted trades past 4 ([infinia] max_trades): the app \
             holds 2 accepted trades and this file's good rows up to row 5 are 3; the file was \
             not processed (no row kept): upload fewer rows, reset the app (POST /__sim/reset) to \
             drop its trades, or raise [infinia] max_trades"
        );
        assert_eq!(out.errors.len(), 1, "the error file says why");
        assert_eq!(
            format!("{:?}{:?}", *state.trades, state.earned),
            before,
            "the rows before it are taken back: trades, the sale's figures, earned revenue"
        );
        // Within the limit, the same rows are kept.
        let out = parse(&second).apply(&mut state, "b.csv", limited(5));
        assert_eq!(
            (out.status, out.success_rows, out.failed_rows),
            (UploadStatus::PartiallyFailed, 3, 1)
        );
        assert_eq!(state.trades.len(), 5);
        assert_eq!(state.trades["A1"].returned_minor, 1_000);
        // Full: the next good row fails its file; a file of only bad rows still reports them.
        let out = parse(&file(&["C1,SALE,O5,S1,,2025-01-03 10:00:00,USD,1.00"])).apply(
            &mut state,
            "c.csv",
            limited(5),
        );
        assert_eq!(out.status, UploadStatus::Failed);
        assert!(out
            .reason
            .unwrap_or_default()
            .contains("the app holds 5 accepted trades"));
        let out = parse(&file(&["A1,SALE,O5,S1,,2025-01-03 10:00:00,USD,1.00"])).apply(
            &mut state,
            "d.csv",
            limited(5),
        );
        assert_eq!(
            (out.status, out.failed_rows, out.reason),
            (UploadStatus::Failed, 1, None)
        );
        assert_eq!(state.trades.len(), 5);
    }
}
