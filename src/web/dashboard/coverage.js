// Coverage: what this run exercised of everything the simulator can produce (GET /__sim/coverage),
// a bar per operation, updated live; each item never exercised shows how to provoke it and links
// to the trigger form or the scenarios view. "Start over" is POST /__sim/coverage/reset. The
// tenant and surface filters are kept in the address bar (?tenant=&surface=), as the journal's.
"use strict";

(() => {
  const { h, api } = Dash;

  let list = null;
  let summary = null;
  /** The `whalet-sim coverage` line that prints the report shown. */
  let cli = null;
  /** The filters, kept in the address bar (a reload or a shared link keeps them). */
  const filters = { tenant: "", surface: "" };
  /** Loads started: an answer to an older one (filters changed since) is not shown. */
  let loads = 0;

  function path() {
    return Dash.withQuery("/__sim/coverage", filters);
  }

  /** The CLI line that prints this report: this simulator, with the filters selected. */
  function cliLine() {
    const q = Dash.shellQuote;
    const args = ["whalet-sim coverage", "--url", q(location.origin)];
    if (Dash.fact("adminToken")) args.push("--admin-token", q(Dash.YOUR_ADMIN_TOKEN));
    if (filters.tenant) args.push("--tenant", q(filters.tenant));
    if (filters.surface) args.push("--surface", q(filters.surface));
    return [...args, "--format text|json|junit|html --min PERCENT"].join(" ");
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

  /** Reads the report for the filters selected. A refusal (a tenant of another surface) is
   *  shown in place of the report: the previous one, for other filters, is taken away. */
  async function load() {
    const seq = ++loads;
    const r = await api("GET", path());
    if (seq !== loads) return;
    if (!r.ok) {
      Dash.clear(summary).appendChild(Dash.notice((r.data && r.data.error) || `HTTP ${r.status}`, "bad"));
      Dash.clear(list);
      Dash.setCount("coverage", 0);
      return;
    }
    render(r.data);
  }

  /** The filters changed: the address, the CLI line and the report follow. */
  function changed() {
    Dash.clear(cli).appendChild(h("code", {}, cliLine()));
    return load();
  }

  /** Every surface a report covers, in the order the report lists them. */
  const SURFACES = ["whalet", "platform", "file", "infinia", "pockyt"];

  /** The surfaces `tenant` uses (every one for no tenant), as the control plane lists the
   *  tenant's operations: the menu offers no pair the report would refuse. A surface in force
   *  that the tenant does not use stays shown (Dash.setChoices), with the report's refusal. */
  async function surfacesOf(tenant) {
    if (!tenant) return SURFACES;
    const r = await api("GET", `/__sim/operations?tenant=${encodeURIComponent(tenant)}`);
    if (!r.ok || !r.data || !Array.isArray(r.data.operations)) return SURFACES;
    const used = new Set(r.data.operations.map((o) => o.surface));
    return SURFACES.filter((s) => used.has(s));
  }

  Dash.view("coverage", {
    every: 3,
    async mount(root) {
      const onInput = Dash.filterBar(filters, changed);
      let surfaceSelect = null;
      let offers = 0;
      const offerSurfaces = async () => {
        const seq = ++offers;
        const surfaces = await surfacesOf(filters.tenant);
        if (seq !== offers) return;
        Dash.setChoices(surfaceSelect, [["", "all surfaces"], ...surfaces.map((s) => [s, s])]);
      };
      const onTenant = onInput("tenant");
      const state = await api("GET", "/__sim/state");
      const tenants = state.ok && state.data ? Object.keys(state.data.tenants || {}) : [];
      const tenantSelect = Dash.choice({
        id: "coverage-tenant", onchange: (ev) => { onTenant(ev); offerSurfaces(); },
      }, [["", "all tenants"], ...tenants.map((t) => [t, t])], filters.tenant);
      surfaceSelect = Dash.choice({ id: "coverage-surface", onchange: onInput("surface") },
        [["", "all surfaces"], ...SURFACES.map((s) => [s, s])], filters.surface);
      const reset = h("button", {
        type: "button", class: "btn", id: "coverage-reset", onclick: async () => {
          const r = await api("POST", "/__sim/coverage/reset", {});
          if (r.ok) Dash.toast("Coverage reset: a new measurement starts now");
          else Dash.toast(`Reset refused: ${(r.data && r.data.error) || `HTTP ${r.status}`}`, "bad");
          await load();
        },
      }, "Start over");
      summary = h("p", { class: "summary", id: "coverage-summary" });
      list = h("div", { class: "cov-list", id: "coverage-list" });
      cli = h("span", { id: "coverage-cli" });
      Dash.fill(root,
        h("form", { class: "filters", onsubmit: (e) => e.preventDefault() },
          h("label", { class: "field" }, h("span", {}, "Tenant"), tenantSelect),
          h("label", { class: "field" }, h("span", {}, "Surface"), surfaceSelect),
          h("div", { class: "actions" }, reset)),
        summary,
        h("p", { class: "muted cov-cli" }, "The same report: ", cli, "."),
        list);
      await Promise.all([changed(), offerSurfaces()]);
    },
    poll: load,
  });
})();
