//! The checks a Whalet partner's state passes on the way in (a snapshot import, a data directory
//! read at start), beyond its types: every object that holds money by its state has it where
//! the ledger's postings put it. Money waits in two kinds of account only, and only objects put
//! it there: a user's `pending` balance holds its PENDING collections (a collection's arrival
//! puts it there, its settling or return takes it out), and its `frozen` balance holds its
//! PROCESSING payouts and supplier payments (frozen at the confirm, paid out or returned at the
//! result) and the money open requests for material froze (an EDD with an amount, trade
//! material about a settled collection; released or returned at the decision). An object out of
//! step with the ledger would have its later step move money it does not hold: a payout's result
//! refused for a balance short of its amount, the payout PROCESSING for good with its money
//! frozen, or a status that says it ended while its money stays frozen for ever.
//!
//! Checked per account and currency, as `super::pockyt` checks a Pockyt merchant's in-flight
//! money: what the objects' statuses put in each `pending` and `frozen` account against what the
//! ledger's postings put there. A refusal names the object at fault when the postings tie to it
//! (a collection's, a payout's and a pay's steps name its id in their memos), else the account,
//! with the objects that say they have money there: a request for material's freeze is named by
//! the user or the collection it is about, not by the request, so requests are checked by the
//! account's total only.

use crate::money::Money;
use crate::store::whalet::{wallet_account, Bucket, CollectionStatus};
use crate::store::whalet_trade::{OutflowKind, OutflowStatus, ReplenishStatus};
use crate::store::TenantState;

use super::check::sums;

/// The checks of tenant `key` (at `path` in the document), for a Whalet partner only.
pub(super) fn check(key: &str, path: &str, state: &TenantState) -> Result<(), String> {
    if !key.starts_with("whalet:") {
        return Ok(());
    }
    money_where_statuses_say(path, state)
}

/// What one kind of object's status says of its money, for refusals.
struct Rule {
    /// The object's map below the tenant (`whalet_trade.outflows`).
    map: &'static str,
    /// Where its status says its money is.
    says: &'static str,
}

const COLLECTION: Rule = Rule {
    map: "whalet.collections",
    says: "a collection's status says where its money is (PENDING: in the pending balance; \
           SUCCESS: settled into the available balance; FAILURE: returned to the payer)",
};
const PAYOUT: Rule = Rule {
    map: "whalet_trade.outflows",
    says: "a payout's status says where its money is (WAIT_CONFIRM: still available; \
           PROCESSING: frozen; SUCCESS: paid out; FAILURE: back on the available balance)",
};
const PAY: Rule = Rule {
    map: "whalet_trade.outflows",
    says: "a supplier payment's status says where its money is (WAIT_CONFIRM: still \
           available; PROCESSING: frozen; SUCCESS: paid out; FAILURE: back on the available \
           balance)",
};
const REQUEST: Rule = Rule {
    map: "whalet_trade.replenishes",
    says: "a request for material that froze money holds it while open (WAIT_SUBMIT, \
           PROCESSING: frozen; SUCCESS: released; FAILURE: returned to the payer)",
};

/// One object that holds money by its state, in one account: what its status puts there (zero
/// when its status says the money is elsewhere).
struct Holding<'s> {
    rule: &'static Rule,
    id: &'s str,
    status: &'static str,
    account: String,
    put: Money,
    /// Whether its own postings name its id in their memo (and so can be told apart).
    tied: bool,
}

impl Holding<'_> {
    /// `whalet_trade.outflows["PO…"]`.
    fn at(&self) -> String {
        format!("{}[{:?}]", self.rule.map, self.id)
    }
}

/// Every object of `state` that holds money by its state, with what its status puts where.
fn holdings(state: &TenantState) -> Vec<Holding<'_>> {
    let none = |m: Money| Money::zero(m.currency);
    let collections = state.whalet.collections.values().map(|c| Holding {
        rule: &COLLECTION,
        id: &c.trade_id,
        status: c.status.as_str(),
        account: wallet_account(&c.user_id, c.fund_source, Bucket::Pending),
        put: match c.status {
            CollectionStatus::Pending => c.amount,
            _ => none(c.amount),
        },
        tied: true,
    });
    let outflows = state.whalet_trade.outflows.values().map(|o| Holding {
        rule: match o.kind {
            OutflowKind::Payout => &PAYOUT,
            OutflowKind::Pay => &PAY,
        },
        id: &o.id,
        status: o.status.as_str(),
        account: wallet_account(&o.user_id, o.fund_source, Bucket::Frozen),
        put: match o.status {
            OutflowStatus::Processing => o.amount,
            _ => none(o.amount),
        },
        tied: true,
    });
    let requests = state.whalet_trade.replenishes.values().filter_map(|r| {
        let (fund, amount) = r.frozen?;
        let open = matches!(
            r.status,
            ReplenishStatus::WaitSubmit | ReplenishStatus::Processing
        );
        Some(Holding {
            rule: &REQUEST,
            id: &r.replenish_id,
            status: r.status.as_str(),
            account: wallet_account(&r.user_id, fund, Bucket::Frozen),
            put: if open { amount } else { none(amount) },
            tied: false,
        })
    });
    collections.chain(outflows).chain(requests).collect()
}

