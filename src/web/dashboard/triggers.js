// Triggers: every external event the surfaces offer (GET /__sim/triggers), each with a small
// form that fires it (POST /__sim/trigger/{name}) and shows the result, plus the CLI equivalent.
"use strict";

(() => {
  const { h, api, json } = Dash;

  let tenants = [];

  /** Prefills the parameters that name a tenant with the configured one of that provider. */
  function defaultFor(trigger, param) {
    const first = (provider) => tenants.find((t) => t.startsWith(provider + ":"));
    const id = (provider) => (first(provider) || "").split(":").slice(1).join(":");
    const provider = { platform: "whalet" }[surfaceOf(trigger)] || surfaceOf(trigger);
    switch (param) {
      case "partnerId": return id("whalet");
      case "appId": return id("infinia");
      case "merchantNo": return id("pockyt");
      case "tenant": return first(provider) || "";
      default: return "";
    }
  }

  function surfaceOf(name) {
    return name.split(".")[0] || "other";
  }

  function linkFor(result) {
    const id = result && (result.notification || (result.result && result.result.notification));
    return typeof id === "string" ? h("a", { href: `/__sim/ui/notifications/${encodeURIComponent(id)}` }, `Open ${id}`) : null;
  }

  /**
   * One declared parameter (GET /__sim/triggers): `name`, optional `name?`, or alternatives
   * `a|b|c` of which one is given. Alternatives are a choice of the name plus one value, so
   * the form posts the chosen name (never the declaration itself).
   */
  function parse([raw, help]) {
    const optional = raw.endsWith("?");
    return { names: raw.replace(/\?$/, "").split("|"), optional, help: help || "" };
  }

  function paramField(t, slug, p) {
    const id = `t-${slug}-${p.names.join("-")}`;
    const input = h("input", {
      id, name: p.names[0], type: "text", autocomplete: "off", required: !p.optional,
      value: p.names.length === 1 ? defaultFor(t.name, p.names[0]) : "", "aria-describedby": id + "-help",
    });
    const label = h("label", { for: id }, p.names.join(" or "), p.optional ? h("span", { class: "optional" }, " optional") : null);
    if (p.names.length === 1) return h("div", { class: "field" }, label, input, h("span", { class: "help", id: id + "-help" }, p.help));
    const which = h("select", {
      id: id + "-which", "aria-label": `Which of ${p.names.join(", ")}`,
      onchange: () => { input.name = which.value; },
    }, p.names.map((n) => h("option", { value: n }, n)));
    return h("div", { class: "field" }, label, h("div", { class: "either" }, which, input),
      h("span", { class: "help", id: id + "-help" }, p.help));
  }

  function card(t) {
    const slug = t.name.replace(/[^\w-]/g, "-");
    const out = h("div", { class: "trigger-result", role: "status", "aria-live": "polite" });
    const inputs = (t.params || []).map((raw) => paramField(t, slug, parse(raw)));
    const form = h("form", {
      class: "trigger-form", "data-trigger": t.name, "aria-label": t.name, onsubmit: async (e) => {
        e.preventDefault();
        const values = {};
        for (const [k, v] of new FormData(form).entries()) if (String(v).trim()) values[k] = String(v).trim();
        const button = form.querySelector("button[type=submit]");
        button.disabled = true;
        const r = await api("POST", `/__sim/trigger/${encodeURIComponent(t.name)}`, values);
        button.disabled = false;
        Dash.clear(out);
        if (r.ok) {
          out.className = "trigger-result trigger-ok";
          Dash.fill(out, h("p", {}, h("strong", {}, "Done. "), linkFor(r.data && r.data.result)), json(r.data.result));
          Dash.toast(`${t.name} fired`);
        } else {
          out.className = "trigger-result trigger-bad";
          Dash.fill(out, h("p", {}, h("strong", {}, `Refused (HTTP ${r.status}): `), (r.data && r.data.error) || ""));
        }
        Dash.clear(cmd).appendChild(Dash.command(Dash.triggerCommand(t.name, values)));
      },
    }, inputs.length ? h("div", { class: "form-grid" }, inputs) : h("p", { class: "muted" }, "No parameters."),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Fire event")));
    const cmd = h("div", { class: "cli" });
    return h("section", { class: "card trigger", id: "trigger-" + slug, "aria-labelledby": "h-" + slug },
      h("h3", { id: "h-" + slug, class: "mono" }, t.name),
      h("p", {}, t.description),
      form, out, cmd);
  }

  /**
   * Brings the card the address names (`#trigger-<name>`, the links of the coverage view) into
   * view and focuses its first field: the cards are rendered after the page loaded, so the
   * browser's own jump to the anchor found nothing. A search that hides the card is cleared.
   */
  function revealTarget(root) {
    // Card ids are made of [\w-] only, so the fragment needs no decoding.
    const id = location.hash.slice(1);
    if (!id.startsWith("trigger-")) return;
    const target = document.getElementById(id);
    if (!target || !root.contains(target)) return;
    if (target.hidden) {
      const search = root.querySelector("#trigger-search");
      if (search) search.value = "";
      for (const el of root.querySelectorAll(".trigger")) el.hidden = false;
    }
    for (const el of root.querySelectorAll(".trigger-targeted")) el.classList.remove("trigger-targeted");
    target.classList.add("trigger-targeted");
    target.scrollIntoView({ block: "start" });
    const field = target.querySelector("input, select, button");
    if (field) field.focus({ preventScroll: true });
  }

  Dash.view("triggers", {
    async mount(root) {
      window.addEventListener("hashchange", () => revealTarget(root));
      const [list, state] = await Promise.all([api("GET", "/__sim/triggers"), api("GET", "/__sim/state")]);
      if (state.ok && state.data) tenants = Object.keys(state.data.tenants || {});
      if (!list.ok) {
        root.appendChild(Dash.notice((list.data && list.data.error) || `HTTP ${list.status}`, "bad"));
        return;
      }
      const triggers = (list.data && list.data.triggers) || [];
      if (!triggers.length) {
        root.appendChild(Dash.empty("No triggers in this build.", h("p", {}, "Surfaces add their external events (collections, approvals, returns) to ", h("code", {}, "GET /__sim/triggers"), ".")));
        return;
      }
      const groups = new Map();
      for (const t of triggers) {
        const s = surfaceOf(t.name);
        if (!groups.has(s)) groups.set(s, []);
        groups.get(s).push(t);
      }
      const search = h("input", {
        type: "search", id: "trigger-search", placeholder: "collection, binding, payout…", autocomplete: "off",
        oninput: () => {
          const q = search.value.trim().toLowerCase();
          for (const el of root.querySelectorAll(".trigger")) {
            el.hidden = q && !el.textContent.toLowerCase().includes(q);
          }
        },
      });
      Dash.fill(root, 
        h("form", { class: "filters", role: "search", onsubmit: (e) => e.preventDefault() },
          h("label", { class: "field" }, h("span", {}, "Find an event"), search)),
        h("p", { class: "summary" }, h("span", {}, h("strong", {}, String(triggers.length)), triggers.length === 1 ? " event" : " events"),
          h("span", { class: "muted" }, "The same events are available as POST /__sim/trigger/{name} and in scenario timelines.")),
        Array.from(groups, ([s, ts]) => h("section", { class: "group", "aria-label": s },
          h("h2", { class: "group-title" }, s), h("div", { class: "cards cards-2" }, ts.map(card)))));
      revealTarget(root);
    },
  });
})();
