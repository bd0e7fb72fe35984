//! Which scenario `status` words the Pockyt operations that read one take, and with which
//! `result`: one table per object a rule decides (a payee's review on `/v3/payee/register`, a
//! payout account's on account creation, a payout's final status on `/v3/payouts/pay`). The
//! scenario loader refuses a word outside its table ([`rule_problem`]), and the handlers turn a
//! rule's decision into the status through the same table ([`StatusWords::decide`]), so the two
//! cannot drift.

use super::format::{RuleSpec, Surface};
use super::{AsyncResult, Outcome};
use crate::store::pockyt::{AccountStatus, PayeeStatus, PayoutStatus};
use crate::tenant::{Provider, TenantId};

/// One status word a rule may write, the status it decides and the results it goes with.
pub struct Word<S: 'static> {
    pub word: &'static str,
    pub status: S,
    pub results: &'static [Outcome],
}

/// The scenario status words of one object.
pub struct StatusWords<S: 'static> {
    /// What the rule decides, for messages (`payee review`).
    pub object: &'static str,
    /// The operations (canonical names, as rules name them) that read the words.
    pub operations: &'static [&'static str],
    pub words: &'static [Word<S>],
    /// The status a `result` without `status` decides.
    pub success: S,
    pub failure: S,
}

const EITHER: &[Outcome] = &[Outcome::Success, Outcome::Failure];
const SUCCESS: &[Outcome] = &[Outcome::Success];
const FAILURE: &[Outcome] = &[Outcome::Failure];

/// A payee's review (docs/FIDELITY.md, Payees): `Pending` stays under review.
pub const PAYEE: StatusWords<PayeeStatus> = StatusWords {
    object: "a payee's review",
    operations: &["/v3/payee/register"],
    words: &[
        Word {
            word: "Activated",
            status: PayeeStatus::Activated,
            results: SUCCESS,
        },
        Word {
            word: "Declined",
            status: PayeeStatus::Declined,
            results: FAILURE,
        },
        Word {
            word: "Pending",
            status: PayeeStatus::Pending,
            results: EITHER,
        },
    ],
    success: PayeeStatus::Activated,
    failure: PayeeStatus::Declined,
};

/// A payout account's review (docs/FIDELITY.md, Payout accounts): `PENDING` stays under review.
pub const ACCOUNT: StatusWords<AccountStatus> = StatusWords {
    object: "a payout account's review",
    operations: &[
        "/v3/customers/account/create/bank-account",
        "/v3/customers/account/create/paypal",
        "/v3/customers/account/create/venmo",
        "/v2/customers/account/create",
    ],
    words: &[
        Word {
            word: "ACTIVATED",
            status: AccountStatus::Activated,
            results: SUCCESS,
        },
        Word {
            word: "INVALID",
            status: AccountStatus::Invalid,
            results: FAILURE,
        },
        Word {
            word: "PENDING",
            status: AccountStatus::Pending,
            results: EITHER,
        },
    ],
    success: AccountStatus::Activated,
    failure: AccountStatus::Invalid,
};

/// A payout's final status (docs/FIDELITY.md, Payouts): `returned` succeeds first, `pending`
/// stays pending.
pub const PAYOUT: StatusWords<PayoutStatus> = StatusWords {
    object: "a payout's final status",
    operations: &["/v3/payouts/pay"],
    words: &[
        Word {
            word: "success",
            status: PayoutStatus::Success,
            results: SUCCESS,
        },
        Word {
            word: "returned",
            status: PayoutStatus::Returned,
            results: SUCCESS,
        },
        Word {
            word: "failed",
            status: PayoutStatus::Failed,
            results: FAILURE,
        },
        Word {
            word: "pending",
            status: PayoutStatus::Pending,
            results: EITHER,
        },
    ],
    success: PayoutStatus::Success,
    failure: PayoutStatus::Failed,
};

fn result_word(result: Outcome) -> &'static str {
    match result {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
    }
}

/// `"a", "b" or "c"`.
fn or_list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

impl<S: Copy> StatusWords<S> {
    /// The entry of `status` (case-insensitive), if the table has it.
    fn find(&self, status: &str) -> Option<&Word<S>> {
        self.words
            .iter()
            .find(|w| w.word.eq_ignore_ascii_case(status))
    }

