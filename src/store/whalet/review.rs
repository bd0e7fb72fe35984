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
    /// When the last submission was sent.
    pub applied_at: Millis,
    /// When the object was first applied for: it keeps its id through re-submissions, and so
    /// its creation time. Absent in snapshots from before it was kept: then `applied_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Millis>,
    pub decided_at: Option<Millis>,
}

/// An object's status as a refusal names it: the status it is in, and the word its queries
/// report when a decision's word replaced it (`FAILURE, reported as APPROVED`), so that a
/// refusal never contradicts a query.
pub fn status_named(status: &str, reported: &str) -> String {
    if reported.is_empty() || reported == status {
        status.to_owned()
    } else {
        format!("{status}, reported as {reported}")
    }
}

/// The word an object's queries report: the decision's word (`reported`) when one replaced the
/// status, else the status itself.
pub fn reported_word<'a>(status: &'a str, reported: &'a str) -> &'a str {
    if reported.is_empty() {
        status
    } else {
        reported
    }
}

impl Reviewed {
    /// Its status as a refusal names it ([`status_named`]).
    pub fn status_text(&self) -> String {
        status_named(self.status.as_str(), &self.reported_status)
    }

    /// Submission `attempt`, sent at `now`: under review. A re-submission keeps the object's
    /// creation time, which the lifecycle carries over ([`Reviewed::created_at`]).
    pub fn submitted(attempt: u32, now: Millis) -> Self {
        Self {
            status: ReviewStatus::Processing,
            reported_status: ReviewStatus::Processing.as_str().to_owned(),
            message: String::new(),
            attempt,
            applied_at: now,
            created_at: Some(now),
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
            created_at: Some(now),
            decided_at: Some(now),
        }
    }

    /// When the object was first applied for (its `createTime`).
    pub fn created_at(&self) -> Millis {
        self.created_at.unwrap_or(self.applied_at)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot from before the creation time was kept reads it as the last submission's.
    #[test]
    fn an_older_snapshot_falls_back_to_the_submission_time() {
        let old = serde_json::json!({"status": "FAILURE", "reported_status": "FAILURE",
            "message": "rejected", "attempt": 2, "applied_at": 40, "decided_at": 50});
        let r: Reviewed = serde_json::from_value(old.clone()).unwrap();
        assert_eq!((r.created_at(), r.updated_at()), (40, 50));
        assert_eq!(serde_json::to_value(&r).unwrap(), old, "written as read");
        let mut again = Reviewed::submitted(3, 90);
        again.created_at = Some(r.created_at());
        assert_eq!((again.created_at(), again.updated_at()), (40, 90));
    }
}
