//! Reading one tenant of a snapshot, or of a data directory, as strictly as the document
//! around it: a field the simulator does not read, a balance beyond the largest amount or whose
//! `amount` says another sum than its `minor`, and a posting the ledger could not have made (an id
//! not the next one, fewer than two legs, a leg beyond the largest amount, legs that do not
//! balance or overflow) are refused, each naming
//! its path (`tenants["whalet:…"].ledger.postings[3]`). The store's types are read as they
//! are; what they would silently drop is found by writing the state back (every field, as a
//! snapshot does) and comparing.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::EndedUpload;
use crate::clock::{Millis, TimerRecord};
use crate::money::{Currency, Money, MAX_MINOR};
use crate::store::infinia::{SharingStatus, UploadStatus};
use crate::store::ledger::Ledger;
use crate::store::platform::PaymentStatus;
use crate::store::{persist, TenantState, MAX_SEQUENCE};
use crate::tenant::TenantId;

/// Reads the state of tenant `key` of a snapshot from `value`, refusing what it would not keep,
/// and balances that are not what their accounts' postings sum to ([`balances_sum_postings`]).
pub(super) fn tenant(key: &str, value: &Value) -> Result<TenantState, String> {
    let state = read(key, value)?;
    balances_sum_postings(&format!("tenants[{key:?}]"), value, &state.ledger)?;
    Ok(state)
}

/// Reads the state of tenant `key` from `value`, refusing what it would not keep; its balances
/// are read as given.
fn read(key: &str, value: &Value) -> Result<TenantState, String> {
    let path = format!("tenants[{key:?}]");
    balances(&path, value)?;
    request_nos(&path, value)?;
    let state: TenantState = serde_path_to_error::deserialize(value)
        .map_err(|e| in_flattened_review(&path, value, &e).unwrap_or_else(|| at_path(&path, &e)))?;
    postings(&path, &state.ledger)?;
    keys_are_ids(&path, &state)?;
    indexes_agree(&path, &state)?;
    pockyt_currencies(key, &path, &state)?;
    for surface in SURFACE_CHECKS {
        surface(key, &path, &state)?;
    }
    sequence(&path, &state)?;
    file_sizes(&path, &state)?;
    let written = persist::full(|| serde_json::to_value(&state))
        .map_err(|e| format!("{path}: cannot be written back: {e}"))?;
    unread(&path, value, &written)?;
    Ok(state)
}

/// The checks of one surface's objects beyond their types (each passes a tenant of another
/// surface): what the objects could not have been, and the money they hold by their state
/// where the ledger's postings put it (`super::pockyt`, `super::whalet`, `super::infinia`).
/// Called with the tenant's key, its path in the document and its state.
const SURFACE_CHECKS: &[SurfaceCheck] = &[
    super::pockyt::check,
    super::whalet::check,
    super::infinia::check,
];

/// A surface's check of tenant `key` at `path`: why its state is refused, if it is.
type SurfaceCheck = fn(key: &str, path: &str, state: &TenantState) -> Result<(), String>;

/// Reads `value` as `T`, a refusal naming the field at fault below `path`
/// (`tenants["whalet:…"].ledger.balances[1].minor: invalid type: …`).
pub(super) fn read_at<T: serde::de::DeserializeOwned>(
    path: &str,
    value: &Value,
) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| at_path(path, &e))
}

/// A users', holders' or bank accounts' review fields (`status`, `attempt`, …) are flattened
/// into the object's own (`#[serde(flatten)]`), and serde reads them from a buffer whose path
/// `serde_path_to_error` cannot follow: a wrong type there is reported at the object. This reads
/// the object `e` points at as the review record alone, to name the field (`…users["U1"].attempt:
/// invalid type …`). None when the object holds no review record or it reads.
fn in_flattened_review(
    path: &str,
    value: &Value,
    e: &serde_path_to_error::Error<serde_json::Error>,
) -> Option<String> {
    use serde_path_to_error::Segment;
    let mut node = value;
    for segment in e.path().iter() {
        node = match segment {
            Segment::Seq { index } => node.get(index)?,
            Segment::Map { key } => node.get(key)?,
            _ => return None,
        };
    }
    let object = node.as_object()?;
    if !(object.contains_key("attempt") && object.contains_key("status")) {
        return None;
    }
    let inner =
        serde_path_to_error::deserialize::<_, crate::store::whalet::Reviewed>(node).err()?;
    Some(at_path(&place(path, e.path()), &inner))
}

/// `path` and the field below it that `e` is about, then what is wrong with it. A field is
/// written `.name`, a map's key that is not a plain name `["key"]`, an element `[i]`.
pub(super) fn at_path<E: std::fmt::Display>(
    path: &str,
    e: &serde_path_to_error::Error<E>,
) -> String {
    let place = place(path, e.path());
    let inner = e.inner().to_string();
    let what = out_of_range(&inner).unwrap_or(inner);
    if place.is_empty() {
        what
    } else {
        format!("{place}: {what}")
    }
}

/// A whole number beyond the range of the integer a field is read as, said so with the range:
/// serde_json reads an integer beyond 64 bits as a floating point number, and the type error
/// it then reports (``invalid type: floating point `1.8446744073709552e+19`, expected u64``)
/// does not say that the number is too large. None for any other message (an integer within 64
/// bits but outside the field's type is ``invalid value: integer `-1`, expected u64``, which says
/// so), and for a fraction where a whole number goes (that message says what is wrong already).
fn out_of_range(message: &str) -> Option<String> {
    let (given, expected) = message
        .strip_prefix("invalid type: floating point `")?
        .split_once("`, expected ")?;
    let (min, max): (i128, i128) = match expected {
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" | "usize" => (0, u64::MAX.into()),
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" | "isize" => (i64::MIN.into(), i64::MAX.into()),
        _ => return None,
    };
    let n: f64 = given.parse().ok()?;
    if !n.is_finite() || n.fract() != 0.0 {
        return None;
    }
    // Saturating: a whole number past i128 stays past the range.
    let whole = n as i128;
    if (min..=max).contains(&whole) {
        return None;
    }
    Some(format!(
        "the number {given} is out of range: this field takes a whole number from {min} to {max}"
    ))
}

/// `path` followed by `below`, written as [`at_path`] writes it.
fn place(path: &str, below: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut place = path.to_owned();
    for segment in below.iter() {
        match segment {
            Segment::Seq { index } => place.push_str(&format!("[{index}]")),
            Segment::Map { key } if is_name(key) => {
                if !place.is_empty() {
                    place.push('.');
                }
                place.push_str(key);
            }
            Segment::Map { key } => place.push_str(&format!("[{key:?}]")),
            Segment::Enum { variant } => place.push_str(&format!(".{variant}")),
            Segment::Unknown => place.push_str(".?"),
        }
    }
    place
}

/// The place of a key or element in a snapshot document, written as [`at_path`] writes it
/// (`tenants["whalet:…"].sequence`, `outbox.notifications[3].id`).
pub(super) fn place_of(path: &[crate::json_keys::Step]) -> String {
    use crate::json_keys::Step;
    let mut place = String::new();
    for step in path {
        match step {
            Step::Key(key) if is_name(key) => {
                if !place.is_empty() {
                    place.push('.');
                }
                place.push_str(key);
            }
            Step::Key(key) => place.push_str(&format!("[{}]", crate::text::echo(key))),
            Step::Index(i) => place.push_str(&format!("[{i}]")),
        }
    }
    crate::text::bound(&place, 4 * crate::text::ECHO_BYTES).into_owned()
}

