//! A double-entry ledger per tenant, in integer minor units. Every posting's legs sum to zero per
//! currency, so the sum over all accounts (outside-world accounts included) is always zero: money
//! is never created or lost, only moved. Accounts named `external:*` stand for the world outside
//! the simulator (a bank sending a collection, a payout leaving); only they may go negative.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::money::{Currency, Money, MAX_MINOR};

/// Why a posting was refused; nothing was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("insufficient balance in {account}: available {available}, needed {needed}")]
    Insufficient {
        account: String,
        available: Money,
        needed: Money,
    },
    #[error("posting does not balance in {0}")]
    Unbalanced(Currency),
    #[error("amount overflow")]
    Overflow,
    /// A leg beyond the largest amount ([`MAX_MINOR`]): no request takes one, and a ledger
    /// holding one would not read back from a snapshot.
    #[error("a leg of {0} is more than the largest amount the simulator moves")]
    TooLarge(Money),
    /// Money moves between accounts: a posting of one leg (or none) moves nothing anywhere.
    #[error("a posting moves money between at least two accounts; this one has {0} leg(s)")]
    TooFewLegs(usize),
    /// A balance would go beyond the largest amount ([`MAX_MINOR`]) either way, outside-world
    /// accounts included: every balance stays one that reads back from a snapshot (its `amount`
    /// is a decimal within the limit) and one a Money object shows exactly.
    #[error(
        "the balance of {account} would be {balance}, beyond the largest amount an account holds \
         ({} minor units either way)",
        MAX_MINOR
    )]
    BalanceTooLarge { account: String, balance: Money },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Leg {
    pub account: String,
    pub amount: Money,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Posting {
    pub id: u64,
    pub at: Millis,
    pub memo: String,
    pub legs: Vec<Leg>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ledger {
    #[serde(
        serialize_with = "balances_as_list",
        deserialize_with = "balances_from_list"
    )]
    balances: BTreeMap<(String, Currency), i64>,
    postings: Vec<Posting>,
}

/// JSON maps need string keys: balances are shown as a list of
/// `{account, currency, minor, amount}`.
fn balances_as_list<S: serde::Serializer>(
    balances: &BTreeMap<(String, Currency), i64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(balances.len()))?;
    for ((account, currency), minor) in balances {
        seq.serialize_element(&serde_json::json!({
            "account": account,
            "currency": currency.code(),
            "minor": minor,
            "amount": Money::new(*minor, *currency).to_decimal_string(),
        }))?;
    }
    seq.end()
}

/// Reads the list [`balances_as_list`] writes (`amount` is only for people and is ignored).
/// Two rows of the same account and currency are refused, naming both: one of them would be
/// dropped silently (the ledger keeps one balance per account and currency).
fn balances_from_list<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<(String, Currency), i64>, D::Error> {
    #[derive(Deserialize)]
    struct Row {
        account: String,
        currency: Currency,
        minor: i64,
    }
    let rows = Vec::<Row>::deserialize(d)?;
    let mut balances: BTreeMap<(String, Currency), (usize, i64)> = BTreeMap::new();
    for (i, r) in rows.into_iter().enumerate() {
        let key = (r.account, r.currency);
        if let Some((first, _)) = balances.get(&key) {
            return Err(serde::de::Error::custom(format!(
                "rows [{first}] and [{i}] are both the balance of account {} in {}; the ledger \
                 keeps one balance per account and currency: merge them",
                key.0, key.1
            )));
        }
        balances.insert(key, (i, r.minor));
    }
    Ok(balances
        .into_iter()
        .map(|(k, (_, minor))| (k, minor))
        .collect())
}

impl Ledger {
    /// Applies all legs or none. Non-external accounts may not go below zero; no leg moves more
    /// than [`MAX_MINOR`] and no balance goes beyond it, either way.
    pub fn post(
        &mut self,
        at: Millis,
        memo: impl Into<String>,
        legs: &[(&str, Money)],
    ) -> Result<u64, LedgerError> {
        let next = self.balances_after(legs)?;
        self.balances.extend(next);
        let id = self.postings.len() as u64 + 1;
        self.postings.push(Posting {
            id,
            at,
            memo: memo.into(),
            legs: legs
                .iter()
                .map(|(a, m)| Leg {
                    account: (*a).to_owned(),
                    amount: *m,
                })
                .collect(),
        });
        Ok(id)
    }

