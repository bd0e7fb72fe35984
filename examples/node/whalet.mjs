// A Whalet Open API partner in Node (built-in `crypto`, `http` and `fetch` only): a client that
// seals, signs and sends requests and opens the replies, and a notification receiver that
// verifies, decrypts and acknowledges. The recipe with worked examples: docs/WIRE.md.
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const { RSA_PKCS1_PADDING, RSA_NO_PADDING } = crypto.constants;

const here = path.dirname(fileURLToPath(import.meta.url));

// The demo partner's private key and Whalet's public key (KEYS_DIR, default the repository's keys/).
export function demoKeys(keysDir = process.env.KEYS_DIR ?? path.join(here, "..", "..", "keys")) {
  return {
    key: crypto.createPrivateKey(fs.readFileSync(path.join(keysDir, "demo-partner", "private.pem"))),
    whalet: crypto.createPublicKey(fs.readFileSync(path.join(keysDir, "platform", "public.pem"))),
  };
}

const aesName = (key) => `aes-${key.length * 8}-ecb`; // PKCS#7 (= Java's PKCS5Padding) is the default

export function sign(privateKey, text) {
  return crypto.sign("sha1", Buffer.from(text, "utf8"), { key: privateKey, padding: RSA_PKCS1_PADDING }).toString("hex");
}

export function verify(publicKey, text, signHex) {
  if (typeof signHex !== "string" || !/^[0-9a-fA-F]+$/.test(signHex)) return false;
  return crypto.verify("sha1", Buffer.from(text, "utf8"), { key: publicKey, padding: RSA_PKCS1_PADDING }, Buffer.from(signHex, "hex"));
}

// RSA/ECB/PKCS1Padding decryption. Node 20 refuses RSA_PKCS1_PADDING in privateDecrypt (a
// timing-attack hardening, CVE-2023-46809), so decrypt raw and strip the v1.5 padding here:
// 0x00 0x02 <at least 8 non-zero bytes> 0x00 <message>.
export function rsaDecryptPkcs1(privateKey, block) {
  const em = crypto.privateDecrypt({ key: privateKey, padding: RSA_NO_PADDING }, block);
  const sep = em.indexOf(0, 2);
  if (em[0] !== 0 || em[1] !== 2 || sep < 10) throw new Error("RSA block: bad PKCS#1 v1.5 padding (wrong key?)");
  return em.subarray(sep + 1);
}

export function sealBody(data, receiverPublic) {
  const sessionKey = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv(aesName(sessionKey), sessionKey, null);
  const encrypt = Buffer.concat([cipher.update(JSON.stringify(data), "utf8"), cipher.final()]).toString("hex");
  const keyEnc = crypto
    .publicEncrypt({ key: receiverPublic, padding: RSA_PKCS1_PADDING }, Buffer.from(sessionKey.toString("base64"), "ascii"))
    .toString("hex");
  return { encrypt, keyEnc };
}

export function openBody(head, encrypt, privateKey) {
  const sessionKey = Buffer.from(rsaDecryptPkcs1(privateKey, Buffer.from(head.keyEnc, "hex")).toString("ascii"), "base64");
  const decipher = crypto.createDecipheriv(aesName(sessionKey), sessionKey, null);
  const plain = Buffer.concat([decipher.update(Buffer.from(encrypt, "hex")), decipher.final()]);
  return JSON.parse(plain.toString("utf8"));
}

export const requestSignString = (h, encrypt) => [h.partnerId, h.apiCode, h.version, h.requestNo, encrypt].join("|");
export const replySignString = (h, encrypt) =>
  [h.partnerId, h.apiCode, h.version, h.requestNo, h.code, h.detail, ...(encrypt ? [encrypt] : [])].join("|");

export class WhaletClient {
  constructor(url, partnerId, { key, whalet }) {
    Object.assign(this, { url: url.replace(/\/$/, ""), partnerId, key, whalet });
  }

