#!/usr/bin/env python3
"""Writes the golden crypto vectors in tests/vectors/ with the independent Python implementation.

  python3 scripts/gen_vectors.py            (re)write whalet.json, infinia.json, pockyt.json
  python3 scripts/gen_vectors.py --check    exit 1 if the files on disk differ from what would be written

Everything is deterministic: session keys are fixed, RSA-PKCS#1 v1.5 encryption uses a padding string
derived from the case name (sim_crypto.rsa_encrypt with a seed; a valid ciphertext all the same), and
PKCS#1 v1.5 signatures are deterministic by nature. So a regenerated file is identical byte for byte.
Consumers: compare AES ciphertexts and signatures byte for byte; for RSA ciphertexts (keyEnc,
Infinia blocks) check that they DECRYPT to the recorded value (an implementation's own encryption
uses random padding and will differ). All key paths are relative to the repository root.
"""

from __future__ import annotations

import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import infinia_envelope as inf  # noqa: E402
import pockyt_sign as pk  # noqa: E402
import whalet_envelope as wh  # noqa: E402
from sim_crypto import REPO_ROOT, rsa_decrypt  # noqa: E402

OUT_DIR = os.path.join(REPO_ROOT, "tests", "vectors")
PARTNER_ID = "202400000000001"

PARTNER = {"private": "keys/demo-partner/private.pem", "public": "keys/demo-partner/public.pem"}
PLATFORM = {"private": "keys/platform/private.pem", "public": "keys/platform/public.pem"}
MERCHANT = {"private": "keys/demo-infinia-merchant/private.pem", "public": "keys/demo-infinia-merchant/public.pem"}
INFINIA = {"private": "keys/infinia/private.pem", "public": "keys/infinia/public.pem"}


def keyset(sender, receiver):
    return {"sender_private": sender["private"], "sender_public": sender["public"],
            "receiver_private": receiver["private"], "receiver_public": receiver["public"]}


def key_of(n: int, start: int = 0) -> bytes:
    return bytes((start + i) % 256 for i in range(n))


# ---- Whalet ------------------------------------------------------------------------------------

def whalet_case(name, description, kind, sender, receiver, head, plaintext, session_key, upper=False, signed=True):
    seed = ("whalet-vectors/" + name).encode()
    keys = keyset(sender, receiver)
    case = {"name": name, "description": description, "kind": kind, "keys": keys, "head": dict(head),
            "plaintext": plaintext,
            "plaintext_utf8_len": None if plaintext is None else len(plaintext.encode("utf-8")),
            "session_key_hex": None if session_key is None else session_key.hex(),
            "session_key_b64": None if session_key is None else base64.b64encode(session_key).decode(),
            "hex_case": "upper" if upper else "lower"}
    if kind == "request":
        env = wh.seal_request(head["partnerId"], head["apiCode"], head["requestNo"], plaintext,
                              keys["sender_private"], keys["receiver_public"], session_key, head["version"],
                              upper, seed=seed)
    else:
        env = wh.seal_reply(head["partnerId"], head["apiCode"], head["requestNo"], head["code"], head["detail"],
                            plaintext, keys["sender_private"], keys["receiver_public"], session_key,
                            head["version"], upper, signed=signed, seed=seed)
    encrypt = env.get("body", {}).get("encrypt")
    if kind == "request":
        sign_string = wh.request_sign_string(head, encrypt)
    else:
        sign_string = wh.reply_sign_string(head, encrypt) if signed else None
    case.update({"encrypt": encrypt, "key_enc": env["head"].get("keyEnc"), "sign_string": sign_string,
                 "sign": env["head"].get("sign"), "envelope": env})
    # the case must open again with the same implementation
    opener = wh.open_request if kind == "request" else wh.open_reply
    opened = opener(env, keys["receiver_private"], keys["sender_public"])
    assert opened["body"] == (None if plaintext is None else json.loads(plaintext)), name
    if session_key is not None:
        assert wh.unwrap_session_key(case["key_enc"], keys["receiver_private"]) == session_key
    return case


