//! The exit codes of every command, one meaning each, so a script can tell a refusal it should
//! report from a network blip it may retry. Listed in `whalet-sim --help` (`EXIT_CODES`), the
//! README and docs/CLI.md.

use std::process::ExitCode;

/// Done: the provider answered `SUCCESS` or `PROCESSING` (an accepted asynchronous request),
/// the event fired, every bench request succeeded, the server stopped cleanly.
pub const SUCCESS: u8 = 0;
/// Anything else that went wrong: an unreadable `--data` file or key (a `--data` file over
/// `call::MAX_DATA_BYTES`, or one with a byte order mark), a bad configuration, an
/// address that cannot be bound, an answer longer than a command reads
/// (`partner::MAX_REPLY_BYTES`: not the provider's fault, nor worth a retry).
pub const ERROR: u8 = 1;
/// The command line is wrong (clap's own code).
pub const USAGE: u8 = 2;
/// No answer from the provider: connection refused, timeout, or an HTTP status other than 2xx
/// (the providers answer 2xx) without the provider's refusal in it: a proxy's 502, a success
/// reply under a 503. Often worth a retry; not the simulator's 404 "no route" to a `--url` whose
/// path is not its root (`trigger`, `coverage`, `call --example`: `super::no_route_error`).
pub const TRANSPORT: u8 = 3;
/// An answer arrived but is not a valid envelope: its signature does not verify, it cannot be
/// decrypted or parsed (usually the wrong `--key` or `--platform-key`), or it is a genuine reply
/// to another request (its head does not echo this one's); for `trigger` and `coverage`, a 200
/// answer that is not the simulator's JSON (another server at `--url`); for `call --example`,
/// a server at `--url` that answers but is not a simulator.
pub const WIRE: u8 = 4;
/// The provider refused: a verified reply with a code other than `SUCCESS`/`PROCESSING`,
/// whatever its HTTP status; for
/// `trigger`, the simulator refused the event; for `bench`, some requests did not succeed or the
/// load asked for was not made; for `coverage`, the simulator refused the request or less than
/// `--min` percent was exercised.
pub const REFUSED: u8 = 5;
/// Stdout was closed by its reader (`whalet-sim coverage | head`): the status a shell gives a
/// process killed by SIGPIPE (128 + 13), ended quietly instead of with a panic (`super::out`).
pub const CLOSED_STDOUT: u8 = 141;

/// The table shown at the end of `whalet-sim --help` and each command's `--help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (a PROCESSING answer is a success; serve: stopped cleanly)
  1  other error (unreadable file or key, bad configuration, address in use, a reply
     over 64 MiB)
  2  usage error (unknown flag, missing argument, invalid value)
  3  transport failure: no answer (connection refused, timeout, HTTP status not 2xx
     without a refusal code)
  4  wire error: the answer is not a valid envelope (bad signature, cannot decrypt, a
     reply to another request; trigger, coverage: an answer that is not the simulator's JSON;
     call --example: a server at --url that is not a simulator)
  5  refused: the provider answered with a refusal code, whatever the HTTP status (trigger:
     the event was refused; bench: some requests did not succeed, or the load asked for was
     not made; coverage: the simulator refused the request, or less than --min percent was
     exercised)
141  stdout was closed by its reader (`... | head`): stopped quietly, as on SIGPIPE";

/// `code` as the process's exit code.
pub fn code(code: u8) -> ExitCode {
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [u8; 7] = [
        SUCCESS,
        ERROR,
        USAGE,
        TRANSPORT,
        WIRE,
        REFUSED,
        CLOSED_STDOUT,
    ];

    /// The codes the help text lists, in order (`  N  meaning` lines, N right-aligned).
    fn listed_in_help() -> Vec<u8> {
        EXIT_CODES
            .lines()
            .filter_map(|line| line.split_whitespace().next()?.parse().ok())
            .collect()
    }

    #[test]
    fn codes_are_distinct_and_listed() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(ALL[i + 1..].iter().all(|b| b != a), "{a} is used twice");
        }
        assert_eq!(listed_in_help(), ALL, "{EXIT_CODES}");
    }

    /// docs/CLI.md's table of exit codes and the help text list the same codes, so that neither
    /// tells a script of a code the other leaves out.
    #[test]
    fn the_docs_list_the_same_codes_as_the_help() {
        let docs = include_str!("../../docs/CLI.md");
        let table = docs
            .split("## Exit codes")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("docs/CLI.md has an Exit codes section");
        let in_docs: Vec<u8> = table
            .lines()
            .filter_map(|line| line.strip_prefix("| ")?.split(' ').next()?.parse().ok())
            .collect();
        assert_eq!(in_docs, listed_in_help(), "docs/CLI.md: {table}");
        assert!(EXIT_CODES.contains("less than --min"));
        assert!(table.contains("`coverage`: less than `--min`"));
    }
}
