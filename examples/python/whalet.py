"""A Whalet Open API partner in Python: a client that seals, signs and sends requests and opens
the replies, and a notification receiver that verifies, decrypts and acknowledges.

The recipe, step by step with worked examples: docs/WIRE.md. Needs `requests` and `cryptography`.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from cryptography.hazmat.primitives import hashes, padding as sympadding, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def load_private(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def load_public(path):
    with open(path, "rb") as f:
        return serialization.load_pem_public_key(f.read())


def aes_encrypt(key: bytes, data: bytes) -> bytes:
    padder = sympadding.PKCS7(128).padder()  # PKCS5Padding in Java's words
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()


def aes_decrypt(key: bytes, data: bytes) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    unpadder = sympadding.PKCS7(128).unpadder()
    return unpadder.update(dec.update(data) + dec.finalize()) + unpadder.finalize()


def sign(private_key, text: str) -> str:
    return private_key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA1()).hex()


def verify(public_key, text: str, sign_hex: str) -> None:
    """Raises cryptography's InvalidSignature (or ValueError on bad hex) when it does not verify."""
    public_key.verify(bytes.fromhex(sign_hex), text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA1())


def seal_body(data, receiver_public):
    """(body.encrypt, head.keyEnc) for a JSON-able body, under a fresh 16-byte session key."""
    session_key = secrets.token_bytes(16)
    plain = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    encrypt = aes_encrypt(session_key, plain).hex()
    key_enc = receiver_public.encrypt(base64.b64encode(session_key), padding.PKCS1v15()).hex()
    return encrypt, key_enc


def open_body(head, encrypt, private_key):
    session_key = base64.b64decode(private_key.decrypt(bytes.fromhex(head["keyEnc"]), padding.PKCS1v15()))
    return json.loads(aes_decrypt(session_key, bytes.fromhex(encrypt)).decode("utf-8"))


def request_sign_string(head, encrypt):
    return "|".join([head["partnerId"], head["apiCode"], head["version"], head["requestNo"], encrypt])


def reply_sign_string(head, encrypt):
    parts = [head["partnerId"], head["apiCode"], head["version"], head["requestNo"], head["code"], head["detail"]]
    return "|".join(parts + ([encrypt] if encrypt else []))


class WhaletClient:
    """Calls `POST {url}/api` as a partner: `call(apiCode, body)` -> (code, detail, body)."""

    def __init__(self, url, partner_id, private_key, whalet_public):
        self.url, self.partner_id = url.rstrip("/"), partner_id
        self.key, self.whalet = private_key, whalet_public

    def call(self, api_code, body):
        head = {"partnerId": self.partner_id, "apiCode": api_code,
                "requestNo": time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(6), "version": "1.0"}
        encrypt, key_enc = seal_body(body, self.whalet)
        head["sign"] = sign(self.key, request_sign_string(head, encrypt))
        head["keyEnc"] = key_enc
        r = requests.post(f"{self.url}/api", json={"head": head, "body": {"encrypt": encrypt}}, timeout=30)
        r.raise_for_status()
        reply = r.json()
        rhead = reply["head"]
        encrypt = (reply.get("body") or {}).get("encrypt")
        check_reply(rhead, encrypt, head, self.whalet)
        data = open_body(rhead, encrypt, self.key) if encrypt else None
        return rhead["code"], rhead.get("detail"), data


def check_reply(rhead, encrypt, sent, whalet_public):
    """Raises unless the reply is Whalet's answer to the request whose head was `sent`: a signed
    reply must verify and echo partnerId, apiCode, requestNo and version (a genuine reply to
    another request verifies too); an unsigned one can only be a head-only refusal made before
    the partner was authenticated, echoing the head as far as it was read (docs/WIRE.md)."""
    signed = bool(rhead.get("sign"))
    if signed:
        verify(whalet_public, reply_sign_string(rhead, encrypt), rhead["sign"])
    elif encrypt:
        raise ValueError("the reply has a body but no head.sign: only a head-only refusal may be unsigned")
    elif rhead.get("code") in ("SUCCESS", "PROCESSING"):
        raise ValueError(f"the reply says {rhead.get('code')} but has no head.sign: only a refusal may be unsigned")
    for field in ("partnerId", "apiCode", "requestNo", "version"):
        got = rhead.get(field)
        if got != sent[field] and (signed or got):
            raise ValueError(f"the reply does not answer this request: its head.{field} is {got!r}, "
                             f"the request's is {sent[field]!r}")


class NotificationReceiver:
    """An HTTP endpoint for Whalet notifications: verifies the signature with Whalet's public key,
    decrypts with the partner's key, records the body, and answers a signed SUCCESS reply.
    A notification that does not verify gets HTTP 400 (Whalet retries it)."""

    def __init__(self, port, private_key, whalet_public, host="127.0.0.1"):
        self.key, self.whalet = private_key, whalet_public
        self.received = []  # (apiCode, requestNo, body)
        self.rejected = []
        self.cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = outer.handle(raw)
                out = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, raw):
        try:
            envelope = json.loads(raw)
            head, encrypt = envelope["head"], envelope["body"]["encrypt"]
            verify(self.whalet, request_sign_string(head, encrypt), head["sign"])  # before decrypting
            body = open_body(head, encrypt, self.key)
        except Exception as e:  # noqa: BLE001 (anything wrong with the envelope: refuse it)
            with self.cond:
                self.rejected.append(repr(e))
            return 400, {"error": f"rejected: {e!r}"}
        with self.cond:
            # requestNo is the same on every retry of one notification: deduplicate on it
            if not any(r[1] == head["requestNo"] for r in self.received):
                self.received.append((head["apiCode"], head["requestNo"], body))
            self.cond.notify_all()
        ack = {k: head[k] for k in ("partnerId", "apiCode", "version", "requestNo")}
        ack.update(code="SUCCESS", detail="success")
        a_encrypt, a_key_enc = seal_body({}, self.whalet)
        ack["sign"] = sign(self.key, reply_sign_string(ack, a_encrypt))
        ack["keyEnc"] = a_key_enc
        return 200, {"head": ack, "body": {"encrypt": a_encrypt}}

    def find(self, api_code, field, value, timeout=10.0):
        """The body of a received notification `api_code` whose `field` is `value` (waits)."""
        def match():
            return next((b for c, _, b in self.received if c == api_code and b.get(field) == value), None)
        with self.cond:
            self.cond.wait_for(lambda: match() is not None, timeout)
            found = match()
        if found is None:
            raise AssertionError(f"no {api_code} with {field}={value} received; got {self.received}")
        return found

    def close(self):
        self.server.shutdown()


def demo_keys(keys_dir=None):
    keys_dir = keys_dir or os.environ.get("KEYS_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", "keys")
    return (load_private(os.path.join(keys_dir, "demo-partner", "private.pem")),
            load_public(os.path.join(keys_dir, "platform", "public.pem")))
