#!/usr/bin/env python3
"""Writes docs/WIRE.md, the step-by-step wire recipes, from the golden vectors in tests/vectors/.

  python3 scripts/wire_doc.py            (re)write docs/WIRE.md
  python3 scripts/wire_doc.py --check    exit 1 if docs/WIRE.md differs from what would be written

Every value in the worked examples is read from tests/vectors/*.json (written by
scripts/gen_vectors.py and checked against the simulator by tests/api/vectors.rs) or derived from
those values here with the independent Python implementation (scripts/whalet_envelope.py,
infinia_envelope.py, pockyt_sign.py): the padded plaintext, the decrypted RSA blocks, the
upload token. Each derived value is checked against the vector it comes from before it is
printed, so the document cannot drift from what the code does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import infinia_envelope as inf  # noqa: E402
import pockyt_sign as pk  # noqa: E402
import whalet_envelope as wh  # noqa: E402
from sim_crypto import REPO_ROOT, rsa_decrypt  # noqa: E402

OUT = os.path.join(REPO_ROOT, "docs", "WIRE.md")
VECTORS = os.path.join(REPO_ROOT, "tests", "vectors")
UPLOAD_TIMESTAMP_MS = 1714521600000  # 2024-05-01T00:00:00Z


def load(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)


def case(vectors, name):
    return next(c for c in vectors["cases"] if c["name"] == name)


def block(text, lang=""):
    return f"```{lang}\n{text}\n```\n"


def compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def pkcs5(data: bytes) -> bytes:
    n = 16 - len(data) % 16
    return data + bytes([n]) * n


def steps(rows):
    """rows: (label, value) -> a fenced block with one `label = value` per line."""
    width = max(len(k) for k, _ in rows)
    return block("\n".join(f"{k.ljust(width)} = {v}" for k, v in rows))


# ---- Whalet ------------------------------------------------------------------------------------

def whalet_request_example(c, title, who):
    keys = c["keys"]
    raw = c["plaintext"].encode("utf-8")
    sk = bytes.fromhex(c["session_key_hex"])
    padded = pkcs5(raw)
    assert wh.aes_ecb_encrypt(sk, raw).hex() == c["encrypt"].lower(), c["name"]
    rsa_plain = rsa_decrypt(keys["receiver_private"], bytes.fromhex(c["key_enc"]))
    assert rsa_plain == c["session_key_b64"].encode(), c["name"]
    assert c["sign_string"] == wh.request_sign_string(c["head"], c["encrypt"])
    assert wh.verify_hex(keys["sender_public"], c["sign_string"], c["sign"])
    out = [f"### {title}\n", f"Vector `{c['name']}` in `tests/vectors/whalet.json`: {who}.\n",
           f"Sender's private key `{keys['sender_private']}`, receiver's public key `{keys['receiver_public']}`.\n",
           "1. The business body, as UTF-8 bytes:\n",
           steps([("body", c["plaintext"]), ("utf8 length", f"{c['plaintext_utf8_len']} bytes"),
                  ("utf8 hex", raw.hex())]),
           "2. A fresh random session key for this message (fixed here so the example is reproducible), "
           "and its standard Base64 text:\n",
           steps([("session key (hex)", c["session_key_hex"]), ("session key (Base64)", c["session_key_b64"])]),
           f"3. PKCS5 padding to a multiple of 16 bytes ({padded[-1]} bytes of value "
           f"0x{padded[-1]:02x}), then AES/ECB with the session key; `body.encrypt` is the hex of the "
           "ciphertext:\n",
           steps([("padded plaintext", padded.hex()), ("body.encrypt", c["encrypt"])]),
           "4. `head.keyEnc`: RSA/ECB/PKCS1Padding with the receiver's public key over the ASCII bytes "
           "of the session key's **Base64 text** (not the raw key), as hex. PKCS#1 v1.5 padding is "
           "random, so your keyEnc will differ from this one; decrypting it with the receiver's private "
           "key must give back the Base64 text:\n",
           steps([("RSA input (ASCII)", c["session_key_b64"]), ("head.keyEnc", c["key_enc"]),
                  ("decrypts to", rsa_plain.decode())]),
           "5. The string to sign joins the head fields and `body.encrypt` exactly as sent with `|`; "
           "SHA1withRSA (PKCS#1 v1.5) with the sender's private key over its UTF-8 bytes; "
           "`head.sign` is the hex of the signature (deterministic: yours must be identical):\n",
           steps([("string to sign", c["sign_string"]), ("head.sign", c["sign"])]),
           "6. The request on the wire (`Content-Type: application/json`):\n",
           block(json.dumps(c["envelope"], ensure_ascii=False, indent=2), "json")]
    return "\n".join(out)


def whalet_reply_example(c, title, who):
    keys = c["keys"]
    out = [f"### {title}\n", f"Vector `{c['name']}`: {who}.\n"]
    rows = [("head.code", c["head"]["code"]), ("head.detail", c["head"]["detail"])]
    if c["plaintext"] is not None:
        raw = c["plaintext"].encode("utf-8")
        sk = bytes.fromhex(c["session_key_hex"])
        assert wh.aes_ecb_encrypt(sk, raw).hex() == c["encrypt"].lower(), c["name"]
        rsa_plain = rsa_decrypt(keys["receiver_private"], bytes.fromhex(c["key_enc"]))
        assert rsa_plain == c["session_key_b64"].encode()
        rows += [("body", c["plaintext"]), ("utf8 hex", raw.hex()),
                 ("session key (hex)", c["session_key_hex"]), ("session key (Base64)", c["session_key_b64"]),
                 ("padded plaintext", pkcs5(raw).hex()), ("body.encrypt", c["encrypt"]),
                 ("head.keyEnc", c["key_enc"]), ("keyEnc decrypts to", rsa_plain.decode())]
    if c["sign_string"] is not None:
        assert c["sign_string"] == wh.reply_sign_string(c["head"], c["encrypt"])
        assert wh.verify_hex(keys["sender_public"], c["sign_string"], c["sign"])
        rows += [("string to sign", c["sign_string"]), ("head.sign", c["sign"])]
    out.append(steps(rows))
    out.append(block(json.dumps(c["envelope"], ensure_ascii=False, indent=2), "json"))
    return "\n".join(out)


def whalet_section(w):
    req = case(w, "request_ascii")
    ntf = case(w, "notification_request")
    reply = case(w, "reply_with_body")
    nobody = case(w, "reply_without_body")
    err = case(w, "reply_error_unsigned")
    errsigned = case(w, "reply_error_signed")
    ack = case(w, "ack_reply_empty_object")
    upper = case(w, "request_upper_hex")
    aes256 = case(w, "request_aes256")
    # the upload token: SHA1withRSA over "partnerId|timestamp", by the partner's key
    token_string = f"{req['head']['partnerId']}|{UPLOAD_TIMESTAMP_MS}"
    token = wh.file_upload_token(req["head"]["partnerId"], UPLOAD_TIMESTAMP_MS, req["keys"]["sender_private"])
    assert wh.verify_hex(req["keys"]["sender_public"], token_string, token)
    return "\n".join([
        "## Whalet Open API envelope (also whalet-platform and notifications)\n",
        "Every Whalet message is JSON with a `head` and, when it carries data, a `body` with one field, "
        "`encrypt`. Keys: the partner holds its own RSA private key (demo: `keys/demo-partner/private.pem`) "
        "and Whalet's public key (demo: `keys/platform/public.pem`); Whalet holds the mirror pair. "
        "The demo keys are 2048-bit RSA; the simulator accepts any RSA key of 1024 to 8192 bits "
        "(PEM or bare Base64 DER; a smaller or larger key is refused at start naming its size), on "
        "every surface. Signatures and RSA blocks are as long as the key's modulus (256 bytes for "
        "RSA-2048, 512 for RSA-4096), and an Infinia plaintext chunk is at most the modulus length "
        "minus 11 bytes (245 for RSA-2048), so Infinia's block count follows the key size too.\n",
        "| step | rule |\n|---|---|",
        "| session key | 16 random bytes per message (24 or 32 are accepted too: AES-192/256) |",
        "| `body.encrypt` | hex(AES/ECB/PKCS5Padding(session key, UTF-8 bytes of the body JSON)) |",
        "| `head.keyEnc` | hex(RSA/ECB/PKCS1Padding(receiver's public key, ASCII bytes of Base64(session key))) |",
        "| request string to sign | `partnerId\\|apiCode\\|version\\|requestNo\\|encrypt` |",
        "| reply string to sign | `partnerId\\|apiCode\\|version\\|requestNo\\|code\\|detail\\|encrypt`; "
        "without a body: `partnerId\\|apiCode\\|version\\|requestNo\\|code\\|detail` |",
        "| `head.sign` | hex(SHA1withRSA(sender's private key, UTF-8 bytes of the string to sign)) |",
        "| hex | lower case is sent; either case is accepted; the string to sign uses `encrypt` exactly as sent |\n",
        "Receiving is the reverse, in this order: verify `head.sign` with the sender's public key over "
        "the string rebuilt from the head and `body.encrypt` as received (a public-key operation, cheap: "
        "refuse before any private-key work), then RSA-decrypt `head.keyEnc` with your private key, "
        "Base64-decode the result to get the session key, AES-decrypt the hex-decoded `body.encrypt`, "
        "strip the PKCS5 padding, and parse the UTF-8 JSON.\n",
        "In Java terms: `Cipher.getInstance(\"AES/ECB/PKCS5Padding\")`, "
        "`Cipher.getInstance(\"RSA/ECB/PKCS1Padding\")`, `Signature.getInstance(\"SHA1withRSA\")`.\n",
        whalet_request_example(req, "Worked example: a request (partner → Whalet)",
                               "the demo partner calls `queryCurrencyBalance` (a signing example: user `U1001` is made up, so a "
                               "simulator answers it with a refusal naming the unknown user)"),
        "The same recipe with upper-case hex (vector `request_upper_hex`): the string to sign contains "
        "the upper-case `encrypt` exactly as sent:\n",
        steps([("body.encrypt", upper["encrypt"]), ("string to sign", upper["sign_string"])]),
        f"A 32-byte session key selects AES-256 (vector `request_aes256`): session key "
        f"`{aes256['session_key_hex']}`, Base64 `{aes256['session_key_b64']}`, body `{aes256['plaintext']}` "
        f"→ `{aes256['encrypt']}`.\n",
        whalet_reply_example(reply, "Worked example: a reply with a body (Whalet → partner)",
                             "the reply echoes `partnerId`, `apiCode`, `version` and `requestNo` of the "
                             "request, adds `code` and `detail`, and encrypts its body under a new session "
                             "key to the partner's public key. After verifying `head.sign`, check that those "
                             "four fields are the ones you sent: the signature says Whalet wrote the reply, "
                             "not that it answers this request (a genuine reply to another request, replayed, "
                             "verifies too)"),
        whalet_reply_example(nobody, "A reply without a body",
                             "signed, but no `keyEnc` and no `body`; the string to sign ends with `detail`"),
        whalet_reply_example(errsigned, "A signed error reply",
                             "an error reply carries no body; when signed, the same short string"),
        whalet_reply_example(err, "An unsigned error reply",
                             "refusals that happen before the partner is authenticated are the head only: "
                             "nothing to verify, read `head.code` and `head.detail`. Only such a refusal is "
                             "unsigned: refuse an unsigned reply that has a `body` or says `SUCCESS` or "
                             "`PROCESSING` (anyone could have written it). It echoes the head as far as "
                             "it was read: a request refused before its head was read (a body over the "
                             "limit) gets empty fields, but for the platform API's `apiCode`, which "
                             "echoes the operation in the path (`/v1/platform/{operation}`), as for any "
                             "head it cannot read"),
        "### Notifications (Whalet → partner)\n",
        "A notification is a **request** sent by Whalet to the partner's notify URL: the same envelope "
        "with the roles swapped, signed with Whalet's private key and encrypted to the partner's public "
        "key; `head.apiCode` names the notification (`connectivityNotify`, `payoutResultNotify`, …) and "
        "`head.requestNo` stays the same on every retry of one notification (use it to deduplicate).\n",
        whalet_request_example(ntf, "Worked example: a notification",
                               "Whalet notifies the demo partner (`connectivityNotify`)"),
        "### The acknowledgement a partner returns\n",
        "Answer the notification with HTTP 200 and a Whalet **reply** to it: echo `partnerId`, `apiCode`, "
        "`version` and `requestNo` of the notification, `code` = `SUCCESS`, a `detail` (e.g. `成功`), "
        "sign it with the partner's private key, and (optionally) encrypt a body `{}` to Whalet's public "
        "key. The simulator counts the attempt as delivered when the HTTP status is 2xx, the answer is "
        "JSON with a `head` object whose `code` is `SUCCESS` and, by default (`[whalet] strict_ack = "
        "true`), that head is complete (`partnerId`, `apiCode`, `requestNo`, `version`, `code` and "
        "`detail`, all text), echoes the notification's `partnerId`, `apiCode`, `requestNo` and "
        "`version` exactly, and carries a `head.sign` that verifies (SHA1withRSA by the partner's key "
        "over the reply string to sign) if it carries one. An unsigned ack is accepted unless the "
        "partner has `ack_sign_required = true`; the ack's body is not decrypted. `strict_ack = false`, "
        "globally or per partner, accepts any 2xx JSON answer whose `head.code` is `SUCCESS` (with "
        "`ack_sign_required = true` it is refused at start: a required signature needs the strict check). Anything "
        "else is a failed attempt, retried 1, 2, 4, 8 and 16 s after it (docs/NOTIFICATIONS.md).\n",
        whalet_reply_example(ack, "Worked example: the ack of the notification above",
                             "the demo partner acknowledges `NTF20240501000001`; private key "
                             "`keys/demo-partner/private.pem`, body encrypted to `keys/platform/public.pem`"),
        "## The file upload token\n",
        "`POST /file/upload` is multipart (`partnerId`, `timestamp`, `token`, each once and without "
        "whitespace around it, and `file`, whose `Content-Disposition` names the file with "
        "`filename=\"…\"`), not an envelope. "
        "`timestamp` is the current time in epoch milliseconds (13 digits) and the token is "
        "hex(SHA1withRSA(partner's private key, UTF-8 of `partnerId|timestamp`)). Against the "
        "simulator's clock it is accepted, and may be reused, while `timestamp` is at most 30 minutes "
        "behind the clock and at most 5 minutes ahead of it (both bounds included); an older one is "
        "refused as expired, a later one as ahead of the clock (`UNAUTHENTICATED_ERROR`, "
        "`invalid token: …`).\n",
        "Worked example (demo partner, key `keys/demo-partner/private.pem`; the same function as "
        "`scripts/whalet_envelope.py file-token --timestamp "
        f"{UPLOAD_TIMESTAMP_MS}`, which tests/api/whalet2_upload.rs checks against the simulator):\n",
        steps([("partnerId", req["head"]["partnerId"]), ("timestamp", str(UPLOAD_TIMESTAMP_MS)),
               ("string to sign", token_string), ("token", token)]),
    ])


# ---- Infinia -----------------------------------------------------------------------------------

def infinia_example(c, title):
    keys = c["keys"]
    raw = c["plaintext"].encode("utf-8")
    chunks = inf.chunks(raw, c["max_chunk_bytes"])
    assert [x.hex() for x in chunks] == c["chunks_hex"]
    blob = base64.b64decode(c["request_data"])
    blocks = [blob[i:i + c["rsa_key_bytes"]] for i in range(0, len(blob), c["rsa_key_bytes"])]
    assert [b.hex() for b in blocks] == c["blocks_hex"]
    assert [rsa_decrypt(keys["receiver_private"], b) for b in blocks] == chunks
    assert inf.verify_b64(keys["sender_public"], c["request_data"], c["signature"], c["signature_alg"])
    rows = [("business data", c["plaintext"]), ("utf8 length", f"{len(raw)} bytes")]
    for i, ch in enumerate(chunks):
        rows.append((f"chunk {i + 1} ({len(ch)} bytes, hex)", ch.hex()))
    for i, b in enumerate(blocks):
        rows.append((f"RSA block {i + 1} ({len(b)} bytes, hex)", b.hex()))
    return "\n".join([
        f"### {title}\n",
        f"Vector `{c['name']}` in `tests/vectors/infinia.json`: {c['description']}. Sender's private key "
        f"`{keys['sender_private']}`, receiver's public key `{keys['receiver_public']}`.\n",
        steps(rows),
        "The blocks concatenated and Base64-encoded are `requestData`; the signature is over that Base64 "
        f"text's bytes ({c['signature_alg']}, Base64):\n",
        steps([("requestData", c["request_data"]), ("signature", c["signature"])]),
        block(json.dumps(c["envelope"], ensure_ascii=False, indent=2), "json"),
    ])


def infinia_section(i):
    return "\n".join([
        "## Infinia Pay envelope\n",
        "A request is `{\"version\":\"1.0\",\"appId\",\"dataType\":\"JSON\",\"requestData\","
        "\"signature\"}`. A reply is `{\"appId\",\"code\",\"message\",\"responseData\"}`: on success "
        "`code` is `SUC-200` and `responseData` is the reply JSON encrypted by the recipe below to the "
        "merchant's public key; an error reply is `appId`, `code` and `message` only, without "
        "`responseData`. Replies carry no `version`, `dataType` or `signature`: they are unsigned unless "
        "the simulator runs with `[infinia] sign_responses = true`, which adds `signature` over "
        "`responseData` (the request recipe, with Infinia's private key and the app's signature "
        "algorithm) to every reply that has `responseData`. The merchant holds its own "
        "private key (demo: `keys/demo-infinia-merchant/private.pem`) and Infinia's public key "
        "(demo: `keys/infinia/public.pem`).\n",
        "| step | rule |\n|---|---|",
        "| chunks | the UTF-8 **bytes** of the business JSON cut into pieces of at most 245 bytes "
        "(key size 256 − 11); a multi-byte character may be split between two chunks |",
        "| blocks | each chunk RSA/ECB/PKCS1Padding-encrypted with the receiver's public key: 256 bytes each |",
        "| `requestData` | Base64 (standard, padded) of the blocks concatenated |",
        "| `signature` | Base64(SHA256withRSA(sender's private key, the `requestData` text's bytes)) |\n",
        "Receiving: verify the signature over `requestData` as received, Base64-decode it, cut it into "
        "256-byte blocks, RSA-decrypt each, concatenate the plaintexts, then decode UTF-8 (only after "
        "joining). The simulator's webhooks to the merchant use the same recipe with the keys swapped "
        "(encrypted to the merchant's public key, signed with Infinia's key); answer them with the body "
        "`SUCCESS`.\n",
        infinia_example(case(i, "short_one_block"), "Worked example: one block"),
        infinia_example(case(i, "exact_246_bytes"), "Worked example: two blocks (246 bytes = 245 + 1)"),
    ])


# ---- Pockyt ------------------------------------------------------------------------------------

def pockyt_example(c, title, note=None):
    s = pk.string_to_sign(c["params"], c["token"])
    assert s == c["string_to_sign"] and pk.md5_hex(s) == c["verify_sign"]
    assert hashlib.md5(c["token"].encode()).hexdigest() == c["token_md5"]
    ordered = sorted(c["params"].items(), key=lambda kv: kv[0].encode("utf-8"))
    rows = [(f"{n + 1}. {k}", v) for n, (k, v) in enumerate(ordered)]
    return "\n".join([
        f"### {title}\n",
        f"Vector `{c['name']}` in `tests/vectors/pockyt.json`: {c['description']}.\n",
        *([f"{note}\n"] if note else []),
        "Parameters sorted by name (byte order):\n",
        steps(rows),
        steps([("token", c["token"]), ("md5(token)", c["token_md5"]), ("string to sign", c["string_to_sign"]),
               ("verifySign", c["verify_sign"])]),
    ])


def pockyt_section(p):
    return "\n".join([
        "## Pockyt `verifySign`\n",
        "Pockyt requests are plain JSON (or a form) with every parameter as a string plus `verifySign`; "
        "the merchant's API token is the shared secret (demo: `demo-token`).\n",
        "| step | rule |\n|---|---|",
        "| sort | every parameter except `verifySign`, by name in byte order (`Z` < `_` < `a`) |",
        "| join | `name=value&` for each, values raw (no URL encoding), **empty values kept** (`street2=&`); "
        "in a JSON body a number, object or array is joined as the characters sent (`100.10` stays `100.10`), "
        "an object or array without the white space between its tokens |",
        "| append | lower-case hex MD5 of the token |",
        "| `verifySign` | lower-case hex MD5 of the UTF-8 bytes of that string |\n",
        "The simulator's IPNs (payout results) carry a `verifySign` made the same way with the merchant's "
        "token; check it, then answer HTTP 200 with the body `success`.\n",
        pockyt_example(case(p, "documented_vector"), "Worked example: the documented vector"),
        pockyt_example(case(p, "register_payee_empty_street2"),
                       "Worked example: signing payee fields with an empty value (demo merchant)",
                       "A signing example only, not a request to send as it is: `/v3/payee/register` also "
                       "requires `profileType`, `email` and `dateOfBirth` and takes no `customerNo` "
                       "(`whalet-sim call --surface pockyt v3/payee/register --example` shows a whole one)."),
        pockyt_example(case(p, "payout_ipn"), "Worked example: a payout IPN to verify"),
    ])


def render() -> str:
    w, i, p = load("whalet.json"), load("infinia.json"), load("pockyt.json")
    head = "\n".join([
        "# Wire recipes",
        "",
        "<!-- Generated by scripts/wire_doc.py from tests/vectors/*.json; do not edit by hand. "
        "CI fails when it differs (`scripts/wire_doc.py --check`). -->",
        "",
        "How each provider scheme turns a JSON body into bytes on the wire, step by step, so that a "
        "partner can implement or debug it in any language. Every worked example is a golden vector "
        "from `tests/vectors/` (the simulator is tested against them) with every intermediate value "
        "printed; the keys are the demo keys in `keys/` (public, test only). Runnable clients in Java, "
        "Python and Node are in `examples/`.",
        "",
        "Contents: [Whalet envelope](#whalet-open-api-envelope-also-whalet-platform-and-notifications) · "
        "[upload token](#the-file-upload-token) · [Infinia Pay](#infinia-pay-envelope) · "
        "[Pockyt verifySign](#pockyt-verifysign)",
        "",
        "Two rules hold everywhere: text is UTF-8 before any crypto, and a randomized RSA encryption "
        "(PKCS#1 v1.5 padding: `keyEnc`, Infinia blocks) will never match these bytes: check yours by "
        "decrypting it, while AES output, hashes and signatures are deterministic and must match exactly.",
        "",
    ])
    return "\n".join([head, whalet_section(w), infinia_section(i), pockyt_section(p)]).rstrip("\n") + "\n"


def main(argv) -> int:
    text = render()
    if "--check" in argv:
        try:
            with open(OUT, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print("docs/WIRE.md is stale (run scripts/wire_doc.py)", file=sys.stderr)
            return 1
        print("docs/WIRE.md up to date")
        return 0
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {os.path.relpath(OUT, REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