/// A field's name (`minor`, `nextSeq`, `whalet_trade`), not a map's key.
fn is_name(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The id counter is at least the largest number an id of the tenant carries
/// ([`TenantState::highest_minted`]): below it, the next id minted would be one already given,
/// and the new object would replace the old one (and take its money).
/// Nor may it leave no number for the next id: ids carry it in 8 digits, so it stays below
/// [`MAX_SEQUENCE`] ([`TenantState::next_seq`]).
fn sequence(path: &str, state: &TenantState) -> Result<(), String> {
    if state.sequence >= MAX_SEQUENCE {
        return Err(format!(
            "{path}.sequence: {} leaves no number for the next id: the ids a tenant mints carry \
             its sequence in 8 digits (U2025010100000001), so it runs up to {MAX_SEQUENCE}; give \
             a sequence below {MAX_SEQUENCE}, at least the largest number an id of the tenant \
             carries",
            state.sequence
        ));
    }
    match state.highest_minted() {
        Some((at, seq)) if state.sequence < seq => Err(format!(
            "{path}.sequence: {} is below {seq}, the number {path}.{at} carries; the next id \
             minted would be one already given and replace that object: set it to {seq} or more",
            state.sequence
        )),
        _ => Ok(()),
    }
}

/// A Pockyt merchant's balances are in payout currencies only, as the funding trigger, the
/// balance query and the starting balances keep them ([`crate::store::pockyt::PAYOUT_CURRENCIES`]):
/// money in another could never be paid out.
fn pockyt_currencies(key: &str, path: &str, state: &TenantState) -> Result<(), String> {
    if !key.starts_with("pockyt:") {
        return Ok(());
    }
    let odd = state
        .ledger
        .balances_with_prefix("merchant:")
        .find_map(|(account, m)| {
            crate::store::pockyt::not_a_payout_currency(m.currency).map(|why| (account, why))
        });
    match odd {
        Some((account, why)) => Err(format!("{path}.ledger: account {account:?}: {why}")),
        None => Ok(()),
    }
}

/// Every balance is one the ledger could hold (within the largest amount either way, as
/// [`Ledger::post`] keeps it), and its `amount` (written for people) says the same sum as its
/// `minor` (read).
fn balances(path: &str, tenant: &Value) -> Result<(), String> {
    let Some(rows) = tenant.pointer("/ledger/balances").and_then(Value::as_array) else {
        return Ok(());
    };
    for (i, row) in rows.iter().enumerate() {
        let (Some(amount), Some(minor), Some(code)) = (
            row.get("amount").and_then(Value::as_str),
            row.get("minor").and_then(Value::as_i64),
            row.get("currency").and_then(Value::as_str),
        ) else {
            continue; // an absent amount is fine; a wrong shape is refused when read
        };
        let Ok(currency) = Currency::parse(code) else {
            continue;
        };
        let at = format!("{path}.ledger.balances[{i}]");
        if minor.unsigned_abs() > MAX_MINOR.unsigned_abs() {
            return Err(format!(
                "{at}: minor {minor} ({code}) is beyond the largest amount an account holds \
                 ({MAX_MINOR} minor units either way); no ledger holds such a balance"
            ));
        }
        let expected = Money::new(minor, currency);
        match signed_amount(amount, currency) {
            Ok(stated) if stated == minor => {}
            Ok(_) => {
                return Err(format!(
                    "{at}: amount {} disagrees with minor {minor} ({} {code}); correct one of \
                     them (minor is the balance)",
                    crate::text::echo(amount),
                    expected.to_decimal_string()
                ))
            }
            Err(e) => {
                return Err(format!(
                    "{at}: {e}; write the balance {} as minor {minor} says (minor is the balance)",
                    expected.to_decimal_string()
                ))
            }
        }
    }
    Ok(())
}

/// A decimal amount with an optional leading minus, in minor units; why not when it is none.
fn signed_amount(text: &str, currency: Currency) -> Result<i64, crate::money::MoneyError> {
    match text.strip_prefix('-') {
        Some(rest) => Money::parse(rest, currency).map(|m| -m.minor),
        None => Money::parse(text, currency).map(|m| m.minor),
    }
}

/// Every balance is what its account's postings sum to, as [`Ledger::post`] keeps it (and
/// `GET /__sim/invariants` checks): a balance above its postings would be money that no posting
/// brought, which a data directory (it keeps the postings only) would take away again at the
/// next start. A balance is named by its row (`….ledger.balances[1]`), an account with postings
/// and no row by the account.
fn balances_sum_postings(path: &str, tenant: &Value, ledger: &Ledger) -> Result<(), String> {
    let summed = Ledger::from_postings(ledger.postings().to_vec())
        .map_err(|e| format!("{path}.ledger.postings: {e}"))?;
    let rows = tenant
        .pointer("/ledger/balances")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let row_of = |account: &str, currency: Currency| {
        rows.iter().position(|r| {
            r.get("account").and_then(Value::as_str) == Some(account)
                && r.get("currency").and_then(Value::as_str) == Some(currency.code())
        })
    };
    for (account, given) in ledger.balances_with_prefix("") {
        let sum = summed.balance(account, given.currency);
        if sum == given {
            continue;
        }
        let at = match row_of(account, given.currency) {
            Some(i) => format!("{path}.ledger.balances[{i}]"),
            None => format!("{path}.ledger.balances"),
        };
        return Err(format!(
            "{at}: the balance of account {} is {} {} (minor {}), but its postings sum to {} {} \
             (minor {}); a balance is what its account's postings sum to: set it to minor {}, or \
             add the postings that make the difference",
            crate::text::echo(account),
            given.to_decimal_string(),
            given.currency.code(),
            given.minor,
            sum.to_decimal_string(),
            sum.currency.code(),
            sum.minor,
            sum.minor
        ));
    }
    if let Some((account, sum)) = summed
        .balances_with_prefix("")
        .find(|(account, sum)| sum.minor != 0 && ledger.balance(account, sum.currency) != *sum)
    {
        return Err(format!(
            "{path}.ledger.balances: account {} has no balance row, but its postings sum to {} {} \
             (minor {}); add the row (a balance is what its account's postings sum to)",
            crate::text::echo(account),
            sum.to_decimal_string(),
            sum.currency.code(),
            sum.minor
        ));
    }
    Ok(())
}

/// No requestNo is listed twice: the memory keeps each once, so a repeat would be dropped
/// silently (five listed, four kept).
fn request_nos(path: &str, tenant: &Value) -> Result<(), String> {
    let Some(list) = tenant.get("request_nos").and_then(Value::as_array) else {
        return Ok(());
    };
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(list.len());
    for (i, n) in list.iter().enumerate() {
        let Some(text) = n.as_str() else {
            continue; // a wrong shape is refused when read
        };
        if let Some(first) = seen.get(text) {
            return Err(format!(
                "{path}.request_nos[{i}]: requestNo {} is also request_nos[{first}]; each \
                 remembered requestNo is listed once: remove the repeat",
                crate::text::echo(text)
            ));
        }
        seen.insert(text, i);
    }
    Ok(())
}

/// The maps that keep objects under their own id: the map's path below the tenant, the field
/// (as written) that holds the id, and each key with the id its object holds. Maps keyed by
/// something their objects do not hold (a file's path) are not listed.
fn keyed_maps(t: &TenantState) -> Vec<KeyedMap<'_>> {
    /// `section.map`, its objects' id field (as written: the field's name, or the name given
    /// after `as`), and each key with the id its object holds.
    macro_rules! keyed {
        ($section:ident . $map:ident, $id:ident) => {
            keyed!($section.$map, $id as stringify!($id))
        };
        ($section:ident . $map:ident, $id:ident as $written:expr) => {
            (
                concat!(stringify!($section), ".", stringify!($map)),
                $written,
                t.$section
                    .$map
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.$id.as_str()))
                    .collect(),
            )
        };
    }
    vec![
        keyed!(whalet.users, user_id),
        keyed!(whalet.holders, holder_id),
        keyed!(whalet.beneficaries, beneficary_id),
        keyed!(whalet.cards, card_id),
        keyed!(whalet.shops, bind_id),
        keyed!(whalet.collections, trade_id),
        keyed!(whalet.bank_letters, letter_id),
        keyed!(whalet_trade.quotes, rate_id),
        keyed!(whalet_trade.beneficiaries, beneficiary_id),
        keyed!(whalet_trade.outflows, id),
        keyed!(whalet_trade.orders, order_id),
        keyed!(whalet_trade.bindings, bind_id),
        keyed!(whalet_trade.shop_orders, upload_id),
        keyed!(whalet_trade.files, file_id),
        keyed!(whalet_trade.replenishes, replenish_id),
        keyed!(platform.bindings, bind_id as "bindId"),
        keyed!(platform.payments, payment_id as "paymentId"),
        keyed!(platform.uploads, file_name as "fileName"),
        keyed!(infinia.bindings, request_no as "requestNo"),
        keyed!(infinia.sellers, seller_id as "sellerId"),
        keyed!(infinia.uploads, file_name as "fileName"),
        keyed!(infinia.trades, trade_no as "tradeNo"),
        keyed!(infinia.sharings, request_no as "requestNo"),
        keyed!(pockyt.payees, customer_no as "customerNo"),
        keyed!(pockyt.accounts, account_token as "accountToken"),
        keyed!(pockyt.payouts, transaction_no as "transactionNo"),
    ]
}

