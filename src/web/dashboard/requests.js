// The request journal: newest first, filters, each request decrypted with its reply and, for
// failures, the diagnostic and what to fix. Data: GET /__sim/requests, GET /__sim/requests/{id},
// DELETE /__sim/requests.
"use strict";

(() => {
  const { h, api, badge, json, chinaTime, wallTime } = Dash;

  /** What to do about each result code of the Whalet envelope (Open API and platform), in the
   *  partner's terms. Other surfaces' codes have no hint here: their detail says what to fix. */
  const HINTS = {
    PARAM_FORMAT_ERROR: "The envelope could not be read. Send JSON {head, body}; hex-encode body.encrypt and head.keyEnc; encrypt the AES key with Whalet's (the platform's) public key, and the body with AES/ECB/PKCS5Padding.",
    PARAMETER_ERROR: "A field of the request is missing or malformed, or the path and head.apiCode disagree. The detail names it.",
    UNAUTHENTICATED_ERROR: "The signature did not verify. Sign the exact string named in the detail with SHA1withRSA and your private key, hex-encode it, and make sure the simulator has your matching public key.",
    UNAUTHORIZED: "This partner is not allowed to call the API. Check partnerId and the keys configured for it.",
    PARTNER_NOT_EXIST: "head.partnerId is unknown. The demo partner is 202400000000001; add others with --config.",
    INTERFACE_UNAUTHORIZED: "This apiCode is not an interface of the API, or not enabled for this partner. Check the spelling of head.apiCode.",
    REQUEST_NO_NOT_UNIQUE: "requestNo was used before. Generate a new requestNo for every request, including retries of a failed request.",
    IDEMPOTENT_ERROR: "The same idempotency key was sent with a different body. Reuse a key only for an identical retry.",
    TOO_MANY_REQUESTS: "The partner's rate limit was exceeded. Back off and retry with a new requestNo.",
    INTERNAL_ERROR: "The simulator failed internally. Its log has the details; please report it.",
    FAILURE: "The operation was refused (by the business rules or a scenario rule). The detail says why.",
    DROPPED: "A scenario rule closed the connection without an answer. Your client should treat this as a timeout and query before retrying.",
  };

  /** The upload endpoint's own refusals (surface `file`): its token is not the envelope's signature. */
  const FILE_HINTS = {
    UNAUTHENTICATED_ERROR: "The upload token was refused; the detail says why (expired, in the future, or not the signature of partnerId and timestamp). Make a new token for this upload (docs/WIRE.md, the file upload).",
    PARAMETER_ERROR: "A form field of the upload is missing or malformed. The detail names it.",
  };

  /** The hint for entry `e`'s code on its surface, if there is one. */
  function hintFor(e) {
    switch (e.surface) {
      case "whalet":
      case "platform":
        return HINTS[e.code];
      case "file":
        return FILE_HINTS[e.code] || HINTS[e.code];
      default:
        return undefined;
    }
  }

  /** Rows shown at first, and added by each "Show older". */
  const PAGE = 200;
  /** How often the rows shown are read again whole, between the reads of the newest page (so
   *  that requests the journal has since dropped leave the view). */
  const RESCAN_MS = 30000;

  /** Every `surface` GET /__sim/requests filters by ("" is all). */
  const SURFACES = ["", "whalet", "platform", "infinia", "pockyt", "file", "trigger"];
  /** The codes the journal counts as success (its `failed` rule); other codes are offered once seen. */
  const SUCCESS_CODES = ["SUCCESS", "PROCESSING", "SUC-200", "000100", "OK"];

  const filters = { surface: "", tenant: "", operation: "", result: "" };
  const open = new Set();
  let list = null;
  let summary = null;
  let linked = null;
  let linkedId = null;
  let shown = PAGE;
  /** The rows shown: `{key, at, entries, more}` (`more`: the journal holds older matches). */
  let rows = null;
  let lastSig = null;
  let lastProbe = null;
  let seenList = null;
  let result = null;
  const seen = new Set();
  const seenCodes = new Set();

  /**
   * What identifies a journal entry: its id and what it recorded. Ids start again at 1 when the
   * simulator restarts without a data directory, so an id alone could name an entry shown before
   * the restart; its wall time (and operation, caller, requestNo) tells them apart.
   */
  function ident(e) {
    return [e.id, e.wallTime, e.operation, e.tenant, e.requestNo].join("|");
  }

  /** Whether the request failed: the control plane's answer (its rule, in one place). */
  function failed(e) {
    return e.failed === true;
  }

  /** The journal query for the filters, all applied by the control plane ("Failures only" is
   *  its `failed=true`): at most `limit` entries, older than `before` when given. */
  function path(limit, before) {
    const q = new URLSearchParams();
    q.set("limit", String(limit));
    if (before !== undefined) q.set("before", String(before));
    if (filters.surface) q.set("surface", filters.surface);
    if (filters.tenant) q.set(filters.tenant.includes(":") ? "tenant" : "partnerId", filters.tenant);
    if (filters.operation) q.set("operation", filters.operation);
    if (filters.result === "failures") q.set("failed", "true");
    else if (filters.result) q.set("code", filters.result);
    return "/__sim/requests?" + q.toString();
  }

  function filterBar() {
    const onInput = Dash.filterBar(filters, () => {
      lastSig = null;
      shown = PAGE;
      poll();
    });
    const surface = Dash.choice({ name: "surface", onchange: onInput("surface") },
      SURFACES.map((s) => [s, s || "All surfaces"]), filters.surface);
    const tenant = h("input", {
      name: "tenant", type: "search", value: filters.tenant, placeholder: "202400000000001",
      autocomplete: "off", oninput: onInput("tenant"),
    });
    const operation = h("input", {
      name: "operation", type: "search", value: filters.operation, placeholder: "connectivity",
      autocomplete: "off", list: "seen-operations", oninput: onInput("operation"),
    });
    seenList = h("datalist", { id: "seen-operations" });
    result = Dash.choice({ name: "result", onchange: onInput("result") }, resultChoices(), filters.result);
    const clearBtn = h("button", {
      type: "button", class: "btn btn-quiet", onclick: async () => {
        if (!confirm("Clear the request journal? Notifications and state are kept.")) return;
        const r = await api("DELETE", "/__sim/requests");
        Dash.toast(r.ok ? "Journal cleared" : (r.data && r.data.error) || "Could not clear", r.ok ? "ok" : "bad");
        lastSig = null;
        rows = null;
        poll();
      },
    }, "Clear journal");
    return h("form", { class: "filters", role: "search", "aria-label": "Filter requests", onsubmit: (e) => e.preventDefault() },
      Dash.field("Surface", surface), Dash.field("Partner or tenant", tenant), Dash.field("Operation", operation),
      Dash.field("Result", result), h("div", { class: "filters-actions" }, clearBtn), seenList);
  }

  function header(e) {
    const bad = failed(e);
    return [
      h("span", { class: "dot " + (bad ? "dot-bad" : "dot-ok"), "aria-hidden": "true" }),
      h("span", { class: "cell cell-time" }, h("span", { class: "mono" }, chinaTime(e.virtualTime).slice(11)),
        Dash.rel(e.virtualTime)),
      h("span", { class: "cell cell-main" }, h("span", { class: "op" }, e.operation || "(unknown operation)"),
        h("span", { class: "sub" }, [e.surface, e.tenant || "unidentified caller"].join(" · "),
          e.rule ? h("span", { class: "rule" }, ` · rule: ${e.rule}`) : null)),
      h("span", { class: "cell cell-id mono" }, e.requestNo || ""),
      h("span", { class: "cell cell-code" }, badge(e.code || String(e.httpStatus), bad ? "bad" : e.code === "PROCESSING" ? "info" : "ok")),
      h("span", { class: "cell cell-num" }, `${(e.latencyUs / 1000).toFixed(1)} ms`),
      h("span", { class: "chev", "aria-hidden": "true" }),
    ];
  }

  function meta(pairs) {
    return h("dl", { class: "meta" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
      .map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));
  }

  /**
   * What the partner sent. A request a contract overlay rewrote is journaled as
   * `{wire, handler, contract}` (docs/CONTRACTS.md): the partner sent `wire`; `handler` is in the
   * simulator's names, which the overlay would refuse.
   */
  function sentBody(request) {
    const overlaid = request && typeof request === "object" && !Array.isArray(request) &&
      typeof request.contract === "string" && "wire" in request && "handler" in request;
    return overlaid ? request.wire : request;
  }

  /** How whalet-platform (`/v1/platform/{op}`) authenticates here, as the page was told
   *  (`[platform] auth`): "envelope" or "none" (plain JSON). */
  function platformAuth() {
    return Dash.fact("platformAuth");
  }

  /** The business body of entry `e` as sent, when it can be sent again (an object). */
  function resendable(e) {
    const request = sentBody(e.request);
    if (!request || typeof request !== "object" || Array.isArray(request) || "head" in request) return null;
    return request;
  }

  /** The partner (or app, merchant) id of entry `e`'s tenant ("" when the caller was not identified). */
  function callerId(e) {
    return (e.tenant || "").split(":").slice(1).join(":");
  }

  /**
   * The curl command that sends platform request `e` again in plain JSON, as
   * `[platform] auth = "none"` takes it (`whalet-sim call` speaks only the envelope): the
   * business JSON as the body and the partner in the `partnerId` header. No `requestNo` header:
   * the simulator makes a fresh one up, as `call` sends a fresh requestNo.
   */
  function plainAgain(e) {
    const q = Dash.shellQuote;
    const request = resendable(e);
    if (!request || e.surface !== "platform") return null;
    const id = callerId(e);
    const args = ["curl -sS -X POST", q(`${location.origin}/v1/platform/${encodeURIComponent(e.operation)}`),
      "-H", q("content-type: application/json")];
    if (id) args.push("-H", q(`partnerId: ${id}`));
    return [...args, "--data", q(JSON.stringify(request))].join(" ");
  }

  /**
   * The demo tenants (README, "Demo tenants") whose credentials `whalet-sim call` uses when it
   * is given none, by surface: as the page was told (`data-demo-tenants`), only those that still
   * sign with the demo key or token. A tenant with another id, or with a demo id but a key or
   * token of its own, has credentials the page does not know.
   */
  function demoIds() {
    return Dash.fact("demoTenants", {});
  }

  /** The name `surface`'s operation `operation` (canonical, as the journal names it) is called
   *  by: its rename (`[infinia.paths]`, `[whalet.api_codes]`: `data-wire-names`), else itself.
   *  A Whalet apiCode no operation answers to is journaled as sent under `/api/`: it is sent
   *  again as it was. */
  function wireName(surface, operation) {
    const renamed = Dash.fact("wireNames", {})[surface] || {};
    if (Object.prototype.hasOwnProperty.call(renamed, operation)) return renamed[operation];
    return surface === "whalet" ? operation.replace(/^\/api\//, "") : operation;
  }

  /** Whether Infinia app `id` signs with SHA1withRSA (`data-infinia-sha1`); `call` signs with
   *  SHA256withRSA unless given `--infinia-alg sha1`. */
  function signsSha1(id) {
    const apps = Dash.fact("infiniaSha1", []);
    return Array.isArray(apps) && apps.includes(id);
  }

  /** What the user must fill in for a tenant that is not the demo one. */
  const YOUR_KEY = "<your private key file>";
  const YOUR_TOKEN = "<your token>";

  /**
   * `whalet-sim call` of `operation` on `surface` ("" for Whalet, `call`'s default) with the
   * options `options` (already quoted): `call [--surface S] OPERATION OPTIONS…`. The operation is
   * `call`'s one positional argument; one that starts with `-` (a Whalet apiCode no operation
   * answers to is journaled as sent, `/api/-x`) would be read as an option, so it then comes
   * last, after `--`, which ends the options: `call [--surface S] OPTIONS… -- -x`.
   */
  function callCommand(surface, operation, options) {
    const head = surface ? ["whalet-sim call", "--surface", surface] : ["whalet-sim call"];
    const op = Dash.shellQuote(operation);
    return String(operation).startsWith("-")
      ? [...head, ...options, "--", op].join(" ")
      : [...head, op, ...options].join(" ");
  }

  /**
   * The command that sends this request again, for every surface: `whalet-sim call` in the
   * surface's scheme (a fresh requestNo, signature and timestamp), curl for whalet-platform in
   * plain JSON (`[platform] auth = "none"`), or `whalet-sim trigger`. For a tenant other than
   * a demo one that still has the demo credentials (`demoIds`), `call` would sign with the demo
   * key or token and be refused (UNAUTHENTICATED_ERROR), so the command names the tenant and
   * carries a placeholder for its credential: `--key <your private key file>` (Whalet,
   * platform, Infinia) or `--token <your token>` (Pockyt). A request is sent by the
   * operation's wire name (`[whalet.api_codes]`, `[infinia.paths]`), an Infinia one signed as
   * its app signs (`--infinia-alg sha1`).
   * Every argument is quoted for the shell: operations, ids and the placeholders.
   */
  function sendAgain(e) {
    const q = Dash.shellQuote;
    const request = resendable(e);
    if (!request) return null;
    if (e.surface === "platform" && platformAuth() === "none") return plainAgain(e);
    const id = callerId(e);
    // Not the demo tenant: its own id, and a placeholder for its own credential.
    const own = Boolean(id) && id !== demoIds()[e.surface];
    const url = ["--url", q(location.origin)];
    const data = (body) => ["--data", q(JSON.stringify(body))];
    switch (e.surface) {
      case "whalet": {
        const args = ["--url", q(`${location.origin}/api`)];
        if (own) args.push("--partner-id", q(id), "--key", q(YOUR_KEY));
        return callCommand("", wireName("whalet", e.operation), [...args, ...data(request)]);
      }
      case "platform": {
        const args = [...url];
        if (own) args.push("--partner-id", q(id), "--key", q(YOUR_KEY));
        return callCommand("platform", e.operation, [...args, ...data(request)]);
      }
      case "infinia": {
        const args = [...url];
        if (own) args.push("--app-id", q(id), "--key", q(YOUR_KEY));
        if (signsSha1(id)) args.push("--infinia-alg", "sha1");
        return callCommand("infinia", wireName("infinia", e.operation), [...args, ...data(request)]);
      }
      case "pockyt": {
        // verifySign and timestamp are made afresh; merchantNo and storeNo travel in the body.
        const params = Object.fromEntries(Object.entries(request).filter(([k]) => k !== "verifySign" && k !== "timestamp"));
        const args = [...url];
        if (own) args.push("--token", q(YOUR_TOKEN));
        return callCommand("pockyt", e.operation.replace(/^\//, ""), [...args, ...data(params)]);
      }
      case "trigger":
        return Dash.triggerCommand(e.operation, request);
      default:
        return null;
    }
  }

  function body(e) {
    const parts = [];
    if (failed(e)) {
      const hint = hintFor(e);
      parts.push(h("div", { class: "diagnostic", role: "group", "aria-label": "Diagnostic" },
        h("p", { class: "diag-title" }, badge(e.code, "bad"), " ", h("span", {}, e.detail || "no detail")),
        hint ? h("p", { class: "diag-fix" }, h("strong", {}, "What to fix: "), hint) : null));
    }
    parts.push(meta([
      ["Journal id", String(e.id)],
      ["requestNo", e.requestNo],
      ["Virtual time", chinaTime(e.virtualTime) + " (UTC+8)" + (e.virtualTimeUtc ? ` · ${e.virtualTimeUtc}` : "")],
      ["Wall time", wallTime(e.wallTime)],
      ["HTTP status", String(e.httpStatus)],
      ["Latency", `${(e.latencyUs / 1000).toFixed(2)} ms`],
      ["Decided by rule", e.rule],
      ["Detail", failed(e) ? null : e.detail],
    ]));
    parts.push(h("div", { class: "panes" },
      h("section", { class: "pane" }, h("h3", {}, "Request (decrypted)"), json(e.request)),
      h("section", { class: "pane" }, h("h3", {}, "Reply"), json(e.reply))));
    const again = sendAgain(e);
    if (again) parts.push(h("h3", { class: "pane-title" }, "Send it again"), Dash.command(again));
    parts.push(h("p", { class: "permalink" }, h("a", { href: `/__sim/ui/requests/${e.id}` }, "Link to this request"),
      " · ", h("a", { href: `/__sim/requests/${e.id}` }, "JSON")));
    return h("div", {}, parts);
  }

  function render(e) {
    const id = String(e.id);
    const row = Dash.disclosure("req-" + id, open.has(id), header(e), () => body(e), (isOpen) => {
      if (isOpen) open.add(id); else open.delete(id);
    });
    row.classList.add(failed(e) ? "row-bad" : "row-ok");
    return row;
  }

  function emptyState(anyFilter) {
    if (anyFilter) {
      return Dash.empty("No requests match these filters.",
        h("p", {}, h("a", { href: location.pathname }, "Show all requests")));
    }
    const data = '{"notifyFlag":"Y","notifyMessage":"hello","responseFlag":"Y","responseMessage":"pong"}';
    return Dash.empty("No requests yet: try",
      Dash.command(`whalet-sim call connectivity --url ${location.origin}/api --data '${data}'`),
      h("p", { class: "muted" }, "Requests from your own integration appear here too, decrypted, as soon as they arrive."));
  }

  /** Cheap check first: the newest journal entry; the list only when it (or a filter) changed. */
  async function poll() {
    const probe = await api("GET", "/__sim/requests?limit=1");
    const head = probe.ok ? ((probe.data && probe.data.requests) || [])[0] : undefined;
    const newest = probe.ok ? (head ? ident(head) : "none") : "error";
    const key = newest + "|" + JSON.stringify(filters);
    if (key === lastProbe) return;
    lastProbe = key;
    await load();
  }

  /** The Result filter's choices: failures, the success codes, then every code seen. */
  function resultChoices() {
    const codes = Array.from(seenCodes).filter((c) => !SUCCESS_CODES.includes(c)).sort();
    return [["", "All results"], ["failures", "Failures only"], ...SUCCESS_CODES.concat(codes).map((c) => [c, c])];
  }

  /** Operations and result codes seen, offered by the operation and result filters. */
  function remember(entries) {
    const before = seen.size;
    const codesBefore = seenCodes.size;
    for (const e of entries) {
      if (e.operation) seen.add(e.operation);
      if (e.code) seenCodes.add(e.code);
    }
    if (seen.size !== before && seenList) {
      Dash.clear(seenList);
      for (const op of Array.from(seen).sort()) seenList.appendChild(h("option", { value: op }));
    }
    if (seenCodes.size !== codesBefore && result) Dash.setChoices(result, resultChoices());
  }

  /** Reads one page of the journal: `{entries, more}`; null (with the error shown) when it
   *  cannot be read. */
  async function fetchPage(query) {
    const r = await api("GET", query);
    if (!r.ok) {
      lastProbe = null;
      Dash.clear(summary).appendChild(Dash.notice((r.data && r.data.error) || `HTTP ${r.status}`, "bad"));
      return null;
    }
    const entries = (r.data && r.data.requests) || [];
    remember(entries);
    return { entries, more: Boolean(r.data && r.data.more) };
  }

  /**
   * Whether `entries` (a newer read) continue the rows shown: every entry under an id shown is
   * the same entry, and the oldest of them is one shown. Not so after a restart reused the ids.
   */
  function continues(entries) {
    const shownById = new Map(rows.entries.map((e) => [e.id, ident(e)]));
    const overlap = entries.filter((e) => shownById.has(e.id));
    const oldest = entries[entries.length - 1];
    return shownById.get(oldest.id) === ident(oldest) && overlap.every((e) => shownById.get(e.id) === ident(e));
  }

  /**
   * The newest `shown` requests matching the filters. Only the newest page is read when the
   * rows are fresh and it reaches back to them (it holds every match, or its oldest entry is
   * one shown, the same entry: `continues`); otherwise, and every RESCAN_MS, the `shown` rows
   * are read again.
   */
  async function refresh() {
    const key = JSON.stringify(filters);
    const fresh = rows && rows.key === key && Date.now() - rows.at < RESCAN_MS && rows.entries.length;
    if (fresh) {
      const head = await fetchPage(path(PAGE));
      if (!head) return null;
      if (!head.more) return Object.assign(rows, head);
      const oldest = head.entries[head.entries.length - 1].id;
      if (oldest <= rows.entries[0].id && continues(head.entries)) {
        const older = rows.entries.filter((e) => e.id < oldest);
        const joined = head.entries.concat(older);
        rows.entries = joined.slice(0, shown);
        rows.more = joined.length > shown || (older.length ? rows.more : true);
        return rows;
      }
    }
    const page = await fetchPage(path(shown));
    if (!page) return null;
    rows = { key, at: Date.now(), ...page };
    return rows;
  }

  /** "Show older": the PAGE requests older than the oldest row, read by `before`. */
  function showOlder() {
    return h("button", {
      type: "button", class: "btn btn-small", id: "show-older", onclick: async () => {
        const oldest = rows.entries[rows.entries.length - 1].id;
        const page = await fetchPage(path(PAGE, oldest));
        if (!page) return;
        shown = rows.entries.length + PAGE;
        rows.entries = rows.entries.concat(page.entries);
        rows.more = page.more;
        show(rows);
      },
    }, `Show ${PAGE} older`);
  }

  function summarize(page) {
    const { entries, more } = page;
    const failures = entries.filter(failed).length;
    const count = entries.length;
    const scope = filters.result === "failures"
      ? (more ? `the newest ${count} failures; the journal holds older ones` : "every failure in the journal")
      : (more ? `the newest ${count}; the journal holds older requests` : null);
    Dash.fill(Dash.clear(summary),
      h("span", {}, h("strong", {}, String(count)), count === 1 ? " request" : " requests"),
      failures ? h("span", { class: "sum-bad" }, h("strong", {}, String(failures)), " failed") : null,
      scope ? h("span", { class: "muted" }, scope) : null,
      more ? showOlder() : null);
  }

  /** Reads the rows for the filters in force and shows them; when the journal refuses the
   *  read (a filter it does not take, a tenant it does not know), no rows are shown: the rows
   *  of the previous filters would not agree with these. */
  async function load() {
    const page = await refresh();
    if (page) show(page);
    else forget();
  }

  /** Empties the list (its refusal is in the summary, `fetchPage`): the rows shown are no
   *  longer read again as fresh, and the next read shows whatever it finds. */
  function forget() {
    rows = null;
    lastSig = null;
    list.hidden = true;
    Dash.clear(list);
    Dash.clear(list.nextSibling);
  }

  /** Shows `page` (`{entries, more}`), unless it is what is shown already. */
  function show(page) {
    const { entries, more } = page;
    const sig = entries.map(ident).join(",") + "|" + more + "|" + JSON.stringify(filters);
    if (sig === lastSig) return;
    lastSig = sig;
    summarize(page);
    if (linkedId !== null && entries.some((e) => String(e.id) === linkedId)) {
      Dash.clear(linked);
      linkedId = null;
    }
    const anyFilter = Object.values(filters).some(Boolean);
    if (!entries.length) {
      list.hidden = true;
      Dash.clear(list);
      const slot = list.nextSibling;
      Dash.clear(slot).appendChild(emptyState(anyFilter));
      return;
    }
    list.hidden = false;
    Dash.clear(list.nextSibling);
    Dash.patch(list, entries, (e) => e.id, ident, render);
  }

  /**
   * A deep link to a request the list does not show (older than its page, or outside the
   * filters): read by its id and shown above the list. Only a 404 means it is not in the journal.
   */
  async function showLinked(item) {
    linkedId = await Dash.showLinked(linked, `/__sim/requests/${encodeURIComponent(item)}`, {
      item, noun: "Request", title: "Linked request",
      missing: `Request ${item} is not in the journal (it may have been cleared)`,
      key: (e) => e.id, signature: ident, render,
    });
  }

  Dash.view("requests", {
    async mount(root, item) {
      if (item) open.add(item);
      summary = h("div", { class: "summary", "aria-live": "polite" });
      linked = h("div", { class: "linked", id: "linked" });
      list = h("div", { class: "rows", id: "journal", "aria-label": "Requests, newest first" });
      Dash.fill(root, filterBar(), summary, linked, list, h("div", { class: "empty-slot" }));
      await poll();
      if (item && !Dash.reveal(list, item)) await showLinked(item);
    },
    poll,
  });
})();
