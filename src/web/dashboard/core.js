// whalet-sim dashboard: shared helpers (DOM building, the /__sim/ API, formatting, live polling).
// Each view lives in its own file and registers itself with Dash.view(name, {mount, poll}).
// The page talks only to the /__sim/ control plane. Text is always inserted as text, never as HTML.
"use strict";

// Script errors are kept for the browser tests (and shown in the console as usual).
window.dashErrors = [];
window.addEventListener("error", (e) => window.dashErrors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => window.dashErrors.push(String(e.reason)));

const Dash = (() => {
  const views = {};
  let current = null;
  let live = true;
  let timer = null;
  let polling = false;
  let ticks = 0;
  const state = { clock: null };

  /** Creates an element: h("div", {class: "x", onclick: f}, child, "text", [more]). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /** Appends children (nodes, text, nested arrays; null and false are skipped). */
  function fill(el, ...children) {
    return append(el, children);
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  /** Calls the control plane. Never throws: {ok, status, data}. */
  async function api(method, path, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    try {
      const res = await fetch(path, init);
      const text = await res.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch (_) { data = { error: text }; }
      return { ok: res.ok, status: res.status, data };
    } catch (e) {
      return { ok: false, status: 0, data: { error: "the simulator is not reachable (" + e.message + ")" } };
    }
  }

  const pad = (n, w = 2) => String(n).padStart(w, "0");

  /** Virtual epoch ms in China Standard Time, the Whalet format: 2025-01-01 08:00:00. */
  function chinaTime(ms) {
    if (typeof ms !== "number") return "—";
    const d = new Date(ms + 8 * 3600 * 1000);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
      `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  }

  /** Wall-clock ms in the browser's local time, with milliseconds. */
  function wallTime(ms) {
    if (typeof ms !== "number") return "—";
    const d = new Date(ms);
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  /** "in 4 s", "2 min ago" relative to the virtual now. */
  function relative(ms) {
    const now = state.clock && state.clock.now;
    if (typeof ms !== "number" || typeof now !== "number") return "";
    const diff = Math.round((ms - now) / 1000);
    const abs = Math.abs(diff);
    const text = abs < 60 ? `${abs} s` : abs < 3600 ? `${Math.round(abs / 60)} min` :
      abs < 86400 ? `${(abs / 3600).toFixed(1)} h` : `${(abs / 86400).toFixed(1)} d`;
    if (diff === 0) return "now";
    return diff > 0 ? `in ${text}` : `${text} ago`;
  }

  /** A span showing a virtual time relative to now, kept current by the live loop. */
  function rel(ms) {
    return h("span", { class: "sub", "data-rel": String(ms) }, relative(ms));
  }

  function updateRelative() {
    for (const el of document.querySelectorAll("[data-rel]")) {
      const text = relative(Number(el.dataset.rel));
      if (el.textContent !== text) el.textContent = text;
    }
  }

  function duration(ms) {
    if (ms < 1000) return `${ms} ms`;
    if (ms < 60000) return `${+(ms / 1000).toFixed(1)} s`;
    if (ms < 3600000) return `${+(ms / 60000).toFixed(1)} min`;
    return `${+(ms / 3600000).toFixed(1)} h`;
  }

  /** Pretty JSON with token colours, built from text nodes. */
  function json(value) {
    const pre = h("pre", { class: "json", tabindex: "0" });
    if (typeof value === "string") {
      pre.appendChild(document.createTextNode(value));
      return pre;
    }
    const text = JSON.stringify(value, null, 2);
    if (text === undefined) return pre;
    const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
    let last = 0;
    let m;
    while ((m = re.exec(text))) {
      if (m.index > last) pre.appendChild(document.createTextNode(text.slice(last, m.index)));
      const cls = m[1] ? (m[2] ? "k" : "s") : m[3] ? "b" : "n";
      pre.appendChild(h("span", { class: "j-" + cls }, m[1] || m[0]));
      if (m[2]) pre.appendChild(document.createTextNode(m[2]));
      last = re.lastIndex;
    }
    pre.appendChild(document.createTextNode(text.slice(last)));
    return pre;
  }

  /** A status or code badge: kind is ok | warn | bad | muted | info. */
  function badge(text, kind) {
    return h("span", { class: `badge badge-${kind || "muted"}` }, text);
  }

  /** One argument for a POSIX shell: bare when it holds only safe characters, else
   *  single-quoted, so that nothing in it is ever expanded (like Python's shlex.quote). */
  function shellQuote(text) {
    const s = String(text);
    if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(s)) return s;
    return "'" + s.replace(/'/g, "'\\''") + "'";
  }

  /**
   * What the server told the page of its configuration, for the commands the page offers to
   * work there: a data attribute of the page's body (dashboard/mod.rs, `Facts`; `loadFacts`
   * with an admin token), by its dataset name. `fact(name)` is its text ("" when absent); `fact(name, fallback)` reads it as
   * JSON, `fallback` when it is absent or unreadable.
   */
  function fact(name, fallback) {
    const text = (document.body && document.body.dataset[name]) || "";
    if (fallback === undefined) return text;
    try { return text ? JSON.parse(text) : fallback; } catch (_) { return fallback; }
  }

  /**
   * With an admin token set, the page carries no configuration: `data-facts` names where it is
   * read (GET /__sim/ui/facts, which needs the token's cookie), as `{datasetName: text}`; each
   * is set on the body as the attribute would have been, before a view is mounted. Without the
   * token it stays empty, as every view then says.
   */
  async function loadFacts() {
    const from = document.body.dataset.facts;
    if (!from) return;
    const r = await api("GET", from);
    if (!r.ok || !r.data || typeof r.data !== "object") return;
    for (const [name, text] of Object.entries(r.data)) {
      if (typeof text === "string") document.body.dataset[name] = text;
    }
  }

  /** What the user must fill in for the simulator's admin token (never the token itself). */
  const YOUR_ADMIN_TOKEN = "<your admin token>";

  /** The `whalet-sim trigger` command firing `name` with `params` on this simulator (`--url`:
   *  the page's origin; `--admin-token` with a placeholder when the simulator has an admin
   *  token, `data-admin-token`), every argument quoted: names and values are typed by people. */
  function triggerCommand(name, params) {
    const args = Object.entries(params).map(([k, v]) => shellQuote(`${k}=${typeof v === "string" ? v : JSON.stringify(v)}`));
    const token = fact("adminToken") ? ["--admin-token", shellQuote(YOUR_ADMIN_TOKEN)] : [];
    return ["whalet-sim trigger", shellQuote(name), "--url", shellQuote(location.origin), ...token, ...args].join(" ");
  }

  /** A command the user can copy. */
  function command(text) {
    const code = h("code", {}, text);
    const btn = h("button", {
      type: "button", class: "btn btn-small", onclick: async () => {
        try { await navigator.clipboard.writeText(text); toast("Copied to the clipboard"); }
        catch (_) { toast("Select the command and copy it", "warn"); }
      },
    }, "Copy");
    return h("div", { class: "command" }, code, btn);
  }

  function empty(title, ...body) {
    return h("div", { class: "empty", role: "note" }, h("p", { class: "empty-title" }, title), body);
  }

  function notice(message, kind) {
    return h("div", { class: `callout callout-${kind || "info"}`, role: kind === "bad" ? "alert" : null }, message);
  }

  let toastTimer = null;
  function toast(message, kind) {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.className = `toast show toast-${kind || "ok"}`;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.className = "toast"; }, 4000);
  }

  /**
   * Updates a list in place: nodes whose signature is unchanged are kept (so expanded rows and
   * focus survive live updates), others are re-rendered, and the order follows `items`.
   */
  function patch(container, items, key, signature, render) {
    const old = new Map();
    for (const child of Array.from(container.children)) {
      if (child.dataset.key) old.set(child.dataset.key, child);
      else container.removeChild(child);
    }
    const focusKey = document.activeElement && document.activeElement.dataset ?
      document.activeElement.dataset.fk : undefined;
    let refocus = null;
    let previous = null;
    for (const item of items) {
      const k = String(key(item));
      const sig = signature(item);
      let node = old.get(k);
      old.delete(k);
      if (!node || node.dataset.sig !== sig) {
        const fresh = render(item, node);
        fresh.dataset.key = k;
        fresh.dataset.sig = sig;
        if (node) {
          if (focusKey && node.contains(document.activeElement)) refocus = focusKey;
          container.replaceChild(fresh, node);
        }
        node = fresh;
      }
      const wanted = previous ? previous.nextSibling : container.firstChild;
      if (wanted !== node) container.insertBefore(node, wanted);
      previous = node;
    }
    for (const node of old.values()) container.removeChild(node);
    if (refocus) {
      const target = container.querySelector(`[data-fk="${CSS.escape(refocus)}"]`);
      if (target) target.focus();
    }
  }

  /** An expandable row: a header button toggling a body (keeps its state in `open`). */
  function disclosure(id, open, headerChildren, renderBody, onToggle) {
    const bodyId = "body-" + id;
    const body = h("div", { class: "row-body", id: bodyId, hidden: !open });
    if (open) append(body, [renderBody()]);
    const btn = h("button", {
      type: "button", class: "row-head", "aria-expanded": open ? "true" : "false",
      "aria-controls": bodyId, "data-fk": "head-" + id,
      onclick: () => {
        const now = btn.getAttribute("aria-expanded") !== "true";
        btn.setAttribute("aria-expanded", now ? "true" : "false");
        if (now && !body.firstChild) append(body, [renderBody()]);
        body.hidden = !now;
        onToggle(now);
      },
    }, headerChildren);
    return h("article", { class: "row" + (open ? " open" : "") }, btn, body);
  }

  function setCount(slug, n) {
    const el = document.querySelector(`[data-count="${slug}"]`);
    if (el) el.textContent = n ? String(n) : "";
  }

  function query() {
    return new URLSearchParams(location.search);
  }

  /** `base` with the values that are set as its query string. */
  function withQuery(base, values) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(values)) if (v) q.set(k, v);
    const text = q.toString();
    return base + (text ? "?" + text : "");
  }

  /** Writes filter values into the address bar (shareable links), without reloading. */
  function setQuery(values) {
    history.replaceState(null, "", withQuery(location.pathname, values));
  }

  /** A labelled control of a filter bar. */
  function field(label, control) {
    return h("label", { class: "field" }, h("span", {}, label), control);
  }

  /** Filters kept in the address bar: fills `filters` from it and answers `onInput(key)`, the
   * handler of one control (stores the value, updates the address bar, calls `changed`). */
  function filterBar(filters, changed) {
    const q = query();
    for (const k of Object.keys(filters)) filters[k] = q.get(k) || "";
    return (key) => (ev) => {
      filters[key] = ev.target.value.trim();
      setQuery(filters);
      changed();
    };
  }

  /**
   * A select of `options` ([value, text] pairs) showing `value`: a value in force that is not
   * among them (from the address bar) is offered too, so the control never misstates the filter.
   */
  function choice(attrs, options, value) {
    const all = options.some(([v]) => v === value) ? options : options.concat([[value, value]]);
    return h("select", attrs, all.map(([v, t]) => h("option", { value: v, selected: v === value }, t)));
  }

  /** Replaces the options of select `el` by `options` ([value, text] pairs), keeping its value. */
  function setChoices(el, options) {
    const value = el.value;
    const all = options.some(([v]) => v === value) ? options : options.concat([[value, value]]);
    clear(el);
    for (const [v, t] of all) el.appendChild(h("option", { value: v, selected: v === value }, t));
  }

  /** Scrolls to the row of `item` in `list` and focuses it; false when it is not there. */
  function reveal(list, item) {
    const target = list.querySelector(`[data-key="${CSS.escape(item)}"]`);
    if (!target) return false;
    target.scrollIntoView({ block: "start" });
    target.querySelector(".row-head").focus();
    return true;
  }

  /**
   * What the clock pill says when the clock could not be read: offline only when the simulator
   * did not answer; a 401 is the admin token (missing, or not the one this simulator has: the
   * browser cannot tell which, as the cookie is HttpOnly); another refusal is named by its status.
   */
  function clockTrouble(r) {
    const reason = (r.data && r.data.error) || "";
    if (r.status === 0) return ["offline", "", reason || "The simulator is not reachable"];
    if (r.status === 401) {
      return ["admin token missing or not accepted", "open /?token=<token>",
        reason || "This simulator requires its admin token: open the dashboard once as /?token=<token>"];
    }
    return [`unavailable (HTTP ${r.status})`, "", reason || `GET /__sim/clock answered HTTP ${r.status}`];
  }

  /**
   * A deep link to an item the list does not show (outside its filters, or older than its page):
   * the item is read from `url` and shown in `slot`, above the list, under `title` (`render`
   * draws its row; `key` and `signature` as for `patch`, so calling this again keeps the row
   * current without losing its state or focus). Only a 404 means the item is gone: `missing`
   * is toasted; another failure says what went wrong, unless `quiet` (a refresh: the row shown
   * stays). Answers the item's key when it is shown, else null (the slot is then emptied).
   */
  async function showLinked(slot, url, { item, noun, title, missing, key, signature, render, quiet }) {
    const r = await api("GET", url);
    if (r.ok && r.data) {
      let rows = slot.querySelector(".rows");
      const fresh = !rows;
      if (fresh) fill(clear(slot), h("h2", { class: "linked-title" }, title), rows = h("div", { class: "rows" }));
      patch(rows, [r.data], key, signature, render);
      const shown = String(key(r.data));
      if (fresh) reveal(slot, shown);
      return shown;
    }
    if (r.status === 404) {
      clear(slot);
      toast(missing, "warn");
      return null;
    }
    if (!quiet) {
      clear(slot);
      toast(`${noun} ${item} could not be read: ${(r.data && r.data.error) || `HTTP ${r.status}`}`, "bad");
      return null;
    }
    return slot.firstChild ? item : null;
  }

  async function refreshClock() {
    const r = await api("GET", "/__sim/clock");
    const pill = document.getElementById("clock-pill");
    const now = document.getElementById("clock-now");
    const mode = document.getElementById("clock-mode");
    if (!r.ok || !r.data) {
      const [text, how, title] = clockTrouble(r);
      if (now) now.textContent = text;
      if (mode) mode.textContent = how;
      if (pill) {
        pill.title = title;
        pill.classList.add("clock-trouble");
      }
      return;
    }
    if (pill) {
      pill.title = "Virtual clock (open the clock view)";
      pill.classList.remove("clock-trouble");
    }
    state.clock = r.data;
    if (now) now.textContent = r.data.nowText || chinaTime(r.data.now);
    if (mode) {
      const pending = (r.data.pending || []).length;
      mode.textContent = r.data.mode.mode + (pending ? ` · ${pending} pending` : "");
    }
  }

  /** The most exhausted notifications the tab badge counts; past it, it says "9+". */
  const ATTENTION_LIMIT = 9;

  /** Exhausted notifications need the partner's attention on every page. The badge reads at
   *  most ATTENTION_LIMIT of them (the ledger may hold thousands): "9+" when it holds more. */
  async function refreshAttention() {
    const r = await api("GET", `/__sim/notifications?status=exhausted&limit=${ATTENTION_LIMIT}`);
    const el = document.querySelector('[data-count="notifications"]');
    if (!r.ok || !el) return;
    const n = (r.data.notifications || []).length;
    const text = n ? String(n) + (r.data.more ? "+" : "") : "";
    el.textContent = text;
    el.classList.toggle("count-bad", n > 0);
    el.title = n ? `${text} notification(s) exhausted their retries` : "";
  }

  async function tick() {
    if (polling) return;
    polling = true;
    try {
      await refreshClock();
      if (++ticks % 3 === 1) await refreshAttention();
      if (current && current.poll && ticks % (current.every || 1) === 0) await current.poll();
      updateRelative();
    } finally {
      polling = false;
    }
  }

  function schedule() {
    clearInterval(timer);
    timer = null;
    if (live && !document.hidden) timer = setInterval(tick, 1000);
  }

  /** Refreshes at once (after an action). */
  function refresh() {
    return tick();
  }

  function setLive(on) {
    live = on;
    const btn = document.getElementById("live-toggle");
    if (btn) {
      btn.setAttribute("aria-pressed", on ? "true" : "false");
      btn.querySelector(".live-text").textContent = on ? "Live" : "Paused";
    }
    schedule();
    if (on) tick();
  }

  function view(name, def) {
    views[name] = def;
  }

  async function start() {
    const name = document.body.dataset.view;
    const root = document.getElementById("view");
    document.getElementById("live-toggle").addEventListener("click", () => setLive(!live));
    document.addEventListener("visibilitychange", schedule);
    current = views[name] || null;
    const tab = document.querySelector('.tabs [aria-current="page"]');
    if (tab) tab.scrollIntoView({ block: "nearest", inline: "center" });
    refreshAttention();
    await Promise.all([loadFacts(), refreshClock()]);
    if (current) {
      clear(root);
      await current.mount(root, document.body.dataset.item || "");
      root.setAttribute("aria-busy", "false");
    } else {
      clear(root);
      root.setAttribute("aria-busy", "false");
    }
    schedule();
  }

  document.addEventListener("DOMContentLoaded", start);

  return {
    h, append, fill, clear, api, chinaTime, wallTime, relative, rel, duration, json, badge, command, shellQuote, triggerCommand, fact, empty,
    notice, toast, patch, disclosure, setCount, query, setQuery, withQuery, refresh, view, state, field, filterBar,
    reveal, showLinked, choice, setChoices, YOUR_ADMIN_TOKEN,
  };
})();