/// Whether only objects move money in and out of `account`: a user's pending or frozen balance
/// (`wallet:{userId}:{fundSource}:pending`, `…:frozen`).
fn held_by_objects(account: &str) -> bool {
    account.starts_with("wallet:")
        && (account.ends_with(":pending") || account.ends_with(":frozen"))
}

/// The money in each pending and frozen account is what the objects' statuses put there,
/// against the ledger's postings. A refusal names an object whose own postings (those naming
/// its id) put another sum there than its status says when there is one, else the account with
/// the objects that say they have money there.
fn money_where_statuses_say(path: &str, state: &TenantState) -> Result<(), String> {
    let holdings = holdings(state);
    let expected = sums(holdings.iter().map(|h| (h.account.as_str(), h.put)));
    let postings = state.ledger.postings();
    let held = sums(
        postings
            .iter()
            .flat_map(|p| p.legs.iter().map(|l| (l.account.as_str(), l.amount)))
            .filter(|(account, _)| held_by_objects(account)),
    );
    if let Some((account, currency, want, have)) =
        super::check::differences(&expected, &held).next()
    {
        if let Some((h, own)) = out_of_step(state, &holdings, account) {
            return Err(format!(
                "{path}.{}: status {} puts {} in {account}, but its postings in the ledger put \
                 {own} there; {}: give it the status and amount its postings reached",
                h.at(),
                h.status,
                h.put,
                h.rule.says
            ));
        }
        let in_account = |h: &&Holding| h.account == account && h.put.currency == currency;
        let there: Vec<String> = holdings
            .iter()
            .filter(in_account)
            .filter(|h| h.put.minor != 0)
            .map(|h| format!("{} ({}, {})", h.at(), h.status, h.put))
            .collect();
        let mut named = match there.is_empty() {
            true => "no object says it has money there".to_owned(),
            false => format!("objects with money there: {}", listed(&there)),
        };
        // Their own postings cannot be told apart, so the closed ones are suspects too.
        let closed: Vec<String> = holdings
            .iter()
            .filter(in_account)
            .filter(|h| !h.tied && h.put.minor == 0)
            .map(|h| format!("{} ({})", h.at(), h.status))
            .collect();
        if !closed.is_empty() {
            named.push_str(&format!(
                "; requests that froze money there, now closed: {}",
                listed(&closed)
            ));
        }
        let mut rules: Vec<&Rule> = Vec::new();
        for h in holdings.iter().filter(|h| h.account == account) {
            if !rules.iter().any(|r| r.says == h.rule.says) {
                rules.push(h.rule);
            }
        }
        let pending = account.ends_with(":pending");
        if rules.is_empty() {
            rules = match pending {
                true => vec![&COLLECTION],
                false => vec![&PAYOUT, &PAY, &REQUEST],
            };
        }
        let at = match rules.iter().all(|r| r.map == rules[0].map) {
            true => format!("{path}.{}", rules[0].map),
            false => format!("{path}.whalet_trade"),
        };
        let says: Vec<&str> = rules.iter().map(|r| r.says).collect();
        let says = says.join("; ");
        return Err(format!(
            "{at}: their statuses put {} in {account}, but the ledger's postings put {} there \
             ({named}); {says}: give each object the status and amount its postings reached",
            Money::new(want, currency),
            Money::new(have, currency)
        ));
    }
    Ok(())
}

/// At most ten of `items`, then how many more there are.
fn listed(items: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text = items[..items.len().min(SHOWN)].join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}

