"""Shared helpers of the independent (Python) crypto implementation of whalet-sim's wire schemes.

Key loading (PEM PKCS#8 / PKCS#1 / SPKI, or bare Base64 DER as Java exports keys), RSA PKCS#1 v1.5
encryption in blocks, and small CLI/IO helpers. Used by whalet_envelope.py, infinia_envelope.py,
pockyt_sign.py and gen_vectors.py; it is not part of the simulator (which is Rust, in src/).
Needs only the `cryptography` package.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The demo keys (README, "Demo tenants"); paths relative to the repository root.
DEMO_KEYS = {
    "partner_private": "keys/demo-partner/private.pem",
    "partner_public": "keys/demo-partner/public.pem",
    "platform_private": "keys/platform/private.pem",
    "platform_public": "keys/platform/public.pem",
    "infinia_merchant_private": "keys/demo-infinia-merchant/private.pem",
    "infinia_merchant_public": "keys/demo-infinia-merchant/public.pem",
    "infinia_private": "keys/infinia/private.pem",
    "infinia_public": "keys/infinia/public.pem",
}


class CryptoError(Exception):
    """A step of opening/verifying an envelope failed; the message says which step and why."""


class SignatureError(CryptoError):
    """The signature did not verify."""


def resolve_path(path: str) -> str:
    """A path as given if it exists, else relative to the repository root (so defaults work anywhere)."""
    if os.path.isabs(path) or os.path.exists(path):
        return path
    alt = os.path.join(REPO_ROOT, path)
    return alt if os.path.exists(alt) else path


def _key_text(key) -> bytes:
    """Key material from bytes, PEM text, a file path, or bare Base64 text (in that order)."""
    if isinstance(key, bytes):
        return key
    if "-----BEGIN" in key:
        return key.encode("ascii")
    path = resolve_path(key)
    if os.path.isfile(path):
        with open(path, "rb") as f:
            return f.read()
    if len(key) > 200:  # a bare Base64 DER key given inline
        return key.encode("ascii")
    raise CryptoError(f"key file not found: {key}")


def load_private_key(key) -> rsa.RSAPrivateKey:
    """`key`: an RSA private key object, a path, PEM text/bytes, or bare Base64 of PKCS#8/PKCS#1 DER."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key
    data = _key_text(key)
    if b"-----BEGIN" in data:
        k = serialization.load_pem_private_key(data, password=None)
    else:
        k = serialization.load_der_private_key(base64.b64decode(b"".join(data.split())), password=None)
    if not isinstance(k, rsa.RSAPrivateKey):
        raise CryptoError("not an RSA private key")
    return k


def load_public_key(key) -> rsa.RSAPublicKey:
    """`key`: an RSA public key object, a path, PEM text/bytes (SPKI or PKCS#1), or bare Base64 of SPKI DER.
    A private key is accepted too (its public half is used)."""
    if isinstance(key, rsa.RSAPublicKey):
        return key
    if isinstance(key, rsa.RSAPrivateKey):
        return key.public_key()
    data = _key_text(key)
    if b"PRIVATE KEY-----" in data:
        return load_private_key(data).public_key()
    if b"-----BEGIN" in data:
        k = serialization.load_pem_public_key(data)
    else:
        k = serialization.load_der_public_key(base64.b64decode(b"".join(data.split())))
    if not isinstance(k, rsa.RSAPublicKey):
        raise CryptoError("not an RSA public key")
    return k


HASHES = {"SHA1withRSA": hashes.SHA1, "SHA256withRSA": hashes.SHA256, "MD5withRSA": hashes.MD5}


def rsa_sign(private_key, message: bytes, alg: str = "SHA1withRSA") -> bytes:
    """RSASSA-PKCS1-v1_5 (Java's `<H>withRSA`). Deterministic."""
    return load_private_key(private_key).sign(message, padding.PKCS1v15(), HASHES[alg]())


def rsa_verify(public_key, message: bytes, signature: bytes, alg: str = "SHA1withRSA") -> bool:
    try:
        load_public_key(public_key).verify(signature, message, padding.PKCS1v15(), HASHES[alg]())
        return True
    except Exception:  # InvalidSignature, or a signature of the wrong length
        return False


def key_size_bytes(key) -> int:
    return (key.key_size + 7) // 8


def rsa_encrypt(public_key, message: bytes, seed: bytes | None = None) -> bytes:
    """RSAES-PKCS1-v1_5 encryption of one block (Java's RSA/ECB/PKCS1Padding).

    With `seed` = None the padding string is random (cryptography does the work). With a seed it is
    derived deterministically from SHA-256(seed || counter), and the block is built by hand
    (EM = 00 02 PS 00 M, then m^e mod n): still a valid ciphertext, but reproducible, so that the
    golden vectors do not change each time they are regenerated. Never use a seed outside vectors.
    """
    pub = load_public_key(public_key)
    k = key_size_bytes(pub)
    if len(message) > k - 11:
        raise CryptoError(f"RSA PKCS#1 v1.5 block too long: {len(message)} > {k - 11} bytes")
    if seed is None:
        return pub.encrypt(message, padding.PKCS1v15())
    ps = bytearray()
    counter = 0
    while len(ps) < k - 3 - len(message):
        block = hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        ps.extend(b for b in block if b != 0)
        counter += 1
    em = b"\x00\x02" + bytes(ps[: k - 3 - len(message)]) + b"\x00" + message
    nums = pub.public_numbers()
    c = pow(int.from_bytes(em, "big"), nums.e, nums.n)
    return c.to_bytes(k, "big")


def rsa_decrypt(private_key, ciphertext: bytes) -> bytes:
    priv = load_private_key(private_key)
    k = key_size_bytes(priv)
    if len(ciphertext) != k:
        raise CryptoError(f"RSA ciphertext must be {k} bytes, got {len(ciphertext)}")
    try:
        return priv.decrypt(ciphertext, padding.PKCS1v15())
    except ValueError as e:
        raise CryptoError(f"RSA PKCS#1 v1.5 decryption failed: {e}") from None


def hex_decode(value: str, what: str) -> bytes:
    """Hex in either letter case."""
    if not isinstance(value, str):
        raise CryptoError(f"{what} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise CryptoError(f"{what} is not valid hex") from None


def hex_encode(data: bytes, upper: bool = False) -> str:
    h = data.hex()
    return h.upper() if upper else h


# ---- CLI helpers -------------------------------------------------------------------------------

def read_input(path: str) -> str:
    """File contents, or stdin for '-'."""
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def parse_json_arg(text: str, what: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise CryptoError(f"{what} is not valid JSON: {e}") from None


def dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)


def http_post(url: str, body: bytes, content_type: str = "application/json; charset=UTF-8", timeout: float = 30.0):
    """POST with urllib, never through a proxy (the simulator is local); returns (status, response
    bytes), also for 4xx/5xx answers."""
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def die(code: int, message: str):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)
