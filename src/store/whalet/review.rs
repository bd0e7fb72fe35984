//! The state of an approve/reject review ([`ReviewStatus`]) and the fields every object under
//! such a review carries ([`UnderReview`]): users (onboarding), card holders and their bank
//! accounts. The lifecycle that moves them is `api::whalet::common::review`.

use serde::{Deserialize, Serialize};

use super::{Beneficary, Holder, User};
use crate::clock::Millis;

/// A review that ends in approval or rejection (onboarding, card holder, holder bank account,
/// trade-order binding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewStatus {
    Processing,
    Success,
    Failure,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Processing => "PROCESSING",
            ReviewStatus::Success => "SUCCESS",
            ReviewStatus::Failure => "FAILURE",
        }
    }

    /// Where a verdict moves a review: SUCCESS if approved, else FAILURE.
    pub fn decided(approved: bool) -> Self {
        if approved {
            ReviewStatus::Success
        } else {
            ReviewStatus::Failure
        }
    }
}

/// The review fields that users, card holders and their bank accounts share.
pub struct ReviewFields<'a> {
    pub status: &'a mut ReviewStatus,
    pub reported_status: &'a mut String,
    pub message: &'a mut String,
    /// Which submission is under review (re-submissions count up).
    pub attempt: u32,
    pub decided_at: &'a mut Option<Millis>,
}

/// An object reviewed by Whalet (onboarding, card holder, holder bank account).
pub trait UnderReview {
    fn review(&mut self) -> ReviewFields<'_>;
}

macro_rules! under_review {
    ($($t:ty),*) => {$(
        impl UnderReview for $t {
            fn review(&mut self) -> ReviewFields<'_> {
                ReviewFields {
                    status: &mut self.status,
                    reported_status: &mut self.reported_status,
                    message: &mut self.message,
                    attempt: self.attempt,
                    decided_at: &mut self.decided_at,
                }
            }
        }
    )*};
}

under_review!(User, Holder, Beneficary);
