//! User onboarding (用户入网): `userOnboardingApply` opens a review whose result arrives as
//! `userOnboardingResultNotify`; triggers decide a review at once.

mod apply;

use super::common::kinds::OnboardingReview;
use super::common::review;
use super::Operation;
use crate::core::Trigger;

pub const OPERATIONS: &[Operation] = &[Operation {
    name: "userOnboardingApply",
    handler: apply::handler,
}];

pub const NOTIFICATIONS: &[&str] = &["userOnboardingResultNotify"];

pub const TRIGGERS: &[Trigger] = &[
    review::approval::<OnboardingReview>(),
    review::rejection::<OnboardingReview>(),
];