def whalet_vectors():
    def req_head(api_code, request_no, partner_id=PARTNER_ID):
        return {"partnerId": partner_id, "apiCode": api_code, "requestNo": request_no, "version": "1.0"}

    def reply_head(api_code, request_no, code, detail):
        return dict(req_head(api_code, request_no), code=code, detail=detail)

    exact16 = '{"k":"12345678"}'
    assert len(exact16.encode()) == 16
    chinese = '{"currency":"CNH","remark":"测试收款:厦门易鲸","payerName":"张三"}'
    cases = [
        whalet_case("request_ascii", "partner -> platform request, ASCII body, 16-byte session key", "request",
                    PARTNER, PLATFORM, req_head("queryCurrencyBalance", "REQ20240501000001"),
                    '{"userId":"U1001","currency":"USD","fundSource":"B2C"}', key_of(16)),
        whalet_case("request_chinese", "body with Chinese characters (UTF-8 before AES)", "request",
                    PARTNER, PLATFORM, req_head("connectivity", "REQ20240501000002"), chinese, key_of(16, 0x10)),
        whalet_case("request_empty_object", "body is the empty object {}", "request",
                    PARTNER, PLATFORM, req_head("connectivity", "REQ20240501000003"), "{}", key_of(16, 0x20)),
        whalet_case("request_exact_16_bytes", "16-byte body: PKCS5 adds a full 16-byte block (32 bytes of ciphertext)",
                    "request", PARTNER, PLATFORM, req_head("connectivity", "REQ20240501000004"), exact16,
                    key_of(16, 0x30)),
        whalet_case("request_aes192", "24-byte session key (AES-192)", "request",
                    PARTNER, PLATFORM, req_head("queryCurrencyBalance", "REQ20240501000005"),
                    '{"currency":"EUR"}', key_of(24, 0x40)),
        whalet_case("request_aes256", "32-byte session key (AES-256)", "request",
                    PARTNER, PLATFORM, req_head("queryCurrencyBalance", "REQ20240501000006"),
                    '{"currency":"GBP"}', key_of(32, 0x60)),
        whalet_case("request_upper_hex",
                    "all hex in upper case; the sign string contains body.encrypt exactly as sent (upper case)",
                    "request", PARTNER, PLATFORM, req_head("connectivity", "REQ20240501000007"),
                    '{"notifyFlag":"Y","responseFlag":"Y"}', key_of(16, 0x80), upper=True),
        whalet_case("notification_request", "platform -> partner notification (a request signed by the platform)",
                    "request", PLATFORM, PARTNER, req_head("connectivityNotify", "NTF20240501000001"),
                    '{"notifyMessage":"连通性测试通知"}', key_of(16, 0x90)),
        whalet_case("reply_with_body", "platform -> partner reply with body", "reply", PLATFORM, PARTNER,
                    reply_head("connectivity", "REQ20240501000002", "SUCCESS", "成功"),
                    '{"messge":"响应内容"}', key_of(16, 0xa0)),
        whalet_case("reply_with_body_aes256_upper", "reply, 32-byte session key, upper-case hex", "reply",
                    PLATFORM, PARTNER, reply_head("queryCurrencyBalance", "REQ20240501000006", "SUCCESS", "成功"),
                    '{"balances":[]}', key_of(32, 0xb0), upper=True),
        whalet_case("reply_without_body", "SUCCESS reply with no body: signed, sign string without |encrypt, no keyEnc",
                    "reply", PLATFORM, PARTNER, reply_head("connectivity", "REQ20240501000003", "SUCCESS", "成功"),
                    None, None),
        whalet_case("reply_error_signed", "error reply, no body, signed over partnerId|apiCode|version|requestNo|code|detail",
                    "reply", PLATFORM, PARTNER,
                    reply_head("queryCurrencyBalance", "REQ20240501000008", "PARAMETER_ERROR", "fundSource is required"),
                    None, None),
        whalet_case("reply_error_unsigned", "error reply as head only (no sign, no keyEnc, no body)", "reply",
                    PLATFORM, PARTNER,
                    reply_head("queryCurrencyBalance", "REQ20240501000009", "UNAUTHENTICATED_ERROR", "sign invalid"),
                    None, None, signed=False),
        whalet_case("ack_reply_empty_object", "partner -> platform ack of a notification: SUCCESS with body {}",
                    "reply", PARTNER, PLATFORM, reply_head("connectivityNotify", "NTF20240501000001", "SUCCESS", "成功"),
                    "{}", key_of(16, 0xc0)),
    ]
    return {
        "description": "Whalet Open API envelope vectors (independent Python implementation, scripts/whalet_envelope.py)",
        "generator": "scripts/gen_vectors.py",
        "rules": {
            "encrypt": "hex(AES/ECB/PKCS5Padding(session_key, utf8(plaintext)))",
            "key_enc": "hex(RSA/ECB/PKCS1Padding(receiver_public, ascii(base64(session_key)))) - randomized: decrypt, do not compare",
            "request_sign_string": "partnerId|apiCode|version|requestNo|encrypt",
            "reply_sign_string": "partnerId|apiCode|version|requestNo|code|detail[|encrypt] (|encrypt only when there is a body)",
            "sign": "hex(SHA1withRSA(sender_private, utf8(sign_string))) - deterministic: compare byte for byte",
        },
        "cases": cases,
    }


