use super::*;

const SAMPLE: &str = include_str!("../../../samples/infinia-trade-details.csv");

/// The header of a trade-details file with the eight columns a trade row needs.
const HEADER8: &str =
    "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount";

fn earned(state: &InfiniaState, seller: &str) -> i64 {
    state.earned[seller]["USD"]
}

/// The rows `out` counted: all of them, those that succeeded, those that failed.
fn counts(out: &Outcome) -> (u64, u64, u64) {
    (out.total_rows, out.success_rows, out.failed_rows)
}

/// The reason of the first error listed for `row` (the test fails when there is none).
fn reason_at(out: &Outcome, row: u64) -> String {
    match out.errors.iter().find(|e| e.row == row) {
        Some(e) => e.reason.clone(),
        None => panic!("no error listed for row {row}: {:?}", out.errors),
    }
}

/// The reason of the last error listed ("… N more errors not listed" past the limit).
fn last_reason(out: &Outcome) -> String {
    out.errors
        .last()
        .map(|e| e.reason.clone())
        .unwrap_or_default()
}

#[test]
fn the_sample_file_is_valid() {
    let mut state = InfiniaState::default();
    let out = apply(&mut state, "sample.csv", SAMPLE.as_bytes(), 1000);
    assert_eq!(out.status, UploadStatus::Success, "{:?}", out.errors);
    assert_eq!(counts(&out), (5, 5, 0));
    // 120.00 + 80.50 - 60.00 + 5.00 for one seller, 300.00 for the other.
    assert_eq!(earned(&state, "SELLER-123456"), 14_550);
    assert_eq!(earned(&state, "SELLER-654321"), 30_000);
    assert_eq!(state.trades["T20250101-0001"].returned_minor, 6_000);
}

/// `tradeType` is `SALE`, `RETURN` or `EXCHANGE` exactly (docs/INFINIA.md); a row that differs
/// only in case is refused with a reason that says so.
#[test]
fn trade_types_are_case_sensitive() {
    let mut state = InfiniaState::default();
    let text = format!(
        "{HEADER8}\n\
        C1,sale,O1,S1,,2025-01-01 10:00:00,USD,10.00\n\
        C2,Refund,O2,S1,,2025-01-01 10:00:00,USD,10.00\n\
        C3,SALE,O3,S1,,2025-01-01 10:00:00,USD,10.00\n"
    );
    let out = apply(&mut state, "f.csv", text.as_bytes(), 1000);
    assert_eq!((out.success_rows, out.failed_rows), (1, 2));
    let reason = |row: u64| {
        let e = out.errors.iter().find(|e| e.row == row).unwrap();
        assert_eq!(e.column, "tradeType");
        reason_at(&out, row)
    };
    assert_eq!(
        reason(2),
        "\"sale\" is not SALE, RETURN or EXCHANGE (the case counts: write SALE)"
    );
    assert_eq!(reason(3), "\"Refund\" is not SALE, RETURN or EXCHANGE");
    assert_eq!(earned(&state, "S1"), 1000);
}

