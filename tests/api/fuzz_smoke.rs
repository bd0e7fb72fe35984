//! The stable counterpart of the cargo-fuzz targets (`fuzz/`, docs/RELIABILITY.md "Fuzzing"):
//! every entry function of `whalet_sim::fuzzing` over its seed corpus (`fuzz/corpus/<target>/`)
//! and a fixed number of deterministic mutations of it (a seeded generator: bit flips, byte
//! changes, truncations, insertions of bytes and of format tokens, deletions, duplications and
//! splices of two seeds). A target panics only on a finding (a panic, or an answer with the
//! surface's internal error), so each test passing means: no input of this run broke a parser.
//! Runs in the normal test command, a few seconds in a debug build.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Instant;

use whalet_sim::fuzzing::{self, TARGETS};

/// Mutated cases per target (on top of the seeds); the sealing targets sign (and the simulator
/// decrypts and signs) each case with RSA, so they run fewer.
const CASES: usize = 2_000;
const SEALED_CASES: usize = 150;
/// Refused Infinia envelopes of up to 4 blocks are decrypted for the signature hint.
const INFINIA_CASES: usize = 1_000;

/// Bytes the mutator inserts besides random ones: the syntax of the formats under test.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\\u0000",
    b"\\ud800",
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1e999",
    b"18446744073709551616",
    b"99999999999999999999.999",
    b"\r\n",
    b"\n",
    b"=",
    b"&",
    b"%",
    b"%zz",
    b"+",
    b"--fuzzboundary\r\n",
    b"--fuzzboundary--",
    b"\r\n\r\n",
    b"Content-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n",
    b"[[",
    b"]]",
    b"'''",
    b"\"\"\"",
    b"\xEF\xBB\xBF",
    b"\xff",
    b"\xc3",
    "é".as_bytes(),
    b"0.001",
    b"SALE",
    b"RETURN",
    b"USD",
    b"2025-01-01 10:00:00",
];

/// SplitMix64: small, seeded, the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = [0, 0xff, b'"', b'\n', b'0', 0x7f, b'{'][rng.below(7)];
            }
            2 => input.truncate(rng.below(len + 1)),
            3 => {
                let at = rng.below(len + 1);
                let token = TOKENS[rng.below(TOKENS.len())];
                input.splice(at..at, token.iter().copied());
            }
            4 => {
                let at = rng.below(len + 1);
                let bytes: Vec<u8> = (0..=rng.below(8)).map(|_| rng.next() as u8).collect();
                input.splice(at..at, bytes);
            }
            5 if len > 0 => {
                let from = rng.below(len);
                let to = (from + 1 + rng.below(32)).min(len);
                input.drain(from..to);
            }
            6 if len > 0 => {
                let from = rng.below(len);
                let to = (from + 1 + rng.below(64)).min(len);
                let chunk = input[from..to].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, chunk);
            }
            _ => {
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
        }
    }
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no seed corpus {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(!seeds.is_empty(), "{} holds no seeds", dir.display());
    seeds
}

/// Runs `target` over its seeds and `cases` mutations; panics naming the first failing input.
/// For a target through the request pipeline, `success` is the surface's success code: some
/// inputs (at least the seeds) must get it, or the harness never got past authentication.
fn run(target: &str, cases: usize, success: Option<&str>) {
    let entry = TARGETS
        .iter()
        .find(|t| t.name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target}"));
    let seeds = seeds(target);
    fuzzing::record_outcomes();
    let seed = target
        .bytes()
        .fold(0xF022_u64, |h, b| h.rotate_left(5) ^ u64::from(b));
    let mut rng = Rng(seed);
    let started = Instant::now();
    let inputs = seeds.iter().cloned().chain((0..cases).map(|_| {
        let mut input = seeds[rng.below(seeds.len())].clone();
        mutate(&mut rng, &seeds, &mut input);
        input
    }));
    let mut count = 0;
    for (i, input) in inputs.enumerate() {
        if catch_unwind(AssertUnwindSafe(|| (entry.run)(&input))).is_err() {
            panic!(
                "fuzz target {target}: case {i} panicked (seed {seed:#x}); input ({} bytes): {:?}",
                input.len(),
                String::from_utf8_lossy(&input)
            );
        }
        count += 1;
    }
    fuzzing::assert_invariants();
    let outcomes = fuzzing::outcomes(target);
    eprintln!(
        "fuzz smoke {target}: {count} inputs in {:.2?}; answers {outcomes:?}",
        started.elapsed()
    );
    if let Some(code) = success {
        assert!(
            outcomes.get(code).copied().unwrap_or(0) > 0,
            "{target}: no input got {code}; answers: {outcomes:?}"
        );
    }
}

#[test]
fn every_target_has_a_seed_corpus_and_a_test() {
    let tested = [
        "whalet_envelope",
        "whalet_sealed",
        "infinia_envelope",
        "infinia_sealed",
        "pockyt_request",
        "pockyt_signed",
        "upload_multipart",
        "sftp_trade_details",
        "scenario_file",
        "config_toml",
    ];
    let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
    assert_eq!(names, tested);
    for name in names {
        let fuzz_target = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/fuzz_targets")
            .join(format!("{name}.rs"));
        assert!(fuzz_target.exists(), "{} is missing", fuzz_target.display());
        assert!(!seeds(name).is_empty());
    }
}

#[test]
fn whalet_envelope() {
    run("whalet_envelope", CASES, Some("SUCCESS"));
}

#[test]
fn whalet_sealed() {
    run("whalet_sealed", SEALED_CASES, Some("SUCCESS"));
}

#[test]
fn infinia_envelope() {
    run("infinia_envelope", INFINIA_CASES, Some("SUC-200"));
}

#[test]
fn infinia_sealed() {
    run("infinia_sealed", SEALED_CASES, Some("SUC-200"));
}

#[test]
fn pockyt_request() {
    run("pockyt_request", CASES, Some("000100"));
}

#[test]
fn pockyt_signed() {
    run("pockyt_signed", CASES, Some("000100"));
}

#[test]
fn upload_multipart() {
    run("upload_multipart", CASES, Some("SUCCESS"));
}

#[test]
fn sftp_trade_details() {
    run("sftp_trade_details", CASES, None);
}

#[test]
fn scenario_file() {
    run("scenario_file", CASES, None);
}

#[test]
fn config_toml() {
    run("config_toml", CASES, None);
}