# ---- Infinia -----------------------------------------------------------------------------------

def infinia_case(name, description, sender, receiver, app_id, plaintext, alg="SHA256withRSA"):
    keys = keyset(sender, receiver)
    seed = ("infinia-vectors/" + name).encode()
    env = inf.seal_request(app_id, plaintext, keys["sender_private"], keys["receiver_public"], alg, seed=seed)
    raw = plaintext.encode("utf-8")
    chunks = inf.chunks(raw, 245)
    blob = base64.b64decode(env["requestData"])
    blocks = [blob[i:i + 256] for i in range(0, len(blob), 256)]
    assert [rsa_decrypt(keys["receiver_private"], b) for b in blocks] == chunks, name
    opened = inf.open_request(env, keys["receiver_private"], keys["sender_public"], alg)
    assert opened["data"] == json.loads(plaintext), name
    return {"name": name, "description": description, "keys": keys, "app_id": app_id, "plaintext": plaintext,
            "plaintext_utf8_len": len(raw), "rsa_key_bytes": 256, "max_chunk_bytes": 245,
            "chunks_hex": [c.hex() for c in chunks], "blocks_hex": [b.hex() for b in blocks],
            "request_data": env["requestData"], "signature_alg": alg,
            "signature_input": env["requestData"], "signature": env["signature"], "envelope": env}


def padded_json(prefix: str, target_len: int) -> str:
    """A JSON object `{...,"pad":"xxx"}` of exactly target_len UTF-8 bytes."""
    base = prefix[:-1] + ',"pad":""}'
    fill = target_len - len(base.encode())
    assert fill >= 0
    text = base[:-2] + "x" * fill + '"}'
    assert len(text.encode()) == target_len
    return text


def infinia_vectors():
    binding = {"requestNo": "ABR-20250903-0001", "sellerId": "SELLER-123456", "sellerCertNo": "91310108MA1KXXXXXX",
               "sellerName": "Acme Trading Ltd.", "storeName": "Acme Official Store",
               "storeUrl": "https://store.example.com/acme", "entityType": "Corporate", "country": "CHN",
               "currency": "CNH", "note": "First-time binding",
               "backlinkUrl": "https://merchant.example.com/seller/SELLER-123456"}
    short = '{"requestNo":"ABR-20250903-0002","sellerId":"4347874"}'
    # ~700 bytes with Chinese text, arranged so that byte 245 falls inside a 3-byte character
    def cn_json(shift):
        obj = {"requestNo": "ABR-20250903-0003", "sellerId": "SELLER-123456", "sellerName": "厦门易鲸信息科技有限公司",
               "note": "x" * shift + "首次绑定:" + "跨境电商卖家资料" * 12}
        obj.update({k: v for k, v in binding.items() if k not in obj})
        obj["storeName"] = "易鲸官方旗舰店"
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    cn_text = next(t for t in map(cn_json, range(3)) if 0x80 <= t.encode()[245] < 0xC0)
    assert 600 <= len(cn_text.encode()) <= 800
    cases = [
        infinia_case("short_one_block", "short JSON: one RSA block", MERCHANT, INFINIA, "demo-app", short),
        infinia_case("exact_245_bytes", "245 bytes = k-11: exactly one block", MERCHANT, INFINIA, "demo-app",
                     padded_json(short, 245)),
        infinia_case("exact_246_bytes", "246 bytes: two blocks (245 + 1)", MERCHANT, INFINIA, "demo-app",
                     padded_json(short, 246)),
        infinia_case("account_binding_chinese_multiblock",
                     "account binding with Chinese text; a 3-byte UTF-8 character is split across blocks 1 and 2 "
                     "(chunks split BYTES, not characters)", MERCHANT, INFINIA, "demo-app", cn_text),
        infinia_case("sha1_signature", "signature SHA1withRSA instead of SHA256withRSA", MERCHANT, INFINIA,
                     "demo-app", json.dumps(binding, separators=(",", ":"))),
        infinia_case("webhook_seller_status",
                     "Infinia -> merchant webhook (spec §2.10 example): encrypted with the MERCHANT public key, "
                     "signed with the Infinia private key (a webhook signature is not documented)",
                     INFINIA, MERCHANT, "infinia",
                     '{"requestNo":"7042bac2-491b-41f8-b091-5199a20785c2","sellerId":"4347874","status":"FROZEN"}'),
    ]
    assert [len(c["blocks_hex"]) for c in cases[:4]] == [1, 1, 2, 3]
    return {
        "description": "Infinia envelope vectors (independent Python implementation, scripts/infinia_envelope.py)",
        "generator": "scripts/gen_vectors.py",
        "rules": {
            "request_data": "base64(concat(RSA/ECB/PKCS1Padding(receiver_public, chunk) for chunk in utf8(plaintext) split into <=245-byte pieces)) - randomized: decrypt, do not compare",
            "signature": "base64(<signature_alg>(sender_private, utf8(request_data))) - deterministic: compare",
            "envelope": '{"version":"1.0","appId","dataType":"JSON","requestData","signature"}',
        },
        "cases": cases,
    }