/// The first object of `account` whose own postings (those whose memo names its id) put
/// another sum there than its status says (a PROCESSING payout's amount, none once it ended):
/// the object and what its postings put there, described (`10.00 USD`; `0.00 USD` for none).
fn out_of_step<'h, 's>(
    state: &TenantState,
    holdings: &'h [Holding<'s>],
    account: &str,
) -> Option<(&'h Holding<'s>, String)> {
    let postings = state.ledger.postings();
    holdings
        .iter()
        .filter(|h| h.tied && h.account == account)
        .find_map(|h| {
            let own = sums(
                postings
                    .iter()
                    .filter(|p| p.memo.split(' ').any(|word| word == h.id))
                    .flat_map(|p| p.legs.iter().map(|l| (l.account.as_str(), l.amount)))
                    .filter(|(a, _)| *a == account),
            );
            let said = sums(std::iter::once((account, h.put)));
            (own != said).then(|| {
                let parts: Vec<String> = own
                    .iter()
                    .map(|((_, c), minor)| Money::new(*minor, *c).to_string())
                    .collect();
                let own = match parts.is_empty() {
                    true => Money::zero(h.put.currency).to_string(),
                    false => parts.join(" and "),
                };
                (h, own)
            })
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;
    use crate::store::whalet::EXTERNAL_BANK;
    use crate::store::whalet_trade::Replenish;

    fn usd(minor: i64) -> Money {
        Money::new(minor, crate::money::Currency::parse("USD").unwrap())
    }

    /// An EDD request of user U1 that froze `minor` USD of its B2C balance, in `status`.
    fn request(id: &str, status: &str, minor: i64) -> Replenish {
        serde_json::from_value(json!({
            "replenish_id": id, "kind": "EDD", "user_id": "U1", "trade_id": null,
            "outflow_id": null, "material_types": [], "message": "", "memo": "",
            "frozen": ["B2C", {"minor": minor, "currency": "USD"}], "status": status,
            "files": [], "attempt": 0, "requested_at": 0, "submitted_at": null,
            "decided_at": null
        }))
        .unwrap()
    }

    /// User U1 with 100.00 USD available and `frozen` of it frozen by postings no object
    /// names (as a request's freeze is named).
    fn with_frozen(frozen: i64) -> TenantState {
        let mut t = TenantState::default();
        let available = "wallet:U1:B2C:available";
        let bucket = "wallet:U1:B2C:frozen";
        t.ledger
            .transfer(0, "funded", EXTERNAL_BANK, available, usd(10_000))
            .unwrap();
        t.ledger
            .transfer(0, "EDD review of U1 frozen", available, bucket, usd(frozen))
            .unwrap();
        t
    }

    #[test]
    fn a_state_without_objects_passes() {
        let state = TenantState::default();
        assert!(check("whalet:1", "tenants", &state).is_ok());
    }

    /// Open requests holding what the ledger holds frozen pass; a freeze no object accounts
    /// for is refused naming the account, and a closed request among the suspects.
    #[test]
    fn frozen_money_no_open_request_accounts_for_is_refused_naming_the_account() {
        let mut t = with_frozen(3_000);
        let requests = &mut t.whalet_trade.replenishes;
        requests.insert("ED1".into(), request("ED1", "WAIT_SUBMIT", 1_000));
        requests.insert("ED2".into(), request("ED2", "PROCESSING", 2_000));
        assert!(check("whalet:1", "tenants", &t).is_ok());
        // Another tenant's objects are not a Whalet partner's.
        t.whalet_trade
            .replenishes
            .insert("ED2".into(), request("ED2", "SUCCESS", 2_000));
        assert!(check("pockyt:1", "tenants", &t).is_ok());
        let e = check("whalet:1", "tenants", &t).unwrap_err();
        assert!(
            e.starts_with(
                "tenants.whalet_trade.replenishes: their statuses put 10.00 USD in \
                 wallet:U1:B2C:frozen, but the ledger's postings put 30.00 USD there \
                 (objects with money there: whalet_trade.replenishes[\"ED1\"] (WAIT_SUBMIT, \
                 10.00 USD); requests that froze money there, now closed: \
                 whalet_trade.replenishes[\"ED2\"] (SUCCESS))"
            ),
            "{e}"
        );
        let t = with_frozen(500);
        let e = check("whalet:1", "tenants", &t).unwrap_err();
        assert!(
            e.starts_with("tenants.whalet_trade: their statuses put 0.00 USD in wallet:U1:B2C:frozen, but the ledger's postings put 5.00 USD there (no object says it has money there)"),
            "{e}"
        );
    }
}
