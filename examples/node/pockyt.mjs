// A Pockyt payouts (v3) merchant in Node: `verifySign` on requests, IPNs checked and answered
// `success`. Recipe: docs/WIRE.md#pockyt-verifysign.
import crypto from "node:crypto";
import http from "node:http";

const md5 = (s) => crypto.createHash("md5").update(s, "utf8").digest("hex");

// Sorted `name=value&` (byte order, raw values, empty ones kept) + md5(token), MD5'd.
export function verifySign(params, token) {
  const names = Object.keys(params).filter((k) => k !== "verifySign").sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return md5(names.map((k) => `${k}=${params[k]}&`).join("") + md5(token));
}

export class PockytClient {
  constructor(url, merchantNo, storeNo, token) {
    Object.assign(this, { url: url.replace(/\/$/, ""), merchantNo, storeNo, token });
  }

  async call(path, fields, timestamp) {
    const params = { merchantNo: this.merchantNo, storeNo: this.storeNo, timestamp, ...fields };
    params.verifySign = verifySign(params, this.token);
    const res = await fetch(this.url + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(params) });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  }
}

export class IpnReceiver {
  constructor(token) {
    Object.assign(this, { token, received: [], rejected: [], waiters: [] });
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const fields = (req.headers["content-type"] ?? "").startsWith("application/json")
          ? Object.fromEntries(Object.entries(JSON.parse(raw)).map(([k, v]) => [k, String(v)]))
          : Object.fromEntries(new URLSearchParams(raw));
        const ok = fields.verifySign === verifySign(fields, this.token);
        (ok ? this.received : this.rejected).push(fields);
        this.waiters.forEach((w) => w());
        res.writeHead(ok ? 200 : 400);
        res.end(ok ? "success" : "bad verifySign");
      });
    });
  }

  listen(port = 0, host = "127.0.0.1") {
    return new Promise((resolve) => this.server.listen(port, host, () => resolve(this.server.address().port)));
  }

  find(field, value, timeoutMs = 10000) {
    const match = () => this.received.find((f) => f[field] === value);
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = match();
        if (m) { clearTimeout(timer); resolve(m); return true; }
        return false;
      };
      const timer = setTimeout(() => reject(new Error(`no IPN with ${field}=${value}`)), timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  close() {
    this.server.close();
  }
}
