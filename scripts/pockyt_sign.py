#!/usr/bin/env python3
"""Independent Python implementation of Pockyt (Yuansfer) `verifySign` (module and CLI). Stdlib only.

From spec/platform-infinia-pockyt.md §3.1:
  take every parameter except verifySign, sort by name (byte order), join "name=value" with "&",
  append "&" + md5hex(token), verifySign = md5hex(UTF-8 of that string), lower-case hex.
Values are used raw (no URL encoding). Empty values are KEPT ("street2=&"), as the PHP SDK does;
drop_empty=True gives the variant that leaves them out.
Non-string JSON values (the wire sends strings; this is for convenience) become: numbers as written
in JSON, true/false, null -> "", objects/arrays -> compact JSON text.

CLI:
  sign   --token T --params JSON [--drop-empty] [--explain]   prints verifySign (or, with --explain,
                                                              {"stringToSign", "verifySign"})
  add    --token T --params JSON [--drop-empty]               prints the params with verifySign added
  verify --token T --body FILE|- [--drop-empty]               exit 0 if verifySign matches, else 1
  call   --url URL --token T --params JSON [--form]           POST params + verifySign (JSON, or
                                                              x-www-form-urlencoded with --form); prints reply
  --self-test
The demo token is `demo-token` (README, "Demo tenants").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

DEMO_TOKEN = "demo-token"


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def value_text(v) -> str:
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(v)  # numbers, true/false


def string_to_sign(params: dict, token: str, drop_empty: bool = False) -> str:
    items = sorted(((k, value_text(v)) for k, v in params.items() if k != "verifySign"),
                   key=lambda kv: kv[0].encode("utf-8"))
    if drop_empty:
        items = [(k, v) for k, v in items if v != ""]
    return "".join(f"{k}={v}&" for k, v in items) + md5_hex(token)


def verify_sign(params: dict, token: str, drop_empty: bool = False) -> str:
    return md5_hex(string_to_sign(params, token, drop_empty))


def with_verify_sign(params: dict, token: str, drop_empty: bool = False) -> dict:
    out = {k: v for k, v in params.items() if k != "verifySign"}
    out["verifySign"] = verify_sign(out, token, drop_empty)
    return out


def check(params: dict, token: str, drop_empty: bool = False) -> bool:
    got = params.get("verifySign")
    return isinstance(got, str) and got == verify_sign(params, token, drop_empty)


DOC_VECTOR = {
    "token": "5cbfb079f15b150122261c8537086d77a",
    "token_md5": "186abea4b8610d7ff03768255588597a",
    "params": {
        "amount": "1.00", "storeNo": "300014", "currency": "USD", "merchantNo": "200043",
        "callbackUrl": "https://wx.yuansfer.yunkeguan.com/wx", "terminal": "ONLINE",
        "ipnUrl": "https://wx.yuansfer.yunkeguan.com/wx", "reference": "seq_1525922323", "vendor": "alipay",
        "goodsInfo": '[{"goods_name":"Yuansfer","quantity":"1"}]', "timeout": "120",
    },
    "verify_sign": "b6bfd66531ae7c9499115c7480a2c8aa",
}


def self_test() -> None:
    assert md5_hex(DOC_VECTOR["token"]) == DOC_VECTOR["token_md5"]
    assert verify_sign(DOC_VECTOR["params"], DOC_VECTOR["token"]) == DOC_VECTOR["verify_sign"]
    p = {"b": "2", "a": "", "verifySign": "ignored"}
    assert string_to_sign(p, "t") == "a=&b=2&" + md5_hex("t")
    assert string_to_sign(p, "t", drop_empty=True) == "b=2&" + md5_hex("t")
    assert string_to_sign({"a": "1", "B": "2", "_": "3"}, "t").startswith("B=2&_=3&a=1&")
    signed = with_verify_sign({"x": "1"}, DEMO_TOKEN)
    assert check(signed, DEMO_TOKEN) and not check(dict(signed, x="2"), DEMO_TOKEN)
    print("pockyt_sign self-test: ok (documented vector reproduced)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--self-test", action="store_true")
    sub = p.add_subparsers(dest="cmd")
    for name in ("sign", "add", "verify", "call"):
        s = sub.add_parser(name)
        s.add_argument("--token", default=DEMO_TOKEN)
        s.add_argument("--drop-empty", action="store_true", help="leave out empty values (not the SDK rule)")
        if name == "verify":
            s.add_argument("--body", required=True, metavar="FILE|-")
        else:
            s.add_argument("--params", required=True, help="JSON object")
        if name == "sign":
            s.add_argument("--explain", action="store_true")
        if name == "call":
            s.add_argument("--url", required=True)
            s.add_argument("--form", action="store_true", help="send application/x-www-form-urlencoded")
            s.add_argument("--timeout", type=float, default=30.0)
    a = p.parse_args(argv)
    if a.self_test:
        self_test()
        return 0
    if a.cmd is None:
        p.print_help()
        return 2
    try:
        if a.cmd == "verify":
            text = sys.stdin.read() if a.body == "-" else open(a.body, encoding="utf-8").read()
            try:
                params = json.loads(text)
            except json.JSONDecodeError:
                params = dict(urllib.parse.parse_qsl(text.strip(), keep_blank_values=True))
        else:
            params = json.loads(a.params)
        if not isinstance(params, dict):
            raise ValueError("params must be a JSON object")
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.cmd == "sign":
        if a.explain:
            s = string_to_sign(params, a.token, a.drop_empty)
            print(json.dumps({"stringToSign": s, "verifySign": md5_hex(s)}, ensure_ascii=False))
        else:
            print(verify_sign(params, a.token, a.drop_empty))
    elif a.cmd == "add":
        print(json.dumps(with_verify_sign(params, a.token, a.drop_empty), ensure_ascii=False, indent=2))
    elif a.cmd == "verify":
        want = verify_sign(params, a.token, a.drop_empty)
        if params.get("verifySign") != want:
            print(f"error: verifySign {params.get('verifySign')!r} != expected {want} over "
                  f"{string_to_sign(params, a.token, a.drop_empty)!r}", file=sys.stderr)
            return 1
        print("verifySign ok")
    elif a.cmd == "call":
        body = with_verify_sign(params, a.token, a.drop_empty)
        if a.form:
            data = urllib.parse.urlencode({k: value_text(v) for k, v in body.items()}).encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            data, ctype = json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json"
        req = urllib.request.Request(a.url, data=data, method="POST", headers={"Content-Type": ctype})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the simulator is local
        try:
            with opener.open(req, timeout=a.timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        except OSError as e:
            print(f"error: POST {a.url}: {e}", file=sys.stderr)
            return 4
        text = raw.decode("utf-8", "replace")
        print(text)
        try:
            code = json.loads(text).get("ret_code")
        except (json.JSONDecodeError, AttributeError):
            code = None
        if status != 200 or code != "000100":
            print(f"HTTP {status}, ret_code {code!r}", file=sys.stderr)
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
