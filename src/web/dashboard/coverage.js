// Coverage: what this run exercised of everything the simulator can produce (GET /__sim/coverage),
// a bar per operation, updated live; each item never exercised shows how to provoke it and links
// to the trigger form or the scenarios view. "Start over" is POST /__sim/coverage/reset.
"use strict";

(() => {
  const { h, api } = Dash;

  let list = null;
  let summary = null;
  let tenantSelect = null;
  let surfaceSelect = null;

  function path() {
    return Dash.withQuery("/__sim/coverage", {
      tenant: tenantSelect && tenantSelect.value,
      surface: surfaceSelect && surfaceSelect.value,
    });
  }

  function bar(percent) {
    const kind = percent >= 100 ? "ok" : percent >= 50 ? "warn" : "bad";
    return h("span", { class: "cov-bar", role: "img", "aria-label": `${percent}% exercised` },
      h("span", { class: `cov-fill cov-${kind}`, style: null, "data-width": String(percent) }));
  }

  /** Where to go to provoke an item: a trigger's form, else the scenarios view. */
  function link(item) {
    if (item.kind === "state") {
      const name = item.outcome;
      return h("a", { href: `/__sim/ui/triggers#trigger-${name.replace(/[^\w-]/g, "-")}` }, "Fire " + name);
    }
    return h("a", { href: "/__sim/ui/clock" }, "Scenarios");
  }

  function row(surface, group, op) {
    const missing = op.outcomes.filter((i) => i.hits === 0);
    const done = op.outcomes.filter((i) => i.hits > 0);
    return h("article", { class: "card cov-op", "data-op": `${surface}/${op.operation}` },
      h("div", { class: "cov-head" },
        h("span", { class: "mono cov-name" }, op.operation),
        h("span", { class: "muted" }, group),
        bar(op.percent),
        h("span", { class: "cov-count" }, `${op.exercised}/${op.items}`)),
      done.length ? h("p", { class: "cov-hits" }, done.map((i) => Dash.badge(`${i.outcome} ×${i.hits}`, "ok"))) : null,
      missing.length ? h("ul", { class: "cov-missing" }, missing.map((i) =>
        h("li", { "data-item": i.id }, Dash.badge(i.outcome, "muted"), " ", h("span", {}, i.hint), " ", link(i)))) : null);
  }

  /** Widths are set from data attributes (the page's CSP allows no inline styles). */
  function widths(root) {
    for (const el of root.querySelectorAll(".cov-fill[data-width]")) {
      el.style.width = el.dataset.width + "%";
    }
  }

  function render(report) {
    Dash.clear(summary);
    Dash.fill(summary,
      h("span", {}, h("strong", {}, `${report.percent}%`), ` exercised: ${report.exercised} of ${report.items} items`),
      h("span", { class: "muted" }, report.tenant ? `tenant ${report.tenant}` : "all tenants"));
    const ops = [];
    for (const s of report.surfaces) {
      for (const g of s.groups) {
        for (const o of g.operations) ops.push({ s: s.surface, g: g.group, o });
      }
    }
    Dash.patch(list, ops, (x) => `${x.s}/${x.g}/${x.o.operation}`,
      (x) => x.o.outcomes.map((i) => i.hits).join(","),
      (x) => row(x.s, x.g, x.o));
    widths(list);
    Dash.setCount("coverage", Math.floor(report.percent));
  }

  async function load() {
    const r = await api("GET", path());
    if (!r.ok) {
      Dash.clear(summary).appendChild(Dash.notice((r.data && r.data.error) || `HTTP ${r.status}`, "bad"));
      return;
    }
    render(r.data);
  }

  Dash.view("coverage", {
    every: 3,
    async mount(root) {
      const state = await api("GET", "/__sim/state");
      const tenants = state.ok && state.data ? Object.keys(state.data.tenants || {}) : [];
      tenantSelect = h("select", { id: "coverage-tenant", onchange: load },
        h("option", { value: "" }, "all tenants"), tenants.map((t) => h("option", { value: t }, t)));
      surfaceSelect = h("select", { id: "coverage-surface", onchange: load },
        h("option", { value: "" }, "all surfaces"),
        ["whalet", "platform", "file", "infinia", "pockyt"].map((s) => h("option", { value: s }, s)));
      const reset = h("button", {
        type: "button", class: "btn", id: "coverage-reset", onclick: async () => {
          const r = await api("POST", "/__sim/coverage/reset", {});
          Dash.toast(r.ok ? "Coverage reset: a new measurement starts now" : "Reset refused", r.ok ? "ok" : "bad");
          await load();
        },
      }, "Start over");
      summary = h("p", { class: "summary", id: "coverage-summary" });
      list = h("div", { class: "cov-list", id: "coverage-list" });
      Dash.fill(root,
        h("form", { class: "filters", onsubmit: (e) => e.preventDefault() },
          h("label", { class: "field" }, h("span", {}, "Tenant"), tenantSelect),
          h("label", { class: "field" }, h("span", {}, "Surface"), surfaceSelect),
          h("div", { class: "actions" }, reset)),
        summary,
        h("p", { class: "muted" }, "The same report: ", h("code", {}, "whalet-sim coverage --format text|json|junit|html --min PERCENT"), "."),
        list);
      await load();
    },
    poll: load,
  });
})();
