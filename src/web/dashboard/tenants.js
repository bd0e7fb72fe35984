// Tenants: each provider account with its entities (whatever the surfaces keep in their state),
// balances recomputed from the ledger's postings, and the ledger invariant's verdict.
// Data: GET /__sim/state, GET /__sim/invariants.
"use strict";

(() => {
  const { h, api, badge, json, chinaTime } = Dash;

  const SURFACES = [["whalet", "Whalet Open API"], ["whaletTrade", "Whalet trade & payouts"],
    ["platform", "whalet-platform"], ["infinia", "Infinia Pay"], ["pockyt", "Pockyt payouts"]];
  /** Each currency's minor-unit exponent, `{code: exponent}`, as the server's money table has it
   *  (`data-currency-exponents`, dashboard/mod.rs). */
  const EXPONENT = Dash.fact("currencyExponents", {});
  /** State fields that keep amounts as bare minor units by currency code (`{seller: {EUR:
   *  4000}}`: Infinia's `earned`, store/infinia.rs) rather than as `{minor, currency}`. */
  const MINOR_BY_CURRENCY = { infinia: ["earned"] };
  let root = null;
  /** The summary line and the grid of tenant cards, kept across polls (null until drawn, and
   *  after a refusal or with no tenants): the grid is patched (Dash.patch), so a card is drawn
   *  again only when its tenant changed, and focus in a card drawn again comes back to the same
   *  element (`data-fk`, `focusKeys`), as in the Requests and Coverage views. */
  let summary = null;
  let grid = null;
  let lastSig = "";

  /** An amount in minor units as money, with its currency's own exponent (`5000` USD reads
   *  "50.00 USD", 1000 KWD "1.000 KWD"); a currency the server does not know, as minor units. */
  function money(minor, currency) {
    const exp = EXPONENT[currency];
    if (!Number.isInteger(exp) || !Number.isInteger(minor)) return `${minor} ${currency} (minor units)`;
    const neg = minor < 0;
    const digits = String(Math.abs(minor)).padStart(exp + 1, "0");
    const int = digits.slice(0, digits.length - exp).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    const frac = exp ? "." + digits.slice(digits.length - exp) : "";
    return `${neg ? "−" : ""}${int}${frac} ${currency}`;
  }

  function isMoney(v) {
    return v && typeof v === "object" && typeof v.minor === "number" && typeof v.currency === "string";
  }

  function cellText(v) {
    if (isMoney(v)) return money(v.minor, v.currency);
    if (v === null || v === undefined) return "";
    if (typeof v === "object") return Array.isArray(v) ? `[${v.length}]` : "{…}";
    return String(v);
  }

  /** True when `entity[key]` is a time: the control plane writes an ISO-8601 UTC copy
   *  (`createdAtUtc`) beside every epoch-ms time field (`createdAt`). */
  function isTime(entity, key) {
    return typeof entity[key] === "number" && typeof entity[key + "Utc"] === "string";
  }

  /** One field of an entity as a cell: a time as every virtual time on the dashboard (UTC+8,
   *  the Whalet format; the UTC text as its tooltip), anything else by `cellText`. */
  function fieldCell(entity, key) {
    if (!isTime(entity, key)) return cellText(entity[key]);
    const utc = entity[key + "Utc"];
    return h("time", { datetime: utc, title: `${utc} (UTC)` }, chinaTime(entity[key]));
  }

  /** Balances per account and currency, recomputed from the postings (the ledger's truth). */
  function balances(ledger) {
    const sums = new Map();
    for (const p of (ledger && ledger.postings) || []) {
      for (const leg of p.legs || []) {
        if (!isMoney(leg.amount)) continue;
        const k = leg.account + "\u0000" + leg.amount.currency;
        sums.set(k, (sums.get(k) || 0) + leg.amount.minor);
      }
    }
    return Array.from(sums, ([k, minor]) => {
      const [account, currency] = k.split("\u0000");
      return { account, currency, minor };
    }).sort((a, b) => (a.account.startsWith("external:") - b.account.startsWith("external:")) ||
      a.account.localeCompare(b.account) || a.currency.localeCompare(b.currency));
  }

  function table(caption, columns, rows) {
    return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
      h("table", {},
        h("caption", { class: "sr-only" }, caption),
        h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => h(i ? "td" : "th", i ? {} : { scope: "row" }, c)))))));
  }

  function isPlainObject(v) {
    return v && typeof v === "object" && !Array.isArray(v) && !isMoney(v);
  }

  /** A map of maps rather than an entity: every value is itself a plain object (an empty object
   *  too). An entity has at least one field of its own (a scalar, a list or an amount). */
  function isMap(v) {
    return isPlainObject(v) && Object.values(v).every(isPlainObject);
  }

  /** The entities of a state value as `[key, entity]` rows. Nested maps (`materials: {byShop:
   *  {shop: {order: material}}}`) are flattened, their keys joined by " / ", so that a table
   *  counts entities, never the maps that hold them (an empty `byShop` is no row). */
  function entityRows(value, prefix) {
    if (Array.isArray(value)) return value.map((v, i) => [prefix + String(i + 1), v]);
    if (!isPlainObject(value)) return [];
    const entries = Object.entries(value);
    if (entries.length && !entries.every(([, v]) => isMap(v))) return entries.map(([k, v]) => [prefix + k, v]);
    return entries.flatMap(([k, v]) => entityRows(v, `${prefix}${k} / `));
  }

  /** `value` with every integer under a currency code's key as the amount `{minor, currency}`
   *  (a field of `MINOR_BY_CURRENCY`: minor units by currency, at any depth). */
  function asAmounts(value) {
    if (!isPlainObject(value)) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) =>
      [k, Number.isInteger(v) && /^[A-Z]{3}$/.test(k) ? { minor: v, currency: k } : asAmounts(v)]));
  }

  /** Turns a surface's state object into collections of entities (tables) and scalar facts;
   *  `minorByCurrency`: the names of its fields that hold minor units by currency. */
  function collections(state, minorByCurrency) {
    const out = [];
    for (const [name, value] of Object.entries(state || {})) {
      const rows = entityRows((minorByCurrency || []).includes(name) ? asAmounts(value) : value, "");
      if (rows.length) out.push({ name, rows });
    }
    return out;
  }

  /** A state key as a column header: `out_user_id` and `outUserId` both read "Out user id". */
  function header(key) {
    // A code (`USD`, a currency column) is written as it is.
    if (/^[A-Z][A-Z0-9]*$/.test(key)) return key;
    const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/_/g, " ").trim().toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function entityTable(surfaceTitle, c) {
    const objects = c.rows.filter(([, v]) => v && typeof v === "object" && !Array.isArray(v) && !isMoney(v));
    if (objects.length !== c.rows.length) {
      return table(`${surfaceTitle}: ${c.name}`, ["Key", "Value"], c.rows.map(([k, v]) => [k, cellText(v)]));
    }
    const keys = [];
    for (const [, v] of objects.slice(0, 20)) {
      for (const [k, x] of Object.entries(v)) {
        // `createdAtUtc` repeats `createdAt` (shown as a time by `fieldCell`): not a column of its own.
        if (!keys.includes(k) && !k.endsWith("AtUtc") && (x === null || typeof x !== "object" || isMoney(x))) keys.push(k);
      }
    }
    // A field that repeats the row's key in every row (the map is keyed by it) is not shown
    // again beside it; neither is a second field with the same header.
    const repeatsKey = (k) => objects.every(([key, v]) => String(v[k]) === key);
    const idKey = keys.find(repeatsKey);
    // An object's status and whether it is deleted come first: a payout or an account table
    // cut at six columns without them cannot tell a failed payout or a deleted account apart.
    const first = (k) => k === "status" || k.endsWith("Status") || k === "deleted";
    const ranked = [...keys.filter(first), ...keys.filter((k) => !first(k))];
    const headers = new Set();
    const cols = ranked.filter((k) => !repeatsKey(k) && !headers.has(header(k)) && headers.add(header(k))).slice(0, 6);
    const title = (k) => objects.some(([, v]) => isTime(v, k)) ? `${header(k)} (UTC+8)` : header(k);
    return table(`${surfaceTitle}: ${c.name}`, [idKey ? header(idKey) : "Key", ...cols.map(title)],
      objects.map(([k, v]) => [k, ...cols.map((c2) => fieldCell(v, c2))]));
  }

  /** Gives each element of tenant `id`'s card that can take focus (its links, the scrollable
   *  table regions, the "Raw state" box and its text) a key of its own in `data-fk`: the tenant
   *  and what the element is (its label or address; the box by its tag), which Dash.patch
   *  focuses again when the card is drawn anew. */
  function focusKeys(id, card) {
    for (const el of card.querySelectorAll("a[href], summary, [tabindex]")) {
      const what = el.getAttribute("aria-label") || el.getAttribute("href") || el.tagName.toLowerCase();
      el.dataset.fk = JSON.stringify(["tenant", id, what]);
    }
    return card;
  }

  function tenantCard(id, snap, verdict) {
    const provider = id.split(":")[0];
    const check = !verdict ? badge("ledger: unknown", "muted") :
      verdict.ok ? badge("ledger balanced", "ok") : badge("ledger broken", "bad");
    const head = h("div", { class: "card-head" },
      h("h2", {}, h("span", { class: "mono" }, id)), badge(provider, "info"), check);
    const q = encodeURIComponent(id);
    const links = h("p", { class: "card-links" },
      h("a", { href: `/__sim/ui/requests?tenant=${q}` }, "Requests"), " · ",
      h("a", { href: `/__sim/ui/notifications?tenant=${q}` }, "Notifications"), " · ",
      h("a", { href: `/__sim/state?tenant=${q}` }, "State JSON"));
    const parts = [head, links];
    if (verdict && !verdict.ok) parts.push(Dash.notice(`Ledger invariant violated: ${verdict.error}`, "bad"));
    if (!snap || typeof snap !== "object") {
      parts.push(Dash.notice("This tenant's state could not be read from /__sim/state.", "warn"));
      return h("section", { class: "card", "aria-label": id }, parts);
    }
    const bal = balances(snap.ledger);
    const own = bal.filter((b) => !b.account.startsWith("external:"));
    const ext = bal.filter((b) => b.account.startsWith("external:"));
    parts.push(h("h3", {}, "Balances"));
    parts.push(bal.length
      ? table(`${id} balances`, ["Account", "Balance"], [
        ...own.map((b) => [b.account, h("span", { class: "amount" + (b.minor < 0 ? " bad-text" : "") }, money(b.minor, b.currency))]),
        ...ext.map((b) => [h("span", { class: "muted" }, b.account), h("span", { class: "amount muted" }, money(b.minor, b.currency))]),
      ])
      : h("p", { class: "muted" }, "No money has moved yet. Balances appear after a collection, a transfer or a payout."));
    let entityCount = 0;
    for (const [key, title] of SURFACES) {
      for (const c of collections(snap[key], MINOR_BY_CURRENCY[key])) {
        entityCount += c.rows.length;
        parts.push(h("h3", {}, `${title} · ${c.name} `, h("span", { class: "muted" }, `(${c.rows.length})`)));
        parts.push(entityTable(title, c));
      }
    }
    if (!entityCount) parts.push(h("h3", {}, "Entities"), h("p", { class: "muted" }, "Nothing created yet for this tenant."));
    const postings = (snap.ledger && snap.ledger.postings) || [];
    if (postings.length) {
      parts.push(h("h3", {}, "Recent postings ", h("span", { class: "muted" }, `(${postings.length})`)));
      parts.push(table(`${id} postings`, ["#", "Virtual time", "Memo", "Legs"], postings.slice(-20).reverse().map((p) => [
        String(p.id), chinaTime(p.at), p.memo,
        (p.legs || []).map((l) => `${l.account} ${isMoney(l.amount) ? money(l.amount.minor, l.amount.currency) : ""}`).join("; "),
      ])));
    }
    const used = Array.isArray(snap.requestNos) ? snap.requestNos.length : 0;
    parts.push(h("details", { class: "raw" }, h("summary", {}, `Raw state (${used} requestNo${used === 1 ? "" : "s"} used)`), json(snap)));
    return h("section", { class: "card", "aria-label": id }, parts);
  }

  async function poll() {
    const [state, inv] = await Promise.all([api("GET", "/__sim/state"), api("GET", "/__sim/invariants")]);
    const sig = JSON.stringify([state.status, state.data, inv.data]);
    if (sig === lastSig) return;
    lastSig = sig;
    if (!state.ok) {
      summary = grid = null;
      Dash.clear(root).appendChild(Dash.notice((state.data && state.data.error) || `HTTP ${state.status}`, "bad"));
      return;
    }
    const tenants = Object.entries((state.data && state.data.tenants) || {});
    const verdicts = (inv.data && inv.data.tenants) || {};
    const allOk = inv.ok && inv.data && inv.data.ok;
    if (!tenants.length) summary = grid = null;
    else if (!grid) {
      summary = h("div", { class: "summary" });
      grid = h("div", { class: "cards" });
      Dash.fill(Dash.clear(root), summary, grid);
    }
    const line = [
      h("span", {}, h("strong", {}, String(tenants.length)), tenants.length === 1 ? " tenant" : " tenants"),
      inv.ok ? (allOk ? h("span", { class: "ok-text" }, "Every ledger balances: no money created or lost.")
        : h("span", { class: "sum-bad" }, "A ledger invariant is broken.")) : null];
    if (!tenants.length) {
      Dash.fill(Dash.clear(root), h("div", { class: "summary" }, line),
        Dash.empty("No tenants configured.", h("p", {}, "Add partners with ", h("code", {}, "--config FILE"), ".")));
      return;
    }
    Dash.fill(Dash.clear(summary), line);
    // A card drawn again keeps its "Raw state" box open if it was.
    Dash.patch(grid, tenants, ([id]) => id, ([id, snap]) => JSON.stringify([snap, verdicts[id] || null]),
      ([id, snap], old) => {
        const card = focusKeys(id, tenantCard(id, snap, verdicts[id]));
        if (old && old.querySelector("details.raw[open]")) card.querySelector("details.raw").open = true;
        return card;
      });
  }

  Dash.view("tenants", {
    async mount(el) {
      root = el;
      await poll();
    },
    poll,
    every: 3,
  });
})();