/// A map of objects kept by their id: its path, its objects' id field, each key with its id.
type KeyedMap<'a> = (&'static str, &'static str, Vec<(&'a str, &'a str)>);

/// Every object of a [`keyed_maps`] map is kept under its own id: one under another key would
/// be out of reach (a lookup by its id finds nothing, and its money with it) while a listing
/// still shows it.
fn keys_are_ids(path: &str, state: &TenantState) -> Result<(), String> {
    for (map, field, pairs) in keyed_maps(state) {
        if let Some((key, id)) = pairs.into_iter().find(|(key, id)| key != id) {
            return Err(format!(
                "{path}.{map}[{}]: the key disagrees with the object's {field} {}; an object is \
                 kept under its own id (looked up by {field}, this one would not be found): give \
                 it the key {}",
                crate::text::echo(key),
                crate::text::echo(id),
                crate::text::echo(id)
            ));
        }
    }
    Ok(())
}

/// The maps that index a [`keyed_maps`] map by another id its objects hold (a partner's id):
/// one line each. `pockyt.invoices` is the one the tenant state keeps (invoiceId →
/// transactionNo, which makes a repeated invoiceId answer by its payout instead of paying
/// again); every other map from a partner's id is the objects' own map (`whalet.shops` by bindId,
/// `platform.payments` by paymentId, `infinia.sellers` by sellerId, …), checked by
/// [`keys_are_ids`].
fn indexes(t: &TenantState) -> Vec<Index<'_>> {
    let k = &t.pockyt;
    vec![Index {
        index: ("pockyt.invoices", "invoiceId"),
        map: ("pockyt.payouts", "transactionNo"),
        entries: k
            .invoices
            .iter()
            .map(|(i, n)| (i.as_str(), n.as_str()))
            .collect(),
        objects: k
            .payouts
            .iter()
            .map(|(n, p)| (n.as_str(), p.invoice_id.as_str()))
            .collect(),
    }]
}

/// A map indexing a [`keyed_maps`] map: its path and the field its keys are (as the indexed
/// objects name it), the indexed map's path and id field, each entry (key → id), and each
/// object of the indexed map with the key it holds.
struct Index<'a> {
    index: (&'static str, &'static str),
    map: (&'static str, &'static str),
    entries: Vec<(&'a str, &'a str)>,
    objects: Vec<(&'a str, &'a str)>,
}

/// Every [`indexes`] map agrees with the map it indexes, both ways: each entry names an object
/// that holds its key (an entry naming none, or another's, would answer a request by an object
/// that is not its own, or as a repeat while a new object is made), and each object is indexed
/// under the key it holds (an object left out would be paid, made or sent again by its key).
fn indexes_agree(path: &str, state: &TenantState) -> Result<(), String> {
    use crate::text::echo;
    for Index {
        index: (index, key_field),
        map: (map, id_field),
        entries,
        objects,
    } in indexes(state)
    {
        let held: HashMap<&str, &str> = objects.iter().copied().collect();
        for (key, id) in &entries {
            match held.get(id) {
                None => {
                    return Err(format!(
                        "{path}.{index}[{}]: names {id_field} {}, which is no object of {path}.{map}; an \
                         entry names the object its {key_field} was given to: remove the entry, \
                         or give it the {id_field} of that object",
                        echo(key),
                        echo(id)
                    ))
                }
                Some(holds) if holds != key => {
                    return Err(format!(
                        "{path}.{index}[{}]: names {id_field} {}, whose {key_field} is {}; an entry \
                         names the object its {key_field} was given to: remove the entry, or give \
                         it the {id_field} of that object",
                        echo(key),
                        echo(id),
                        echo(holds)
                    ))
                }
                Some(_) => {}
            }
        }
        let indexed: HashMap<&str, &str> = entries.iter().copied().collect();
        for (id, key) in &objects {
            match indexed.get(key) {
                Some(named) if named == id => {}
                Some(named) => {
                    return Err(format!(
                        "{path}.{map}[{}]: its {key_field} {} is also {path}.{map}[{}]'s (the \
                         one {path}.{index}[{}] names); a {key_field} is given to one object: \
                         give this one another {key_field}, with its entry in {path}.{index}",
                        echo(id),
                        echo(key),
                        echo(named),
                        echo(key)
                    ))
                }
                None => {
                    return Err(format!(
                        "{path}.{map}[{}]: its {key_field} {} has no entry in {path}.{index}, so \
                         a request repeating that {key_field} would make another object instead \
                         of answering by this one: add the entry {}: {}",
                        echo(id),
                        echo(key),
                        echo(key),
                        echo(id)
                    ))
                }
            }
        }
    }
    Ok(())
}

/// Every posting is one the ledger could have made: the ledger's own check,
/// [`Ledger::check_postings`] (its id the next one, so none repeats; two legs or more, each
/// within the largest amount, balancing per currency without overflow).
fn postings(path: &str, ledger: &Ledger) -> Result<(), String> {
    ledger
        .check_postings()
        .map_err(|e| format!("{path}.ledger.postings: {e}"))
}

/// Every stored file's `size` is the length of its bytes: a file cut short (or grown) would be
/// served and listed with a size it does not have.
fn file_sizes(path: &str, state: &TenantState) -> Result<(), String> {
    let uploads = state
        .whalet_trade
        .files
        .iter()
        .map(|(id, f)| ("whalet_trade", id, f.size as u64, f.bytes.len()));
    let sftp = [
        ("infinia", &state.infinia.files),
        ("platform", &state.platform.files),
    ]
    .into_iter()
    .flat_map(|(section, files)| {
        files
            .iter()
            .map(move |(id, f)| (section, id, f.size, f.data.len()))
    });
    for (section, id, size, len) in uploads.chain(sftp) {
        if size != len as u64 {
            let field = if section == "whalet_trade" {
                "bytes"
            } else {
                "data"
            };
            return Err(format!(
                "{path}.{section}.files[{id:?}]: size {size} disagrees with its {field} ({len} \
                 bytes); the file was changed or cut short: correct one of them"
            ));
        }
    }
    Ok(())
}

/// Reads tenant `key` of a data directory: its rows gathered as a snapshot's tenant, with the
/// postings and no balances (the database keeps none), checked as [`tenant`] checks an
/// import's; the balances are then what the postings sum to.
pub(super) fn stored_tenant(key: &str, value: &Value) -> Result<TenantState, String> {
    let mut state = read(key, value)?;
    let postings = std::mem::take(&mut state.ledger).into_postings();
    state.ledger = Ledger::from_postings(postings)
        .map_err(|e| format!("tenants[{key:?}].ledger.postings: {e}"))?;
    Ok(state)
}

/// The timer kinds whose object can be looked up in the tenant's state: the kind, the map its
/// key names an object of, and whether that map holds the object (docs/PERSISTENCE.md lists
/// them). A Whalet review (`whalet.review`), a seller binding's decision, an authorization
/// link's expiry and a scenario timeline event are checked as they run only
/// ([`crate::core::Core::check_timer`]).
const PAIRED: &[(&str, &str, Holds)] = &[
    (PROCESS_FILE, "infinia.uploads", |t, k| {
        t.infinia.uploads.contains_key(k)
    }),
    ("pockyt.payout.step", "pockyt.payouts", |t, k| {
        t.pockyt.payouts.contains_key(k)
    }),
    ("pockyt.payee.review", "pockyt.payees", |t, k| {
        t.pockyt.payees.contains_key(k)
    }),
    ("pockyt.account.review", "pockyt.accounts", |t, k| {
        t.pockyt.accounts.contains_key(k)
    }),
    (PAYMENT_SETTLE, "platform.payments", |t, k| {
        t.platform.payments.contains_key(k)
    }),
    (SHARING_FINISH, "infinia.sharings", |t, k| {
        t.infinia.sharings.contains_key(k)
    }),
];

