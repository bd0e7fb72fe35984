//! Every reviewed object of the Open API in one table: its type, how its scheduled decision is
//! labelled on the clock, the trigger parameter naming it, its default review time (virtual ms)
//! and its approving and rejecting trigger (name, parameters, description). The lifecycle is
//! [`super::review`]; each object's `settle` (an `impl Review`) lives beside its operations.

use super::review::{review_kinds, review_params};

/// The parameters of `whalet.onboarding.approved`.
const ONBOARDING_APPROVE: &[(&str, &str)] = &[
    ("userId", "the user under review"),
    ("partnerId?", crate::trigger::DEFAULT_PARTNER),
    ("message?", "the message to report"),
];

/// The parameters of `whalet.onboarding.rejected`.
const ONBOARDING_REJECT: &[(&str, &str)] = &[
    ("userId", "the user under review"),
    ("partnerId?", crate::trigger::DEFAULT_PARTNER),
    ("message?", "the reason to report"),
    (
        "reMaterial?",
        "Y or N (default N); Y = the partner may re-submit with the same outUserId",
    ),
    ("materialType?", "default Reject"),
    ("status?", "status word to report instead of FAILURE"),
];

/// The parameters of the card's review triggers (opening and cancellation).
const CARD: &[(&str, &str)] = review_params!("cardId", "the card");

/// The parameters of `whalet.collection.settled`.
const COLLECTION_SETTLE: &[(&str, &str)] = &[
    ("tradeId", "the pending collection"),
    ("partnerId?", crate::trigger::DEFAULT_PARTNER),
];

/// The parameters of `whalet.collection.returned`.
const COLLECTION_RETURN: &[(&str, &str)] = &[
    ("tradeId", "the pending collection"),
    ("reason?", "why it was returned"),
    ("partnerId?", crate::trigger::DEFAULT_PARTNER),
];

review_kinds! {
    /// The review of a user onboarding (`userOnboardingResultNotify`). A rejection with
    /// `reMaterial = Y` lets the partner re-submit.
    OnboardingReview: "onboarding", "userId", 60_000, ONBOARDING_APPROVE;
        approve "whalet.onboarding.approved", "Approves a user onboarding under review now and sends userOnboardingResultNotify";
        reject "whalet.onboarding.rejected", "Rejects a user onboarding under review now; reMaterial=Y asks for a re-submission", params ONBOARDING_REJECT;

    /// The review of a card holder application (`cardHolderResultNotify`).
    HolderReview: "holder", "holderId", 30_000, review_params!("holderId", "the card holder under review");
        approve "whalet.holder.approved", "Approves a card holder under review now (cardHolderResultNotify)";
        reject "whalet.holder.rejected", "Rejects a card holder under review now (cardHolderResultNotify)";

    /// The review of a card holder bank account (`cardHolderBeneficaryNotify`).
    BeneficaryReview: "beneficary", "beneficaryId", 30_000, review_params!("beneficaryId", "the holder bank account under review");
        approve "whalet.beneficary.approved", "Approves a card holder bank account under review now (cardHolderBeneficaryNotify)";
        reject "whalet.beneficary.rejected", "Rejects a card holder bank account under review now (cardHolderBeneficaryNotify)";

    /// The bank's review of a collection account application (`virtualAccountNotify`, with the
    /// receiving bank details once opened).
    OpeningReview: "account", "cardId", 10_000, CARD;
        approve "whalet.account.opened", "The bank opens a collection account being applied for now (virtualAccountNotify SUCCESS)";
        reject "whalet.account.failed", "The bank refuses a collection account being applied for (virtualAccountNotify FAILURE)";

    /// The marketplace's review of a shop bind or unbind (`b2cShopBindResultNotify`).
    ShopReview: "shop", "bindId", 10_000, review_params!("bindId", "the shop binding with a bind or unbind under review");
        approve "whalet.shop.approved", "The marketplace confirms a pending shop bind or unbind now (b2cShopBindResultNotify SUCCESS)";
        reject "whalet.shop.rejected", "The marketplace refuses a pending shop bind or unbind (b2cShopBindResultNotify FAILURE)";

    /// The bank's review of a card cancellation (`b2cCardCancelResultNotify`). A refused
    /// cancellation leaves the card ACTIVE; a cancelled card's shops are unbound with it.
    CancelReview: "card cancel", "cardId", 10_000, CARD;
        approve "whalet.card.cancelled", "The bank closes a card being cancelled now (b2cCardCancelResultNotify SUCCESS)";
        reject "whalet.card.cancel_refused", "The bank refuses a pending card cancellation; the card stays ACTIVE (b2cCardCancelResultNotify FAILURE)";

    /// The review of a payout beneficiary account (`benificiaryAccountNotify`).
    BeneficiaryReview: "benificiary", "beneficiaryId", 30_000, review_params!("beneficiaryId", "the beneficiary account under review");
        approve "whalet.beneficiary.approved", "Approves a payout beneficiary account under review now (benificiaryAccountNotify)";
        reject "whalet.beneficiary.rejected", "Rejects a payout beneficiary account under review now (benificiaryAccountNotify)";

    /// The review of a collection-to-orders binding (`tradeOrderBindNotify`). On approval each
    /// order's bound amount grows and an order closes when asked or fully bound.
    BindReview: "tradeOrderBind", "bindId", 10_000, review_params!("bindId", "the binding under review (from tradeOrderBindApply)");
        approve "whalet.trade_bind.approved", "Approves a collection-to-orders binding under review now (tradeOrderBindNotify)";
        reject "whalet.trade_bind.rejected", "Rejects a collection-to-orders binding now; what it claimed is free again (tradeOrderBindNotify)";

    /// The review of submitted material (`eddReplenishResultNotify` /
    /// `tradeReplenishResultNotify`): frozen money is released (approved) or returned (rejected),
    /// and a payout held for the EDD resumes or fails.
    ReplenishReview: "replenish", "replenishId", 30_000, review_params!("replenishId", "the submitted request for material");
        approve "whalet.replenish.approved", "Approves submitted material now (eddReplenishResultNotify / tradeReplenishResultNotify); frozen money is released";
        reject "whalet.replenish.rejected", "Rejects submitted material now; frozen money is returned (a held payout fails)";

    /// The settlement of a collection that arrived (`collectionReceivedNotify`): its pending
    /// money goes into the available balance (settled) or back to the payer's bank (returned,
    /// ending its trade-order bindings). Trade material asked about it holds it until decided.
    CollectionReview: "collection", "tradeId", 5_000, COLLECTION_SETTLE;
        approve "whalet.collection.settled", "A pending collection settles into the available balance now (collectionReceivedNotify SUCCESS)";
        reject "whalet.collection.returned", "A pending collection is returned to the payer (collectionReceivedNotify FAILURE); the pending balance goes back to the bank, its trade-order bindings end (tradeOrderBindNotify FAILURE) and an open request for its trade material ends (tradeReplenishResultNotify FAILURE)", params COLLECTION_RETURN;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_names_its_object_first_and_has_its_own_triggers() {
        let mut names = std::collections::HashSet::new();
        assert_eq!(KINDS.len(), 10);
        for k in KINDS {
            for t in [&k.approve, &k.reject] {
                assert_eq!(
                    t.params.first().map(|p| p.0),
                    Some(k.id_param),
                    "{}",
                    t.name
                );
                assert!(t.name.starts_with("whalet."), "{}", t.name);
                assert!(names.insert(t.name), "{} twice", t.name);
            }
            assert!(k.delay_ms > 0, "{}", k.label);
        }
    }
}
