#!/usr/bin/env python3
"""Splits a server profile into where its CPU went (docs/PERFORMANCE.md, "Where the rest goes").

Reads the text of `perf script -F comm,tid,ip,sym,dso` (a profile recorded with `-g` from a
binary built with frame pointers, see scripts/profile.sh) and prints each part's share of all
samples as a Markdown table, or with --json as one object.

A sample counts once, in the first of these that fits:

- the crypto: its innermost frame is in libcrypto (the OpenSSL build; OpenSSL has no frame
  pointers, so its callers are not known), or a frame is one of the simulator's crypto
  functions (`wire::crypto::{sign, verify, rsa_*, aes_*}`, the pure-Rust build), unless the
  sample is in the crypto count's clock reads;
- the crypto count: a frame reads the thread's CPU clock (`clock_gettime`, `serve
  --account-crypto` and the bench's spawned servers only);
- the kernel, by what entered it: sending (`writev`, `sendto`; on loopback this includes the
  receiving side's processing, which runs in the sender's context), receiving (`recvfrom`,
  `read`), waiting and waking (`futex`, `epoll_wait`, scheduling, interrupts), page faults, and
  the rest;
- otherwise by the innermost frame's library: the allocator (mimalloc, glibc malloc), the rest of
  libc, and for the binary's own code the crate of the innermost function (hyper, tokio,
  serde_json, reqwest, whalet_sim, ...).
"""

import argparse
import collections
import json
import re
import sys

FRAME = re.compile(r"\s+[0-9a-f]+ (.*) \((.*)\)$")
CRYPTO_FN = re.compile(r"whalet_sim::wire::crypto::(sign|verify|rsa_\w+|aes_\w+)\b")
CLOCK = re.compile(r"clock_gettime|posix_cpu_clock_get|thread_group_cputime|task_sched_runtime")
KERNEL_ENTRY = [
    ("kernel: sending (writev, sendto)", re.compile(r"writev|sendto|sendmsg")),
    ("kernel: receiving (recvfrom, read)", re.compile(r"recvfrom|recvmsg|ksys_read")),
    ("kernel: waiting and waking (futex, epoll, scheduling, interrupts)",
     re.compile(r"futex|epoll|schedule|sysvec|irqentry|apic|sched_yield")),
    ("kernel: page faults", re.compile(r"page_fault")),
]
ALLOCATOR = re.compile(r"^(_?mi_|malloc|free|cfree|_int_free|_int_malloc|realloc|calloc|__libc_malloc|__libc_free)")


def samples(lines):
    """Each sample's frames, innermost first, as (symbol, library) pairs."""
    current = None
    for line in lines:
        if line.startswith(("\t", " ")):
            m = FRAME.match(line.rstrip("\n"))
            if m and current is not None:
                current.append((m.group(1), m.group(2)))
        elif line.strip():
            if current:
                yield current
            current = []
    if current:
        yield current


def crate_of(symbol):
    """The crate an innermost Rust function belongs to (`<T as hyper::…>::f` is hyper's)."""
    inner = re.sub(r"^<", "", symbol)
    m = re.search(r"\bas ([a-z_][a-z0-9_]*)::", symbol)
    if m and not symbol.startswith(("whalet_sim", "<whalet_sim")):
        return m.group(1)
    m = re.match(r"([a-z_][a-z0-9_]*)::", inner)
    return m.group(1) if m else "other"


def part(frames):
    leaf_symbol, leaf_library = frames[0]
    names = " | ".join(symbol for symbol, _ in frames)
    if CLOCK.search(names):
        return "the crypto count's clock reads"
    if "libcrypto" in leaf_library or CRYPTO_FN.search(names):
        return "the crypto"
    if "kernel" in leaf_library:
        # What entered the kernel: its own frames and the libc wrapper that called it.
        entry = " | ".join(s for s, lib in frames if "kernel" in lib or "libc.so" in lib)
        for label, pattern in KERNEL_ENTRY:
            if pattern.search(entry):
                return label
        return "kernel: other"
    if ALLOCATOR.match(leaf_symbol):
        return "the allocator"
    if "libc.so" in leaf_library or "libm.so" in leaf_library:
        return "libc (copies, strings, locks)"
    if "vdso" in leaf_library:
        return "vdso"
    crate = crate_of(leaf_symbol)
    if crate in ("core", "alloc", "std", "__rustc"):
        return "code: Rust's standard library (core, alloc, std)"
    return f"code: {crate}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", help="perf script output (default: stdin)")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    parser.add_argument("--min", type=float, default=0.1,
                        help="code parts under this share (%%) are summed as 'code: the rest'")
    args = parser.parse_args()
    stream = open(args.file, encoding="utf-8", errors="replace") if args.file else sys.stdin
    counts = collections.Counter(part(frames) for frames in samples(stream))
    total = sum(counts.values())
    if total == 0:
        sys.exit("profile_split: no samples (was the profile recorded with -g?)")
    shares = {}
    rest = 0.0
    for name, n in counts.most_common():
        share = 100.0 * n / total
        if name.startswith("code: ") and share < args.min:
            rest += share
        else:
            shares[name] = share
    if rest:
        shares["code: the rest"] = rest
    if args.json:
        json.dump({"samples": total, "percent": shares}, sys.stdout, indent=2)
        print()
        return
    print(f"| where ({total} samples) | share |")
    print("|---|---:|")
    for name, share in shares.items():
        print(f"| {name} | {share:.1f} % |")


if __name__ == "__main__":
    main()