    /// The balances `legs` would leave in the accounts they touch, or why [`Ledger::post`]
    /// refuses them; changes nothing.
    fn balances_after(
        &self,
        legs: &[(&str, Money)],
    ) -> Result<BTreeMap<(String, Currency), i64>, LedgerError> {
        if legs.len() < 2 {
            return Err(LedgerError::TooFewLegs(legs.len()));
        }
        let mut sums: BTreeMap<Currency, i64> = BTreeMap::new();
        let mut next: BTreeMap<(String, Currency), i64> = BTreeMap::new();
        for (account, amount) in legs {
            if !within_cap(amount.minor) {
                return Err(LedgerError::TooLarge(*amount));
            }
            let sum = sums.entry(amount.currency).or_default();
            *sum = sum.checked_add(amount.minor).ok_or(LedgerError::Overflow)?;
            let key = ((*account).to_owned(), amount.currency);
            let current = match next.get(&key) {
                Some(v) => *v,
                None => self.balances.get(&key).copied().unwrap_or(0),
            };
            let updated = current
                .checked_add(amount.minor)
                .ok_or(LedgerError::Overflow)?;
            if updated < 0 && !account.starts_with("external:") {
                return Err(LedgerError::Insufficient {
                    account: (*account).to_owned(),
                    available: Money::new(current, amount.currency),
                    needed: Money::new(-amount.minor, amount.currency),
                });
            }
            if !within_cap(updated) {
                return Err(LedgerError::BalanceTooLarge {
                    account: (*account).to_owned(),
                    balance: Money::new(updated, amount.currency),
                });
            }
            next.insert(key, updated);
        }
        if let Some((currency, _)) = sums.iter().find(|(_, s)| **s != 0) {
            return Err(LedgerError::Unbalanced(*currency));
        }
        Ok(next)
    }

    /// Whether [`Ledger::transfer`] of `amount` from one account to another would be taken,
    /// changing nothing: for a caller that must refuse before it takes anything else (an id
    /// from the tenant's sequence) for the posting it would make.
    pub fn check_transfer(&self, from: &str, to: &str, amount: Money) -> Result<(), LedgerError> {
        self.balances_after(&transfer_legs(from, to, amount)?)
            .map(drop)
    }

    /// Moves `amount` from one account to another (one posting, two legs).
    pub fn transfer(
        &mut self,
        at: Millis,
        memo: impl Into<String>,
        from: &str,
        to: &str,
        amount: Money,
    ) -> Result<u64, LedgerError> {
        self.post(at, memo, &transfer_legs(from, to, amount)?)
    }

    pub fn balance(&self, account: &str, currency: Currency) -> Money {
        let minor = self
            .balances
            .get(&(account.to_owned(), currency))
            .copied()
            .unwrap_or(0);
        Money::new(minor, currency)
    }