/// Whether a tenant's state holds the object of a key.
type Holds = fn(&TenantState, &str) -> bool;

/// The kind of an Infinia trade-details file's processing timer (key: the file name).
const PROCESS_FILE: &str = "infinia.sftp.process";

/// Every timer acts on something the document holds, and every pending object that only a
/// timer settles comes with it: a timer's tenant is one of the document's; a timer of a
/// [`PAIRED`] kind names an object of its map; an SFTP processing timer carries a generation
/// its upload has had (an older one is a superseded upload's, which runs as nothing) and, of
/// the upload's own generation, finds it PROCESSING; a PROCESSING upload whose file is not
/// being written has its timer; and a PROCESSING revenue sharing has the timer that ends it.
/// Refusals name the timer by its place in the document (`timers[3]`) or the upload or sharing
/// by its path.
pub(super) fn timers(
    states: &[(TenantId, TenantState)],
    timers: &[(usize, TimerRecord)],
) -> Result<(), String> {
    for (i, record) in timers {
        let Some(tenant) = record.tenant.as_deref() else {
            continue;
        };
        let at = format!("timers[{i}] ({:?})", record.label);
        let Some((_, state)) = states.iter().find(|(id, _)| id.to_string() == tenant) else {
            // A scenario may be loaded for a tenant that does not exist yet (docs/SCENARIOS.md);
            // its timeline's events are checked as they fire, which records one for a missing
            // tenant as not done. What the simulator accepted must read back.
            if record.kind == crate::core::timeline::TIMELINE_EVENT.name {
                continue;
            }
            let held: Vec<String> = states.iter().map(|(id, _)| id.to_string()).collect();
            return Err(format!(
                "{at}: tenant {tenant:?} is not one of the document's tenants ({}); the timer \
                 would find nothing to act on",
                held.join(", ")
            ));
        };
        paired(&at, tenant, state, record)?;
    }
    for (id, state) in states {
        unsettled_upload(id, state, timers)?;
        unsettled_timed(id, state, timers)?;
    }
    Ok(())
}

/// Ledger legs summed per account and currency, those not zero: what the surfaces' checks of
/// money against object statuses compare (`persist::pockyt`, `persist::whalet`).
pub(super) type Sums = BTreeMap<(String, Currency), i64>;

/// [`Sums`] of `legs`.
pub(super) fn sums<'a>(legs: impl Iterator<Item = (&'a str, Money)>) -> Sums {
    let mut out = Sums::new();
    for (account, m) in legs {
        let sum = out.entry((account.to_owned(), m.currency)).or_default();
        *sum = sum.saturating_add(m.minor);
    }
    out.retain(|_, sum| *sum != 0);
    out
}

/// Where `expected` and `held` differ, in account order: each account, currency, the sum
/// expected there and the sum the ledger holds.
pub(super) fn differences<'a>(
    expected: &'a Sums,
    held: &'a Sums,
) -> impl Iterator<Item = (&'a str, Currency, i64, i64)> {
    let keys: std::collections::BTreeSet<&(String, Currency)> =
        expected.keys().chain(held.keys()).collect();
    keys.into_iter().filter_map(|key| {
        let want = expected.get(key).copied().unwrap_or(0);
        let have = held.get(key).copied().unwrap_or(0);
        (want != have).then_some((key.0.as_str(), key.1, want, have))
    })
}

/// A timer of a [`PAIRED`] kind names an object of its map; an SFTP processing timer's
/// generation is one its upload has had, and finds the upload PROCESSING when it is its own.
fn paired(at: &str, tenant: &str, state: &TenantState, record: &TimerRecord) -> Result<(), String> {
    let Some((_, map, holds)) = PAIRED.iter().find(|(kind, ..)| *kind == record.kind) else {
        return Ok(());
    };
    let key = &record.key;
    if !holds(state, key) {
        return Err(format!(
            "{at}: key {key:?} names no object of tenants[{tenant:?}].{map}; the timer would \
             find nothing to act on"
        ));
    }
    let (Some(upload), Some(generation)) = (
        (record.kind == PROCESS_FILE)
            .then(|| state.infinia.uploads.get(key))
            .flatten(),
        record.params.get("generation").and_then(Value::as_u64),
    ) else {
        return Ok(());
    };
    let place = format!("tenants[{tenant:?}].infinia.uploads[{key:?}]");
    if generation > upload.generation {
        return Err(format!(
            "{at}: params.generation {generation} is beyond the generation of {place} ({}); \
             the timer would skip the upload: give it the upload's generation",
            upload.generation
        ));
    }
    if generation == upload.generation && upload.status != UploadStatus::Processing {
        return Err(format!(
            "{at}: {place} is {}, not PROCESSING: the timer of its generation would skip it; \
             remove the timer or make the upload PROCESSING",
            serde_json::to_string(&upload.status).unwrap_or_default()
        ));
    }
    Ok(())
}

/// A PROCESSING Infinia upload (its file not being written) has the timer that processes it:
/// without one it would stay PROCESSING for good.
fn unsettled_upload(
    id: &TenantId,
    state: &TenantState,
    timers: &[(usize, TimerRecord)],
) -> Result<(), String> {
    let tenant = id.to_string();
    let untimed = untimed_uploads(&tenant, state, timers.iter().map(|(_, r)| r));
    match untimed.into_iter().next() {
        Some((name, upload)) => Err(format!(
            "tenants[{tenant:?}].infinia.uploads[{name:?}]: PROCESSING without the timer \
             that processes it (a timer of kind {PROCESS_FILE:?}, key {name:?}, \
             params.generation {}), so it would stay PROCESSING for good; add the timer or \
             give the upload its outcome",
            upload.generation
        )),
        None => Ok(()),
    }
}

/// The kind of an Infinia revenue sharing's end timer (key: its requestNo).
const SHARING_FINISH: &str = "infinia.sharing.finish";

/// The kind of a whalet-platform payment's settlement timer (key: its paymentId).
const PAYMENT_SETTLE: &str = "platform.payment.settle";