  // -> { code, detail, body }
  async call(apiCode, body) {
    const head = { partnerId: this.partnerId, apiCode, requestNo: `${Date.now()}${crypto.randomBytes(6).toString("hex")}`, version: "1.0" };
    const { encrypt, keyEnc } = sealBody(body, this.whalet);
    head.sign = sign(this.key, requestSignString(head, encrypt));
    head.keyEnc = keyEnc;
    const res = await fetch(`${this.url}/api`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ head, body: { encrypt } }),
    });
    if (!res.ok) throw new Error(`${apiCode}: HTTP ${res.status}`);
    const reply = await res.json();
    const rencrypt = reply.body?.encrypt;
    checkReply(reply.head, rencrypt, head, this.whalet);
    return { code: reply.head.code, detail: reply.head.detail, body: rencrypt ? openBody(reply.head, rencrypt, this.key) : null };
  }
}

// Throws unless the reply is Whalet's answer to the request whose head was `sent`: a signed reply
// must verify and echo partnerId, apiCode, requestNo and version (a genuine reply to another
// request verifies too); an unsigned one can only be a head-only refusal made before the partner
// was authenticated, echoing the head as far as it was read (docs/WIRE.md).
export function checkReply(rhead, encrypt, sent, whaletPublic) {
  const signed = Boolean(rhead.sign);
  if (signed && !verify(whaletPublic, replySignString(rhead, encrypt), rhead.sign)) {
    throw new Error(`${sent.apiCode}: the reply's signature does not verify`);
  }
  if (!signed && encrypt) {
    throw new Error(`${sent.apiCode}: the reply has a body but no head.sign: only a head-only refusal may be unsigned`);
  }
  if (!signed && ["SUCCESS", "PROCESSING"].includes(rhead.code)) {
    throw new Error(`${sent.apiCode}: the reply says ${rhead.code} but has no head.sign: only a refusal may be unsigned`);
  }
  for (const field of ["partnerId", "apiCode", "requestNo", "version"]) {
    const got = rhead[field];
    if (got !== sent[field] && (signed || got)) {
      throw new Error(`${sent.apiCode}: the reply does not answer this request: its head.${field} is ${JSON.stringify(got)}, the request's is ${JSON.stringify(sent[field])}`);
    }
  }
}

// Verifies (before decrypting), decrypts, records and acknowledges Whalet notifications.
export class NotificationReceiver {
  constructor({ key, whalet }) {
    Object.assign(this, { key, whalet, received: [], rejected: [], waiters: [] });
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const [status, answer] = this.handle(Buffer.concat(chunks).toString("utf8"));
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(answer));
      });
    });
  }

  listen(port, host = "127.0.0.1") {
    return new Promise((resolve) => this.server.listen(port, host, resolve));
  }

  handle(raw) {
    let head, body;
    try {
      const envelope = JSON.parse(raw);
      head = envelope.head;
      const encrypt = envelope.body.encrypt;
      if (!verify(this.whalet, requestSignString(head, encrypt), head.sign)) throw new Error("head.sign does not verify");
      body = openBody(head, encrypt, this.key);
    } catch (e) {
      this.rejected.push(String(e));
      return [400, { error: `rejected: ${e.message}` }];
    }
    // requestNo is the same on every retry of one notification: deduplicate on it
    if (!this.received.some((r) => r.requestNo === head.requestNo)) {
      this.received.push({ apiCode: head.apiCode, requestNo: head.requestNo, body });
    }
    this.waiters.forEach((w) => w());
    const ack = { partnerId: head.partnerId, apiCode: head.apiCode, version: head.version, requestNo: head.requestNo, code: "SUCCESS", detail: "success" };
    const { encrypt, keyEnc } = sealBody({}, this.whalet);
    ack.sign = sign(this.key, replySignString(ack, encrypt));
    ack.keyEnc = keyEnc;
    return [200, { head: ack, body: { encrypt } }];
  }

  // The body of a received notification `apiCode` whose `field` is `value` (waits up to 10 s).
  find(apiCode, field, value, timeoutMs = 10000) {
    const match = () => this.received.find((r) => r.apiCode === apiCode && r.body[field] === value)?.body;
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = match();
        if (m) { clearTimeout(timer); resolve(m); return true; }
        return false;
      };
      const timer = setTimeout(() => reject(new Error(`no ${apiCode} with ${field}=${value}: ${JSON.stringify(this.received)}`)), timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  close() {
    this.server.close();
  }
}
