"""A Pockyt payouts (v3) merchant in Python: signs requests with `verifySign` and receives IPNs,
checking their `verifySign` and answering `success`. Recipe: docs/WIRE.md#pockyt-verifysign."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import requests


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def verify_sign(params: dict, token: str) -> str:
    """Sorted `name=value&` (byte order, raw values, empty ones kept) + md5(token), MD5'd."""
    items = sorted((k, v) for k, v in params.items() if k != "verifySign")
    return md5_hex("".join(f"{k}={v}&" for k, v in items) + md5_hex(token))


class PockytClient:
    def __init__(self, url, merchant_no, store_no, token):
        self.url, self.merchant_no, self.store_no, self.token = url.rstrip("/"), merchant_no, store_no, token

    def call(self, path, fields, timestamp):
        params = {"merchantNo": self.merchant_no, "storeNo": self.store_no, "timestamp": timestamp, **fields}
        params["verifySign"] = verify_sign(params, self.token)
        r = requests.post(self.url + path, json=params, timeout=30)
        r.raise_for_status()
        return r.json()


class IpnReceiver:
    """Records IPNs whose verifySign checks out and answers `success`; anything else gets 400."""

    def __init__(self, port, token, host="127.0.0.1"):
        self.token, self.received, self.rejected = token, [], []
        self.cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    fields = {k: str(v) for k, v in json.loads(raw).items()}
                else:
                    fields = dict(parse_qsl(raw, keep_blank_values=True))
                ok = fields.get("verifySign") == verify_sign(fields, outer.token)
                with outer.cond:
                    (outer.received if ok else outer.rejected).append(fields)
                    outer.cond.notify_all()
                out = b"success" if ok else b"bad verifySign"
                self.send_response(200 if ok else 400)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def find(self, field, value, timeout=10.0):
        def match():
            return next((f for f in self.received if f.get(field) == value), None)
        with self.cond:
            self.cond.wait_for(lambda: match() is not None, timeout)
            found = match()
        if found is None:
            raise AssertionError(f"no IPN with {field}={value}; got {self.received}, rejected {self.rejected}")
        return found

    def close(self):
        self.server.shutdown()
