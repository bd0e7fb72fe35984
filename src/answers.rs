//! What each Whalet Open API operation answers by itself, beside its handler: the FAILURE it
//! gives on its own, whether it keeps the partner's business id, whether it accepts a valid
//! request with PROCESSING (a review, the seller or a bank decides later), and whether a
//! scenario rule's `status` word is what its decision reports. One table, read by the coverage
//! model (the codes it can reach and how), the scenario loader (which rules' `status` is read)
//! and the catalogue; `api::whalet` checks it names every operation it serves, and only those.
//!
//! Plain data with no dependencies, so the modules below the surfaces can read it.

/// What makes a Whalet operation answer FAILURE by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fails {
    /// Nothing: it answers only bad input by itself.
    Never,
    /// An id the partner does not have.
    NoId,
    /// An id the partner does not have, or an object whose state refuses the request.
    NoIdOrState,
    /// Its own cause.
    Because(&'static str),
}

impl Fails {
    /// What provokes the FAILURE, if anything does.
    pub fn cause(self) -> Option<&'static str> {
        match self {
            Fails::Never => None,
            Fails::NoId => Some(NO_ID),
            Fails::NoIdOrState => Some(NO_ID_OR_STATE),
            Fails::Because(cause) => Some(cause),
        }
    }
}

/// What a Whalet operation answers by itself.
#[derive(Debug, Clone, Copy)]
pub struct Answers {
    /// Canonical apiCode.
    pub name: &'static str,
    pub fails: Fails,
    /// Keeps the partner's business id: the same id again with other content is refused with
    /// IDEMPOTENT_ERROR (`common::once`). Operations that mint their own ids take a repeat as a
    /// new request.
    pub keeps_id: bool,
    /// Accepts a valid request with PROCESSING, never SUCCESS: a review, the seller or a bank
    /// decides later, and the result arrives as a notification.
    pub decided_later: bool,
    /// A scenario rule's `status` word is what its decision reports (through the Whalet
    /// `Verdict`): every operation decided later, and a collection's settlement.
    pub reads_status: bool,
}

const NO_ID: &str = "an id this partner does not have (unknown, or another partner's)";
const NO_ID_OR_STATE: &str = "an id this partner does not have (unknown, or another partner's), or one whose state refuses the request (not approved or active yet, already ended)";

/// What the same business id again with different content provokes (IDEMPOTENT_ERROR).
pub const SAME_ID: &str = "the same business id again with different content";

/// A query of the partner's own objects.
const fn query(name: &'static str) -> Answers {
    row(name, Fails::NoId, false, false)
}

/// An application a review (or the seller, or a bank) decides later; it keeps the partner's id.
const fn reviewed(name: &'static str) -> Answers {
    Answers {
        reads_status: true,
        ..row(name, Fails::NoIdOrState, true, true)
    }
}

/// An application decided later that mints its own ids.
const fn reviewed_new(name: &'static str) -> Answers {
    Answers {
        reads_status: true,
        ..row(name, Fails::NoIdOrState, false, true)
    }
}

const fn row(name: &'static str, fails: Fails, keeps_id: bool, decided_later: bool) -> Answers {
    Answers {
        name,
        fails,
        keeps_id,
        decided_later,
        reads_status: false,
    }
}

/// Every operation of the Open API (and its connectivity check), read from the handlers: what
/// they refuse, and whether they keep the partner's business id (`common::once`, `kept`).
pub const WHALET: &[Answers] = &[
    row("connectivity", Fails::Never, false, false),
    row("queryPlatformBalance", Fails::Never, false, false),
    query("cardHolderQuery"),
    query("cardHolderBeneficaryQuery"),
    query("b2bChannelBanksQuery"),
    query("b2cPlatformQuery"),
    query("b2cCardHolderQuery"),
    query("b2cCardNumberQuery"),
    query("b2cCardDetailQuery"),
    query("b2cShopQuery"),
    query("b2cCardQuery"),
    query("collectionQuery"),
    query("queryCurrencyBalance"),
    query("rateInquiry"),
    query("benificiaryAccountQuery"),
    query("withdrawQuery"),
    query("payQuery"),
    query("paymentQuery"),
    query("tradeOrderQueryDetail"),
    query("tradeOrderQueryList"),
    query("eddReplenishQuery"),
    row(
        "beneficiaryCountryQuery",
        Fails::Because("a userId this partner does not have"),
        false,
        false,
    ),
    row(
        "beneficiaryFieldsQuery",
        Fails::Because("a country payouts are not offered to, or a currency its accounts do not hold"),
        false,
        false,
    ),
    // A new user needs nothing to exist; the partner's outUserId is kept.
    Answers {
        reads_status: true,
        ..row("userOnboardingApply", Fails::Never, true, true)
    },
    reviewed("cardHolderApply"),
    reviewed("cardHolderBeneficaryApply"),
    reviewed("b2bVirtualAccountApply"),
    reviewed("b2cVirtualAccountApply"),
    reviewed("b2cShopBind"),
    reviewed("b2cCardCancel"),
    reviewed("benificiaryAccountApply"),
    reviewed("payoutConfirm"),
    reviewed("payConfirm"),
    reviewed_new("tradeOrderBindApply"),
    reviewed_new("eddReplenishSubmit"),
    reviewed_new("tradeReplenishSubmit"),
    row("tradeOrderApply", Fails::NoIdOrState, true, false),
    row("shopOrderUpload", Fails::NoIdOrState, true, false),
    row(
        "payoutApply",
        Fails::Because(
            "an id this partner does not have (unknown, or another partner's), or an amount over the available balance",
        ),
        true,
        false,
    ),
    row(
        "payApply",
        Fails::Because(
            "an id this partner does not have (unknown, or another partner's), or an amount over the available balance",
        ),
        true,
        false,
    ),
    row("b2cBankLetterApply", Fails::NoIdOrState, false, false),
    row("benificiaryAccountDelete", Fails::NoIdOrState, false, false),
    // A collection's settlement reports a rule's status word.
    Answers {
        reads_status: true,
        ..row("mockPayeeNotify", Fails::NoIdOrState, false, false)
    },
];

/// `name`'s row of [`WHALET`].
pub fn whalet(name: &str) -> Option<&'static Answers> {
    WHALET.iter().find(|a| a.name == name)
}

/// The Whalet operations accepting a valid request with PROCESSING.
pub fn whalet_decided_later() -> Vec<&'static str> {
    WHALET
        .iter()
        .filter(|a| a.decided_later)
        .map(|a| a.name)
        .collect()
}

/// The Whalet operations whose decision reports a rule's `status` word.
pub fn whalet_status_readers() -> Vec<&'static str> {
    WHALET
        .iter()
        .filter(|a| a.reads_status)
        .map(|a| a.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_once_and_everything_decided_later_reads_a_status() {
        let mut seen = std::collections::HashSet::new();
        for a in WHALET {
            assert!(seen.insert(a.name), "{} twice", a.name);
            assert!(!a.decided_later || a.reads_status, "{}", a.name);
        }
        assert_eq!(whalet_decided_later().len(), 13);
        assert_eq!(
            whalet_status_readers().len(),
            whalet_decided_later().len() + 1
        );
        assert!(whalet("payoutApply").is_some_and(|a| a.keeps_id && !a.decided_later));
        assert!(whalet("eddReplenishSubmit").is_some_and(|a| !a.keeps_id && a.decided_later));
        assert!(whalet("nope").is_none());
    }
}
