#!/usr/bin/env python3
"""Writes the seed corpus fuzz/corpus/<target>/ from the repository: the golden vectors
(tests/vectors/), the operation tables (src/api/), the sample CSV (samples/), the scenario files
(scenarios/) and the README's configuration. Deterministic; run from anywhere, commit the result.
Input formats are documented in src/fuzzing.rs."""

import hashlib
import json
import pathlib
import re
import shutil
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "corpus"
MERCHANT, STORE, TOKEN = "202333", "301854", "demo-token"
BOUNDARY = "fuzzboundary"

corpus = {}


def add(target, data):
    if isinstance(data, str):
        data = data.encode()
    corpus.setdefault(target, []).append(data)


def read(rel):
    return (ROOT / rel).read_text(encoding="utf-8")


def ops(folder):
    names = set()
    for path in (ROOT / folder).rglob("*.rs"):
        text = path.read_text(encoding="utf-8")
        names.update(re.findall(r'Operation\s*\{\s*name:\s*"([^"]+)"', text))
        names.update(re.findall(r'op\(\s*"([^"]+)"', text))
    return sorted(names)


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def pockyt_sign(fields, token):
    pairs = sorted((k, v) for k, v in fields.items() if k != "verifySign")
    return md5("&".join(f"{k}={v}" for k, v in pairs) + "&" + md5(token))


# --- Whalet -------------------------------------------------------------------------------
whalet = json.loads(read("tests/vectors/whalet.json"))
for case in whalet["cases"]:
    if case["kind"] == "request":
        add("whalet_envelope", json.dumps(case["envelope"]))
        add("whalet_sealed", case["head"]["apiCode"] + "\n" + case["plaintext"])
add("whalet_envelope", '{"head":{"partnerId":"202400000000001","apiCode":"connectivity",'
    '"requestNo":"R1","version":"1.0","sign":"00","keyEnc":"00"},"body":{"encrypt":"00"}}')
for code in ops("src/api/whalet") + ops("src/api/platform"):
    if re.fullmatch(r"[a-z][A-Za-z]+", code):
        add("whalet_sealed", code + "\n{}")

# --- Infinia ------------------------------------------------------------------------------
infinia = json.loads(read("tests/vectors/infinia.json"))
paths = [p for p in ops("src/api/infinia") if "/" in p]
for case in infinia["cases"]:
    # The balance query reads no field: a golden envelope (the demo app's keys) succeeds there.
    add("infinia_envelope", "account-balance/query\n" + json.dumps(case["envelope"]))
    for path in paths:
        add("infinia_sealed", path + "\n" + case["plaintext"])
for path in paths:
    add("infinia_sealed", path + "\n{}")
    add("infinia_sealed", path + '\n{"requestNo":"R-1","sellerId":"SELLER-123456",'
        '"currency":"USD","amount":"1.00"}')

# --- Pockyt -------------------------------------------------------------------------------
pockyt = json.loads(read("tests/vectors/pockyt.json"))
payee = {"profileType": "INDIVIDUAL", "firstName": "John", "lastName": "Doe",
         "email": "j@example.com", "dateOfBirth": "1999-01-01", "countryCode": "US",
         "state": "NY", "city": "hometown", "street": "123 main St", "zip": "10005"}
account = {"customerNo": "C1", "accountType": "BANK_ACCOUNT", "accountCountry": "US",
           "accountCurrency": "USD", "accountTag": "tag-1", "bankAccountId": "000123455655",
           "bankName": "Chase", "clientIp": "127.0.0.1"}
payout = {"customerNo": "C1", "accountToken": "T1", "invoiceId": "INV-1", "amount": "1.00",
          "currency": "USD", "description": "fuzz"}
for path in ops("src/api/pockyt"):
    if not path.startswith("/"):
        continue
    extra = payee if "payee/register" in path else account if "account" in path else payout
    fields = {"merchantNo": MERCHANT, "storeNo": STORE, "timestamp": "2025-01-01T00:00:00Z",
              **extra}
    add("pockyt_signed", path + "\n" + json.dumps(fields))
    signed = dict(fields, verifySign=pockyt_sign(fields, TOKEN))
    add("pockyt_request", path + "\n" + json.dumps(signed))
add("pockyt_signed", "/v3/payouts/balance\n" + urllib.parse.urlencode(
    {"merchantNo": MERCHANT, "storeNo": STORE, "timestamp": "2025-01-01T00:00:00Z",
     "currency": "USD"}))
for case in pockyt["cases"]:
    params = dict(case["params"], verifySign=case["verify_sign"])
    add("pockyt_request", "/v3/payouts/balance\n" + json.dumps(params))
    add("pockyt_request", "/v3/payouts/balance\n" + urllib.parse.urlencode(params))

# --- File upload --------------------------------------------------------------------------
def multipart(fields, file):
    out = b""
    for name, value in fields:
        out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                f"{value}\r\n").encode()
    if file:
        name, data = file
        out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
        out += data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


add("upload_multipart", multipart([], ("invoice.pdf", b"%PDF-1.4 fuzz")))
add("upload_multipart", multipart([], ("photo.PNG", b"\x89PNG\r\n\x1a\n")))
add("upload_multipart", multipart([("partnerId", "202400000000001")], ("a.exe", b"MZ")))
add("upload_multipart", multipart([("timestamp", "1735689600000"), ("token", "00")],
                                  ("t.txt", b"x")))
add("upload_multipart", multipart([], None))

# --- SFTP trade details -------------------------------------------------------------------
add("sftp_trade_details", read("samples/infinia-trade-details.csv"))
add("sftp_trade_details",
    "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount\n"
    "A1,SALE,O1,S1,,2025-01-01 10:00:00,USD,10.00\n"
    "A2,REFUND,O2,S1,,2025-01-01 10:00:00,USD,10.00\n"
    "A3,RETURN,O1,S1,A1,2025-01-01 10:00:00,USD,11.00\n"
    "A1,SALE,O3,S1,,2025/01/01,XXX,1\n"
    "A5,SALE,O5,S1,,2025-01-01 10:00:00,USD,1.001\n")

# --- Scenarios and configuration ----------------------------------------------------------
for path in sorted((ROOT / "scenarios").glob("*.toml")):
    add("scenario_file", path.read_text(encoding="utf-8"))
readme = read("README.md")
for block in re.findall(r"```toml\n(.*?)```", readme, re.S):
    add("config_toml", block)
add("config_toml", "")
add("config_toml", '[server]\nmax_connections = 64\nheader_read_timeout_ms = 500\n'
    '[infinia]\nmax_request_blocks = 8\n[pockyt]\nipn_format = "json"\n')

shutil.rmtree(OUT, ignore_errors=True)
for target, seeds in sorted(corpus.items()):
    folder = OUT / target
    folder.mkdir(parents=True)
    for data in seeds:
        (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
    print(f"{target}: {len(seeds)} seeds")