#[test]
fn bad_rows_are_reported_with_row_column_and_reason() {
    let mut state = InfiniaState::default();
    let text = format!(
        "{HEADER8}\n\
        A1,SALE,O1,S1,,2025-01-01 10:00:00,USD,10.00\n\
        A2,REFUND,O2,S1,,2025-01-01 10:00:00,USD,10.00\n\
        A3,RETURN,O1,S1,A1,2025-01-01 10:00:00,USD,11.00\n\
        A1,SALE,O3,S1,,2025/01/01,XXX,1\n\
        A4,RETURN,O1,S1,A1,2025-01-01 10:00:00,USD,4.00\n\
        A5,SALE,O5,S1,,2025-01-01 10:00:00,USD,1.001\n"
    );
    let out = apply(&mut state, "f.csv", text.as_bytes(), 1000);
    assert_eq!(out.status, UploadStatus::PartiallyFailed);
    assert_eq!(counts(&out), (6, 2, 4));
    let at = |row: u64| {
        out.errors
            .iter()
            .filter(move |e| e.row == row)
            .map(|e| e.column.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(at(3), ["tradeType"]);
    assert_eq!(at(4), ["amount"]);
    assert_eq!(at(5), ["tradeNo", "tradeTime", "currency"]);
    assert_eq!(at(7), ["amount"]);
    assert!(out.errors.iter().any(|e| e
        .reason
        .contains("more than is left of sale \"A1\" (10.00)")));
    assert_eq!(earned(&state, "S1"), 600);
    let csv = String::from_utf8(out.error_csv()).unwrap();
    assert!(
        csv.starts_with("rowNumber,tradeNo,column,reason\n3,A2,tradeType,"),
        "{csv}"
    );
}

#[test]
fn whole_file_failures() {
    let mut state = InfiniaState::default();
    for (text, why) in [
        ("", "empty"),
        ("tradeNo,tradeType\n", "no \"orderNo\" column"),
        ("tradeNo,colour\n", "unknown column \"colour\""),
        (&COLUMNS.join(",")[..], "no trade rows"),
    ] {
        let out = apply(&mut state, "f.csv", text.as_bytes(), 1000);
        assert_eq!(out.status, UploadStatus::Failed, "{text}");
        assert!(
            out.reason.as_deref().unwrap().contains(why),
            "{:?}",
            out.reason
        );
    }
    let out = apply(&mut state, "f.csv", b"\xff\xfe", 1000);
    assert!(out.reason.unwrap().contains("not UTF-8"));
    assert!(state.trades.is_empty());
}

#[test]
fn a_file_of_only_bad_rows_failed() {
    let mut state = InfiniaState::default();
    let text = format!("{}\nB1,SALE,O1,S1,,2025-01-01 10:00:00,USD,-1,,\nB2,SALE,O1,S1,,2025-01-01 10:00:00,USD,1,,x\nB3,SALE\n", COLUMNS.join(","));
    let out = apply(&mut state, "f.csv", text.as_bytes(), 1000);
    assert_eq!(out.status, UploadStatus::Failed);
    assert_eq!(out.failed_rows, 3);
    assert!(out
        .errors
        .iter()
        .any(|e| e.row == 4 && e.reason.contains("2 fields")));
}

/// A file of many bad rows lists at most `max_error_rows` errors and counts the rest, so the
/// error file stays small however many rows are bad; every row is still counted as failed.
#[test]
fn row_errors_are_listed_up_to_the_limit_and_the_rest_counted() {
    let mut state = InfiniaState::default();
    let mut text = COLUMNS.join(",");
    let empty_row = ",".repeat(COLUMNS.len() - 1);
    for _ in 0..500 {
        text.push('\n');
        text.push_str(&empty_row);
    }
    let unbounded = apply(&mut state, "f.csv", text.as_bytes(), usize::MAX);
    assert!(unbounded.errors.len() > 500, "{}", unbounded.errors.len());
    let out = apply(&mut state, "f.csv", text.as_bytes(), 10);
    assert_eq!(out.failed_rows, 500);
    assert_eq!(out.errors.len(), 11);
    let last = last_reason(&out);
    let expected_more = unbounded.errors.len() - 10;
    assert!(
        last.contains(&format!("{expected_more} more errors not listed")),
        "{last}"
    );
    assert!(last.contains("sftp_max_error_rows"), "{last}");
    assert!(out.error_csv().len() * 20 < unbounded.error_csv().len());
}

/// Regression: `rowNumber` was the CSV line of the record's end, so a CRLF file reported a row
/// one line early and a CR-only file reported every row as 1. Rows are records: the header is
/// 1, the first trade row 2, whatever the line ends; a quoted cell with a line break stays in
/// its row, and a blank line takes no number.
#[test]
fn row_numbers_count_records_whatever_the_line_ends() {
    let rows = [
        HEADER8,
        "R1,SALE,O1,S1,,2025-01-01 10:00:00,USD,10.00",
        "",
        "R2,SALE,\"O\n2\",S1,,yesterday,USD,5.00",
        "R3,SALE,O3,S1,,2025-01-01 10:00:00,XXX,5.00",
    ];
    for end in ["\n", "\r\n", "\r"] {
        let text = rows.join(end) + end;
        let out = apply(&mut InfiniaState::default(), "f.csv", text.as_bytes(), 1000);
        let found: Vec<_> = out
            .errors
            .iter()
            .map(|e| (e.row, e.trade_no.as_str()))
            .collect();
        assert_eq!(found, [(3, "R2"), (4, "R3")], "line end {end:?}");
    }
}

/// Regression: an EXCHANGE amount's refusal quoted the cell without its first minus sign
/// (`--1` as `"-1"`, called negative; `-1.001` as `"1.001"`).
#[test]
fn a_refused_amount_is_quoted_as_the_cell_has_it() {
    let mut state = InfiniaState::default();
    let text = format!(
        "{HEADER8}\n\
        E0,SALE,O1,S1,,2025-01-01 10:00:00,USD,10.00\n\
        E1,EXCHANGE,O1,S1,E0,2025-01-01 10:00:00,USD,--1\n\
        E2,EXCHANGE,O1,S1,E0,2025-01-01 10:00:00,USD,-1.001\n\
        E3,SALE,O2,S1,,2025-01-01 10:00:00,USD,-1.50\n"
    );
    let out = apply(&mut state, "f.csv", text.as_bytes(), 1000);
    assert_eq!((out.success_rows, out.failed_rows), (1, 3));
    let reason = |row: u64| reason_at(&out, row);
    assert_eq!(
        reason(5),
        "amount \"-1.50\" is negative; only an EXCHANGE may be negative"
    );
    assert_eq!(
        reason(3),
        "amount \"--1\" is not a plain decimal number like 100.25"
    );
    assert_eq!(
        reason(4),
        "amount \"-1.001\" has 3 decimal places; USD has 2"
    );
}

/// Regression (t54b F9): a zero with a minus sign was a "negative" SALE and an accepted EXCHANGE
/// of nothing; every other amount reader refuses it as a zero written with a sign. A zero
/// EXCHANGE without the sign is still accepted.
#[test]
fn a_zero_with_a_minus_sign_is_refused_as_every_amount_reader_does() {
    let mut state = InfiniaState::default();
    let text = format!(
        "{HEADER8}\n\
        Z0,SALE,O1,S1,,2025-01-01 10:00:00,USD,10.00\n\
        Z1,SALE,O2,S1,,2025-01-01 10:00:00,USD,-0\n\
        Z2,EXCHANGE,O1,S1,Z0,2025-01-01 10:00:00,USD,-0.00\n\
        Z3,EXCHANGE,O1,S1,Z0,2025-01-01 10:00:00,XXX,-0\n\
        Z4,EXCHANGE,O1,S1,Z0,2025-01-01 10:00:00,USD,0.00\n"
    );
    let out = apply(&mut state, "f.csv", text.as_bytes(), 1000);
    assert_eq!((out.success_rows, out.failed_rows), (2, 3), "{out:?}");
    for (row, cell) in [(3, "-0"), (4, "-0.00")] {
        assert_eq!(
            reason_at(&out, row),
            format!(
                "amount \"{cell}\" is zero written with a minus sign; amounts are written without one"
            )
        );
    }
    // Without a currency (refused), the sign of a zero is still told.
    let unpriced: Vec<&str> = out
        .errors
        .iter()
        .filter(|e| e.row == 5 && e.column == "amount")
        .map(|e| e.reason.as_str())
        .collect();
    assert_eq!(
        unpriced,
        ["amount \"-0\" is zero written with a minus sign; amounts are written without one"]
    );
}

/// A trade time of the right form that names no calendar date or time is told so, not pointed
/// back to the format (as the Open API's times are).
#[test]
fn a_trade_time_that_does_not_exist_is_named_as_such() {
    let text = format!(
        "{HEADER8}\n\
        T1,SALE,O1,S1,,2026-02-29 10:00:00,USD,1.00\n\
        T2,SALE,O2,S1,,2025-01-01 24:00:00,USD,1.00\n\
        T3,SALE,O3,S1,,yesterday,USD,1.00\n"
    );
    let out = apply(&mut InfiniaState::default(), "t.csv", text.as_bytes(), 1000);
    let reason = |row: u64| reason_at(&out, row);
    assert_eq!(
        reason(2),
        "2026-02-29 is not a calendar date (February 2026 has 28 days)"
    );
    assert_eq!(
        reason(3),
        "24:00:00 is not a time of day (00:00:00 to 23:59:59)"
    );
    assert_eq!(reason(4), "\"yesterday\" is not yyyy-MM-dd HH:mm:ss");
}

/// Regression: a quantity above 4294967295 was "not a positive whole number" (read as a u32),
/// and `+1` was taken though an amount refuses its sign.
#[test]
fn a_quantity_is_digits_from_one_to_the_largest_named_when_refused() {
    let header = format!("{HEADER8},quantity\n");
    let rows: Vec<String> = [
        "1",
        "007",
        "2147483647",
        "2147483648",
        "4294967296",
        "+1",
        "0",
        "1.5",
    ]
    .iter()
    .enumerate()
    .map(|(i, q)| format!("Q{i},SALE,O{i},S1,,2025-01-01 10:00:00,USD,1.00,{q}\n"))
    .collect();
    let text = format!("{header}{}", rows.concat());
    let out = apply(&mut InfiniaState::default(), "q.csv", text.as_bytes(), 1000);
    assert_eq!(
        (out.success_rows, out.failed_rows),
        (3, 5),
        "{:?}",
        out.errors
    );
    let reason = |row: u64| reason_at(&out, row);
    assert_eq!(reason(5), "\"2147483648\" is too large: at most 2147483647");
    assert_eq!(reason(6), "\"4294967296\" is too large: at most 2147483647");
    assert_eq!(
        reason(7),
        "\"+1\" is not a positive whole number (digits only, like 3)"
    );
    assert_eq!(reason(8), "\"0\" must be at least 1");
    assert!(reason(9).contains("not a positive whole number"));
}

/// Regression: an EXCHANGE was unbounded and a RETURN did not see it, so SALE 100, EXCHANGE
/// -5000 and RETURN 100 were all accepted, leaving earned revenue at -5000.00. What is left of a
/// sale counts the exchanges against it, with their sign: one that gives money back may not
/// take more than is left, and a return then sees what exchanges took (or added).
#[test]
fn exchanges_count_in_what_is_left_of_their_sale() {
    let mut state = InfiniaState::default();
    let text = format!(
        "{HEADER8}\n\
        X1,SALE,O1,S1,,2025-01-01 10:00:00,USD,100.00\n\
        X2,EXCHANGE,O1,S1,X1,2025-01-01 10:00:00,USD,-5000.00\n\
        X3,EXCHANGE,O1,S1,X1,2025-01-01 10:00:00,USD,-30.00\n\
        X4,RETURN,O1,S1,X1,2025-01-01 10:00:00,USD,100.00\n\
        X5,EXCHANGE,O1,S1,X1,2025-01-01 10:00:00,USD,10.00\n\
        X6,RETURN,O1,S1,X1,2025-01-01 10:00:00,USD,80.00\n\
        X7,EXCHANGE,O1,S1,X1,2025-01-01 10:00:00,USD,-0.01\n"
    );
    let out = apply(&mut state, "f.csv", text.as_bytes(), 1000);
    let refused: Vec<_> = out
        .errors
        .iter()
        .map(|e| (e.trade_no.as_str(), e.column.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(
        refused,
        [
            (
                "X2",
                "amount",
                "gives back 5000.00 more than is left of sale \"X1\" (100.00)"
            ),
            (
                "X4",
                "amount",
                "returns 100.00 more than is left of sale \"X1\" (70.00)"
            ),
            (
                "X7",
                "amount",
                "gives back 0.01 more than is left of sale \"X1\" (0.00)"
            ),
        ]
    );
    // 100.00 - 30.00 + 10.00 - 80.00: never below zero.
    assert_eq!(earned(&state, "S1"), 0);
    assert_eq!(state.trades["X1"].left_minor(), 0);
}

/// Regression: earned revenue was added with saturation and passed the simulator's largest
/// amount (10^15 minor units): two SALE rows of 10000000000000.00 earned 20000000000000.00. A row
/// that would take its seller's total in its currency past it is refused naming the limit.
#[test]
fn earned_revenue_stays_within_the_largest_amount() {
    let mut state = InfiniaState::default();
    let text = format!(
        "{HEADER8}\n\
        M1,SALE,O1,S1,,2025-01-01 10:00:00,USD,10000000000000.00\n\
        M2,SALE,O2,S1,,2025-01-01 10:00:00,USD,10000000000000.00\n\
        M3,EXCHANGE,O1,S1,M1,2025-01-01 10:00:00,USD,0.01\n\
        M4,SALE,O3,S2,,2025-01-01 10:00:00,USD,10000000000000.00\n"
    );
    let out = apply(&mut state, "f.csv", text.as_bytes(), 1000);
    assert_eq!(
        (out.success_rows, out.failed_rows),
        (2, 2),
        "{:?}",
        out.errors
    );
    let m2 = &out.errors[0];
    assert_eq!((m2.trade_no.as_str(), m2.column.as_str()), ("M2", "amount"));
    assert_eq!(
        m2.reason,
        "would take seller \"S1\"'s earned revenue to 20000000000000.00 USD, more than the \
         largest amount the simulator holds, 10000000000000.00 USD (10^15 minor units); the \
         seller has earned 10000000000000.00 USD"
    );
    assert_eq!(out.errors[1].trade_no, "M3");
    assert_eq!(earned(&state, "S1"), crate::money::MAX_MINOR);
    assert_eq!(earned(&state, "S2"), crate::money::MAX_MINOR);
    // A RETURN at the ceiling lowers the earned revenue (it was checked as if it raised it).
    let text = format!(
        "{HEADER8}\n\
        M5,RETURN,O1,S1,M1,2025-01-01 10:00:01,USD,1.00\n"
    );
    let out = apply(&mut state, "g.csv", text.as_bytes(), 1000);
    assert_eq!(
        (out.success_rows, out.failed_rows),
        (1, 0),
        "{:?}",
        out.errors
    );
    assert_eq!(earned(&state, "S1"), crate::money::MAX_MINOR - 100);
}

/// Regression: a line holding only whitespace (` `, a tab) was read as a row of one empty cell and
/// failed ("the row has 1 fields"), taking a row number. Every cell is trimmed, so such a line is
/// blank: no row, no number, whatever the line ends. A quoted cell whose text has such a line
/// stays one cell of its row.
#[test]
fn a_line_of_only_whitespace_is_blank_and_takes_no_number() {
    let rows = [
        HEADER8,
        "W1,SALE,O1,S1,,2025-01-01 10:00:00,USD,10.00",
        " ",
        "\t",
        "W2,SALE,\"O\n \n2\",S1,,2025-01-01 10:00:00,USD,5.00",
        "  \t ",
        "W3,SALE,O3,S1,,2025-01-01 10:00:00,XXX,5.00",
        " ",
    ];
    for end in ["\n", "\r\n", "\r"] {
        let text = rows.join(end);
        let mut state = InfiniaState::default();
        let out = apply(&mut state, "f.csv", text.as_bytes(), 1000);
        assert_eq!(
            counts(&out),
            (3, 2, 1),
            "line end {end:?}: {:?}",
            out.errors
        );
        let found: Vec<_> = out
            .errors
            .iter()
            .map(|e| (e.row, e.trade_no.as_str(), e.column.as_str()))
            .collect();
        assert_eq!(found, [(4, "W3", "currency")], "line end {end:?}");
        let order_no = state.trades["W2"].order_no.replace('\r', "\n");
        assert_eq!(order_no, "O\n \n2", "line end {end:?}");
    }
    // The tester's file: a header, one good row and a line holding one space.
    let text = format!("{HEADER8}\nW1,SALE,O1,S1,,2025-01-01 10:00:00,USD,10.00\n \n");
    let out = apply(&mut InfiniaState::default(), "f.csv", text.as_bytes(), 1000);
    assert_eq!(out.status, UploadStatus::Success, "{:?}", out.errors);
    assert_eq!((out.total_rows, out.failed_rows), (1, 0));
    // Only blank lines after the header: no trade rows.
    let text = format!("{HEADER8}\n \n\t\n");
    let out = apply(&mut InfiniaState::default(), "f.csv", text.as_bytes(), 1000);
    assert_eq!(out.status, UploadStatus::Failed);
    assert!(
        out.reason
            .as_deref()
            .unwrap_or("")
            .contains("no trade rows"),
        "{:?}",
        out.reason
    );
}

/// The reader both CSV uploads share (trade details, trade materials) numbers rows, not lines:
/// a blank line (empty or whitespace) is skipped; a line of commas, a quoted cell of spaces and
/// a quoted cell holding a blank line are rows.
#[test]
fn the_csv_reader_skips_blank_lines_but_not_commas_or_quoted_cells() {
    let text = "\u{feff}a,b\r\n1,2\r\n \r\n\r\n,\r\n\" \"\r\n\t\r\n\"x\r\n \r\ny\",z\r\n  ";
    let (mut rows, header) = open_csv(text.as_bytes()).unwrap();
    assert_eq!(header, ["a", "b"]);
    let read: Vec<(u64, Vec<String>)> = numbered_rows(&mut rows)
        .map(|(n, r)| (n, r.unwrap().iter().map(str::to_owned).collect()))
        .collect();
    let expected: Vec<(u64, Vec<&str>)> = vec![
        (2, vec!["1", "2"]),
        (3, vec!["", ""]),
        (4, vec![""]),
        (5, vec!["x\r\n \r\ny", "z"]),
    ];
    assert_eq!(read.len(), expected.len(), "{read:?}");
    for ((n, cells), (want_n, want_cells)) in read.iter().zip(&expected) {
        assert_eq!(n, want_n, "{read:?}");
        assert_eq!(cells, want_cells, "{read:?}");
    }
}

/// A row that is not blank keeps its number and is told how many fields it has, in the singular
/// for one ("1 field", not "1 fields").
#[test]
fn a_line_of_commas_or_a_quoted_empty_cell_is_a_failed_row() {
    let text = format!(
        "{HEADER8}\nK1,SALE,O1,S1,,2025-01-01 10:00:00,USD,10.00\n,,,,,,,\n\" \"\nK2,SALE\n"
    );
    let out = apply(&mut InfiniaState::default(), "f.csv", text.as_bytes(), 1000);
    assert_eq!(out.status, UploadStatus::PartiallyFailed);
    assert_eq!(counts(&out), (4, 1, 3));
    let reason = |row: u64| reason_at(&out, row);
    assert!(out.errors.iter().any(|e| e.row == 3), "{:?}", out.errors);
    assert_eq!(reason(4), "the row has 1 field; the header has 8");
    assert_eq!(reason(5), "the row has 2 fields; the header has 8");
}

/// Regression: the amount was checked only once the currency was read, so a row whose currency
/// was refused got no line for its amount (an empty one, a word, a negative SALE), breaking
/// "one line per problem". Its own problems are told whatever the currency; only the checks of
/// the currency's precision (decimal places, the largest amount) need a currency.
#[test]
fn an_amount_is_checked_even_when_the_currency_is_refused() {
    let text = format!(
        "{HEADER8}\n\
         M1,SALE,O1,S1,,2025-01-01 10:00:00,XXX,\n\
         M2,SALE,O2,S1,,2025-01-01 10:00:00,usdollar,ten\n\
         M3,SALE,O3,S1,,2025-01-01 10:00:00,,-5.00\n\
         M4,SALE,O4,S1,,2025-01-01 10:00:00,XXX,0.000\n\
         M5,SALE,O5,S1,,2025-01-01 10:00:00,XXX,1.0001\n\
         M6,SALE,O6,S1,,2025-01-01 10:00:00,XXX,99999999999999999999\n\
         M7,EXCHANGE,O7,S1,M0,2025-01-01 10:00:00,XXX,-1\n\
         ,,,,,,,\n"
    );
    let out = apply(&mut InfiniaState::default(), "f.csv", text.as_bytes(), 1000);
    assert_eq!((out.success_rows, out.failed_rows), (0, 8));
    let amount = |row: u64| -> Vec<String> {
        out.errors
            .iter()
            .filter(|e| e.row == row && e.column == "amount")
            .map(|e| e.reason.clone())
            .collect()
    };
    let has_currency = |row: u64| {
        out.errors
            .iter()
            .any(|e| e.row == row && e.column == "currency")
    };
    assert!((2..=9).all(has_currency), "{:?}", out.errors);
    assert_eq!(amount(2), ["amount \"\" is empty"]);
    assert_eq!(
        amount(3),
        ["amount \"ten\" is not a plain decimal number like 100.25"]
    );
    assert_eq!(
        amount(4),
        ["amount \"-5.00\" is negative; only an EXCHANGE may be negative"]
    );
    assert_eq!(amount(5), ["must be greater than zero"]);
    // Decimal places and size are the currency's to judge: none is known.
    assert!(amount(6).is_empty(), "{:?}", amount(6));
    assert!(amount(7).is_empty(), "{:?}", amount(7));
    // An EXCHANGE may be negative, whatever its currency.
    assert!(amount(8).is_empty(), "{:?}", amount(8));
    assert_eq!(amount(9), ["amount \"\" is empty"]);
}

/// When exactly one error is past the limit, the last line says "1 more error", not "1 more
/// errors".
#[test]
fn one_unlisted_error_is_counted_in_the_singular() {
    let mut text = HEADER8.to_owned();
    for i in 0..3 {
        text.push_str(&format!("\nN{i},SALE,O{i},S1,,2025-01-01 10:00:00,USD,0"));
    }
    let all = apply(&mut InfiniaState::default(), "f.csv", text.as_bytes(), 1000);
    let limit = all.errors.len() - 1;
    let out = apply(
        &mut InfiniaState::default(),
        "f.csv",
        text.as_bytes(),
        limit,
    );
    let last = last_reason(&out);
    assert!(last.starts_with("… 1 more error not listed"), "{last}");
}
