// Notifications: every notification with a timeline of its attempts (virtual and wall time,
// HTTP status, latency, the partner's answer, the verdict), Resend, and a shortcut that advances
// the virtual clock to a pending retry. Data: GET /__sim/notifications (the newest PAGE, bounded:
// the ledger may hold thousands), POST /__sim/notifications/{id}/resend, POST /__sim/clock/advance.
"use strict";

(() => {
  const { h, api, badge, json, chinaTime, wallTime } = Dash;

  const KIND = { delivered: "ok", pending: "warn", queued: "muted", exhausted: "bad", suppressed: "muted" };
  /** Rows shown at first, and added by each "Show older". */
  const PAGE = 200;
  const filters = { status: "", apiCode: "", tenant: "" };
  const open = new Set();
  let list = null;
  let summary = null;
  let slot = null;
  let linked = null;
  /** The id of the notification shown above the list (a deep link the list does not show). */
  let linkedId = null;
  let lastSig = null;
  /** How many of the newest matching notifications are shown (and read each poll). */
  let shown = PAGE;

  /** The newest `shown` notifications matching the filters; the answer's `more` says whether
   *  the ledger holds older ones. */
  function path() {
    return Dash.withQuery("/__sim/notifications", { ...filters, limit: String(shown) });
  }

  function filterBar() {
    const onInput = Dash.filterBar(filters, () => {
      lastSig = null;
      shown = PAGE;
      poll();
    });
    return h("form", { class: "filters", role: "search", "aria-label": "Filter notifications", onsubmit: (e) => e.preventDefault() },
      Dash.field("Status", h("select", { name: "status", onchange: onInput("status") },
        ["", "pending", "queued", "delivered", "exhausted", "suppressed"].map((s) =>
          h("option", { value: s, selected: s === filters.status }, s || "All statuses")))),
      Dash.field("Notification (apiCode)", h("input", {
        name: "apiCode", type: "search", value: filters.apiCode, placeholder: "connectivityNotify",
        autocomplete: "off", oninput: onInput("apiCode"),
      })),
      Dash.field("Partner or tenant", h("input", {
        name: "tenant", type: "search", value: filters.tenant, placeholder: "202400000000001",
        autocomplete: "off", oninput: onInput("tenant"),
      })));
  }

  function lastAttempt(n) {
    return n.attempts.length ? n.attempts[n.attempts.length - 1] : null;
  }

  function header(n) {
    const last = lastAttempt(n);
    const next = n.status === "pending" && typeof n.nextAttemptAt === "number";
    return [
      h("span", { class: `dot dot-${KIND[n.status] || "muted"}`, "aria-hidden": "true" }),
      h("span", { class: "cell cell-time" }, h("span", { class: "mono" }, chinaTime(n.createdAt).slice(11)), Dash.rel(n.createdAt)),
      h("span", { class: "cell cell-main" }, h("span", { class: "op" }, n.topic),
        h("span", { class: "sub" }, `${n.id} · ${n.tenant}`)),
      h("span", { class: "cell cell-id mono" }, n.requestNo),
      h("span", { class: "cell cell-code" }, badge(n.status, KIND[n.status])),
      h("span", { class: "cell cell-num" },
        `${n.attempts.length} ${n.attempts.length === 1 ? "attempt" : "attempts"}`,
        next ? h("span", { class: "sub" }, "next ", Dash.rel(n.nextAttemptAt)) :
          last && last.httpStatus ? h("span", { class: "sub" }, `last HTTP ${last.httpStatus}`) : null),
      h("span", { class: "chev", "aria-hidden": "true" }),
    ];
  }

  async function resend(n) {
    const r = await api("POST", `/__sim/notifications/${encodeURIComponent(n.id)}/resend`);
    if (r.ok) Dash.toast(`${n.id} resent (series ${r.data.series}, same requestNo)`);
    else Dash.toast((r.data && r.data.error) || `Resend failed: HTTP ${r.status}`, "bad");
    lastSig = null;
    await Dash.refresh();
  }

  async function advanceTo(at) {
    const clock = Dash.state.clock;
    const ms = Math.max(0, at - (clock ? clock.now : at));
    const r = await api("POST", "/__sim/clock/advance", { ms });
    if (r.ok) Dash.toast(`Clock advanced by ${Dash.duration(ms)}; ${(r.data.ran || 0)} timer(s) ran`);
    else Dash.toast((r.data && r.data.error) || `HTTP ${r.status}`, "bad");
    lastSig = null;
    await Dash.refresh();
  }

  function actions(n) {
    const busy = n.status === "pending" || n.status === "queued";
    const buttons = [h("button", {
      type: "button", class: "btn btn-primary", "data-fk": "resend-" + n.id, disabled: busy,
      "aria-describedby": busy ? "why-" + n.id : null, onclick: () => resend(n),
    }, "Resend")];
    const manual = Dash.state.clock && Dash.state.clock.mode.mode === "manual";
    if (n.status === "pending" && typeof n.nextAttemptAt === "number" && manual) {
      const wait = n.nextAttemptAt - Dash.state.clock.now;
      buttons.push(h("button", {
        type: "button", class: "btn", "data-fk": "advance-" + n.id, onclick: () => advanceTo(n.nextAttemptAt),
      }, wait > 0 ? `Advance clock ${Dash.duration(wait)} to the next attempt` : "Run the due attempt"));
    }
    return h("div", { class: "actions" }, buttons,
      busy ? h("span", { class: "muted", id: "why-" + n.id }, "Resend is available once delivery has finished.") : null);
  }

  function attemptItem(a) {
    const ok = a.verdict === "delivered";
    return h("li", { class: "attempt " + (ok ? "attempt-ok" : "attempt-bad") },
      h("div", { class: "attempt-head" },
        h("strong", {}, `Attempt ${a.number}`),
        badge(a.httpStatus ? `HTTP ${a.httpStatus}` : "no answer", ok ? "ok" : "bad"),
        h("span", { class: "muted" }, `${a.latencyMs} ms`)),
      h("div", { class: "attempt-times" },
        h("span", {}, h("span", { class: "muted" }, "virtual "), a.virtualTimeText || chinaTime(a.virtualTime)),
        h("span", {}, h("span", { class: "muted" }, "wall "), wallTime(a.wallTime))),
      // Where it went: a Pockyt payout's own ipnUrl, else the tenant's notify URL at the time
      // (absent when there was none, and in records made before it was kept). Text, as the verdict.
      a.url ? h("div", { class: "attempt-url" }, h("span", { class: "muted" }, "to "), h("span", { class: "url" }, a.url)) : null,
      h("div", { class: "attempt-verdict " + (ok ? "ok-text" : "bad-text") }, a.verdict),
      a.responseExcerpt ? h("details", { class: "answer" }, h("summary", {}, "Partner's answer"), json(parseMaybe(a.responseExcerpt))) : null);
  }

  /**
   * What started series `series` of `n`, whose series before it ended with `before` (its last
   * attempt, or null). A scenario's `duplicate` sends the whole series again once the first is
   * delivered, at once (notify/deliver.rs): series 2 after a delivered series 1 of a notification
   * with that behaviour is the duplicate. Any other series is a Resend (POST
   * /__sim/notifications/{id}/resend, from the control plane or this page), which only a
   * finished notification takes: a duplicate's is still pending until its second series ends.
   */
  function seriesCause(n, series, before) {
    const duplicate = n.behaviour && n.behaviour.duplicate === true && series === 2 &&
      before !== null && before.series === 1 && before.verdict === "delivered";
    return duplicate ? " · the scenario's duplicate: sent again with the same requestNo"
      : " · resent with the same requestNo (Resend)";
  }

  /** The attempts of `n`, with a marker where a new series started, saying what started it. */
  function attemptItems(n) {
    const out = [];
    let series = 1;
    let before = null;
    for (const a of n.attempts) {
      if (a.series !== series) {
        series = a.series;
        out.push(h("li", { class: "attempt attempt-series" }, h("strong", {}, `Series ${series}`),
          h("span", { class: "muted" }, seriesCause(n, series, before))));
      }
      out.push(attemptItem(a));
      before = a;
    }
    return out;
  }

  function parseMaybe(text) {
    try { return JSON.parse(text); } catch (_) { return text; }
  }

  function body(n) {
    const items = attemptItems(n);
    if (n.status === "pending" && typeof n.nextAttemptAt === "number") {
      items.push(h("li", { class: "attempt attempt-next" },
        h("div", { class: "attempt-head" }, h("strong", {}, n.attempts.length ? "Next retry" : "First attempt"),
          h("span", { class: "muted" }, ` at ${chinaTime(n.nextAttemptAt)} `), Dash.rel(n.nextAttemptAt))));
    }
    if (n.status === "queued") {
      items.push(h("li", { class: "attempt attempt-next" }, "Waiting for an earlier notification about the same object."));
    }
    if (n.status === "suppressed") {
      items.push(h("li", { class: "attempt" }, "Suppressed by a scenario rule: never sent."));
    }
    const flags = Object.entries(n.behaviour || {}).filter(([, v]) => v && v !== 0)
      .map(([k, v]) => (v === true ? k : `${k}=${v}`)).join(", ");
    return h("div", {},
      actions(n),
      h("div", { class: "panes" },
        h("section", { class: "pane" }, h("h3", {}, "Attempts"),
          items.length ? h("ol", { class: "timeline" }, items) : h("p", { class: "muted" }, "No attempts yet.")),
        h("section", { class: "pane" }, h("h3", {}, "Details"),
          h("dl", { class: "meta" },
            [["Id", n.id], ["Notify URL", n.url || "the tenant's notify URL when each attempt is sent (shown with each attempt)"], ["requestNo", n.requestNo],
              ["Business object", n.businessId], ["Created (virtual)", chinaTime(n.createdAt)],
              ["Series", String(n.series)], ["Scenario behaviour", flags]]
              .filter(([, v]) => v).map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))),
          h("h3", {}, "Payload (before sealing)"), json(n.payload))),
      h("p", { class: "permalink" }, h("a", { href: `/__sim/ui/notifications/${n.id}` }, "Link to this notification"),
        " · ", h("a", { href: `/__sim/notifications/${n.id}` }, "JSON")));
  }

  function render(n) {
    const row = Dash.disclosure("ntf-" + n.id, open.has(n.id), header(n), () => body(n), (isOpen) => {
      if (isOpen) open.add(n.id); else open.delete(n.id);
    });
    row.classList.add(`row-${KIND[n.status] || "muted"}`);
    return row;
  }

  /**
   * A row's fingerprint: what the notification is (ids start again at ntf_000001 when the
   * simulator restarts without a data directory, so the id alone could name one shown before)
   * and where its delivery stands.
   */
  function signature(n) {
    const clock = Dash.state.clock;
    const mode = clock ? clock.mode.mode : "";
    const now = mode === "manual" && n.status === "pending" ? clock.now : "";
    const first = n.attempts.length ? n.attempts[0].wallTime : "";
    return [n.topic, n.tenant, n.requestNo, n.businessId, n.createdAt, first, JSON.stringify(n.payload),
      n.status, n.series, n.attempts.length, n.nextAttemptAt, mode, now].join("|");
  }

  /**
   * A deep link to a notification the list does not show (outside the filters): read by its id
   * and shown above the list, kept current while it is shown (Resend, retries). Only a 404 means
   * it is gone.
   */
  async function showLinked(item, quiet) {
    linkedId = await Dash.showLinked(linked, `/__sim/notifications/${encodeURIComponent(item)}`, {
      item, noun: "Notification", title: "Linked notification", quiet,
      missing: `No notification ${item}: a reset, an import or a restart without a data directory forgets notifications`,
      key: (n) => n.id, signature, render,
    });
  }

  async function poll() {
    const r = await api("GET", path());
    if (!r.ok) {
      // The rows of the previous filters would not agree with these: none are shown.
      Dash.clear(summary).appendChild(Dash.notice((r.data && r.data.error) || `HTTP ${r.status}`, "bad"));
      lastSig = null;
      list.hidden = true;
      Dash.clear(list);
      Dash.clear(slot);
      return;
    }
    const items = r.data.notifications || [];
    const more = Boolean(r.data.more);
    if (linkedId !== null) {
      if (items.some((n) => n.id === linkedId)) {
        Dash.clear(linked);
        linkedId = null;
      } else {
        await showLinked(linkedId, true);
      }
    }
    const sig = items.map((n) => n.id + ":" + signature(n)).join(",") + "|" + more;
    if (sig === lastSig) return;
    lastSig = sig;
    const count = (s) => items.filter((n) => n.status === s).length;
    Dash.fill(Dash.clear(summary),
      h("span", {}, h("strong", {}, String(items.length)), items.length === 1 ? " notification" : " notifications"),
      ["delivered", "pending", "exhausted"].filter(count).map((s) =>
        h("span", { class: s === "exhausted" ? "sum-bad" : "" }, h("strong", {}, String(count(s))), " " + s)),
      more ? h("span", { class: "muted" }, `the newest ${items.length}; the ledger holds older notifications`) : null,
      more ? showOlder() : null);
    if (!items.length) {
      list.hidden = true;
      Dash.clear(list);
      Dash.clear(slot).appendChild(Object.values(filters).some(Boolean)
        ? Dash.empty("No notifications match these filters.", h("p", {}, h("a", { href: location.pathname }, "Show all notifications")))
        : Dash.empty("No notifications yet.",
          h("p", {}, "Send one with ", h("code", {}, "connectivity"), " and ", h("code", {}, "notifyFlag = Y"),
            ", or fire ", h("a", { href: "/__sim/ui/triggers" }, "a trigger"), " such as ",
            h("code", {}, "whalet.connectivity.notify"), ".")));
      return;
    }
    list.hidden = false;
    Dash.clear(slot);
    Dash.patch(list, items, (n) => n.id, signature, render);
  }

  /** "Show older": PAGE more rows, read with the rest from the next poll on (the ledger has no
   *  `before`; the rows shown are read again whole, so a retry's progress shows on every row). */
  function showOlder() {
    return h("button", {
      type: "button", class: "btn btn-small", id: "show-older", onclick: async () => {
        shown += PAGE;
        lastSig = null;
        await poll();
      },
    }, `Show ${PAGE} older`);
  }

  Dash.view("notifications", {
    async mount(root, item) {
      if (item) open.add(item);
      summary = h("div", { class: "summary", "aria-live": "polite" });
      list = h("div", { class: "rows", id: "notifications", "aria-label": "Notifications, newest first" });
      slot = h("div", { class: "empty-slot" });
      linked = h("div", { class: "linked", id: "linked" });
      Dash.fill(root, filterBar(), summary, linked, list, slot);
      await poll();
      if (item && !Dash.reveal(list, item)) await showLinked(item, false);
    },
    poll,
  });
})();
