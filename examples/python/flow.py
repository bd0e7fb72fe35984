#!/usr/bin/env python3
"""Runs real flows against a running whalet-sim (started with --manual-clock and
--notify-url http://127.0.0.1:$NOTIFY_PORT/notify):

  Whalet: connectivity, onboarding -> card holder -> collection account -> money arrives
          -> balance, every notification verified, decrypted and acknowledged by our receiver;
          forged replies (a body without head.sign, a genuine reply to another request) refused;
  Pockyt: payee -> bank account -> payout -> signed IPN verified by our receiver -> balance.

Environment: SIM_URL (http://127.0.0.1:8080), NOTIFY_PORT (9090), KEYS_DIR (the repository's keys/),
WHALET_SIM_ADMIN_TOKEN (the simulator's admin token, if it was started with one: sent as
`Authorization: Bearer <token>` on every /__sim/ request, never to the provider APIs).
Exits 0 when every check passed.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pockyt import IpnReceiver, PockytClient  # noqa: E402
from whalet import NotificationReceiver, WhaletClient, demo_keys  # noqa: E402

SIM = os.environ.get("SIM_URL", "http://127.0.0.1:8080").rstrip("/")
NOTIFY_PORT = int(os.environ.get("NOTIFY_PORT", "9090"))
PARTNER_ID = "202400000000001"


def admin_headers():
    """The header every control-plane request carries when the simulator has an admin token
    (`serve --admin-token`, WHALET_SIM_ADMIN_TOKEN): read from WHALET_SIM_ADMIN_TOKEN, as the
    CLI does; unset or empty means none. Only /__sim/ gets it, never the provider APIs."""
    token = os.environ.get("WHALET_SIM_ADMIN_TOKEN", "")
    if not token:
        return {}
    if not all("!" <= c <= "~" for c in token):
        # Never show the value, nor any part of it: it is a secret.
        print("WHALET_SIM_ADMIN_TOKEN (not shown: it is a secret): an admin token has visible "
              "ASCII characters only (no spaces, tabs or line ends)", file=sys.stderr)
        sys.exit(2)
    return {"Authorization": f"Bearer {token}"}


ADMIN_HEADERS = admin_headers()


def control(method, path, **kw):
    r = requests.request(method, f"{SIM}/__sim/{path}", timeout=130, headers=ADMIN_HEADERS, **kw)
    if r.status_code != 200:
        raise AssertionError(f"{method} /__sim/{path}: HTTP {r.status_code} {r.text}")
    return r.json()


def advance(seconds):
    """Moves the simulator's manual clock; everything due runs, deliveries included."""
    control("POST", "clock/advance", json={"seconds": seconds})


def delivered(api_code, business_id):
    """Waits for the simulator to record the notification's delivery (no sleeping)."""
    n = control("GET", "notifications/wait",
                params={"apiCode": api_code, "businessId": business_id, "timeoutMs": 10000})
    assert n["status"] == "delivered", n
    return n


def expect(client, api_code, body, code):
    got, detail, data = client.call(api_code, body)
    assert got == code, f"{api_code}: {got} {detail}"
    print(f"  {api_code}: {got}")
    return data


def whalet_flow(tag):
    key, whalet_pub = demo_keys()
    client = WhaletClient(SIM, PARTNER_ID, key, whalet_pub)
    receiver = NotificationReceiver(NOTIFY_PORT, key, whalet_pub)
    try:
        print("whalet: connectivity")
        expect(client, "connectivity", {"notifyFlag": "Y", "notifyMessage": f"hello {tag}",
                                        "responseFlag": "Y", "responseMessage": "pong"}, "SUCCESS")
        receiver.find("connectivityNotify", "notifyMessage", f"hello {tag}")

        print("whalet: onboarding (60 s review)")
        user = expect(client, "userOnboardingApply", {
            "outUserId": f"py-{tag}", "email": "ops@example.com",
            "legalEntity": {"type": "ENTERPRISE", "name": "Example Trading", "certType": "BUSINESS_LICENSE",
                            "certNo": "91350200MA2Y000000", "countryCode": "CN"}}, "PROCESSING")
        user_id = user["userId"]
        advance(60)
        delivered("userOnboardingResultNotify", user_id)
        assert receiver.find("userOnboardingResultNotify", "userId", user_id)["status"] == "SUCCESS"

        print("whalet: card holder (30 s review)")
        holder = expect(client, "cardHolderApply", {
            "userId": user_id, "outHolderId": f"py-h-{tag}", "holderType": "ENTERPRISE",
            "name": "Xiamen Example Trading Co., Ltd.", "countryCode": "CN",
            "certType": "BUSINESS_LICENSE", "certNo": "91350200MA2Y000000"}, "PROCESSING")
        advance(30)
        delivered("cardHolderResultNotify", holder["holderId"])
        assert receiver.find("cardHolderResultNotify", "holderId", holder["holderId"])["status"] == "SUCCESS"

        print("whalet: collection account (10 s)")
        card = expect(client, "b2cVirtualAccountApply", {
            "userId": user_id, "outCardId": f"py-c-{tag}", "holderId": holder["holderId"],
            "platform": "AMAZON", "currency": "USD"}, "PROCESSING")
        advance(10)
        delivered("virtualAccountNotify", card["cardId"])
        account = receiver.find("virtualAccountNotify", "cardId", card["cardId"])
        assert account["status"] == "SUCCESS" and account["accountNo"], account

        print("whalet: a collection arrives (settles after 5 s)")
        arrived = expect(client, "mockPayeeNotify", {
            "userId": user_id, "cardId": card["cardId"], "amount": "1234.56", "currency": "USD",
            "payerName": "Amazon Payments, Inc."}, "SUCCESS")
        assert arrived["status"] == "PENDING", arrived
        advance(5)
        delivered("collectionReceivedNotify", arrived["tradeId"])
        got = receiver.find("collectionReceivedNotify", "tradeId", arrived["tradeId"])
        assert got["status"] == "SUCCESS" and got["amount"]["cent"] == 123456, got

        rows = expect(client, "queryCurrencyBalance",
                      {"userId": user_id, "currency": "USD", "fundSource": "B2C"}, "SUCCESS")
        assert rows[0]["balance"]["cent"] == 123456, rows
        print(f"whalet: balance {rows[0]['balance']['amount']} USD; "
              f"{len(receiver.received)} notifications verified and acknowledged")
        assert not receiver.rejected, receiver.rejected
    finally:
        receiver.close()