    /// Balances of every account whose name starts with `prefix`.
    pub fn balances_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, Money)> + 'a {
        self.balances
            .iter()
            .filter(move |((a, _), _)| a.starts_with(prefix))
            .map(|((a, c), m)| (a.as_str(), Money::new(*m, *c)))
    }

    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }

    /// The postings, without the balances (to rebuild those from them: [`Ledger::from_postings`]).
    pub fn into_postings(self) -> Vec<Posting> {
        self.postings
    }

    /// A ledger rebuilt from its postings alone (a data directory keeps only the postings; the
    /// balances are what they sum to). Refused, as [`Ledger::check_postings`] refuses, when a
    /// posting is not one the ledger could have made or the sums overflow.
    pub fn from_postings(postings: Vec<Posting>) -> Result<Ledger, String> {
        Ok(Ledger {
            balances: sums(&postings)?,
            postings,
        })
    }

    /// Checks what [`Ledger::post`] guarantees of every posting: two legs or more, each within
    /// the largest amount ([`MAX_MINOR`]), summing to zero per currency. The sums are checked,
    /// so a posting read from outside (a snapshot, a database) cannot pass by wrapping around.
    /// Also the ids [`Ledger::post`] gives: 1, 2, 3… in order, so no two postings share one
    /// (a data directory keeps one row per id, in id order).
    pub fn check_postings(&self) -> Result<(), String> {
        for (i, posting) in self.postings.iter().enumerate() {
            check_id(&self.postings[..i], posting)?;
            check_posting(posting)?;
        }
        Ok(())
    }

    /// [`Ledger::check_postings`], then every balance recomputed from the postings.
    pub fn verify(&self) -> Result<(), String> {
        self.check_postings()?;
        let recomputed = sums(&self.postings)?;
        for (key, value) in &self.balances {
            let expected = recomputed.get(key).copied().unwrap_or(0);
            if *value != expected {
                return Err(format!(
                    "balance of {} {} is {value} but its postings sum to {expected}",
                    key.0, key.1
                ));
            }
        }
        for (key, value) in &recomputed {
            if self.balances.get(key).copied().unwrap_or(0) != *value {
                return Err(format!(
                    "account {} {} has postings but no balance",
                    key.0, key.1
                ));
            }
        }
        Ok(())
    }
}

