#!/usr/bin/env python3
"""A standalone Whalet notification endpoint: verifies, decrypts, acknowledges and prints each
notification as one JSON line. `python receiver.py --port 9090` (docker-compose.yml runs it)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from whalet import NotificationReceiver, demo_keys  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9090)
    args = ap.parse_args()
    key, whalet_pub = demo_keys()
    receiver = NotificationReceiver(args.port, key, whalet_pub, host=args.host)
    print(f"listening on {args.host}:{args.port}", flush=True)
    seen = 0
    while True:
        with receiver.cond:
            receiver.cond.wait(1.0)
            new = receiver.received[seen:]
            seen = len(receiver.received)
        for api_code, request_no, body in new:
            print(json.dumps({"apiCode": api_code, "requestNo": request_no, "body": body}, ensure_ascii=False),
                  flush=True)
        time.sleep(0)


if __name__ == "__main__":
    main()
