//! The exit codes of every command, one meaning each, so a script can tell a refusal it should
//! report from a network blip it may retry. Listed in `whalet-sim --help` (`EXIT_CODES`), the
//! README and docs/CLI.md.

use std::process::ExitCode;

/// Done: the provider answered `SUCCESS` or `PROCESSING` (an accepted asynchronous request),
/// the event fired, every bench request succeeded, the server stopped cleanly.
pub const SUCCESS: u8 = 0;
/// Anything else that went wrong: an unreadable `--data` file or key, a bad configuration, an
/// address that cannot be bound.
pub const ERROR: u8 = 1;
/// The command line is wrong (clap's own code).
pub const USAGE: u8 = 2;
/// No answer from the provider: connection refused, timeout, or an HTTP status other than 2xx
/// where the provider always answers 2xx (a proxy's 502). Often worth a retry.
pub const TRANSPORT: u8 = 3;
/// An answer arrived but is not a valid envelope: its signature does not verify, it cannot be
/// decrypted or parsed (usually the wrong `--key` or `--platform-key`).
pub const WIRE: u8 = 4;
/// The provider refused: a verified reply with a code other than `SUCCESS`/`PROCESSING`; for
/// `trigger`, the simulator refused the event; for `bench`, some requests did not succeed.
pub const REFUSED: u8 = 5;

/// The table shown at the end of `whalet-sim --help` and each command's `--help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (a PROCESSING answer is a success; serve: stopped cleanly)
  1  other error (unreadable file or key, bad configuration, address in use)
  2  usage error (unknown flag, missing argument)
  3  transport failure: no answer (connection refused, timeout, HTTP status not 2xx)
  4  wire error: the answer is not a valid envelope (bad signature, cannot decrypt)
  5  refused: the provider answered with a refusal code (trigger: the event was refused;
     bench: some requests did not succeed)";

/// `code` as the process's exit code.
pub fn code(code: u8) -> ExitCode {
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_listed() {
        let all = [SUCCESS, ERROR, USAGE, TRANSPORT, WIRE, REFUSED];
        for (i, a) in all.iter().enumerate() {
            assert!(all[i + 1..].iter().all(|b| b != a), "{a} is used twice");
            assert!(
                EXIT_CODES.contains(&format!("\n  {a}  ")),
                "{a} is not in the help text"
            );
        }
    }
}