/// Is `minor` an amount a leg may move and a balance may hold ([`MAX_MINOR`] either way)?
/// The two legs of a transfer of `amount` from one account to another.
fn transfer_legs<'a>(
    from: &'a str,
    to: &'a str,
    amount: Money,
) -> Result<[(&'a str, Money); 2], LedgerError> {
    let debit = Money::new(
        amount.minor.checked_neg().ok_or(LedgerError::Overflow)?,
        amount.currency,
    );
    Ok([(from, debit), (to, amount)])
}

fn within_cap(minor: i64) -> bool {
    minor.unsigned_abs() <= MAX_MINOR.unsigned_abs()
}

/// Refuses `posting` unless its id is the next after the postings `before` it, as
/// [`Ledger::post`] numbers them, naming a posting with the same id.
fn check_id(before: &[Posting], posting: &Posting) -> Result<(), String> {
    let (id, place) = (posting.id, before.len());
    let expected = place as u64 + 1;
    if id == expected {
        return Ok(());
    }
    let name = format!("posting {id} ({}) at postings[{place}]", posting.memo);
    match before.iter().position(|p| p.id == id) {
        Some(j) => Err(format!(
            "{name}: id {id} is also postings[{j}]'s; each posting has its own id"
        )),
        None => Err(format!(
            "{name}: id {id} is out of sequence; postings are numbered 1, 2, 3… in order, \
             so this one is {expected}"
        )),
    }
}

/// One posting as [`Ledger::check_postings`] checks it.
fn check_posting(posting: &Posting) -> Result<(), String> {
    let name = format!("posting {} ({})", posting.id, posting.memo);
    if posting.legs.len() < 2 {
        return Err(format!(
            "{name}: {}",
            LedgerError::TooFewLegs(posting.legs.len())
        ));
    }
    let mut by_currency: BTreeMap<Currency, i64> = BTreeMap::new();
    for (i, leg) in posting.legs.iter().enumerate() {
        let Money { minor, currency } = leg.amount;
        if !within_cap(minor) {
            return Err(format!(
                "{name}: leg {i} ({}) moves {minor} minor units of {currency}, more than the \
                 largest amount ({MAX_MINOR})",
                leg.account
            ));
        }
        let sum = by_currency.entry(currency).or_default();
        *sum = sum
            .checked_add(minor)
            .ok_or_else(|| format!("{name}: its legs in {currency} overflow when summed"))?;
    }
    match by_currency.iter().find(|(_, s)| **s != 0) {
        Some((c, s)) => Err(format!("{name} is off by {s} minor units of {c}")),
        None => Ok(()),
    }
}

/// What the postings sum to, per account and currency, in posting order; refused when a sum
/// overflows or, as [`Ledger::post`] refuses it, goes beyond the largest amount.
fn sums(postings: &[Posting]) -> Result<BTreeMap<(String, Currency), i64>, String> {
    let mut out: BTreeMap<(String, Currency), i64> = BTreeMap::new();
    for leg in postings.iter().flat_map(|p| &p.legs) {
        let sum = out
            .entry((leg.account.clone(), leg.amount.currency))
            .or_default();
        let what = format!("the postings of {} {}", leg.account, leg.amount.currency);
        *sum = sum
            .checked_add(leg.amount.minor)
            .ok_or_else(|| format!("{what} overflow when summed"))?;
        if !within_cap(*sum) {
            return Err(format!(
                "{what} sum to {sum} minor units, beyond the largest amount an account holds \
                 ({MAX_MINOR} either way)"
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::parse("USD").unwrap())
    }

    /// A ledger whose only posting brings `minor` US cents from the bank to `wallet:u1`.
    fn collected(minor: i64) -> Ledger {
        let mut ledger = Ledger::default();
        ledger
            .transfer(0, "collection", "external:bank", "wallet:u1", usd(minor))
            .unwrap();
        ledger
    }

    #[test]
    fn transfer_moves_money_and_refuses_overdraft_atomically() {
        let mut ledger = collected(1000);
        let err = ledger
            .transfer(0, "payout", "wallet:u1", "external:payout", usd(1001))
            .unwrap_err();
        assert!(matches!(err, LedgerError::Insufficient { .. }));
        assert_eq!(ledger.balance("wallet:u1", usd(0).currency), usd(1000));
        assert_eq!(ledger.postings().len(), 1);
        ledger.verify().unwrap();
    }

    #[test]
    fn unbalanced_postings_are_refused() {
        let mut ledger = Ledger::default();
        let err = ledger
            .post(0, "bad", &[("external:x", usd(-5)), ("wallet:a", usd(4))])
            .unwrap_err();
        assert!(matches!(err, LedgerError::Unbalanced(_)));
        assert!(ledger.postings().is_empty());
    }

    #[test]
    fn balances_serialise_as_a_list() {
        let ledger = collected(1050);
        let v = serde_json::to_value(&ledger).unwrap();
        let balances = v["balances"].as_array().unwrap();
        let wallet = balances
            .iter()
            .find(|b| b["account"] == "wallet:u1")
            .unwrap();
        assert_eq!(wallet["amount"], "10.50");
        assert_eq!(wallet["minor"], 1050);
        assert_eq!(wallet["currency"], "USD");
    }

    /// One leg moves nothing anywhere: `post` refuses it, and `verify` finds one that came in
    /// by another way (a snapshot).
    #[test]
    fn a_posting_needs_two_legs() {
        let mut ledger = Ledger::default();
        assert!(matches!(
            ledger.post(0, "one", &[("external:bank", usd(0))]),
            Err(LedgerError::TooFewLegs(1))
        ));
        assert!(ledger.postings().is_empty());
        let single = Posting {
            id: 1,
            at: 0,
            memo: "one".into(),
            legs: vec![Leg {
                account: "wallet:U1:B2C:available".into(),
                amount: usd(0),
            }],
        };
        let e = Ledger::from_postings(vec![single])
            .unwrap()
            .verify()
            .unwrap_err();
        assert_eq!(
            e,
            "posting 1 (one): a posting moves money between at least two accounts; this one has 1 leg(s)"
        );
    }

    fn leg(account: &str, minor: i64) -> Leg {
        Leg {
            account: account.into(),
            amount: usd(minor),
        }
    }

    fn one_posting(legs: Vec<Leg>) -> Vec<Posting> {
        vec![Posting {
            id: 1,
            at: 0,
            memo: "wrap".into(),
            legs,
        }]
    }

    /// Legs that wrap around i64 to zero (the tester's money from nothing): refused, never
    /// a panic, never balanced.
    #[test]
    fn legs_whose_sum_overflows_are_refused_not_wrapped() {
        let max = i64::MAX;
        let postings = one_posting(vec![leg("x", max), leg("y", max), leg("z", 2)]);
        let ledger = Ledger {
            balances: BTreeMap::new(),
            postings,
        };
        let e = ledger.verify().unwrap_err();
        assert!(
            e.starts_with("posting 1 (wrap): leg 0 (x) moves 9223372036854775807"),
            "{e}"
        );
        // Within the cap per leg, the sum of many legs overflows: refused too.
        let many = vec![leg("x", MAX_MINOR); 9300];
        let e = Ledger {
            balances: BTreeMap::new(),
            postings: one_posting(many),
        }
        .check_postings()
        .unwrap_err();
        assert_eq!(e, "posting 1 (wrap): its legs in USD overflow when summed");
    }

    /// Two postings each within the cap that take an account beyond it: refused on reading, as
    /// [`Ledger::post`] refuses the second.
    #[test]
    fn postings_summing_beyond_the_largest_amount_are_refused() {
        let big = |id| Posting {
            id,
            at: 0,
            memo: "big".into(),
            legs: vec![leg("external:bank", -MAX_MINOR), leg("wallet:a", MAX_MINOR)],
        };
        let postings: Vec<Posting> = (1..=2).map(big).collect();
        let e = Ledger::from_postings(postings).err().unwrap();
        assert_eq!(
            e,
            "the postings of external:bank USD sum to -2000000000000000 minor units, beyond the \
             largest amount an account holds (1000000000000000 either way)"
        );
    }

    /// A balance never goes beyond the largest amount, an outside-world account's below it
    /// included: the posting is refused whole, so every balance reads back from a snapshot.
    #[test]
    fn a_balance_beyond_the_largest_amount_is_refused_either_way() {
        let mut ledger = collected(MAX_MINOR);
        let e = ledger
            .transfer(0, "more", "external:bank", "wallet:b", usd(1))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the balance of external:bank would be -10000000000000.01 USD, beyond the largest \
             amount an account holds (1000000000000000 minor units either way)"
        );
        let e = ledger
            .transfer(0, "more", "external:fx", "wallet:u1", usd(1))
            .unwrap_err();
        assert!(
            matches!(&e, LedgerError::BalanceTooLarge { account, .. } if account == "wallet:u1"),
            "{e}"
        );
        assert_eq!(ledger.postings().len(), 1);
        assert_eq!(ledger.balance("wallet:b", usd(0).currency), usd(0));
        ledger.verify().unwrap();
    }

    #[test]
    fn a_leg_beyond_the_largest_amount_is_refused() {
        let mut ledger = Ledger::default();
        let e = ledger
            .transfer(0, "big", "external:bank", "wallet:a", usd(MAX_MINOR + 1))
            .unwrap_err();
        assert!(matches!(e, LedgerError::TooLarge(_)), "{e}");
        assert!(ledger.postings().is_empty());
        ledger
            .transfer(0, "cap", "external:bank", "wallet:a", usd(MAX_MINOR))
            .unwrap();
        ledger.verify().unwrap();
    }

    /// Posting ids are the ones [`Ledger::post`] gives (1, 2, 3… in order): a repeated id or a
    /// gap (whose next posting would repeat an id) is refused, naming the place and the id.
    #[test]
    fn a_posting_id_repeated_or_out_of_sequence_is_refused() {
        let mut ledger = collected(100);
        ledger
            .transfer(0, "move", "wallet:u1", "wallet:b", usd(10))
            .unwrap();
        ledger.check_postings().unwrap();
        let mut repeated = ledger.clone();
        let first = repeated.postings[0].clone();
        repeated.postings.push(first);
        let e = repeated.check_postings().unwrap_err();
        assert!(
            e.starts_with("posting 1 (collection) at postings[2]: id 1 is also postings[0]'s"),
            "{e}"
        );
        let mut gap = ledger.clone();
        gap.postings[1].id = 3;
        let e = gap.check_postings().unwrap_err();
        assert!(
            e.contains("at postings[1]: id 3 is out of sequence") && e.ends_with("this one is 2"),
            "{e}"
        );
    }
}
