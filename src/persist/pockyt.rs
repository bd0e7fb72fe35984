//! The checks a Pockyt merchant's state passes on the way in (a snapshot import, a data
//! directory read at start), beyond its types: each payout is one `/v3/payouts/pay` could have
//! made (a positive amount in a payout currency, its fee in that currency, to a payee and an
//! account of that payee the document holds), and the ledger holds each payout's money where
//! its status says. Where that is comes from the postings the payout's own steps write
//! (`api::pockyt::payout_legs`, the legs `pay` and the settle steps post), never restated here:
//! a `pending` payout's amount is in flight, a `success` one's paid out, a `failed` or
//! `returned` one's back on the balance. A payout out of step with the ledger would have a
//! later step move money it does not hold (a failed trigger refunding money paid out, taken
//! from another payout's in flight, which then could never settle).

use std::collections::BTreeMap;

use crate::api::pockyt::{in_flight, payout_legs, payout_memo, PAID_OUT};
use crate::money::{Currency, Money};
use crate::store::pockyt::{not_a_payout_currency, Payout};
use crate::store::TenantState;

/// The checks of tenant `key` (at `path` in the document), for a Pockyt merchant only.
pub(super) fn check(key: &str, path: &str, state: &TenantState) -> Result<(), String> {
    if !key.starts_with("pockyt:") {
        return Ok(());
    }
    for (no, payout) in &state.pockyt.payouts {
        let at = format!("{path}.pockyt.payouts[{no:?}]");
        payout_problem(state, payout).map_or(Ok(()), |why| Err(format!("{at}: {why}")))?;
    }
    money_where_statuses_say(path, state)
}

/// Why `p` is no payout `/v3/payouts/pay` could have made, if it is not.
fn payout_problem(state: &TenantState, p: &Payout) -> Option<String> {
    let (amount, fee) = (p.amount, p.fee);
    if amount.minor <= 0 {
        return Some(format!(
            "amount {amount} is not positive; /v3/payouts/pay pays a positive amount"
        ));
    }
    if let Some(why) = not_a_payout_currency(amount.currency) {
        return Some(format!("amount {amount}: {why}"));
    }
    if fee.currency != amount.currency {
        return Some(format!(
            "fee {fee} is not in the payout's currency {}; a payout's fee is charged in its \
             currency",
            amount.currency.code()
        ));
    }
    if fee.minor < 0 {
        return Some(format!(
            "fee {fee} is negative; a fee is charged, never paid"
        ));
    }
    let pockyt = &state.pockyt;
    if !pockyt.payees.contains_key(&p.customer_no) {
        return Some(format!(
            "customerNo {} names no payee of pockyt.payees; a payout is made to a registered payee",
            p.customer_no
        ));
    }
    match pockyt.accounts.get(&p.account_token) {
        None => Some(format!(
            "accountToken {} names no account of pockyt.accounts; a payout is made to an account \
             of its payee",
            p.account_token
        )),
        Some(a) if a.customer_no != p.customer_no => Some(format!(
            "accountToken {} is an account of payee {}, not of the payout's customerNo {}",
            p.account_token, a.customer_no, p.customer_no
        )),
        Some(_) => None,
    }
}

/// The accounts only payouts move: each currency's in flight and the paid-out account.
fn payout_only(account: &str, currency: Currency) -> bool {
    account == PAID_OUT || account == in_flight(currency)
}

/// Sums, per account only payouts move and currency, of `legs` (those not zero).
fn sums<'a>(legs: impl Iterator<Item = (&'a str, Money)>) -> super::check::Sums {
    super::check::sums(legs.filter(|(a, m)| payout_only(a, m.currency)))
}

/// The money in flight and paid out is what the payouts' statuses put there: the legs each
/// payout's postings would have written to reach its status, summed, against the ledger's
/// postings. A refusal names the payouts whose own postings (by their memo) disagree with
/// their status when it can tell, else those with money in the account at fault.
fn money_where_statuses_say(path: &str, state: &TenantState) -> Result<(), String> {
    let payouts = &state.pockyt.payouts;
    let of_payout = |p: &Payout| payout_legs(p, false);
    let expected = sums(
        payouts
            .values()
            .flat_map(of_payout)
            .collect::<Vec<_>>()
            .iter()
            .map(|(a, m)| (a.as_str(), *m)),
    );
    let postings = state.ledger.postings();
    let held = sums(
        postings
            .iter()
            .flat_map(|p| p.legs.iter().map(|l| (l.account.as_str(), l.amount))),
    );
    if let Some((account, currency, want, have)) =
        super::check::differences(&expected, &held).next()
    {
        if let Some((no, status, own, said)) = out_of_step(state, currency).into_iter().next() {
            return Err(format!(
                "{path}.pockyt.payouts[{no:?}]: status {status} puts {said}, but its postings \
                 in the ledger put {own}; {WHERE}: give it the status its postings reached"
            ));
        }
        let holding: Vec<String> = payouts
            .values()
            .filter(|p| {
                of_payout(p)
                    .iter()
                    .any(|(a, m)| a == account && m.currency == currency)
            })
            .map(|p| format!("{} ({})", p.transaction_no, p.status.as_str()))
            .collect();
        let named = match holding.is_empty() {
            true => "no payout says it has money there".to_owned(),
            false => format!("payouts with money there: {}", holding.join(", ")),
        };
        return Err(format!(
            "{path}.pockyt.payouts: their statuses put {} in {account}, but the ledger's postings \
             put {} there ({named}); {WHERE}: give each payout the status its postings reached",
            Money::new(want, currency),
            Money::new(have, currency)
        ));
    }
    Ok(())
}

/// Where a payout's status says its money is.
const WHERE: &str = "a payout's status says where its money is (pending: in flight; success: \
                     paid out; failed, returned: back on the balance)";

/// `12.00 USD in merchant:USD:in_flight and 0.00 USD in external:payout`, of `sums`.
fn described(sums: &BTreeMap<(String, Currency), i64>, currency: Currency) -> String {
    let accounts = [in_flight(currency), PAID_OUT.to_owned()];
    let parts: Vec<String> = accounts
        .into_iter()
        .map(|a| {
            let minor = sums.get(&(a.clone(), currency)).copied().unwrap_or(0);
            format!("{} in {a}", Money::new(minor, currency))
        })
        .collect();
    parts.join(" and ")
}

/// The payouts in `currency` whose own postings (those with their memo) put other sums in the
/// accounts only payouts move than their status says: each as (transactionNo, status, what its
/// postings put there, what its status says), described.
fn out_of_step(
    state: &TenantState,
    currency: Currency,
) -> Vec<(String, &'static str, String, String)> {
    let postings = state.ledger.postings();
    state
        .pockyt
        .payouts
        .values()
        .filter(|p| p.amount.currency == currency)
        .filter_map(|p| {
            let pay = payout_memo(&p.invoice_id, None);
            let steps = format!("{pay} ");
            let own = postings
                .iter()
                .filter(|posting| posting.memo == pay || posting.memo.starts_with(&steps))
                .flat_map(|posting| posting.legs.iter().map(|l| (l.account.as_str(), l.amount)));
            let legs = payout_legs(p, false);
            let (own, said) = (sums(own), sums(legs.iter().map(|(a, m)| (a.as_str(), *m))));
            (own != said).then(|| {
                (
                    p.transaction_no.clone(),
                    p.status.as_str(),
                    described(&own, currency),
                    described(&said, currency),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_without_payouts_passes() {
        let state = TenantState::default();
        assert!(check("pockyt:1", "tenants", &state).is_ok());
    }
}
