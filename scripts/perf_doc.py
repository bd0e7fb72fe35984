#!/usr/bin/env python3
"""The figures section of docs/PERFORMANCE.md, from the JSON reports scripts/perf.sh writes.

    perf_doc.py meta --file F.json --label L --kind K --binary B --exit N --started EPOCH \
        --load-before "a b c" -- ARGS...      writes F.meta.json beside a report
    perf_doc.py render --reports DIR --doc IN.md --out OUT.md
                                            replaces the text between <!-- perf:begin --> and
                                            <!-- perf:end --> (appended if absent)

Every figure is printed with the machine state it was taken in: the crypto ceiling measured right
before and right after it, and the load average.
"""

import argparse
import json
import os
import subprocess
import sys
import time

BEGIN = "<!-- perf:begin -->"
END = "<!-- perf:end -->"
KINDS = ("ratio", "latency", "notify")


def meta(args):
    with open("/proc/loadavg", encoding="ascii") as f:
        load_after = " ".join(f.read().split()[:3])
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
    ).stdout.strip()
    record = {
        "label": args.label,
        "kind": args.kind,
        "binary": args.binary,
        "args": args.rest,
        "exit": args.exit,
        "seconds": round(time.time() - args.started),
        "loadavg_before": args.load_before,
        "loadavg_after": load_after,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit,
    }
    with open(args.file[: -len(".json")] + ".meta.json", "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)


def num(value, digits=0, suffix=""):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def pct(value, digits=1):
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def command(m):
    words = [m["binary"], *m["args"]]
    return " ".join(w if w and " " not in w else repr(w) for w in words)


def state(m):
    return (
        f"load average {m['loadavg_before']} before, {m['loadavg_after']} after; "
        f"{m['seconds']} s; exit {m['exit']}"
    )


def slices(run):
    """Every ceiling slice of a run (a report without the list: its first and last)."""
    each = run.get("ceiling_slices_us") or [run["ceiling_before_us"], run["ceiling_after_us"]]
    return " / ".join(num(us) for us in each)


def ratio_section(r, m):
    lines = [
        f"**Ratio to the crypto ceiling** ({r['surface']}, "
        f"{', '.join(str(p) for p in sorted({x['partners'] for x in r['runs']}))} partners; "
        f"{state(m)})",
        "",
        "| run | req/s | p99 ms | server CPU µs/req | cores busy | ceiling µs slices (largest step) "
        "| ratio | server's crypto µs/req | crypto share |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for x in r["runs"]:
        if x["target"] != "simulator":
            continue
        flag = " unstable" if x.get("unstable") else ""
        lines.append(
            f"| {x['repeat']} | {num(x['throughput_rps'])} | {num(x['latency']['p99_ms'], 2)} "
            f"| {num(x['server_cpu_us_per_request'])} | {num(x['server_cores_busy'], 2)} "
            f"| {slices(x)} ({pct(x['ceiling_drift'])}){flag} | {num(x['ceiling_ratio'], 3)} "
            f"| {num(x.get('server_crypto_us_per_request'))} | {num(x.get('crypto_share'), 3)} |"
        )
    for s in r["summary"]:
        if s["target"] != "simulator":
            continue
        spread = s.get("ratio_spread")
        lines += [
            "",
            f"{s['partners']} partners: median ratio **{num(s['median_ceiling_ratio'], 3)}**, "
            f"every stable run within ±{pct(spread)} of it{verdict(spread)}; "
            f"{s['unstable_runs']} run(s) flagged unstable and left out; "
            f"req/s {num(s['worst_rps'])}–{num(s['best_rps'])}.",
        ]
        share, share_spread = s.get("median_crypto_share"), s.get("crypto_share_spread")
        if share is not None:
            lines += [
                "",
                f"{s['partners']} partners: the server's own count puts its crypto at a median "
                f"**{num(share, 3)}** of its CPU, every run within ±{pct(share_spread)} of it"
                f"{verdict(share_spread)}.",
            ]
    return lines


def verdict(spread):
    """Against the ten-repeat goal of ±5 % of the median."""
    if spread is None:
        return ""
    return " (within ±5%)" if spread <= 0.05 else " (**over ±5%**)"


def latency_section(r, m):
    lines = [
        f"**Latency at half load, open loop** ({r['surface']}; {state(m)})",
        "",
        "| partners | closed-loop max req/s | scheduled req/s | achieved | sent / dropped / unfinished "
        "| p50 ms | p90 ms | p99 ms | max ms | server CPU µs/req | ceiling µs before / after |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for o in r.get("open_loop", []):
        lat = o["latency"]
        lines.append(
            f"| {o['partners']} | {num(o['closed_loop_max_rps'])} | {num(o['target_rate_rps'])} "
            f"| {num(o['achieved_rps'])} | {o['sent']:,} / {o['dropped']:,} / {o['unfinished']:,} "
            f"| {num(lat['p50_ms'], 2)} | {num(lat['p90_ms'], 2)} | {num(lat['p99_ms'], 2)} "
            f"| {num(lat['max_ms'], 2)} | {num(o['server_cpu_us_per_request'])} "
            f"| {num(o['ceiling_before_us'])} / {num(o['ceiling_after_us'])} |"
        )
    return lines


def notify_section(r, m):
    c = r.get("ceiling") or {}
    lines = [
        f"**Notifications against the sealing ceiling** (ceiling at the start "
        f"{num(c.get('us_per_request'))} µs per notification; {state(m)})",
        "",
        "| destinations | notifications | per trigger request / warm-up | acknowledged "
        "| deliveries/s | server CPU µs/delivery | ceiling µs before / after | ratio | crypto share |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in r.get("notifications", []):
        lines.append(
            f"| {n['destinations']} | {n['notifications']:,} "
            f"| {n.get('burst', '–')} / {n.get('warm_up', 0)} | {n['delivered']:,} "
            f"| {num(n['deliveries_per_sec'])} | {num(n['server_cpu_us_per_delivery'])} "
            f"| {num(n['ceiling_before_us'])} / {num(n['ceiling_after_us'])} "
            f"| {num(n['ceiling_ratio'], 3)} | {num(n.get('crypto_share'), 3)} |"
        )
    return lines


def render(args):
    reports = {}
    for name in sorted(os.listdir(args.reports)):
        if not name.endswith(".json") or name.endswith(".meta.json"):
            continue
        label, _, kind = name[: -len(".json")].rpartition("-")
        if kind not in KINDS:
            continue
        path = os.path.join(args.reports, name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        meta_path = path[: -len(".json")] + ".meta.json"
        with open(meta_path, encoding="utf-8") as f:
            m = json.load(f)
        try:
            report = json.loads(text)
        except json.JSONDecodeError:
            report = None
        reports.setdefault(label, {})[kind] = (report, m)
    if not reports:
        sys.exit(f"perf_doc.py: no reports in {args.reports}")

    first = next(iter(next(iter(reports.values())).values()))[1]
    out = [
        BEGIN,
        "",
        "Generated by `scripts/perf.sh` from the `--json` reports it leaves in `target/perf/`; "
        "do not edit by hand.",
        f"Measured {first['date']} at commit {first['commit'] or '?'}. The machine state is given "
        "beside every figure: the crypto ceiling measured right before and right after it (a "
        "slower machine shows a larger µs figure) and the load average (1, 5, 15 minutes).",
    ]
    for label, kinds in reports.items():
        any_report = next((r for r, _ in kinds.values() if r), None)
        backend = any_report["backend"] if any_report else "?"
        optimized = any_report.get("optimized") if any_report else None
        out += ["", f"### Build `{label}`: {backend}"
                + ("" if optimized else " (**debug build: figures meaningless**)")]
        for kind in KINDS:
            if kind not in kinds:
                continue
            report, m = kinds[kind]
            out.append("")
            if report is None:
                out.append(f"{kind}: the report could not be read ({state(m)}).")
                continue
            section = {"ratio": ratio_section, "latency": latency_section,
                       "notify": notify_section}[kind]
            out += section(report, m)
            out += ["", f"    {command(m)}"]
    out += ["", END]
    block = "\n".join(out)

    with open(args.doc, encoding="utf-8") as f:
        doc = f.read()
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        doc = head + block + tail
    else:
        doc = doc.rstrip("\n") + "\n\n## Figures\n\n" + block + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(doc)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("meta")
    m.add_argument("--file", required=True)
    m.add_argument("--label", required=True)
    m.add_argument("--kind", required=True)
    m.add_argument("--binary", required=True)
    m.add_argument("--exit", type=int, required=True)
    m.add_argument("--started", type=float, required=True)
    m.add_argument("--load-before", required=True)
    m.add_argument("rest", nargs=argparse.REMAINDER)
    r = sub.add_parser("render")
    r.add_argument("--reports", required=True)
    r.add_argument("--doc", required=True)
    r.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.command == "meta":
        if args.rest[:1] == ["--"]:
            args.rest = args.rest[1:]
        meta(args)
    else:
        render(args)


if __name__ == "__main__":
    main()