/// The PROCESSING objects of a tenant's state, each with the money it holds.
type Processing = for<'s> fn(&'s TenantState) -> Vec<(&'s String, Money)>;

/// Objects that only a timer of their own ends (no trigger, request or other timer does): the
/// timer's kind (key: the object's id), where they are in a tenant's state, and which are
/// PROCESSING.
const TIMER_ENDED: &[(&str, &str, Processing)] = &[
    (SHARING_FINISH, "infinia.sharings", |t| {
        t.infinia
            .sharings
            .iter()
            .filter(|(_, s)| s.status == SharingStatus::Processing)
            .map(|(no, s)| (no, s.total))
            .collect()
    }),
    (PAYMENT_SETTLE, "platform.payments", |t| {
        t.platform
            .payments
            .iter()
            .filter(|(_, p)| p.status == PaymentStatus::Processing)
            .map(|(id, p)| (id, p.amount))
            .collect()
    }),
];

/// A PROCESSING object of [`TIMER_ENDED`] (an Infinia revenue sharing, a whalet-platform
/// payment) has the timer that ends it, as a PROCESSING upload has its processing timer
/// ([`unsettled_upload`]): nothing else pays or returns the money it holds, so without one it
/// would stay PROCESSING for good.
fn unsettled_timed(
    id: &TenantId,
    state: &TenantState,
    timers: &[(usize, TimerRecord)],
) -> Result<(), String> {
    let tenant = id.to_string();
    for (kind, place, processing) in TIMER_ENDED {
        let untimed = processing(state).into_iter().find(|(key, _)| {
            !timers.iter().any(|(_, r)| {
                r.kind == *kind && r.tenant.as_deref() == Some(&tenant) && &r.key == *key
            })
        });
        if let Some((key, held)) = untimed {
            return Err(format!(
                "tenants[{tenant:?}].{place}[{key:?}]: PROCESSING without the timer that ends \
                 it (a timer of kind {kind:?}, key {key:?}), so it would stay PROCESSING for \
                 good with its {held} held; add the timer, or give it the outcome its postings \
                 reached"
            ));
        }
    }
    Ok(())
}

/// The Infinia uploads of `state` (tenant `tenant`) that are PROCESSING, their file not being
/// written, without the processing timer of their name and generation among `timers`.
fn untimed_uploads<'s, 't>(
    tenant: &str,
    state: &'s TenantState,
    timers: impl Iterator<Item = &'t TimerRecord> + Clone,
) -> Vec<(&'s String, &'s crate::store::infinia::Upload)> {
    state
        .infinia
        .uploads
        .iter()
        .filter(|(name, upload)| {
            let writing = state
                .infinia
                .files
                .get(&format!("/upload/{name}"))
                .is_some_and(|f| f.writing);
            upload.status == UploadStatus::Processing
                && !writing
                && !timers.clone().any(|r| {
                    r.kind == PROCESS_FILE
                        && r.tenant.as_deref() == Some(tenant)
                        && &r.key == *name
                        && r.params.get("generation").and_then(Value::as_u64)
                            == Some(upload.generation)
                })
        })
        .collect()
}

/// A data directory does not keep which files were open for writing: an upload whose file was
/// opened again and whose processing timer then found it open (and skipped it) is PROCESSING
/// without a timer after a `kill -9`. The session that held the file is gone, so it ends as it
/// would have when the session ended (INCOMPLETE), rather than stay PROCESSING for good or
/// refuse the start ([`end_uploads_left_open`]). Returns the uploads ended, as (tenant, file
/// name).
pub(super) fn end_abandoned_uploads(
    states: &mut BTreeMap<String, TenantState>,
    timers: &[TimerRecord],
    now: Millis,
) -> Vec<EndedUpload> {
    end_uploads_left_open(
        states
            .iter_mut()
            .map(|(tenant, state)| (tenant.clone(), state)),
        timers.iter(),
        (LeftOpen::Unknown, STOPPED_WHILE_WRITTEN, now),
    )
}

/// Why an upload a start from a data directory ended INCOMPLETE ([`end_abandoned_uploads`]).
pub(super) const STOPPED_WHILE_WRITTEN: &str = "the simulator stopped while the file was open \
     for writing again, so it was not processed; upload it again";

/// Why an upload a snapshot import ended INCOMPLETE ([`end_uploads_left_open`]).
pub(super) const IMPORTED_WHILE_WRITTEN: &str = "the snapshot was taken while the file was \
     being written, so it was not processed; upload it again";

/// The operation a whalet-platform partner's SFTP upload is journaled under
/// (`sftp::materials::OPERATION`; this module sits below `sftp`).
const PLATFORM_SFTP_UPLOAD: &str = "tradeMaterialsUpload";

/// Which files were open for writing when the state was taken ([`end_uploads_left_open`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum LeftOpen {
    /// A data directory does not keep it: an upload PROCESSING without its timer can only be
    /// one whose timer found its file open.
    Unknown,
    /// A snapshot marks them (`"writing": true`): any other upload PROCESSING without its
    /// timer is an inconsistent document, refused ([`timers`]).
    Marked,
}

/// The uploads of `uploads` whose file in `files` is marked as being written.
fn marked(
    uploads: &BTreeMap<String, crate::store::infinia::Upload>,
    files: &BTreeMap<String, crate::store::infinia::StoredFile>,
) -> Vec<String> {
    uploads
        .keys()
        .filter(|name| {
            files
                .get(&format!("/upload/{name}"))
                .is_some_and(|f| f.writing)
        })
        .cloned()
        .collect()
}

