#!/usr/bin/env node
// Runs real flows against a running whalet-sim (--manual-clock, --notify-url
// http://127.0.0.1:$NOTIFY_PORT/notify): Whalet onboarding -> holder -> collection account ->
// money -> balance, each notification verified, decrypted and acknowledged; forged replies (a
// body without head.sign, a genuine reply to another request) refused; Pockyt payee -> account
// -> payout -> signed IPN -> balance. Env: SIM_URL, NOTIFY_PORT, KEYS_DIR, WHALET_SIM_ADMIN_TOKEN
// (the simulator's admin token, if it was started with one: sent as `Authorization: Bearer
// <token>` on every /__sim/ request, never to the provider APIs). Exit 0 = OK.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";

import { IpnReceiver, PockytClient } from "./pockyt.mjs";
import { NotificationReceiver, WhaletClient, demoKeys } from "./whalet.mjs";

const SIM = (process.env.SIM_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const NOTIFY_PORT = Number(process.env.NOTIFY_PORT ?? 9090);
const tag = crypto.randomBytes(4).toString("hex");

// The header every control-plane request carries when the simulator has an admin token
// (`serve --admin-token`, WHALET_SIM_ADMIN_TOKEN): read from WHALET_SIM_ADMIN_TOKEN, as the CLI
// does; unset or empty means none. Only /__sim/ gets it, never the provider APIs.
function adminHeaders() {
  const token = process.env.WHALET_SIM_ADMIN_TOKEN ?? "";
  if (token === "") return {};
  if (!/^[\x21-\x7e]+$/.test(token)) {
    // Never show the value, nor any part of it: it is a secret.
    console.error("WHALET_SIM_ADMIN_TOKEN (not shown: it is a secret): an admin token has visible ASCII characters only (no spaces, tabs or line ends)");
    process.exit(2);
  }
  return { Authorization: `Bearer ${token}` };
}
const ADMIN_HEADERS = adminHeaders();

async function control(method, path, body) {
  const res = await fetch(`${SIM}/__sim/${path}`, {
    method,
    headers: { ...ADMIN_HEADERS, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} /__sim/${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}

// Moves the manual clock; everything due runs, deliveries included.
const advance = (seconds) => control("POST", "clock/advance", { seconds });

// Waits for the simulator to record a delivery (no sleeping).
async function delivered(query) {
  const n = await control("GET", `notifications/wait?${new URLSearchParams({ ...query, timeoutMs: "10000" })}`);
  assert.equal(n.status, "delivered", JSON.stringify(n));
}

async function whaletFlow() {
  const keys = demoKeys();
  const client = new WhaletClient(SIM, "202400000000001", keys);
  const receiver = new NotificationReceiver(keys);
  await receiver.listen(NOTIFY_PORT);
  const expect = async (apiCode, body, code) => {
    const r = await client.call(apiCode, body);
    assert.equal(r.code, code, `${apiCode}: ${r.code} ${r.detail}`);
    console.log(`  ${apiCode}: ${r.code}`);
    return r.body;
  };
  try {
    console.log("whalet: connectivity");
    await expect("connectivity", { notifyFlag: "Y", notifyMessage: `hello ${tag}`, responseFlag: "Y", responseMessage: "pong" }, "SUCCESS");
    await receiver.find("connectivityNotify", "notifyMessage", `hello ${tag}`);

    console.log("whalet: onboarding (60 s review)");
    const { userId } = await expect("userOnboardingApply", {
      outUserId: `node-${tag}`, email: "ops@example.com",
      legalEntity: { type: "ENTERPRISE", name: "Example Trading", certType: "BUSINESS_LICENSE", certNo: "91350200MA2Y000000", countryCode: "CN" },
    }, "PROCESSING");
    await advance(60);
    await delivered({ apiCode: "userOnboardingResultNotify", businessId: userId });
    assert.equal((await receiver.find("userOnboardingResultNotify", "userId", userId)).status, "SUCCESS");

    console.log("whalet: card holder (30 s review)");
    const { holderId } = await expect("cardHolderApply", {
      userId, outHolderId: `node-h-${tag}`, holderType: "ENTERPRISE", name: "Xiamen Example Trading Co., Ltd.",
      countryCode: "CN", certType: "BUSINESS_LICENSE", certNo: "91350200MA2Y000000",
    }, "PROCESSING");
    await advance(30);
    await delivered({ apiCode: "cardHolderResultNotify", businessId: holderId });
    assert.equal((await receiver.find("cardHolderResultNotify", "holderId", holderId)).status, "SUCCESS");

    console.log("whalet: collection account (10 s)");
    const { cardId } = await expect("b2cVirtualAccountApply", { userId, outCardId: `node-c-${tag}`, holderId, platform: "AMAZON", currency: "USD" }, "PROCESSING");
    await advance(10);
    await delivered({ apiCode: "virtualAccountNotify", businessId: cardId });
    const account = await receiver.find("virtualAccountNotify", "cardId", cardId);
    assert.equal(account.status, "SUCCESS");
    assert.ok(account.accountNo);

    console.log("whalet: a collection arrives (settles after 5 s)");
    const arrived = await expect("mockPayeeNotify", { userId, cardId, amount: "1234.56", currency: "USD", payerName: "Amazon Payments, Inc." }, "SUCCESS");
    assert.equal(arrived.status, "PENDING");
    await advance(5);
    await delivered({ apiCode: "collectionReceivedNotify", businessId: arrived.tradeId });
    const got = await receiver.find("collectionReceivedNotify", "tradeId", arrived.tradeId);
    assert.equal(got.amount.cent, 123456);

    const rows = await expect("queryCurrencyBalance", { userId, currency: "USD", fundSource: "B2C" }, "SUCCESS");
    assert.equal(rows[0].balance.cent, 123456);
    assert.deepEqual(receiver.rejected, []);
    console.log(`whalet: balance ${rows[0].balance.amount} USD; ${receiver.received.length} notifications verified and acknowledged`);
  } finally {
    receiver.close();
  }
}

// Stands between the client and the simulator: forwards each request to `${SIM}/api` and hands
// back the simulator's reply as `tamper(reply)` changes it (a JSON object).
async function tamperingProxy(tamper) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const answer = await fetch(`${SIM}/api`, { method: "POST", headers: { "Content-Type": "application/json" }, body: Buffer.concat(chunks) });
      const out = JSON.stringify(tamper(await answer.json()));
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(out);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

// Asserts that `client.call` refuses the reply it gets, saying `why`.
async function refused(client, apiCode, body, why) {
  await assert.rejects(client.call(apiCode, body), (e) => {
    assert.match(e.message, new RegExp(why));
    console.log(`  ${apiCode}: refused (${e.message})`);
    return true;
  });
}

// A reply with a body but no head.sign, and a genuine signed reply to another request
// (replayed), are refused: only what Whalet signed for this very request is believed.
async function forgedRepliesAreRefused() {
  const keys = demoKeys();
  const ping = { notifyFlag: "N", responseFlag: "Y", responseMessage: "pong" };

  console.log("whalet: a reply whose head.sign was taken out is refused");
  let proxy = await tamperingProxy((reply) => {
    delete reply.head.sign;
    return reply;
  });
  try {
    await refused(new WhaletClient(proxy.url, "202400000000001", keys), "connectivity", ping, "a body but no head.sign");
  } finally {
    proxy.close();
  }

  console.log("whalet: a genuine reply to another request (replayed) is refused");
  const replies = [];
  proxy = await tamperingProxy((reply) => {
    replies.push(reply);
    return replies[0];
  });
  try {
    const client = new WhaletClient(proxy.url, "202400000000001", keys);
    assert.equal((await client.call("connectivity", ping)).code, "SUCCESS");
    await refused(client, "queryCurrencyBalance", { userId: "U1", currency: "USD", fundSource: "B2C" }, "does not answer this request");
  } finally {
    proxy.close();
  }
}

async function pockytFlow() {
  const ipn = new IpnReceiver("demo-token");
  const port = await ipn.listen(0);
  const client = new PockytClient(SIM, "202333", "301854", "demo-token");
  // the timestamp every v3 request carries (its format is checked, not its skew)
  const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const ok = async (path, fields) => {
    const reply = await client.call(path, fields, now());
    assert.equal(reply.ret_code, "000100", `${path}: ${JSON.stringify(reply)}`);
    console.log(`  ${path}: ${reply.ret_code} ${reply.ret_msg ?? ""}`);
    return reply;
  };
  try {
    console.log("pockyt: payee (active after 10 s)");
    const payee = await ok("/v3/payee/register", {
      profileType: "INDIVIDUAL", firstName: "John", lastName: "Doe", email: `node-${tag}@example.com`,
      dateOfBirth: "1999-01-01", countryCode: "US", state: "NY", city: "hometown", street: "123 main St", zip: "10005",
    });
    const customerNo = payee.customer.customerNo;
    await advance(10);
    const account = await ok("/v3/customers/account/create/bank-account", {
      customerNo, accountType: "BANK_ACCOUNT", accountCountry: "US", accountCurrency: "USD", accountTag: `node-${tag}`,
      bankAccountId: "000123455655", bankName: "Chase", ipnUrl: `http://127.0.0.1:${port}/ipn`, clientIp: "127.0.0.1",
    });
    const before = (await ok("/v3/payouts/balance", { currency: "USD" })).result.balance;

    console.log("pockyt: payout (settles after 30 s, then the IPN)");
    const paid = await ok("/v3/payouts/pay", { customerNo, accountToken: account.result.accountToken, amount: "60", currency: "USD", invoiceId: `INV-node-${tag}` });
    const txn = paid.result.transactionNo;
    await advance(30);
    await delivered({ businessId: txn });
    const got = await ipn.find("transactionNo", txn);
    assert.equal(got.status, "success");
    assert.equal(got.amount, "60.00");
    const after = (await ok("/v3/payouts/balance", { currency: "USD" })).result.balance;
    assert.ok(Number(after) < Number(before));
    console.log(`pockyt: IPN verified (verifySign ${got.verifySign}); balance ${before} -> ${after} USD`);
  } finally {
    ipn.close();
  }
}

await control("GET", "health");
await whaletFlow();
await forgedRepliesAreRefused();
await pockytFlow();
console.log("node example: OK");
