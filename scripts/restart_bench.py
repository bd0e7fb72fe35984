#!/usr/bin/env python3
"""Restart time of a data directory holding many entities and pending notifications.

Builds a snapshot from fixtures/notification-retrying.json with ENTITIES Whalet users and
PENDING pending notifications (due an hour after the snapshot's time, so none fires while
measuring), loads it into a fresh data directory once (`serve --snapshot FILE --data-dir DIR`),
then starts `serve --data-dir DIR` RUNS times and measures the wall time from the start of the
process to its ready line (the state is restored before the line is printed).

    python3 scripts/restart_bench.py --bin target/release/whalet-sim \
        [--entities 100000] [--pending 10000] [--runs 5]

Prints one line per start and the median. Needs only the Python standard library.
"""

import argparse
import copy
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.join(HERE, "..", "fixtures", "notification-retrying.json")
TENANT = "whalet:202400000000001"


def build_snapshot(entities, pending):
    with open(BASE, encoding="utf-8") as f:
        doc = json.load(f)
    users = doc["tenants"][TENANT]["whalet"]["users"]
    template = next(iter(users.values()))
    users.clear()
    for i in range(entities):
        user_id = f"U20250101{i:08d}"
        user = copy.deepcopy(template)
        user["userId"] = user_id
        user["outUserId"] = f"bench-{i}"
        users[user_id] = user
    notifications = doc["outbox"]["notifications"]
    waiting = next(n for n in notifications if n["status"] == "pending")
    due = doc["now"] + 3_600_000
    seq = len(notifications)
    for i in range(pending):
        seq += 1
        n = copy.deepcopy(waiting)
        n["id"] = f"ntf_{seq:06d}"
        n["businessId"] = f"T{i:012d}"
        n["requestNo"] = f"N{i:026d}"
        n["nextAttemptAt"] = due
        notifications.append(n)
    doc["outbox"]["nextSeq"] = seq + 1
    return doc


def start(binary, args):
    """Starts `serve`, returns (process, seconds until its ready line)."""
    began = time.monotonic()
    proc = subprocess.Popen(
        [binary, "serve", "--addr", "127.0.0.1:0", "--sftp-addr", "off", "--manual-clock", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The ready line is a log line (standard error).
    for line in proc.stderr:
        if "ready on" in line:
            return proc, time.monotonic() - began
    proc.wait()
    sys.exit(f"serve {' '.join(args)} ended without a ready line (exit {proc.returncode})")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default="target/release/whalet-sim")
    p.add_argument("--entities", type=int, default=100_000)
    p.add_argument("--pending", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=5)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = os.path.join(tmp, "big.json")
        with open(snapshot, "w", encoding="utf-8") as f:
            json.dump(build_snapshot(a.entities, a.pending), f)
        data_dir = os.path.join(tmp, "dir")
        proc, secs = start(a.bin, ["--snapshot", snapshot, "--data-dir", data_dir])
        print(f"loaded the snapshot into the data dir: {secs:.2f} s "
              f"({os.path.getsize(snapshot) / 1e6:.1f} MB of JSON)")
        stop(proc)
        times = []
        for run in range(a.runs):
            proc, secs = start(a.bin, ["--data-dir", data_dir])
            stop(proc)
            times.append(secs)
            print(f"restart {run + 1}: ready in {secs:.2f} s")
        db = os.path.getsize(os.path.join(data_dir, "whalet-sim.db")) / 1e6
        print(f"{a.entities} entities, {a.pending} pending notifications, database {db:.1f} MB: "
              f"median {statistics.median(times):.2f} s, best {min(times):.2f} s")


if __name__ == "__main__":
    main()
