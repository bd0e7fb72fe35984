//! Typed refusals of the store and of domain helpers: why a business request cannot be carried
//! out against the current state (an unknown object, an object in the wrong state, not enough
//! money, a conflict with an earlier request). Each surface maps them to its own wire error with
//! one `From` impl; the message is written once, here, in the partner's words.

use crate::store::ledger::LedgerError;

/// Why the state refuses a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// No such object for this tenant (`what` is the partner's field name, e.g. `userId`).
    #[error("{what} {id:?} is not {kind} of this partner")]
    NotFound {
        what: &'static str,
        id: String,
        /// `a user`, `a card`, `a card holder`, ...
        kind: &'static str,
    },
    /// No object found by this key, said the way the lookup was asked (`no payee with customerNo
    /// C1`); `key` is the field and its value as the partner wrote them.
    #[error("no {kind} with {key}")]
    Unknown { kind: &'static str, key: String },
    /// The object exists but belongs to another owner (e.g. a card of another user).
    #[error("{what} {id:?} does not belong to {owner}")]
    NotOwned {
        what: &'static str,
        id: String,
        owner: String,
    },
    /// The object is in a state that does not allow the request.
    #[error("{0}")]
    WrongState(String),
    /// A ledger movement was refused (not enough available balance, overflow).
    #[error(transparent)]
    Funds(#[from] LedgerError),
    /// The request conflicts with an earlier one (an id reused with other content, ...).
    #[error("{0}")]
    Conflict(String),
}

impl Refusal {
    pub fn not_found(what: &'static str, id: impl Into<String>, kind: &'static str) -> Self {
        Refusal::NotFound {
            what,
            id: id.into(),
            kind,
        }
    }

    pub fn unknown(kind: &'static str, key: impl Into<String>) -> Self {
        Refusal::Unknown {
            kind,
            key: key.into(),
        }
    }

    pub fn not_owned(what: &'static str, id: impl Into<String>, owner: impl Into<String>) -> Self {
        Refusal::NotOwned {
            what,
            id: id.into(),
            owner: owner.into(),
        }
    }

    /// Object `id` of `map` when it belongs to `user_id` (`owner` reads its user), else why not:
    /// `what` is the partner's field, the id and the kind of object (`("cardId", id, "a card")`).
    pub fn owned_by<'m, T>(
        map: &'m std::collections::BTreeMap<String, T>,
        (what, id, kind): (&'static str, &str, &'static str),
        user_id: &str,
        owner: fn(&T) -> &str,
    ) -> Result<&'m T, Refusal> {
        match map.get(id) {
            Some(object) if owner(object) == user_id => Ok(object),
            Some(_) => Err(Refusal::not_owned(what, id, format!("user {user_id}"))),
            None => Err(Refusal::not_found(what, id, kind)),
        }
    }

    pub fn wrong_state(text: impl Into<String>) -> Self {
        Refusal::WrongState(text.into())
    }

    pub fn conflict(text: impl Into<String>) -> Self {
        Refusal::Conflict(text.into())
    }
}

/// Triggers and timers of the control plane answer a plain message (`TriggerFuture`,
/// completions): a refusal becomes its message there, so that they can use `?` as well.
impl From<Refusal> for String {
    fn from(r: Refusal) -> Self {
        r.to_string()
    }
}

/// The same for a ledger movement refused there (not enough available balance, overflow).
impl From<LedgerError> for String {
    fn from(e: LedgerError) -> Self {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field_and_the_id() {
        assert_eq!(
            Refusal::not_found("userId", "U9", "a user").to_string(),
            "userId \"U9\" is not a user of this partner"
        );
        assert_eq!(
            Refusal::not_owned("cardId", "C1", "user U2").to_string(),
            "cardId \"C1\" does not belong to user U2"
        );
        assert_eq!(
            Refusal::unknown("payee", "customerNo C1").to_string(),
            "no payee with customerNo C1"
        );
    }
}
