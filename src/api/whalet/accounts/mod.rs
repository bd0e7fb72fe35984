//! Collection accounts (开卡, virtual accounts — the vendor calls them cards) for B2B and B2C,
//! and the marketplace shops bound to B2C cards.

mod cards;
mod catalogue;
mod lookups;
mod open;
mod ready;
mod shops;

use serde_json::Value;

use super::common::kinds::{CancelReview, OpeningReview, ShopReview};
use super::common::{once_keyed, review};
use super::{Ctx, Operation, Reply};
use crate::core::Trigger;
use crate::store::TenantState;
use crate::wire::whalet::WhaletError;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "b2bVirtualAccountApply",
        handler: open::apply_b2b,
    },
    Operation {
        name: "b2bChannelBanksQuery",
        handler: lookups::channel_banks,
    },
    Operation {
        name: "b2cVirtualAccountApply",
        handler: open::apply_b2c,
    },
    Operation {
        name: "b2cPlatformQuery",
        handler: lookups::platforms,
    },
    Operation {
        name: "b2cCardHolderQuery",
        handler: lookups::card_holders,
    },
    Operation {
        name: "b2cCardNumberQuery",
        handler: lookups::card_number,
    },
    Operation {
        name: "b2cShopBind",
        handler: shops::bind,
    },
    Operation {
        name: "b2cCardCancel",
        handler: cards::cancel,
    },
    Operation {
        name: "b2cCardDetailQuery",
        handler: cards::detail,
    },
    Operation {
        name: "b2cShopQuery",
        handler: shops::query,
    },
    Operation {
        name: "b2cCardQuery",
        handler: cards::query,
    },
    Operation {
        name: "b2cBankLetterApply",
        handler: cards::bank_letter,
    },
];

pub const NOTIFICATIONS: &[&str] = &[
    "virtualAccountNotify",
    "b2cShopBindResultNotify",
    "b2cCardCancelResultNotify",
];

pub const TRIGGERS: &[Trigger] = &[
    Trigger {
        name: "whalet.account.ready",
        description: "Creates at once (no notifications) an onboarded user, an approved card holder and an ACTIVE B2C collection account, for demos and tests",
        params: &[
            ("currency?", "default USD"),
            ("platform?", "default AMAZON"),
            (
                "name?",
                "the user's and holder's name, at most 256 characters and not blank (as userOnboardingApply's legalEntity.name)",
            ),
            (
                "outUserId?",
                "the partner's id for the user, at most 64 characters, not blank and not already a user's (as userOnboardingApply's); default ready-{userId}, or ready-{userId}-2, -3, … if a user already has that",
            ),
            ("partnerId?", crate::trigger::DEFAULT_PARTNER),
        ],
        run: ready::ready,
    },
    review::approval::<OpeningReview>(),
    review::rejection::<OpeningReview>(),
    review::approval::<ShopReview>(),
    review::rejection::<ShopReview>(),
    review::approval::<CancelReview>(),
    review::rejection::<CancelReview>(),
];

/// Runs `execute` once per request, as [`once_keyed`] does, for a change the provider reviews and may
/// refuse, which the partner then asks for again under the same id (a card's cancellation under
/// its `cardId`, a shop's unbind under its `bindId`: there is no new id to use). The idempotency
/// key carries `refusals`, the refusals so far (read from the state under the request's lock), so
/// the same request after a refusal is a new one, while a repetition before the verdict or after
/// a success answers as the first time. `content` is what was read of the request
/// ([`Check::content`]); `what` names the request in the refusal of other content under the
/// same key, unless `not_theirs` (looking at the state) refuses it first because the id is
/// another user's (an id unique per partner, not per user): that is no retry of theirs.
///
/// [`Check::content`]: super::common::fields::Check::content
fn again_after_refusal(
    ctx: &Ctx<'_>,
    (operation, what): (&str, &str),
    id: &str,
    content: &Value,
    (refusals, not_theirs): (
        impl FnOnce(&TenantState) -> u32,
        impl FnOnce(&TenantState) -> Option<WhaletError>,
    ),
    execute: impl FnOnce(&mut TenantState) -> Result<Reply, WhaletError>,
) -> Result<Reply, WhaletError> {
    let key = |t: &TenantState| format!("{operation} {}", refusals(t));
    let conflict = |t: &TenantState| {
        Some(not_theirs(t).unwrap_or_else(|| {
            WhaletError::idempotent(format!(
                "{what} was already asked for with different content; send the original content \
                 to get the original answer (it may be asked for again, with any content, once it \
                 is refused)"
            ))
        }))
    };
    once_keyed(ctx, (key, id), content, conflict, execute)
}

#[cfg(test)]
mod tests {
    use super::TRIGGERS;
    use crate::api::whalet::common::fields::{MAX_ID, MAX_TEXT};

    /// `whalet.account.ready` says the limits its `outUserId` and `name` are checked against.
    #[test]
    fn the_ready_trigger_states_its_limits() {
        let ready = TRIGGERS.iter().find(|t| t.name == "whalet.account.ready");
        let said = |param: &str| {
            ready
                .and_then(|t| t.params.iter().find(|(p, _)| *p == param))
                .map_or("", |(_, text)| *text)
        };
        assert!(
            said("outUserId?").contains(&format!("at most {MAX_ID} characters"))
                && said("outUserId?").contains("not already a user's"),
            "{}",
            said("outUserId?")
        );
        assert!(
            said("name?").contains(&format!("at most {MAX_TEXT} characters")),
            "{}",
            said("name?")
        );
    }
}
