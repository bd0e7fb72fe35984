#!/usr/bin/env python3
"""Independent Python implementation of the Infinia E-commerce API envelope (module and CLI).

Written from spec/platform-infinia-pockyt.md §2.0-2.1 (the CipherRsaUtil behaviour there is inferred),
not from the Rust code. Needs only `cryptography`.

  requestData = standard Base64 of the concatenated RSA/ECB/PKCS1Padding blocks of the UTF-8 business
                JSON, split by BYTES into chunks of at most k-11 = 245 bytes (2048-bit key, k = 256);
                each chunk becomes one 256-byte block. Encrypted with the receiver's public key.
  signature   = standard Base64 of <alg>(sender private key, UTF-8 bytes of the requestData string);
                alg SHA256withRSA by default, SHA1withRSA / MD5withRSA selectable.
  request     {"version":"1.0","appId","dataType":"JSON","requestData","signature"}
  response    {"appId","code","message","responseData"[, "signature"]} (responseData: same scheme,
              encrypted with the merchant's public key; a response signature is optional here because
              the public docs do not say whether one exists)
  webhook     same outer envelope as a request, encrypted with the merchant's public key.

CLI (defaults are the demo merchant's point of view: own key keys/demo-infinia-merchant/private.pem,
peer key keys/infinia/public.pem):
  seal          --data JSON [--app-id demo-app] [--version 1.0] [--data-type JSON] [--alg SHA256withRSA]
                [--sender-key PEM] [--receiver-pub PEM]            prints the request envelope
  open          --in FILE|- [--receiver-key PEM] [--sender-pub PEM] [--alg A] [--no-verify]
                opens a request or webhook envelope (requestData + signature)
  open-response --in FILE|- [--receiver-key PEM] [--sender-pub PEM] [--alg A]
                opens {appId, code, message, responseData[, signature]}
  seal-response --code SUC-200 [--message M] [--data JSON] [--app-id demo-app] [--sign] [...keys]
  call          --url URL --data JSON [--app-id demo-app] [--alg A] [--key PEM] [--infinia-pub PEM]
  --self-test
open* print {"envelope": <outer fields without the ciphertext>, "data": <decrypted JSON or null>}.
Exit codes: 0 ok; 1 bad signature; 2 malformed input / decryption failure / usage;
3 (call) response code is not SUC-200 (still printed); 4 (call) HTTP or transport failure.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sim_crypto import (  # noqa: E402
    HASHES,
    CryptoError,
    SignatureError,
    die,
    dump,
    http_post,
    key_size_bytes,
    load_private_key,
    load_public_key,
    parse_json_arg,
    read_input,
    rsa_decrypt,
    rsa_encrypt,
    rsa_sign,
    rsa_verify,
)

DEFAULT_APP_ID = "demo-app"
MERCHANT_KEY = "keys/demo-infinia-merchant/private.pem"
MERCHANT_PUB = "keys/demo-infinia-merchant/public.pem"
INFINIA_KEY = "keys/infinia/private.pem"
INFINIA_PUB = "keys/infinia/public.pem"
DEFAULT_ALG = "SHA256withRSA"
SUCCESS = "SUC-200"


def chunks(data: bytes, size: int) -> list[bytes]:
    """Split BYTES (a multi-byte UTF-8 character may straddle two chunks)."""
    return [data[i:i + size] for i in range(0, len(data), size)] or [b""]


def encrypt_blocks(plaintext: bytes, receiver_pub, seed: bytes | None = None) -> bytes:
    pub = load_public_key(receiver_pub)
    k = key_size_bytes(pub)
    out = b""
    for i, chunk in enumerate(chunks(plaintext, k - 11)):
        out += rsa_encrypt(pub, chunk, None if seed is None else seed + b"/" + str(i).encode())
    return out


def decrypt_blocks(ciphertext: bytes, receiver_key) -> bytes:
    priv = load_private_key(receiver_key)
    k = key_size_bytes(priv)
    if not ciphertext or len(ciphertext) % k:
        raise CryptoError(f"ciphertext is {len(ciphertext)} bytes, not a positive multiple of {k}")
    return b"".join(rsa_decrypt(priv, ciphertext[i:i + k]) for i in range(0, len(ciphertext), k))


def plaintext_of(data) -> str:
    if isinstance(data, str):
        parse_json_arg(data, "business data")
        return data
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def encrypt_data(data, receiver_pub, seed: bytes | None = None) -> str:
    """Business JSON -> Base64 text (requestData / responseData)."""
    return base64.b64encode(encrypt_blocks(plaintext_of(data).encode("utf-8"), receiver_pub, seed)).decode("ascii")


def decrypt_data(b64: str, receiver_key, field: str = "requestData"):
    if not isinstance(b64, str) or not b64:
        raise CryptoError(f"{field} missing or not a string")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError(f"{field} is not valid standard Base64") from None
    try:
        plain = decrypt_blocks(raw, receiver_key)
    except CryptoError as e:
        raise CryptoError(f"{field}: {e}") from None
    try:
        return json.loads(plain.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CryptoError(f"{field}: decrypted data is not UTF-8 JSON: {e}") from None


def sign_b64(private_key, text: str, alg: str = DEFAULT_ALG) -> str:
    return base64.b64encode(rsa_sign(private_key, text.encode("utf-8"), alg)).decode("ascii")


def verify_b64(public_key, text: str, signature: str, alg: str = DEFAULT_ALG) -> bool:
    try:
        sig = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return False
    return rsa_verify(public_key, text.encode("utf-8"), sig, alg)


def seal_request(app_id, data, sender_key, receiver_pub, alg: str = DEFAULT_ALG, version: str = "1.0",
                 data_type: str = "JSON", seed: bytes | None = None) -> dict:
    """A request (merchant -> Infinia) or a webhook (Infinia -> merchant)."""
    request_data = encrypt_data(data, receiver_pub, seed)
    return {"version": version, "appId": app_id, "dataType": data_type, "requestData": request_data,
            "signature": sign_b64(sender_key, request_data, alg)}


def open_request(envelope, receiver_key, sender_pub, alg: str = DEFAULT_ALG, verify: bool = True) -> dict:
    if isinstance(envelope, (str, bytes)):
        envelope = parse_json_arg(envelope, "envelope")
    if not isinstance(envelope, dict):
        raise CryptoError("envelope is not a JSON object")
    request_data = envelope.get("requestData")
    if not isinstance(request_data, str) or not request_data:
        raise CryptoError("requestData missing or not a string")
    if verify:
        sig = envelope.get("signature")
        if not isinstance(sig, str) or not sig:
            raise SignatureError("signature missing")
        if not verify_b64(sender_pub, request_data, sig, alg):
            raise SignatureError(f"signature ({alg}) does not verify over the requestData string")
    outer = {k: v for k, v in envelope.items() if k not in ("requestData", "signature")}
    return {"envelope": outer, "data": decrypt_data(request_data, receiver_key)}


def seal_response(app_id, code, message, data, sender_key, receiver_pub, alg: str = DEFAULT_ALG,
                  signed: bool = False, seed: bytes | None = None) -> dict:
    env = {"appId": app_id, "code": code, "message": message}
    if data is not None:
        env["responseData"] = encrypt_data(data, receiver_pub, seed)
        if signed:
            env["signature"] = sign_b64(sender_key, env["responseData"], alg)
    return env


def open_response(envelope, receiver_key, sender_pub, alg: str = DEFAULT_ALG) -> dict:
    """Decrypts responseData if present; verifies a signature only if the response carries one."""
    if isinstance(envelope, (str, bytes)):
        envelope = parse_json_arg(envelope, "response")
    if not isinstance(envelope, dict) or not isinstance(envelope.get("code"), str):
        raise CryptoError("response: no code")
    rd = envelope.get("responseData")
    outer = {k: v for k, v in envelope.items() if k not in ("responseData", "signature")}
    if not rd:
        return {"envelope": outer, "data": None}
    sig = envelope.get("signature")
    if sig and not verify_b64(sender_pub, rd, sig, alg):
        raise SignatureError(f"response signature ({alg}) does not verify over the responseData string")
    return {"envelope": outer, "data": decrypt_data(rd, receiver_key, "responseData")}


def self_test() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    merchant = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    infinia = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for n in (0, 1, 244, 245, 246, 490, 491, 1000):
        data = {"p": "中" * (n // 3) + "x" * (n % 3)}
        for alg in HASHES:
            env = seal_request("demo-app", data, merchant, infinia.public_key(), alg)
            assert open_request(json.dumps(env), infinia, merchant.public_key(), alg)["data"] == data
    raw = ("é" * 200).encode()  # 400 bytes: the 245-byte cut falls inside a 2-byte character
    assert decrypt_blocks(encrypt_blocks(raw, infinia.public_key()), infinia) == raw
    assert len(encrypt_blocks(b"x" * 245, infinia.public_key())) == 256
    assert len(encrypt_blocks(b"x" * 246, infinia.public_key())) == 512
    env = seal_request("demo-app", {"a": 1}, merchant, infinia.public_key())
    env["signature"] = sign_b64(merchant, env["requestData"] + "x")
    try:
        open_request(env, infinia, merchant.public_key())
        raise AssertionError("bad signature verified")
    except SignatureError:
        pass
    resp = seal_response("demo-app", SUCCESS, "ok", {"r": "中文"}, infinia, merchant.public_key(), signed=True)
    assert open_response(resp, merchant, infinia.public_key())["data"] == {"r": "中文"}
    vectors = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "vectors", "infinia.json")
    count = 0
    if os.path.exists(vectors):
        with open(vectors, encoding="utf-8") as f:
            cases = json.load(f)["cases"]
        for c in cases:
            keys = c["keys"]
            opened = open_request(c["envelope"], keys["receiver_private"], keys["sender_public"], c["signature_alg"])
            assert opened["data"] == json.loads(c["plaintext"]), c["name"]
            assert sign_b64(keys["sender_private"], c["request_data"], c["signature_alg"]) == c["signature"], c["name"]
            count += 1
    print(f"infinia_envelope self-test: ok ({count} golden vectors checked)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--self-test", action="store_true")
    sub = p.add_subparsers(dest="cmd")

    def alg(sp):
        sp.add_argument("--alg", default=DEFAULT_ALG, choices=sorted(HASHES))

    s = sub.add_parser("seal", help="build a request envelope")
    s.add_argument("--data", required=True)
    s.add_argument("--app-id", default=DEFAULT_APP_ID)
    s.add_argument("--version", default="1.0")
    s.add_argument("--data-type", default="JSON")
    s.add_argument("--sender-key", default=MERCHANT_KEY)
    s.add_argument("--receiver-pub", default=INFINIA_PUB)
    alg(s)

    for name in ("open", "open-response"):
        o = sub.add_parser(name)
        o.add_argument("--in", dest="input", required=True, metavar="FILE|-")
        o.add_argument("--receiver-key", default=MERCHANT_KEY)
        o.add_argument("--sender-pub", default=INFINIA_PUB)
        alg(o)
        if name == "open":
            o.add_argument("--no-verify", action="store_true", help="decrypt without checking the signature")

    r = sub.add_parser("seal-response", help="build a response envelope (as Infinia would)")
    r.add_argument("--code", default=SUCCESS)
    r.add_argument("--message", default="Success")
    r.add_argument("--data")
    r.add_argument("--app-id", default=DEFAULT_APP_ID)
    r.add_argument("--sign", action="store_true", help="add a signature over responseData")
    r.add_argument("--sender-key", default=INFINIA_KEY)
    r.add_argument("--receiver-pub", default=MERCHANT_PUB)
    alg(r)

    c = sub.add_parser("call", help="POST a sealed request and open the response")
    c.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8080/api/v1/account-binding/request")
    c.add_argument("--data", required=True)
    c.add_argument("--app-id", default=DEFAULT_APP_ID)
    c.add_argument("--key", default=MERCHANT_KEY)
    c.add_argument("--infinia-pub", default=INFINIA_PUB)
    c.add_argument("--timeout", type=float, default=30.0)
    alg(c)

    a = p.parse_args(argv)
    try:
        if a.self_test:
            self_test()
        elif a.cmd == "seal":
            print(dump(seal_request(a.app_id, a.data, a.sender_key, a.receiver_pub, a.alg, a.version, a.data_type)))
        elif a.cmd == "open":
            print(dump(open_request(read_input(a.input), a.receiver_key, a.sender_pub, a.alg, not a.no_verify)))
        elif a.cmd == "open-response":
            print(dump(open_response(read_input(a.input), a.receiver_key, a.sender_pub, a.alg)))
        elif a.cmd == "seal-response":
            print(dump(seal_response(a.app_id, a.code, a.message, a.data, a.sender_key, a.receiver_pub, a.alg,
                                     a.sign)))
        elif a.cmd == "call":
            env = seal_request(a.app_id, a.data, a.key, a.infinia_pub, a.alg)
            try:
                status, raw = http_post(a.url, json.dumps(env).encode("utf-8"), timeout=a.timeout)
            except OSError as e:
                die(4, f"POST {a.url}: {e}")
            try:
                resp = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                die(4, f"POST {a.url}: HTTP {status}, body is not JSON: {raw[:500]!r}")
            opened = open_response(resp, a.key, a.infinia_pub, a.alg)
            print(dump(opened))
            if opened["envelope"].get("code") != SUCCESS:
                print(f"response code {opened['envelope'].get('code')} (HTTP {status})", file=sys.stderr)
                return 3
        else:
            p.print_help()
            return 2
    except SignatureError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (CryptoError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
