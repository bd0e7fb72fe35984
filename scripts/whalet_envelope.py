#!/usr/bin/env python3
"""Independent Python implementation of the Whalet Open API envelope (module and CLI).

Written from the integration guide (seed 001 §2.3), not from the Rust code, so that tests can check
the simulator against it. Needs only `cryptography`.

Envelope rules:
  body JSON (UTF-8) --AES/ECB/PKCS5Padding, session key SK (16 random bytes; 24/32 allowed)--> hex = body.encrypt
  keyEnc = hex(RSA/ECB/PKCS1Padding(receiver public key, ASCII(Base64(SK))))
           (read also: RSA plaintext = hex(Base64(SK)), the guide's encryption steps)
  request sign = hex(SHA1withRSA(sender private key, UTF-8 "partnerId|apiCode|version|requestNo|encrypt"))
  reply sign   = hex(SHA1withRSA(..., "partnerId|apiCode|version|requestNo|code|detail|encrypt")),
                 "|encrypt" left out when the reply has no body.
  The sign string uses the encrypt value exactly as sent (so upper-case hex is signed as upper case).
  Hex is accepted in either case on input.

Wire JSON:
  request {"head":{"partnerId","apiCode","requestNo","version":"1.0","sign","keyEnc"},"body":{"encrypt"}}
  reply   {"head":{..., "code","detail","sign","keyEnc"},"body":{"encrypt"}}; a reply without body has no
          keyEnc and, when signed, signs without "|encrypt" (an unsigned one is accepted unverified).

CLI (defaults are the demo partner's point of view: own key keys/demo-partner/private.pem, peer key
keys/platform/public.pem; relative paths also resolve against the repository root):
  seal-request --partner-id ID --api-code X --request-no N (--data JSON | --data-raw TEXT) [--sender-key PEM]
               [--receiver-pub PEM] [--session-key-hex HEX] [--version 1.0] [--upper]
  open-request --request FILE|- [--receiver-key PEM] [--sender-pub PEM]
  seal-reply   (--echo FILE|- | --partner-id ID --api-code X --request-no N) [--code SUCCESS]
               [--detail 成功] [--data JSON | --data-raw TEXT] [--unsigned] [--sender-key PEM] [--receiver-pub PEM]
               [--session-key-hex HEX] [--version 1.0] [--upper]
  open-reply   --reply FILE|- [--receiver-key PEM] [--sender-pub PEM]
  call         --url URL --api-code X --data JSON [--partner-id 202400000000001] [--request-no N]
               [--key keys/demo-partner/private.pem] [--platform-pub keys/platform/public.pem] [--timeout S]
  file-token   [--partner-id ID] [--timestamp MS] [--key PEM]   (file upload token, seed 001 §3.3)
  --self-test
open-* print {"head": ..., "body": <decrypted JSON or null>}.
Exit codes: 0 ok; 1 bad signature; 2 malformed input / decryption failure / usage;
3 (call) reply code is not SUCCESS (the reply is still printed); 4 (call) HTTP or transport failure.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cryptography.hazmat.primitives import padding as sympadding  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

from sim_crypto import (  # noqa: E402
    CryptoError,
    SignatureError,
    die,
    dump,
    hex_decode,
    hex_encode,
    http_post,
    parse_json_arg,
    read_input,
    rsa_decrypt,
    rsa_encrypt,
    rsa_sign,
    rsa_verify,
)

VERSION = "1.0"
DEFAULT_PARTNER_ID = "202400000000001"
PARTNER_KEY = "keys/demo-partner/private.pem"
PARTNER_PUB = "keys/demo-partner/public.pem"
PLATFORM_KEY = "keys/platform/private.pem"
PLATFORM_PUB = "keys/platform/public.pem"
SESSION_KEY_SIZES = (16, 24, 32)


# ---- primitives --------------------------------------------------------------------------------

def aes_ecb_encrypt(key: bytes, plaintext: bytes) -> bytes:
    """AES/ECB/PKCS5Padding (PKCS#7 with 16-byte blocks)."""
    padder = sympadding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(padded) + enc.finalize()


def aes_ecb_decrypt(key: bytes, ciphertext: bytes) -> bytes:
    if not ciphertext or len(ciphertext) % 16:
        raise CryptoError(f"body.encrypt: ciphertext length {len(ciphertext)} is not a positive multiple of 16")
    dec = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    padded = dec.update(ciphertext) + dec.finalize()
    unpadder = sympadding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise CryptoError("body.encrypt: bad PKCS5 padding after AES decryption (wrong session key?)") from None


def plaintext_of(data) -> bytes:
    """The body bytes: a str is used verbatim (it must be JSON), bytes are used verbatim unchecked (for
    negative tests), anything else is serialized as compact JSON. Always UTF-8."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        parse_json_arg(data, "body data")
        return data.encode("utf-8")
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def new_session_key(size: int = 16) -> bytes:
    if size not in SESSION_KEY_SIZES:
        raise CryptoError(f"session key must be 16, 24 or 32 bytes, not {size}")
    return secrets.token_bytes(size)


def wrap_session_key(session_key: bytes, receiver_pub, upper: bool = False, seed: bytes | None = None) -> str:
    """keyEnc: hex of RSA-PKCS1v1.5(receiver public key, ASCII Base64 of the session key)."""
    b64 = base64.b64encode(session_key)
    return hex_encode(rsa_encrypt(receiver_pub, b64, seed=seed), upper)


def unwrap_session_key(key_enc: str, receiver_key) -> bytes:
    """The guide's decryption steps read RSA plaintext = Base64(SK); its encryption steps add a hex
    layer, RSA plaintext = hex(Base64(SK)). Both are accepted (hex of a key's Base64 never
    Base64-decodes to 16, 24 or 32 bytes, so the two cannot be confused)."""
    raw = rsa_decrypt(receiver_key, hex_decode(key_enc, "head.keyEnc"))
    try:
        sk = base64.b64decode(raw, validate=True)
    except ValueError:
        sk = None
    if sk is None or len(sk) not in SESSION_KEY_SIZES:
        try:
            hexed = base64.b64decode(bytes.fromhex(raw.decode("ascii")), validate=True)
            if len(hexed) in SESSION_KEY_SIZES:
                return hexed
        except ValueError:
            pass
    if sk is None:
        raise CryptoError("head.keyEnc: RSA plaintext is not Base64 of a session key (wrong key?)") from None
    if len(sk) not in SESSION_KEY_SIZES:
        raise CryptoError(f"head.keyEnc: session key is {len(sk)} bytes, expected 16, 24 or 32")
    return sk


def request_sign_string(head: dict, encrypt: str) -> str:
    return "|".join([head["partnerId"], head["apiCode"], head["version"], head["requestNo"], encrypt])


def reply_sign_string(head: dict, encrypt: str | None) -> str:
    parts = [head["partnerId"], head["apiCode"], head["version"], head["requestNo"], head["code"], head["detail"]]
    if encrypt:
        parts.append(encrypt)
    return "|".join(parts)


def sign_hex(private_key, text: str, upper: bool = False) -> str:
    return hex_encode(rsa_sign(private_key, text.encode("utf-8"), "SHA1withRSA"), upper)


def verify_hex(public_key, text: str, sign: str) -> bool:
    return rsa_verify(public_key, text.encode("utf-8"), hex_decode(sign, "head.sign"), "SHA1withRSA")


# ---- sealing -----------------------------------------------------------------------------------

def _seal_body(data, receiver_pub, session_key, upper, seed):
    sk = session_key if session_key is not None else new_session_key()
    if len(sk) not in SESSION_KEY_SIZES:
        raise CryptoError(f"session key must be 16, 24 or 32 bytes, not {len(sk)}")
    encrypt = hex_encode(aes_ecb_encrypt(sk, plaintext_of(data)), upper)
    return encrypt, wrap_session_key(sk, receiver_pub, upper, seed)


def seal_request(partner_id, api_code, request_no, data, sender_key, receiver_pub,
                 session_key: bytes | None = None, version: str = VERSION, upper: bool = False,
                 seed: bytes | None = None) -> dict:
    """A request (or a notification, which is a request from the platform) as wire JSON."""
    encrypt, key_enc = _seal_body(data, receiver_pub, session_key, upper, seed)
    head = {"partnerId": partner_id, "apiCode": api_code, "requestNo": request_no, "version": version}
    head["sign"] = sign_hex(sender_key, request_sign_string(head, encrypt), upper)
    head["keyEnc"] = key_enc
    return {"head": head, "body": {"encrypt": encrypt}}


def seal_reply(partner_id, api_code, request_no, code, detail, data, sender_key, receiver_pub,
               session_key: bytes | None = None, version: str = VERSION, upper: bool = False,
               signed: bool = True, seed: bytes | None = None) -> dict:
    """A reply. data=None: no body (no keyEnc); signed=False additionally drops sign (error replies)."""
    head = {"partnerId": partner_id, "apiCode": api_code, "requestNo": request_no, "version": version,
            "code": code, "detail": detail}
    if data is None:
        if signed:
            head["sign"] = sign_hex(sender_key, reply_sign_string(head, None), upper)
        return {"head": head}
    encrypt, key_enc = _seal_body(data, receiver_pub, session_key, upper, seed)
    head["sign"] = sign_hex(sender_key, reply_sign_string(head, encrypt), upper)
    head["keyEnc"] = key_enc
    return {"head": head, "body": {"encrypt": encrypt}}


# ---- opening -----------------------------------------------------------------------------------

def _envelope_parts(envelope, kind: str):
    if isinstance(envelope, (str, bytes)):
        envelope = parse_json_arg(envelope, kind)
    if not isinstance(envelope, dict) or not isinstance(envelope.get("head"), dict):
        raise CryptoError(f"{kind}: no head object")
    head = envelope["head"]
    body = envelope.get("body")
    encrypt = body.get("encrypt") if isinstance(body, dict) else None
    if encrypt is not None and not isinstance(encrypt, str):
        raise CryptoError(f"{kind}: body.encrypt is not a string")
    need = ["partnerId", "apiCode", "version", "requestNo"] + (["code", "detail"] if kind == "reply" else [])
    if kind == "reply" and not encrypt and not head.get("sign"):
        need = ["code"]  # an unsigned error reply: nothing to verify, only the code matters
    for field in need:
        if not isinstance(head.get(field), str):
            raise CryptoError(f"{kind}: head.{field} missing or not a string")
    return head, encrypt or None


def _decrypt_body(head, encrypt, receiver_key, kind):
    if not isinstance(head.get("keyEnc"), str) or not head["keyEnc"]:
        raise CryptoError(f"{kind}: body.encrypt present but head.keyEnc missing")
    sk = unwrap_session_key(head["keyEnc"], receiver_key)
    text = aes_ecb_decrypt(sk, hex_decode(encrypt, "body.encrypt"))
    try:
        return json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CryptoError(f"body.encrypt: decrypted body is not UTF-8 JSON: {e}") from None


def _check_sign(head, text, sender_pub, kind):
    sign = head.get("sign")
    if not isinstance(sign, str) or not sign:
        raise SignatureError(f"{kind}: head.sign missing (string to sign would be {text!r})")
    if not verify_hex(sender_pub, text, sign):
        raise SignatureError(f"{kind}: head.sign does not verify over {text!r}")


def open_request(envelope, receiver_key, sender_pub) -> dict:
    """Verify and decrypt a request/notification. Returns {"head", "body"}; raises CryptoError/SignatureError."""
    head, encrypt = _envelope_parts(envelope, "request")
    if encrypt is None:
        raise CryptoError("request: body.encrypt missing")
    _check_sign(head, request_sign_string(head, encrypt), sender_pub, "request")
    return {"head": head, "body": _decrypt_body(head, encrypt, receiver_key, "request")}


def open_reply(envelope, receiver_key, sender_pub) -> dict:
    """Verify and decrypt a reply. A reply without body and without sign (an error reply) is accepted
    unverified; a reply with a body must be signed."""
    head, encrypt = _envelope_parts(envelope, "reply")
    if encrypt is None:
        if head.get("sign"):
            _check_sign(head, reply_sign_string(head, None), sender_pub, "reply")
        return {"head": head, "body": None}
    _check_sign(head, reply_sign_string(head, encrypt), sender_pub, "reply")
    return {"head": head, "body": _decrypt_body(head, encrypt, receiver_key, "reply")}


def file_upload_token(partner_id: str, timestamp_ms: int, private_key) -> str:
    """Token of POST /file/upload (seed 001 §3.3): hex SHA1withRSA over "partnerId|timestamp"."""
    return sign_hex(private_key, f"{partner_id}|{timestamp_ms}")


def new_request_no() -> str:
    return time.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"


# ---- self-test ---------------------------------------------------------------------------------

def self_test() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    partner = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    platform = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = {"currency": "USD", "备注": "测试", "n": 1}
    for size in SESSION_KEY_SIZES:
        for upper in (False, True):
            env = seal_request("P1", "queryCurrencyBalance", f"R{size}", data, partner,
                               platform.public_key(), session_key=new_session_key(size), upper=upper)
            opened = open_request(json.dumps(env), platform, partner.public_key())
            assert opened["body"] == data, opened
    env = seal_request("P1", "x", "R", data, partner, platform.public_key())
    env["head"]["requestNo"] = "R2"  # tampering breaks the signature
    try:
        open_request(env, platform, partner.public_key())
        raise AssertionError("tampered request verified")
    except SignatureError:
        pass
    ok = seal_reply("P1", "x", "R", "SUCCESS", "成功", {"ok": True}, platform, partner.public_key())
    assert open_reply(ok, partner, platform.public_key())["body"] == {"ok": True}
    nobody = seal_reply("P1", "x", "R", "SUCCESS", "成功", None, platform, partner.public_key())
    assert "keyEnc" not in nobody["head"] and "body" not in nobody
    assert open_reply(nobody, partner, platform.public_key())["body"] is None
    err = seal_reply("P1", "x", "R", "PARAMETER_ERROR", "bad", None, platform, None, signed=False)
    assert set(err["head"]) == {"partnerId", "apiCode", "requestNo", "version", "code", "detail"}
    assert open_reply(err, partner, platform.public_key())["body"] is None
    # PKCS5 adds a full block to a 16-byte body
    assert len(aes_ecb_encrypt(b"k" * 16, b'{"a":"0123456"}X')) == 32
    # deterministic wrapping still decrypts
    sk = new_session_key()
    assert unwrap_session_key(wrap_session_key(sk, platform.public_key(), seed=b"s"), platform) == sk
    # the golden vectors, if present, still hold with this implementation
    vectors = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "vectors", "whalet.json")
    if os.path.exists(vectors):
        with open(vectors, encoding="utf-8") as f:
            cases = json.load(f)["cases"]
        for c in cases:
            keys = c["keys"]
            opener = open_request if c["kind"] == "request" else open_reply
            opened = opener(c["envelope"], keys["receiver_private"], keys["sender_public"])
            want = None if c["plaintext"] is None else json.loads(c["plaintext"])
            assert opened["body"] == want, c["name"]
            if c["sign"] is not None:
                upper = c["hex_case"] == "upper"
                assert sign_hex(keys["sender_private"], c["sign_string"], upper) == c["sign"], c["name"]
        print(f"whalet_envelope self-test: ok ({len(cases)} golden vectors checked)")
    else:
        print("whalet_envelope self-test: ok (no golden vectors found)")


# ---- CLI ---------------------------------------------------------------------------------------

def _session_key_arg(value):
    return None if value is None else hex_decode(value, "--session-key-hex")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--self-test", action="store_true", help="round-trip checks, then exit")
    sub = p.add_subparsers(dest="cmd")

    def sealing(sp):
        sp.add_argument("--data", help="body JSON (used verbatim)")
        sp.add_argument("--data-raw", help="body text used verbatim WITHOUT checking it is JSON (negative tests)")
        sp.add_argument("--sender-key", default=PARTNER_KEY)
        sp.add_argument("--receiver-pub", default=PLATFORM_PUB)
        sp.add_argument("--session-key-hex", help="fixed session key (16/24/32 bytes); random if absent")
        sp.add_argument("--version", default=VERSION)
        sp.add_argument("--upper", action="store_true", help="upper-case hex in the output")

    sr = sub.add_parser("seal-request", help="build a signed, encrypted request (prints envelope JSON)")
    sr.add_argument("--partner-id", default=DEFAULT_PARTNER_ID)
    sr.add_argument("--api-code", required=True)
    sr.add_argument("--request-no", default=None, help="default: a fresh unique number")
    sealing(sr)

    sy = sub.add_parser("seal-reply", help="build a reply, e.g. a notification ack (prints envelope JSON)")
    sy.add_argument("--echo", metavar="FILE|-", help="take partnerId/apiCode/requestNo/version from this envelope")
    sy.add_argument("--partner-id")
    sy.add_argument("--api-code")
    sy.add_argument("--request-no")
    sy.add_argument("--code", default="SUCCESS")
    sy.add_argument("--detail", default="成功")
    sy.add_argument("--unsigned", action="store_true", help="head only, no sign (error reply form); needs no --data")
    sealing(sy)

    for name, flag, kind in (("open-request", "--request", "request"), ("open-reply", "--reply", "reply")):
        so = sub.add_parser(name, help=f"verify and decrypt a {kind}; exit 1 on a bad signature")
        so.add_argument(flag, "--in", dest="input", required=True, metavar="FILE|-")
        so.add_argument("--receiver-key", default=PARTNER_KEY)
        so.add_argument("--sender-pub", default=PLATFORM_PUB)

    sc = sub.add_parser("call", help="POST a sealed request and open the reply")
    sc.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8080/api (a bare host gets /api)")
    sc.add_argument("--api-code", required=True)
    sc.add_argument("--data", required=True)
    sc.add_argument("--partner-id", default=DEFAULT_PARTNER_ID)
    sc.add_argument("--request-no")
    sc.add_argument("--key", default=PARTNER_KEY, help="partner private key")
    sc.add_argument("--platform-pub", default=PLATFORM_PUB)
    sc.add_argument("--timeout", type=float, default=30.0)

    st = sub.add_parser("file-token", help="token for POST /file/upload")
    st.add_argument("--partner-id", default=DEFAULT_PARTNER_ID)
    st.add_argument("--timestamp", type=int, help="milliseconds; default now")
    st.add_argument("--key", default=PARTNER_KEY)

    a = p.parse_args(argv)
    try:
        if a.self_test:
            self_test()
            return 0
        if a.cmd == "seal-request":
            data = a.data if a.data_raw is None else a.data_raw.encode("utf-8")
            if data is None:
                p.error("seal-request needs --data or --data-raw")
            env = seal_request(a.partner_id, a.api_code, a.request_no or new_request_no(), data,
                               a.sender_key, a.receiver_pub, _session_key_arg(a.session_key_hex), a.version, a.upper)
            print(dump(env))
        elif a.cmd == "seal-reply":
            ids = {"partnerId": a.partner_id, "apiCode": a.api_code, "requestNo": a.request_no, "version": a.version}
            if a.echo:
                echoed = parse_json_arg(read_input(a.echo), "--echo").get("head", {})
                ids.update({k: echoed[k] for k in ("partnerId", "apiCode", "requestNo", "version") if k in echoed})
            missing = [k for k, v in ids.items() if not v]
            if missing:
                p.error(f"seal-reply needs {missing} (flags or --echo)")
            env = seal_reply(ids["partnerId"], ids["apiCode"], ids["requestNo"], a.code, a.detail,
                             None if a.unsigned else (a.data if a.data_raw is None else a.data_raw.encode()),
                             a.sender_key, a.receiver_pub,
                             _session_key_arg(a.session_key_hex), ids["version"], a.upper, signed=not a.unsigned)
            print(dump(env))
        elif a.cmd in ("open-request", "open-reply"):
            opener = open_request if a.cmd == "open-request" else open_reply
            print(dump(opener(read_input(a.input), a.receiver_key, a.sender_pub)))
        elif a.cmd == "call":
            env = seal_request(a.partner_id, a.api_code, a.request_no or new_request_no(), a.data, a.key, a.platform_pub)
            url = a.url if urllib.parse.urlsplit(a.url).path not in ("", "/") else a.url.rstrip("/") + "/api"
            try:
                status, raw = http_post(url, json.dumps(env, ensure_ascii=False).encode("utf-8"), timeout=a.timeout)
            except OSError as e:
                die(4, f"POST {url}: {e}")
            try:
                reply = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                die(4, f"POST {url}: HTTP {status}, body is not JSON: {raw[:500]!r}")
            opened = open_reply(reply, a.key, a.platform_pub)
            print(dump(opened))
            if opened["head"]["code"] != "SUCCESS":
                print(f"reply code {opened['head']['code']}: {opened['head'].get('detail')} (HTTP {status})",
                      file=sys.stderr)
                return 3
        elif a.cmd == "file-token":
            ts = a.timestamp if a.timestamp is not None else int(time.time() * 1000)
            print(json.dumps({"partnerId": a.partner_id, "timestamp": ts,
                              "token": file_upload_token(a.partner_id, ts, a.key)}))
        else:
            p.print_help()
            return 2
    except SignatureError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (CryptoError, KeyError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
