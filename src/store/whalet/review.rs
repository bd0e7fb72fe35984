//! The state of an approve/reject review ([`ReviewStatus`]) and the fields every object under
//! such a review carries ([`UnderReview`]): users (onboarding), card holders and their bank
//! accounts. The lifecycle that moves them is `api::whalet::common::review`.

use serde::{Deserialize, Serialize};

use super::{Beneficary, Holder, User};
use crate::clock::Millis;

word_enum! {
    /// A review that ends in approval or rejection (onboarding, card holder, holder bank account,
    /// trade-order binding).
    ReviewStatus {
        Processing = "PROCESSING",
        Success = "SUCCESS",
        Failure = "FAILURE",
    }
}

impl ReviewStatus {
    /// Where a verdict moves a review: SUCCESS if approved, else FAILURE.
    pub fn decided(approved: bool) -> Self {
        if approved {
            ReviewStatus::Success
        } else {
            ReviewStatus::Failure
        }
    }
}

/// Where an approve/reject review of one object stands: what users, card holders and their bank
/// accounts carry (flattened into their JSON, so snapshots keep the same fields).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reviewed {
    pub status: ReviewStatus,
    /// The status word last reported (a scenario may choose another than SUCCESS/FAILURE).
    pub reported_status: String,
    pub message: String,
    /// Bumped by every (re)submission; a stale scheduled decision is ignored.
    pub attempt: u32,
    pub applied_at: Millis,
    pub decided_at: Option<Millis>,
}

impl Reviewed {
    /// Submission `attempt`, sent at `now`: under review.
    pub fn submitted(attempt: u32, now: Millis) -> Self {
        Self {
            status: ReviewStatus::Processing,
            reported_status: ReviewStatus::Processing.as_str().to_owned(),
            message: String::new(),
            attempt,
            applied_at: now,
            decided_at: None,
        }
    }

    /// Approved at `now` on the first submission (objects a trigger creates ready).
    pub fn approved(now: Millis) -> Self {
        Self {
            status: ReviewStatus::Success,
            reported_status: ReviewStatus::Success.as_str().to_owned(),
            message: "approved".to_owned(),
            attempt: 1,
            applied_at: now,
            decided_at: Some(now),
        }
    }

    /// When it last changed: decided, else applied for.
    pub fn updated_at(&self) -> Millis {
        self.decided_at.unwrap_or(self.applied_at)
    }
}

/// An object reviewed by Whalet (onboarding, card holder, holder bank account).
pub trait UnderReview {
    fn review(&mut self) -> &mut Reviewed;
}

macro_rules! under_review {
    ($($t:ty),*) => {$(
        impl UnderReview for $t {
            fn review(&mut self) -> &mut Reviewed {
                &mut self.review
            }
        }
    )*};
}

under_review!(User, Holder, Beneficary);