class TamperingProxy:
    """Stands between the client and the simulator: forwards each request to `{SIM}/api` and
    hands back the simulator's reply as `tamper(reply)` changes it (a JSON object)."""

    def __init__(self, tamper):
        self.tamper = tamper
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = requests.post(f"{SIM}/api", data=raw, timeout=30,
                                      headers={"Content-Type": "application/json"}).json()
                out = json.dumps(outer.tamper(reply)).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def refused(client, api_code, body, why):
    """Asserts that `client.call` refuses the reply it gets, saying `why`."""
    try:
        got = client.call(api_code, body)
    except ValueError as e:
        assert why in str(e), e
        print(f"  {api_code}: refused ({e})")
        return
    raise AssertionError(f"{api_code}: a forged reply was accepted: {got}")


def forged_replies_are_refused():
    """A reply with a body but no head.sign, and a genuine signed reply to another request
    (replayed), are refused: only what Whalet signed for this very request is believed."""
    key, whalet_pub = demo_keys()
    ping = {"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "pong"}

    def strip_sign(reply):
        del reply["head"]["sign"]
        return reply

    print("whalet: a reply whose head.sign was taken out is refused")
    proxy = TamperingProxy(strip_sign)
    try:
        refused(WhaletClient(proxy.url, PARTNER_ID, key, whalet_pub), "connectivity", ping,
                "a body but no head.sign")
    finally:
        proxy.close()

    print("whalet: a genuine reply to another request (replayed) is refused")
    replies = []

    def replay_the_first(reply):
        replies.append(reply)
        return replies[0]

    proxy = TamperingProxy(replay_the_first)
    try:
        client = WhaletClient(proxy.url, PARTNER_ID, key, whalet_pub)
        expect(client, "connectivity", ping, "SUCCESS")
        refused(client, "queryCurrencyBalance", {"userId": "U1", "currency": "USD", "fundSource": "B2C"},
                "does not answer this request")
    finally:
        proxy.close()


def pockyt_flow(tag):
    ipn = IpnReceiver(0, "demo-token")
    client = PockytClient(SIM, "202333", "301854", "demo-token")

    def now():  # the timestamp every v3 request carries (its format is checked, not its skew)
        return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def ok(path, fields):
        reply = client.call(path, fields, now())
        assert reply["ret_code"] == "000100", f"{path}: {reply}"
        print(f"  {path}: {reply['ret_code']} {reply.get('ret_msg', '')}")
        return reply

    try:
        print("pockyt: payee (active after 10 s)")
        payee = ok("/v3/payee/register", {
            "profileType": "INDIVIDUAL", "firstName": "John", "lastName": "Doe",
            "email": f"py-{tag}@example.com", "dateOfBirth": "1999-01-01", "countryCode": "US", "state": "NY",
            "city": "hometown", "street": "123 main St", "zip": "10005"})
        customer_no = payee["customer"]["customerNo"]
        advance(10)
        account = ok("/v3/customers/account/create/bank-account", {
            "customerNo": customer_no, "accountType": "BANK_ACCOUNT", "accountCountry": "US",
            "accountCurrency": "USD", "accountTag": f"py-{tag}", "bankAccountId": "000123455655",
            "bankName": "Chase", "ipnUrl": f"http://127.0.0.1:{ipn.port}/ipn", "clientIp": "127.0.0.1"})
        before = ok("/v3/payouts/balance", {"currency": "USD"})["result"]["balance"]

        print("pockyt: payout (settles after 30 s, then the IPN)")
        paid = ok("/v3/payouts/pay", {"customerNo": customer_no,
                                      "accountToken": account["result"]["accountToken"],
                                      "amount": "60", "currency": "USD", "invoiceId": f"INV-py-{tag}"})
        txn = paid["result"]["transactionNo"]
        advance(30)
        n = control("GET", "notifications/wait", params={"businessId": txn, "timeoutMs": 10000})
        assert n["status"] == "delivered", n
        got = ipn.find("transactionNo", txn)
        assert got["status"] == "success" and got["amount"] == "60.00", got
        after = ok("/v3/payouts/balance", {"currency": "USD"})["result"]["balance"]
        print(f"pockyt: IPN verified (verifySign {got['verifySign']}); balance {before} -> {after} USD")
        assert float(after) < float(before)
    finally:
        ipn.close()


def main():
    tag = uuid.uuid4().hex[:8]
    control("GET", "health")
    whalet_flow(tag)
    forged_replies_are_refused()
    pockyt_flow(tag)
    print("python example: OK")


if __name__ == "__main__":
    main()