# ---- Pockyt ------------------------------------------------------------------------------------

def pockyt_case(name, description, token, params):
    case = {"name": name, "description": description, "token": token, "token_md5": pk.md5_hex(token),
            "params": params, "string_to_sign": pk.string_to_sign(params, token),
            "verify_sign": pk.verify_sign(params, token),
            "drop_empty": {"string_to_sign": pk.string_to_sign(params, token, drop_empty=True),
                           "verify_sign": pk.verify_sign(params, token, drop_empty=True)}}
    return case


def pockyt_vectors():
    doc = pk.DOC_VECTOR
    cases = [
        pockyt_case("documented_vector", "the vector in the public docs (spec §3.1)", doc["token"], doc["params"]),
        pockyt_case("register_payee_empty_street2", "an empty value: kept as 'street2=&' by the SDK rule",
                    pk.DEMO_TOKEN,
                    {"merchantNo": "202333", "storeNo": "301854", "customerNo": "C0001", "firstName": "Ann",
                     "lastName": "Lee", "street": "1 Main St", "street2": "", "city": "Austin", "state": "TX",
                     "zip": "78701", "countryCode": "US", "timestamp": "2022-10-31T12:04:05Z"}),
        pockyt_case("payout_ipn", "payout IPN fields (spec §3.10)", pk.DEMO_TOKEN,
                    {"accountToken": "tok_123", "amount": "60.00", "currency": "USD", "invoiceId": "INV-1",
                     "paymentTime": "2023-02-15T22:59:11Z", "status": "success", "transactionNo": "T20230215001",
                     "vendor": "BANK_ACCOUNT"}),
        pockyt_case("byte_order_and_raw_values",
                    "sort is by byte order (upper case before '_' before lower case); values are raw: no URL "
                    "encoding of '&', '=', spaces or UTF-8", pk.DEMO_TOKEN,
                    {"merchantNo": "202333", "storeNo": "301854", "Zeta": "1", "_x": "2",
                     "note": "a&b=c d", "name": "张三", "amount": "10.00"}),
    ]
    assert cases[0]["token_md5"] == doc["token_md5"] and cases[0]["verify_sign"] == doc["verify_sign"]
    assert cases[1]["verify_sign"] != cases[1]["drop_empty"]["verify_sign"]
    return {
        "description": "Pockyt verifySign vectors (independent Python implementation, scripts/pockyt_sign.py)",
        "generator": "scripts/gen_vectors.py",
        "rules": {
            "string_to_sign": "sorted(name=value for every param but verifySign) joined with '&', then '&' + md5hex(token)",
            "verify_sign": "md5hex(utf8(string_to_sign)), lower case",
            "drop_empty": "variant that leaves out empty values (NOT the SDK rule), recorded for comparison",
        },
        "cases": cases,
    }


def render(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


def main(argv) -> int:
    check = "--check" in argv
    outputs = {"whalet.json": whalet_vectors(), "infinia.json": infinia_vectors(), "pockyt.json": pockyt_vectors()}
    stale = []
    for name, obj in outputs.items():
        path = os.path.join(OUT_DIR, name)
        text = render(obj)
        if check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(name)
            except FileNotFoundError:
                stale.append(name)
        else:
            os.makedirs(OUT_DIR, exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print(f"wrote {os.path.relpath(path, REPO_ROOT)} ({len(obj['cases'])} cases)")
    if stale:
        print(f"stale vectors (run scripts/gen_vectors.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    if check:
        print("vectors up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
