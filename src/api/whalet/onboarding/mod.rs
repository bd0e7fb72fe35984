//! User onboarding (用户入网): `userOnboardingApply` opens a review whose result arrives as
//! `userOnboardingResultNotify`; triggers decide a review at once.

mod apply;

use super::Operation;
use crate::core::Trigger;

pub const OPERATIONS: &[Operation] = &[Operation {
    api_code: "userOnboardingApply",
    handler: apply::handler,
}];

pub const NOTIFICATIONS: &[&str] = &["userOnboardingResultNotify"];

pub const TRIGGERS: &[Trigger] = &[
    Trigger {
        name: "whalet.onboarding.approved",
        description:
            "Approves a user onboarding under review now and sends userOnboardingResultNotify",
        params: &[
            ("userId", "the user under review"),
            ("partnerId?", "default: the demo partner"),
            ("message?", "the message to report"),
        ],
        run: apply::approved,
    },
    Trigger {
        name: "whalet.onboarding.rejected",
        description:
            "Rejects a user onboarding under review now; reMaterial=Y asks for a re-submission",
        params: &[
            ("userId", "the user under review"),
            ("partnerId?", "default: the demo partner"),
            ("message?", "the reason to report"),
            (
                "reMaterial?",
                "Y = the partner may re-submit with the same outUserId (default N)",
            ),
            ("materialType?", "default Reject"),
            ("status?", "status word to report instead of FAILURE"),
        ],
        run: apply::rejected,
    },
];
