//! The system codes of the Infinia scheme (spec §2.9) and its one error type: a code and the
//! precise message the partner sees. The single place where codes are spelled.

use serde::Serialize;

wire_codes! {
    /// The system codes of spec §2.9.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
    pub enum Code {
        /// SUC-200 success.
        Success => "SUC-200",
        /// SYS-001 database operation failed.
        DatabaseError => "SYS-001",
        /// SYS-002 invalid request parameters.
        InvalidParameter => "SYS-002",
        /// SYS-003 internal server error.
        InternalError => "SYS-003",
        /// SYS-004 missing or null parameter.
        MissingParameter => "SYS-004",
        /// SYS-005 invalid parameter format.
        InvalidFormat => "SYS-005",
        /// SYS-006 value out of allowed range.
        OutOfRange => "SYS-006",
        /// SYS-007 request payload too large.
        PayloadTooLarge => "SYS-007",
        /// SYS-008 service unavailable, retry later.
        Unavailable => "SYS-008",
    }
}

wire_error! {
    /// A refusal in the Infinia scheme: the code and the precise message the partner sees.
    pub struct InfiniaError { pub code: Code, pub message: String }
    invalid => InvalidParameter,
    missing => MissingParameter,
    format => InvalidFormat,
    range => OutOfRange,
    internal => InternalError,
}
