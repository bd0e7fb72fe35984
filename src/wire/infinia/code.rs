//! The system codes of the Infinia scheme (spec §2.9) and its one error type: a code and the
//! precise message the partner sees. The single place where codes are spelled.

use serde::Serialize;

/// The system codes of spec §2.9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Code {
    /// SUC-200 success.
    Success,
    /// SYS-001 database operation failed.
    DatabaseError,
    /// SYS-002 invalid request parameters.
    InvalidParameter,
    /// SYS-003 internal server error.
    InternalError,
    /// SYS-004 missing or null parameter.
    MissingParameter,
    /// SYS-005 invalid parameter format.
    InvalidFormat,
    /// SYS-006 value out of allowed range.
    OutOfRange,
    /// SYS-007 request payload too large.
    PayloadTooLarge,
    /// SYS-008 service unavailable, retry later.
    Unavailable,
}

impl Code {
    pub const ALL: [Code; 9] = [
        Code::Success,
        Code::DatabaseError,
        Code::InvalidParameter,
        Code::InternalError,
        Code::MissingParameter,
        Code::InvalidFormat,
        Code::OutOfRange,
        Code::PayloadTooLarge,
        Code::Unavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Success => "SUC-200",
            Code::DatabaseError => "SYS-001",
            Code::InvalidParameter => "SYS-002",
            Code::InternalError => "SYS-003",
            Code::MissingParameter => "SYS-004",
            Code::InvalidFormat => "SYS-005",
            Code::OutOfRange => "SYS-006",
            Code::PayloadTooLarge => "SYS-007",
            Code::Unavailable => "SYS-008",
        }
    }

    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal in the Infinia scheme: the code and the precise message the partner sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct InfiniaError {
    pub code: Code,
    pub message: String,
}

impl InfiniaError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidParameter, message)
    }
    pub fn missing(message: impl Into<String>) -> Self {
        Self::new(Code::MissingParameter, message)
    }
    pub fn format(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidFormat, message)
    }
    pub fn range(message: impl Into<String>) -> Self {
        Self::new(Code::OutOfRange, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Code::InternalError, message)
    }
}
