//! Reading one tenant of a snapshot, or of a data directory, as strictly as the document
//! around it: a field the simulator does not read, a balance beyond the largest amount or whose
//! `amount` says another sum than its `minor`, and a posting the ledger could not have made (an id
//! not the next one, fewer than two legs, a leg beyond the largest amount, legs that do not
//! balance or overflow) are refused, each naming
//! its path (`tenants["whalet:…"].ledger.postings[3]`). The store's types are read as they
//! are; what they would silently drop is found by writing the state back (every field, as a
//! snapshot does) and comparing.

use serde::Deserialize;
use serde_json::Value;

use crate::money::{Currency, Money, MAX_MINOR};
use crate::store::ledger::Ledger;
use crate::store::{persist, TenantState};

/// Reads the state of tenant `key` from `value`, refusing what it would not keep.
pub(super) fn tenant(key: &str, value: &Value) -> Result<TenantState, String> {
    let path = format!("tenants[{key:?}]");
    balances(&path, value)?;
    let state = TenantState::deserialize(value).map_err(|e| format!("{path}: {e}"))?;
    postings(&path, &state.ledger)?;
    file_sizes(&path, &state)?;
    let written = persist::full(|| serde_json::to_value(&state))
        .map_err(|e| format!("{path}: cannot be written back: {e}"))?;
    unread(&path, value, &written)?;
    Ok(state)
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
    let mut state = tenant(key, value)?;
    let postings = std::mem::take(&mut state.ledger).into_postings();
    state.ledger = Ledger::from_postings(postings)
        .map_err(|e| format!("tenants[{key:?}].ledger.postings: {e}"))?;
    Ok(state)
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

    #[test]
    fn a_default_state_and_a_balanced_ledger_read() {
        let legs = json!([
            leg("external:bank", -100000),
            leg("wallet:U1:B2C:available", 100000)
        ]);
        let ledger = json!({"balances": [usd()], "postings": [posting(legs)]});
        assert!(tenant("whalet:1", &state(ledger)).is_ok());
        let negative = json!({"account": "external:bank", "currency": "USD", "minor": -5,
                              "amount": "-0.05"});
        let ledger = json!({"balances": [negative], "postings": []});
        assert!(tenant("whalet:1", &state(ledger)).is_ok());
    }

    #[test]
    fn an_unknown_field_is_refused_naming_its_path() {
        let mut v = state(json!({"balances": [], "postings": []}));
        v["bogus"] = json!(1);
        let e = tenant("whalet:1", &v).err().unwrap();
        assert!(
            e.starts_with(r#"tenants["whalet:1"].bogus: unknown field"#),
            "{e}"
        );
        let mut v = state(json!({"balances": [], "postings": []}));
        v["whalet"]["users"] = json!({});
        v["whalet"]["userz"] = json!({"U1": {}});
        let e = tenant("whalet:1", &v).err().unwrap();
        assert!(
            e.starts_with(r#"tenants["whalet:1"].whalet.userz: unknown"#),
            "{e}"
        );
    }

    #[test]
    fn an_amount_that_disagrees_with_minor_is_refused() {
        let mut row = usd();
        row["amount"] = json!("100.00");
        let v = state(json!({"balances": [row], "postings": []}));
        let e = tenant("whalet:1", &v).err().unwrap();
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
        let e = tenant("whalet:1", &v).err().unwrap();
        assert_eq!(
            e,
            r#"tenants["whalet:1"].ledger.balances[0]: minor -2999999999999997 (USD) is beyond the largest amount an account holds (1000000000000000 minor units either way); no ledger holds such a balance"#
        );
        let mut row = usd();
        row["amount"] = json!("99999999999999999.00");
        let v = state(json!({"balances": [row], "postings": []}));
        let e = tenant("whalet:1", &v).err().unwrap();
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
        let e = tenant("whalet:1", &v).err().unwrap();
        assert!(
            e.starts_with(
                r#"tenants["whalet:1"].ledger.postings: posting 1 (m): a posting moves money between at least two accounts; this one has 0 leg(s)"#
            ),
            "{e}"
        );
        let legs = json!([leg("external:bank", -5), leg("wallet:U1:B2C:available", 4)]);
        let v = state(json!({"balances": [], "postings": [posting(legs)]}));
        let e = tenant("whalet:1", &v).err().unwrap();
        assert!(
            e.starts_with(r#"tenants["whalet:1"].ledger.postings: posting 1 (m) is off by -1"#),
            "{e}"
        );
    }
}
