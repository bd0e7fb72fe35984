//! scripts/profile_split.py, the split behind docs/PERFORMANCE.md "Where the rest goes": each
//! kind of sample lands in its part, and the shares add up.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::helpers::repo_path;

/// One sample in `perf script -F comm,tid,ip,sym,dso` form, innermost frame first.
fn sample(frames: &[(&str, &str)]) -> String {
    let mut text = String::from("tokio-rt-worker 4242 \n");
    for (i, (symbol, library)) in frames.iter().enumerate() {
        text.push_str(&format!("\t{:>16x} {symbol} ({library})\n", 0x1000 + i));
    }
    text.push('\n');
    text
}

fn split(profile: &str) -> Value {
    let mut child = Command::new("python3")
        .arg(repo_path("scripts/profile_split.py"))
        .arg("--json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(profile.as_bytes())
        .expect("profile written");
    let out = child.wait_with_output().expect("the script ends");
    assert!(
        out.status.success(),
        "profile_split.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON out")
}

const BIN: &str = "/srv/whalet-sim";
const KERNEL: &str = "[kernel.kallsyms]";
const LIBC: &str = "/usr/lib/x86_64-linux-gnu/libc.so.6";

#[test]
fn every_kind_of_sample_lands_in_its_part() {
    let mut profile = String::new();
    // Four samples inside OpenSSL: its callers are unknown, the library says it all.
    for _ in 0..4 {
        profile += &sample(&[("0x0000000000129999", "/usr/lib/libcrypto.so.3")]);
    }
    // The pure-Rust build: big-integer work under the simulator's signing function.
    profile += &sample(&[
        ("num_bigint_dig::biguint::monty::monty_modpow", BIN),
        ("rsa::algorithms::rsa::rsa_decrypt_and_check", BIN),
        ("whalet_sim::wire::crypto::sign", BIN),
    ]);
    // The count's clock read, although it happens inside the signing function.
    profile += &sample(&[
        ("posix_cpu_clock_get", KERNEL),
        ("__x64_sys_clock_gettime", KERNEL),
        ("__vdso_clock_gettime", "[vdso]"),
        ("whalet_sim::wire::crypto::sign", BIN),
    ]);
    // A reply written: the kernel entered through writev.
    profile += &sample(&[
        ("tcp_sendmsg_locked", KERNEL),
        ("do_writev", KERNEL),
        ("__GI___writev", LIBC),
        ("hyper::proto::h1::io::Buffered::poll_flush", BIN),
    ]);
    // A page fault under a function whose name says "schedule": what entered the kernel
    // decides, not the simulator's function names.
    profile += &sample(&[
        ("clear_page_erms", KERNEL),
        ("asm_exc_page_fault", KERNEL),
        ("alloc::collections::btree::map::BTreeMap::insert", BIN),
        ("whalet_sim::notify::Outbox::schedule_attempt", BIN),
    ]);
    profile += &sample(&[
        ("finish_task_switch.isra.0", KERNEL),
        ("futex_wait", KERNEL),
        ("__GI___futex_abstimed_wait", LIBC),
    ]);
    profile += &sample(&[("_mi_page_malloc_zero", BIN), ("serde_json::to_vec", BIN)]);
    profile += &sample(&[(
        "<hyper::proto::h1::role::Server as hyper::proto::h1::Http1Transaction>::parse",
        BIN,
    )]);

    let split = split(&profile);
    assert_eq!(split["samples"], 11);
    let percent = split["percent"].as_object().expect("percent");
    let samples =
        |part: &str| percent.get(part).and_then(Value::as_f64).unwrap_or(0.0) * 11.0 / 100.0;
    for (part, expected) in [
        ("the crypto", 5.0),
        ("the crypto count's clock reads", 1.0),
        ("kernel: sending (writev, sendto)", 1.0),
        ("kernel: page faults", 1.0),
        (
            "kernel: waiting and waking (futex, epoll, scheduling, interrupts)",
            1.0,
        ),
        ("the allocator", 1.0),
        ("code: hyper", 1.0),
    ] {
        assert!(
            (samples(part) - expected).abs() < 1e-9,
            "{part}: {} samples, expected {expected}; {percent:?}",
            samples(part)
        );
    }
    let total: f64 = percent.values().filter_map(Value::as_f64).sum();
    assert!((total - 100.0).abs() < 1e-9, "the parts add to {total}");
}