    /// The words allowed with `result`.
    fn allowed(&self, result: Outcome) -> Vec<&'static str> {
        self.words
            .iter()
            .filter(|w| w.results.contains(&result))
            .map(|w| w.word)
            .collect()
    }

    /// Why `result` with `status` is not a decision of this object, naming the words allowed
    /// with that result (and the result a known word goes with).
    pub fn problem(&self, result: Outcome, status: &str) -> Option<String> {
        let known = self.find(status);
        if known.is_some_and(|w| w.results.contains(&result)) {
            return None;
        }
        let ops = self.operations.join(", ");
        let r = result_word(result);
        let fix = format!(
            "with result = {r:?} write status = {} (or leave status out)",
            or_list(&self.allowed(result))
        );
        Some(match known {
            Some(w) => {
                let other: Vec<&str> = w.results.iter().map(|o| result_word(*o)).collect();
                format!(
                    "result = {r:?} and status = {status:?} contradict each other on {} ({ops}): \
                     {:?} goes with result = {}; {fix}",
                    self.object,
                    w.word,
                    or_list(&other)
                )
            }
            None => format!(
                "status = {status:?} is not a status of {} ({ops}); {fix}",
                self.object
            ),
        })
    }

    /// The status a rule's decision (`decided`, none without a rule's `result`) gives: its
    /// `status` word, else its result's. A word the table does not have for that result is
    /// another operation's (a rule deciding several, whose word one of them takes, or a rule
    /// for every surface the loader could not tie to Pockyt): left out, the result decides.
    pub fn decide(&self, decided: Option<&AsyncResult>) -> S {
        let Some(r) = decided else {
            return self.success;
        };
        let by_result = match r.outcome {
            Outcome::Success => self.success,
            Outcome::Failure => self.failure,
        };
        match r.status.as_deref() {
            None => by_result,
            Some(status) => match self.problem(r.outcome, status) {
                None => self.find(status).map_or(by_result, |w| w.status),
                Some(why) => {
                    tracing::debug!(%why, "scenario status of another operation left out");
                    by_result
                }
            },
        }
    }

    /// Whether `rule` could decide one of [`Self::operations`] (seen by tenant `seen`).
    fn decides(&self, rule: &RuleSpec, seen: Option<&TenantId>) -> bool {
        match &rule.operation {
            Some(patterns) => self.operations.iter().any(|o| patterns.matches(o)),
            // Every operation: of a Pockyt rule, or of a rule that sees a Pockyt tenant only.
            None => {
                rule.surface == Some(Surface::Pockyt)
                    || seen.is_some_and(|t| t.provider == Provider::Pockyt)
            }
        }
    }
}

/// The status word Pockyt operation `operation` takes from a decided `result`: on an operation
/// that reads one ([`PAYEE`], [`ACCOUNT`], [`PAYOUT`]), the word of the status its handler
/// decides through the same table ([`StatusWords::decide`]: another operation's word is left out
/// and the result decides); `None` on the others, which read no status.
pub fn status_taken(operation: &str, result: &AsyncResult) -> Option<&'static str> {
    fn taken<S: Copy + PartialEq>(
        table: &StatusWords<S>,
        operation: &str,
        result: &AsyncResult,
    ) -> Option<&'static str> {
        if !table.operations.contains(&operation) {
            return None;
        }
        let status = table.decide(Some(result));
        table
            .words
            .iter()
            .find(|w| w.status == status)
            .map(|w| w.word)
    }
    taken(&PAYEE, operation, result)
        .or_else(|| taken(&ACCOUNT, operation, result))
        .or_else(|| taken(&PAYOUT, operation, result))
}

/// The key at fault and why, for a rule whose `result` and `status` are no decision of any
/// Pockyt object it could decide (surface `pockyt` or none; an operation of the object's, or no
/// operation in a rule for Pockyt); `scope` is the tenant the scenario applies to, if one.
pub fn rule_problem(rule: &RuleSpec, scope: Option<&TenantId>) -> Option<(&'static str, String)> {
    let (Some(result), Some(status)) = (rule.then.result, rule.then.status.as_deref()) else {
        return None;
    };
    let seen = rule.tenant.as_ref().map(|t| &t.0).or(scope);
    if rule.surface.is_some_and(|s| s != Surface::Pockyt)
        || seen.is_some_and(|t| t.provider != Provider::Pockyt)
    {
        return None;
    }
    // Each object the rule could decide, with the problem of its words, if any.
    let decided: Vec<(&str, Option<String>)> = [
        PAYEE
            .decides(rule, seen)
            .then(|| (PAYEE.object, PAYEE.problem(result, status))),
        ACCOUNT
            .decides(rule, seen)
            .then(|| (ACCOUNT.object, ACCOUNT.problem(result, status))),
        PAYOUT
            .decides(rule, seen)
            .then(|| (PAYOUT.object, PAYOUT.problem(result, status))),
    ]
    .into_iter()
    .flatten()
    .collect();
    // A rule deciding several of them (no operation, or a list) needs a word one of them
    // takes; the others go by its result ([`StatusWords::decide`]).
    if decided.is_empty() || decided.iter().any(|(_, problem)| problem.is_none()) {
        return None;
    }
    let problems: Vec<&str> = decided.iter().filter_map(|(_, p)| p.as_deref()).collect();
    let why = match decided.len() {
        1 => problems.join(""),
        _ => {
            let objects: Vec<&str> = decided.iter().map(|(o, _)| *o).collect();
            format!(
                "the rule decides {} (its operation matches each), and none of them takes \
                 result = {:?} with status = {status:?}: {}",
                objects.join(", "),
                result_word(result),
                problems.join("; ")
            )
        }
    };
    Some(("status", why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_decides_its_own_status() {
        for w in PAYEE.words {
            for r in w.results {
                let d = AsyncResult {
                    outcome: *r,
                    status: Some(w.word.to_ascii_lowercase()),
                    reason: None,
                };
                assert_eq!(PAYEE.decide(Some(&d)), w.status, "{}", w.word);
            }
        }
    }

    #[test]
    fn a_word_of_another_result_is_named_as_a_contradiction() {
        let why = PAYEE.problem(Outcome::Success, "declined").unwrap();
        assert!(
            why.contains("contradict") && why.contains("\"Activated\""),
            "{why}"
        );
        let why = PAYEE.problem(Outcome::Success, "Deactivated").unwrap();
        assert!(why.contains("is not a status of a payee's review"), "{why}");
    }
}