/// State put in place of what the sessions knew (a data directory read at start, a snapshot
/// imported): no SFTP session holds any of its files, so none is being written any more (a
/// snapshot takes a file open for writing marked so, and it would otherwise never be processed
/// nor removable), and an upload whose file a session was writing again ends INCOMPLETE with
/// `reason` at `now`, as it would have when that session ended, whatever its status
/// (`Upload::end_incomplete`, the one way an upload ends so): an Infinia app's or a
/// whalet-platform partner's whose file a snapshot marked, or (a data directory, which does not
/// keep the mark) an Infinia upload PROCESSING without its processing timer because the timer
/// found its file open for writing again (and skipped it), which would otherwise stay
/// PROCESSING for good. Returns the uploads ended.
pub(super) fn end_uploads_left_open<'s, 't>(
    states: impl Iterator<Item = (String, &'s mut TenantState)>,
    timers: impl Iterator<Item = &'t TimerRecord> + Clone,
    (left_open, reason, now): (LeftOpen, &str, Millis),
) -> Vec<EndedUpload> {
    let mut ended = Vec::new();
    for (tenant, state) in states {
        let (infinia, platform) = match left_open {
            LeftOpen::Unknown => (
                untimed_uploads(&tenant, state, timers.clone())
                    .into_iter()
                    .map(|(name, _)| name.clone())
                    .collect(),
                // Processed at once: never PROCESSING, never left to a timer.
                Vec::new(),
            ),
            // Whether or not its timer has run, whatever it had become: the file holds what
            // the snapshot caught of a write, never to be processed (the session writing it is
            // gone).
            LeftOpen::Marked => (
                marked(&state.infinia.uploads, &state.infinia.files),
                marked(&state.platform.uploads, &state.platform.files),
            ),
        };
        for file in state
            .infinia
            .files
            .values_mut()
            .chain(state.platform.files.values_mut())
        {
            file.writing = false;
        }
        let areas = [
            (
                false,
                ("infinia", crate::api::infinia::SFTP_UPLOAD),
                infinia,
            ),
            (true, ("platform", PLATFORM_SFTP_UPLOAD), platform),
        ];
        for (is_platform, (surface, operation), names) in areas {
            for name in names {
                // A new generation, as a session that ends with the file open records its
                // upload: a processing timer still due belongs to the one before and runs as
                // nothing.
                let generation = state.next_seq();
                let account = if is_platform {
                    (&mut state.platform.uploads, &state.platform.files)
                } else {
                    (&mut state.infinia.uploads, &state.infinia.files)
                };
                let at = (now, generation);
                crate::store::infinia::Upload::end_incomplete(account, &name, at, reason.into());
                ended.push(EndedUpload {
                    tenant: tenant.clone(),
                    surface,
                    operation,
                    name,
                });
            }
        }
    }
    ended
}

/// Refuses a field of `given` that the state read from it does not have (`written`).
fn unread(path: &str, given: &Value, written: &Value) -> Result<(), String> {
    match (given, written) {
        (Value::Object(g), Value::Object(w)) => {
            for (key, value) in g {
                let inner = format!("{path}.{key}");
                match w.get(key) {
                    Some(back) => unread(&inner, value, back)?,
                    // A map left out of the state's JSON while empty is read, not unknown.
                    None if is_empty(value) => {}
                    None => {
                        return Err(format!(
                            "{inner}: unknown field; the simulator does not read it (a typo, or \
                             a snapshot of another version?)"
                        ))
                    }
                }
            }
            Ok(())
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => g
            .iter()
            .zip(w)
            .enumerate()
            .try_for_each(|(i, (g, w))| unread(&format!("{path}[{i}]"), g, w)),
        _ => Ok(()),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    fn usd() -> Value {
        json!({"account": "wallet:U1:B2C:available", "currency": "USD", "minor": 100000,
               "amount": "1000.00"})
    }

    fn state(ledger: Value) -> Value {
        let mut v = persist::full(|| serde_json::to_value(TenantState::default())).unwrap();
        v["ledger"] = ledger;
        v
    }

    fn posting(legs: Value) -> Value {
        json!({"id": 1, "at": 0, "memo": "m", "legs": legs})
    }

    fn leg(account: &str, minor: i64) -> Value {
        json!({"account": account, "amount": {"minor": minor, "currency": "USD"}})
    }

    /// The default state with an empty ledger.
    fn empty() -> Value {
        state(json!({"balances": [], "postings": []}))
    }

    /// Why tenant `whalet:1` is refused as `v` (the test fails when it reads).
    fn refused(v: &Value) -> String {
        tenant("whalet:1", v).err().unwrap()
    }

    /// User U1, approved, as a snapshot holds it.
    fn user() -> Value {
        json!({
            "user_id": "U1", "out_user_id": "o1", "user_type": "PERSONAL", "name": "n",
            "country_code": "US", "status": "SUCCESS", "reported_status": "",
            "message": "", "attempt": 1, "applied_at": 0, "decided_at": null,
            "re_material": false, "material_type": "", "application": {}
        })
    }

    /// A timer of `kind` due at 5 s, about `tenant`'s object `key`.
    fn timer(kind: &str, label: &str, tenant: &str, key: &str, params: Value) -> TimerRecord {
        TimerRecord {
            due: 5_000,
            label: label.into(),
            kind: kind.into(),
            tenant: Some(tenant.into()),
            key: key.into(),
            params,
        }
    }

    #[test]
    fn a_default_state_and_a_balanced_ledger_read() {
        let legs = json!([
            leg("external:bank", -100000),
            leg("wallet:U1:B2C:available", 100000)
        ]);
        let ledger = json!({"balances": [bank(-100000), usd()], "postings": [posting(legs)]});
        assert!(tenant("whalet:1", &state(ledger)).is_ok());
        // A row of zero without postings is a balance of zero, as the ledger keeps one.
        let zero = json!({"account": "wallet:U1:B2C:pending", "currency": "USD", "minor": 0,
                          "amount": "0.00"});
        let ledger = json!({"balances": [zero], "postings": []});
        assert!(tenant("whalet:1", &state(ledger)).is_ok());
    }

    fn bank(minor: i64) -> Value {
        json!({"account": "external:bank", "currency": "USD", "minor": minor,
               "amount": Money::new(minor, Currency::parse("USD").unwrap()).to_decimal_string()})
    }

    /// Regression: balances that disagree with their postings were read as given (money no
    /// posting brought, gone again after a data directory's restart). Refused naming the row,
    /// the balance and the sum; an account with postings and no row is refused too. A data
    /// directory, which keeps no balances, still reads (they are summed from the postings).
    #[test]
    fn a_balance_other_than_its_postings_sum_is_refused_naming_the_row() {
        let legs = json!([
            leg("external:bank", -100000),
            leg("wallet:U1:B2C:available", 100000)
        ]);
        let mut raised = usd();
        raised["minor"] = json!(500000);
        raised["amount"] = json!("5000.00");
        let ledger =
            json!({"balances": [bank(-100000), raised], "postings": [posting(legs.clone())]});
        let e = refused(&state(ledger));
        assert!(
            e.starts_with(r#"tenants["whalet:1"].ledger.balances[1]: the balance of account "wallet:U1:B2C:available" is 5000.00 USD (minor 500000), but its postings sum to 1000.00 USD (minor 100000)"#),
            "{e}"
        );
        let ledger = json!({"balances": [usd()], "postings": [posting(legs.clone())]});
        let e = refused(&state(ledger));
        assert!(
            e.starts_with(r#"tenants["whalet:1"].ledger.balances: account "external:bank" has no balance row, but its postings sum to -1000.00 USD (minor -100000)"#),
            "{e}"
        );
        let ledger = json!({"balances": [], "postings": [posting(legs)]});
        let stored = stored_tenant("whalet:1", &state(ledger)).unwrap();
        assert_eq!(
            stored
                .ledger
                .balance("wallet:U1:B2C:available", Currency::parse("USD").unwrap())
                .minor,
            100000
        );
    }

    /// Regression: a requestNo listed twice was kept once (five listed, four remembered).
    #[test]
    fn a_request_no_listed_twice_is_refused_naming_both_places() {
        let mut v = empty();
        v["request_nos"] = json!(["a", "b", "c", "b"]);
        let e = refused(&v);
        assert!(
            e.starts_with(
                r#"tenants["whalet:1"].request_nos[3]: requestNo "b" is also request_nos[1]"#
            ),
            "{e}"
        );
        v["request_nos"] = json!(["a", "b", "c"]);
        assert_eq!(tenant("whalet:1", &v).unwrap().request_nos.len(), 3);
    }

    /// Regression: an object under a key other than its id was read, out of reach of every
    /// lookup by its id (and its money with it). Refused naming the path, the key and the id.
    #[test]
    fn an_object_under_a_key_other_than_its_id_is_refused() {
        let user = user();
        let mut v = empty();
        v["whalet"]["users"] = json!({"U1": user.clone()});
        assert!(tenant("whalet:1", &v).is_ok());
        v["whalet"]["users"] = json!({"U2099": user});
        let e = refused(&v);
        assert!(
            e.starts_with(
                r#"tenants["whalet:1"].whalet.users["U2099"]: the key disagrees with the object's user_id "U1""#
            ) && e.ends_with(r#"give it the key "U1""#),
            "{e}"
        );
    }

    /// Regression: a sequence near `u64::MAX` was read, and the next id minted panicked (or,
    /// in release, wrapped around to ids already given). One that leaves no 8-digit number for
    /// the next id is refused; the one below reads.
    #[test]
    fn a_sequence_that_leaves_no_number_for_the_next_id_is_refused() {
        let mut v = empty();
        for given in [u64::MAX, MAX_SEQUENCE] {
            v["sequence"] = json!(given);
            let e = refused(&v);
            assert!(
                e.starts_with(&format!(
                    r#"tenants["whalet:1"].sequence: {given} leaves no number for the next id"#
                )) && e.contains(&format!("give a sequence below {MAX_SEQUENCE}")),
                "{e}"
            );
        }
        v["sequence"] = json!(MAX_SEQUENCE - 1);
        let mut t = tenant("whalet:1", &v).unwrap();
        assert_eq!(t.next_seq(), MAX_SEQUENCE);
        t.sequence = u64::MAX;
        assert_eq!(t.next_seq(), u64::MAX, "no panic, no wrap");
    }

    /// Regression: an integer past 64 bits was refused as "invalid type: floating point", as
    /// if the wrong kind of value had been given. It is named out of range, with the range.
    #[test]
    fn a_number_beyond_a_fields_range_is_refused_naming_the_range() {
        let mut v = empty();
        v["sequence"] = serde_json::from_str("18446744073709551616").unwrap();
        let e = refused(&v);
        assert!(
            e.starts_with(r#"tenants["whalet:1"].sequence: the number "#)
                && e.ends_with(
                    "is out of range: this field takes a whole number from 0 to 18446744073709551615"
                ),
            "{e}"
        );
        v["sequence"] = serde_json::from_str("-1e30").unwrap();
        let e = refused(&v);
        assert!(
            e.contains("is out of range: this field takes a whole number from 0"),
            "{e}"
        );
        // A fraction where a whole number goes says so in serde's words.
        v["sequence"] = json!(1.5);
        let e = refused(&v);
        assert!(e.contains("invalid type: floating point `1.5`"), "{e}");
    }

    #[test]
    fn an_unknown_field_is_refused_naming_its_path() {
        let mut v = empty();
        v["bogus"] = json!(1);
        let e = refused(&v);
        assert!(
            e.starts_with(r#"tenants["whalet:1"].bogus: unknown field"#),
            "{e}"
        );
        let mut v = empty();
        v["whalet"]["users"] = json!({});
        v["whalet"]["userz"] = json!({"U1": {}});
        let e = refused(&v);
        assert!(
            e.starts_with(r#"tenants["whalet:1"].whalet.userz: unknown"#),
            "{e}"
        );
    }

    /// A field of the wrong type is named by its path below the tenant, a map's key in
    /// brackets.
    #[test]
    fn a_field_of_the_wrong_type_names_its_path() {
        let mut row = usd();
        row["minor"] = json!("100000");
        let v = state(json!({"balances": [usd(), row], "postings": []}));
        let e = refused(&v);
        assert_eq!(
            e,
            r#"tenants["whalet:1"].ledger.balances[1].minor: invalid type: string "100000", expected i64"#
        );
        let mut v = empty();
        v["infinia"]["uploads"] = json!({"a b.csv": {"generation": "x"}});
        let e = refused(&v);
        assert!(
            e.starts_with(r#"tenants["whalet:1"].infinia.uploads["a b.csv"]."#),
            "{e}"
        );
    }

    /// Regression: a wrong type among a user's review fields (flattened into the user) was
    /// named at the user, not the field.
    #[test]
    fn a_wrong_type_among_the_review_fields_names_the_field() {
        let user = user();
        let mut v = empty();
        v["whalet"]["users"] = json!({"U1": user.clone()});
        assert!(tenant("whalet:1", &v).is_ok());
        for (field, wrong, said) in [
            (
                "attempt",
                json!("one"),
                r#"invalid type: string "one", expected u32"#,
            ),
            ("status", json!("DONE"), "unknown variant `DONE`"),
            (
                "applied_at",
                json!(null),
                "invalid type: null, expected i64",
            ),
        ] {
            let mut bad = user.clone();
            bad[field] = wrong;
            v["whalet"]["users"] = json!({"U1": bad});
            let e = refused(&v);
            let at = format!(r#"tenants["whalet:1"].whalet.users["U1"].{field}: {said}"#);
            assert!(e.starts_with(&at), "{e}");
        }
    }

    /// A `sequence` below the number an id of the tenant carries is refused, naming the
    /// smallest value that fits; that value reads.
    #[test]
    fn a_sequence_below_a_minted_number_is_refused() {
        let mut v = empty();
        v["infinia"]["uploads"] = json!({"a.csv": {"fileName": "a.csv", "status": "SUCCESS",
            "receivedAt": 0, "processedAt": 0, "totalRows": 0, "successRows": 0,
            "failedRows": 0, "errorFile": null, "reason": null, "generation": 3}});
        v["sequence"] = json!(2);
        let e = refused(&v);
        assert_eq!(
            e,
            r#"tenants["whalet:1"].sequence: 2 is below 3, the number tenants["whalet:1"].infinia.uploads["a.csv"] carries; the next id minted would be one already given and replace that object: set it to 3 or more"#
        );
        v["sequence"] = json!(3);
        assert!(tenant("whalet:1", &v).is_ok());
    }

    /// The paired kinds are written here by name (a surface is above this module): each is the
    /// name of the registered kind it pairs, so a renamed kind cannot leave its check behind.
    #[test]
    fn every_paired_kind_is_a_registered_kind() {
        let registered = [
            crate::sftp::process::PROCESS_FILE.name,
            crate::api::pockyt::PAYOUT_STEP.name,
            crate::api::pockyt::PAYEE_REVIEW.name,
            crate::api::pockyt::ACCOUNT_REVIEW.name,
            crate::api::platform::payment::PAYMENT_SETTLE.name,
            crate::api::infinia::sharing::SHARING_FINISH.name,
        ];
        let paired: Vec<&str> = PAIRED.iter().map(|(kind, ..)| *kind).collect();
        assert_eq!(paired, registered);
    }

    #[test]
    fn an_amount_that_disagrees_with_minor_is_refused() {
        let mut row = usd();
        row["amount"] = json!("100.00");
        let v = state(json!({"balances": [row], "postings": []}));
        let e = refused(&v);
        assert!(
            e.starts_with(
                r#"tenants["whalet:1"].ledger.balances[0]: amount "100.00" disagrees with minor 100000 (1000.00 USD)"#
            ),
            "{e}"
        );
    }

    /// A balance past the largest amount (no ledger holds one) is refused saying so, not as an
    /// amount that disagrees with its minor units.
    #[test]
    fn a_balance_beyond_the_largest_amount_is_refused_naming_the_limit() {
        let row = json!({"account": "external:bank", "currency": "USD",
                         "minor": -2999999999999997_i64, "amount": "-29999999999999.97"});
        let v = state(json!({"balances": [row], "postings": []}));
        let e = refused(&v);
        assert_eq!(
            e,
            r#"tenants["whalet:1"].ledger.balances[0]: minor -2999999999999997 (USD) is beyond the largest amount an account holds (1000000000000000 minor units either way); no ledger holds such a balance"#
        );
        let mut row = usd();
        row["amount"] = json!("99999999999999999.00");
        let v = state(json!({"balances": [row], "postings": []}));
        let e = refused(&v);
        assert!(
            e.starts_with(
                r#"tenants["whalet:1"].ledger.balances[0]: amount "99999999999999999.00""#
            ) && e.ends_with(
                "; write the balance 1000.00 as minor 100000 says (minor is the balance)"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_posting_without_two_balancing_legs_is_refused() {
        let v = state(json!({"balances": [], "postings": [posting(json!([]))]}));
        let e = refused(&v);
        assert!(
            e.starts_with(
                r#"tenants["whalet:1"].ledger.postings: posting 1 (m): a posting moves money between at least two accounts; this one has 0 leg(s)"#
            ),
            "{e}"
        );
        let legs = json!([leg("external:bank", -5), leg("wallet:U1:B2C:available", 4)]);
        let v = state(json!({"balances": [], "postings": [posting(legs)]}));
        let e = refused(&v);
        assert!(
            e.starts_with(r#"tenants["whalet:1"].ledger.postings: posting 1 (m) is off by -1"#),
            "{e}"
        );
    }

    /// Regression: after a `kill -9`, an upload whose file was open for writing again (its
    /// timer ran and skipped it) was PROCESSING without a timer, and the data directory did not
    /// start. It ends INCOMPLETE; one with its timer, or whose file is being written, is left.
    #[test]
    fn an_abandoned_upload_of_a_data_directory_ends_incomplete() {
        let upload = |generation| {
            crate::store::infinia::Upload::received(
                "",
                UploadStatus::Processing,
                0,
                generation,
                None,
            )
        };
        let mut t = TenantState::default();
        t.infinia.uploads.insert("lost.csv".into(), upload(1));
        t.infinia.uploads.insert("timed.csv".into(), upload(2));
        let tenant = "infinia:demo-app";
        let timer = timer(
            PROCESS_FILE,
            "process",
            tenant,
            "timed.csv",
            json!({"generation": 2}),
        );
        let mut states = BTreeMap::from([(tenant.to_owned(), t)]);
        assert_eq!(end_abandoned_uploads(&mut states, &[timer], 9_000).len(), 1);
        let uploads = &states[tenant].infinia.uploads;
        assert_eq!(uploads["lost.csv"].status, UploadStatus::Incomplete);
        assert!(uploads["lost.csv"]
            .reason
            .as_deref()
            .unwrap()
            .contains("open for writing"));
        assert_eq!(uploads["timed.csv"].status, UploadStatus::Processing);
    }

    /// Regression: a PROCESSING revenue sharing without the timer that ends it was imported
    /// and stayed PROCESSING for good, its total reserved. Refused naming it; with its timer,
    /// or ended, it reads.
    #[test]
    fn a_processing_sharing_without_its_timer_is_refused_naming_it() {
        let usd = Money::new(1_000, Currency::parse("USD").unwrap());
        let sharing = |status| crate::store::infinia::Sharing {
            request_no: "P1".into(),
            request: json!({}),
            total: usd,
            items: Vec::new(),
            status,
            reason: None,
            created_at: 0,
            finished_at: None,
        };
        let id = TenantId::parse("infinia:demo-app").unwrap();
        let mut t = TenantState::default();
        t.infinia
            .sharings
            .insert("P1".into(), sharing(SharingStatus::Processing));
        let mut states = vec![(id, t)];
        let e = timers(&states, &[]).unwrap_err();
        assert!(
            e.starts_with(
                r#"tenants["infinia:demo-app"].infinia.sharings["P1"]: PROCESSING without the timer that ends it"#
            ),
            "{e}"
        );
        let timer = timer(
            SHARING_FINISH,
            "finish",
            "infinia:demo-app",
            "P1",
            json!({"success": true, "reason": null}),
        );
        assert!(timers(&states, &[(0, timer)]).is_ok());
        states[0]
            .1
            .infinia
            .sharings
            .insert("P1".into(), sharing(SharingStatus::Success));
        assert!(timers(&states, &[]).is_ok());
    }

    /// Regression: an imported snapshot taken mid-write kept its files marked as being written
    /// for good, and the upload its timer skipped stayed PROCESSING. No file stays marked; the
    /// upload ends INCOMPLETE with the reason given.
    #[test]
    fn state_put_in_leaves_no_file_being_written_and_ends_the_skipped_upload() {
        let mut t = TenantState::default();
        let file = crate::store::infinia::StoredFile {
            data: Vec::new(),
            size: 0,
            modified_at: 0,
            writing: true,
            ..Default::default()
        };
        t.infinia.files.insert("/upload/w.csv".into(), file.clone());
        t.platform.files.insert("/upload/p.csv".into(), file);
        for name in ["w.csv", "untimed.csv"] {
            t.infinia.uploads.insert(
                name.into(),
                crate::store::infinia::Upload::received("", UploadStatus::Processing, 0, 1, None),
            );
        }
        let mut states = [("infinia:demo-app".to_owned(), t)];
        let ended = end_uploads_left_open(
            states.iter_mut().map(|(id, s)| (id.clone(), s)),
            std::iter::empty(),
            (LeftOpen::Marked, IMPORTED_WHILE_WRITTEN, 9_000),
        );
        assert_eq!(
            ended,
            [EndedUpload {
                tenant: "infinia:demo-app".to_owned(),
                surface: "infinia",
                operation: crate::api::infinia::SFTP_UPLOAD,
                name: "w.csv".to_owned()
            }],
            "only the upload whose file was marked"
        );
        let t = &states[0].1;
        assert!(!t.infinia.files["/upload/w.csv"].writing);
        assert!(!t.platform.files["/upload/p.csv"].writing);
        assert_eq!(t.infinia.uploads["w.csv"].status, UploadStatus::Incomplete);
        assert_eq!(
            t.infinia.uploads["w.csv"].reason.as_deref(),
            Some(IMPORTED_WHILE_WRITTEN)
        );
        // Not marked: left for the import's check to refuse.
        assert_eq!(
            t.infinia.uploads["untimed.csv"].status,
            UploadStatus::Processing
        );
    }

    /// Regression: a snapshot taken while a PROCESSING upload's file was being written again,
    /// its processing timer still due, was imported with the upload left PROCESSING, and the
    /// timer then processed the half-written file (a cut row counted as revenue). The upload
    /// ends INCOMPLETE under a new generation, so the timer, of the generation before, runs as
    /// nothing and the import's timer check accepts it.
    #[test]
    fn an_upload_caught_mid_write_ends_incomplete_though_its_timer_is_still_due() {
        let mut t = TenantState {
            sequence: 7,
            ..Default::default()
        };
        let file = crate::store::infinia::StoredFile {
            writing: true,
            ..Default::default()
        };
        t.infinia.files.insert("/upload/x.csv".into(), file);
        t.infinia.uploads.insert(
            "x.csv".into(),
            crate::store::infinia::Upload::received("x.csv", UploadStatus::Processing, 0, 7, None),
        );
        let timer = timer(
            PROCESS_FILE,
            "process",
            "infinia:demo-app",
            "x.csv",
            json!({"generation": 7}),
        );
        let mut states = [("infinia:demo-app".to_owned(), t)];
        let ended = end_uploads_left_open(
            states.iter_mut().map(|(id, s)| (id.clone(), s)),
            std::iter::once(&timer),
            (LeftOpen::Marked, IMPORTED_WHILE_WRITTEN, 9_000),
        );
        assert_eq!(ended.len(), 1);
        let upload = &states[0].1.infinia.uploads["x.csv"];
        assert_eq!(upload.status, UploadStatus::Incomplete);
        assert_eq!(upload.generation, 8, "a generation after the timer's");
        let id = TenantId::parse("infinia:demo-app").unwrap();
        let [(_, state)] = states;
        assert!(timers(&[(id, state)], &[(0, timer)]).is_ok());
    }

    /// Regression: a snapshot taken while a finished upload's file was being written again was
    /// imported with the upload's old result (SUCCESS, rows counted) beside the partial file,
    /// with no INCOMPLETE entry, and a whalet-platform partner's upload was never ended. Both
    /// end INCOMPLETE as a session's end records them: a new record whatever the status before,
    /// still naming the report an earlier upload left, journaled under its own surface.
    #[test]
    fn a_finished_upload_caught_being_rewritten_ends_incomplete_on_both_surfaces() {
        use crate::store::infinia::{StoredFile, Upload};
        let writing = StoredFile {
            writing: true,
            ..Default::default()
        };
        let done = |status, report: Option<&str>| {
            let mut u = Upload::received("", status, 1_000, 1, None);
            u.processed_at = Some(2_000);
            u.total_rows = 5;
            u.success_rows = 5;
            u.error_file = report.map(str::to_owned);
            u
        };
        let mut t = TenantState {
            sequence: 3,
            ..Default::default()
        };
        t.infinia
            .files
            .insert("/upload/r1.csv".into(), writing.clone());
        t.infinia
            .files
            .insert("/error/r1_error_file.csv".into(), StoredFile::default());
        t.infinia.uploads.insert(
            "r1.csv".into(),
            done(UploadStatus::Failed, Some("/error/r1_error_file.csv")),
        );
        t.infinia
            .files
            .insert("/upload/kept.csv".into(), StoredFile::default());
        t.infinia
            .uploads
            .insert("kept.csv".into(), done(UploadStatus::Success, None));
        t.platform.files.insert("/upload/m.csv".into(), writing);
        t.platform
            .uploads
            .insert("m.csv".into(), done(UploadStatus::Success, None));
        let mut states = [("whalet:1".to_owned(), t)];
        let ended = end_uploads_left_open(
            states.iter_mut().map(|(id, s)| (id.clone(), s)),
            std::iter::empty(),
            (LeftOpen::Marked, IMPORTED_WHILE_WRITTEN, 9_000),
        );
        let named: Vec<_> = ended
            .iter()
            .map(|e| (e.surface, e.operation, &*e.name))
            .collect();
        assert_eq!(
            named,
            [
                ("infinia", crate::api::infinia::SFTP_UPLOAD, "r1.csv"),
                ("platform", crate::sftp::materials::OPERATION, "m.csv"),
            ]
        );
        let t = &states[0].1;
        for upload in [&t.infinia.uploads["r1.csv"], &t.platform.uploads["m.csv"]] {
            assert_eq!(upload.status, UploadStatus::Incomplete);
            assert_eq!(upload.reason.as_deref(), Some(IMPORTED_WHILE_WRITTEN));
            assert_eq!((upload.received_at, upload.processed_at), (9_000, None));
            assert_eq!((upload.total_rows, upload.success_rows), (0, 0));
            assert!(upload.generation > 3, "a new generation");
        }
        assert_eq!(
            t.infinia.uploads["r1.csv"].error_file.as_deref(),
            Some("/error/r1_error_file.csv"),
            "the earlier upload's report, still there, stays named"
        );
        assert_eq!(t.infinia.uploads["kept.csv"].status, UploadStatus::Success);
    }

    /// Regression: a PROCESSING whalet-platform payment without the timer that settles it was
    /// imported, its amount in flight for good (no trigger settles a payment).
    #[test]
    fn a_processing_platform_payment_without_its_timer_is_refused_naming_it() {
        let usd = Money::new(4_000, Currency::parse("USD").unwrap());
        let id = TenantId::parse("whalet:202400000000001").unwrap();
        let mut t = TenantState::default();
        t.platform.payments.insert(
            "P1".into(),
            crate::store::platform::Payment {
                payment_id: "P1".into(),
                shop_id: "S1".into(),
                amount: usd,
                status: PaymentStatus::Processing,
                reason: String::new(),
                created_at: 0,
                finished_at: None,
            },
        );
        let states = vec![(id, t)];
        let e = timers(&states, &[]).unwrap_err();
        assert!(
            e.starts_with(
                r#"tenants["whalet:202400000000001"].platform.payments["P1"]: PROCESSING without the timer that ends it (a timer of kind "platform.payment.settle""#
            ),
            "{e}"
        );
        assert!(e.contains("40.00 USD held"), "{e}");
        let timer = timer(
            PAYMENT_SETTLE,
            "settle",
            "whalet:202400000000001",
            "P1",
            json!({}),
        );
        assert!(timers(&states, &[(0, timer)]).is_ok());
    }
}
