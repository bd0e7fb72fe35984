// The clock (mode, now, advance by N seconds, pending timers) and the loaded scenarios.
// Data: GET/POST /__sim/clock, POST /__sim/clock/advance, GET /__sim/scenarios (optional).
"use strict";

(() => {
  const { h, api, badge, json, chinaTime } = Dash;

  let nowBox = null;
  let timersBox = null;
  let modeForm = null;
  let scenariosBox = null;
  /** What the last scenario load warned of (below the form: the list above it is redrawn). */
  let loadNote = null;
  let lastSig = "";
  let scenariosSig = "";
  let ticks = 0;

  async function advance(body, label) {
    const r = await api("POST", "/__sim/clock/advance", body);
    if (r.ok) Dash.toast(`Advanced ${label}: ${r.data.ran || 0} timer(s) ran; now ${r.data.nowText}`);
    else Dash.toast((r.data && r.data.error) || `HTTP ${r.status}`, "bad");
    lastSig = "";
    await Dash.refresh();
  }

  function advanceForm() {
    const input = h("input", {
      id: "advance-seconds", name: "seconds", type: "number", min: "0", step: "any", value: "1",
      inputmode: "decimal", required: true, "aria-describedby": "advance-help",
    });
    const form = h("form", {
      class: "inline-form", id: "advance-form", "aria-label": "Advance the virtual clock", onsubmit: (e) => {
        e.preventDefault();
        const seconds = Number(input.value);
        if (!(seconds >= 0)) { Dash.toast("Enter a number of seconds (0 or more)", "bad"); return; }
        advance({ seconds }, `${seconds} s`);
      },
    },
    h("label", { for: "advance-seconds" }, "Advance by"),
    h("div", { class: "input-unit" }, input, h("span", {}, "seconds")),
    h("button", { type: "submit", class: "btn btn-primary", id: "advance-submit" }, "Advance"));
    const quick = h("div", { class: "quick", role: "group", "aria-label": "Quick advance" },
      [[1, "+1 s"], [10, "+10 s"], [60, "+1 min"], [3600, "+1 h"], [86400, "+1 day"]].map(([s, t]) =>
        h("button", { type: "button", class: "btn btn-small", onclick: () => advance({ seconds: s }, t) }, t)),
      h("button", {
        type: "button", class: "btn btn-small", id: "advance-next", onclick: () => {
          const c = Dash.state.clock;
          const next = c && (c.pending || []).map((p) => p.due).sort((a, b) => a - b)[0];
          if (next === undefined) { Dash.toast("No timer is pending", "warn"); return; }
          advance({ ms: Math.max(0, next - c.now) }, "to the next timer");
        },
      }, "To next timer"));
    return h("div", {}, form, quick,
      h("p", { class: "muted", id: "advance-help" },
        "Everything due in between runs in order: notification retries, asynchronous results, scenario timelines."));
  }

  /**
   * The mode form. It shows no mode as current, and cannot be applied, until the clock was read
   * (`showMode`): drawn with a guess, it would offer to switch a real clock to the guess.
   */
  function modeControls() {
    const scale = h("input", {
      name: "scale", type: "number", step: "any", value: "",
      // The bounds POST /__sim/clock accepts, served by the page's shell from the clock's own.
      min: document.body.dataset.minScale, max: document.body.dataset.maxScale,
      "aria-label": "Wall seconds per virtual second",
    });
    const radios = [["manual", "Manual: time moves only when you advance it"],
      ["real", "Real: one virtual second per second"], ["scaled", "Scaled: faster or slower than real"]]
      .map(([v, t]) => h("label", { class: "radio" },
        h("input", { type: "radio", name: "mode", value: v }), h("span", {}, t)));
    return h("form", {
      class: "mode-form", "aria-label": "Clock mode", onsubmit: async (e) => {
        e.preventDefault();
        const picked = new FormData(e.target).get("mode");
        const body = picked === "scaled" ? { mode: "scaled", scale: Number(scale.value) } : { mode: picked };
        const r = await api("POST", "/__sim/clock", body);
        Dash.toast(r.ok ? `Clock mode: ${picked}` : (r.data && r.data.error) || `HTTP ${r.status}`, r.ok ? "ok" : "bad");
        lastSig = "";
        await Dash.refresh();
      },
    }, h("fieldset", {}, h("legend", {}, "Mode"), radios,
      h("label", { class: "field field-inline" }, h("span", {}, "Scale (wall s per virtual s)"), scale)),
    h("button", {
      type: "submit", class: "btn", id: "mode-apply", disabled: true,
      title: "The clock has not been read yet",
    }, "Apply mode"));
  }

  /** The clock was read: its mode is shown as current (unless the user is changing the form),
   *  the scale field gets the clock's scale the first time, and the form can be applied. */
  function showMode(mode) {
    const apply = modeForm.querySelector("#mode-apply");
    const first = apply.disabled;
    if (first || !modeForm.contains(document.activeElement)) {
      const radio = modeForm.querySelector(`input[name=mode][value="${mode.mode}"]`);
      if (radio) radio.checked = true;
    }
    if (first) {
      modeForm.querySelector("input[name=scale]").value = String(mode.scale || 0.01);
      apply.disabled = false;
      apply.removeAttribute("title");
    }
  }

  function renderClock(c) {
    Dash.fill(Dash.clear(nowBox), 
      h("div", { class: "big-time mono", id: "clock-big" }, c.nowText || chinaTime(c.now)),
      h("div", { class: "muted" }, `UTC ${c.nowUtc || ""} · epoch ${c.now} ms · Whalet times are UTC+8`),
      h("div", {}, badge(c.mode.mode, c.mode.mode === "manual" ? "info" : "ok"),
        c.mode.mode === "scaled" ? h("span", { class: "muted" }, ` ×${c.mode.scale}`) : null));
    const pending = (c.pending || []).slice().sort((a, b) => a.due - b.due);
    Dash.fill(Dash.clear(timersBox), pending.length
      ? h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Pending timers" },
        h("table", {}, h("thead", {}, h("tr", {}, ["due (UTC+8)", "in", "what"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, pending.map((p) => h("tr", {}, h("td", { class: "mono" }, chinaTime(p.due)), h("td", {}, Dash.rel(p.due)),
            h("td", { class: "mono" }, p.label))))))
      : Dash.empty("Nothing is scheduled.", h("p", { class: "muted" }, "Retries and asynchronous results appear here until they fall due.")));
  }

  function count(v) {
    return Array.isArray(v) ? v.length : typeof v === "number" ? v : undefined;
  }

  function scenarioItem(s) {
    const rules = Array.isArray(s.rules) ? s.rules : [];
    const timeline = Array.isArray(s.timeline) ? s.timeline : [];
    const fired = count(s.fired);
    // Events a reset cancelled before they fired (`cancelled`: by what): they never fire.
    const cancelled = timeline.filter((e) => e && e.cancelled).length;
    // The every-tenant scenario is `?tenant=*`: a tenant's scenario may share its name.
    const scope = `?tenant=${s.tenant ? encodeURIComponent(s.tenant) : "*"}`;
    const remove = h("button", {
      type: "button", class: "btn btn-small btn-quiet", onclick: async () => {
        const r = await api("DELETE", `/__sim/scenarios/${encodeURIComponent(s.name)}${scope}`);
        Dash.toast(r.ok ? `Scenario ${s.name} removed` : (r.data && r.data.error) || `HTTP ${r.status}`, r.ok ? "ok" : "bad");
        await loadScenarios();
      },
    }, "Remove");
    return h("li", { class: "scenario" },
      h("div", { class: "scenario-head" }, h("strong", {}, s.name || "(unnamed)"),
        s.tenant ? badge(s.tenant, "info") : badge("all tenants", "muted"),
        s.seed !== undefined && s.seed !== null ? h("span", { class: "muted" }, `seed ${s.seed}`) : null, remove),
      s.description ? h("p", {}, s.description) : null,
      rules.length ? h("p", { class: "chips" }, h("span", { class: "muted" }, "Rules: "),
        rules.map((r) => h("span", { class: "chip" }, typeof r === "string" ? r : r.name || "rule"))) : null,
      timeline.length ? h("ul", { class: "events" }, timeline.map((e) => h("li", {},
        h("span", { class: "mono" }, typeof e.at === "number" ? chinaTime(e.at).slice(11) : String(e.at)), " ",
        h("span", { class: "mono" }, e.event || ""), " ",
        e.cancelled ? badge(`cancelled by ${e.cancelled}`, "muted") : typeof e.at === "number" ? Dash.rel(e.at) : null))) : null,
      fired !== undefined && timeline.length ? h("p", { class: "muted" }, `${fired} of ${timeline.length} timeline event(s) fired`
        + (cancelled ? `; ${cancelled} cancelled by a reset (they will not fire: load the scenario again to run them)` : "")) : null,
      h("details", {}, h("summary", {}, "Definition"), json(s)));
  }

  function loadForm() {
    const text = h("textarea", {
      id: "scenario-text", name: "scenario", rows: "6", spellcheck: "false",
      placeholder: 'name = "notify-outage"\n[[rule]]\noperation = "connectivity"\n[rule.then]\ncode = "FAILURE"',
    });
    return h("details", { class: "load" }, h("summary", {}, "Load a scenario (TOML)"),
      h("form", {
        onsubmit: async (e) => {
          e.preventDefault();
          const r = await fetch("/__sim/scenarios", { method: "POST", headers: { "content-type": "application/toml" }, body: text.value })
            .then(async (res) => ({ ok: res.ok, status: res.status, data: await res.json().catch(() => null) }))
            .catch((err) => ({ ok: false, status: 0, data: { error: err.message } }));
          // A load can succeed with a warning (a tenant that does not exist yet: its rules apply
          // to no request until it does): said, and kept below the form until the next load.
          const warning = r.ok && r.data && typeof r.data.warning === "string" ? r.data.warning : "";
          if (!r.ok) Dash.toast((r.data && r.data.error) || `HTTP ${r.status}`, "bad");
          else if (warning) Dash.toast(`Scenario loaded, with a warning: ${warning}`, "warn");
          else Dash.toast("Scenario loaded");
          Dash.clear(loadNote);
          if (warning) loadNote.appendChild(Dash.notice(`Scenario loaded, with a warning: ${warning}`, "warn"));
          if (r.ok) text.value = "";
          await loadScenarios();
        },
      }, h("label", { for: "scenario-text", class: "sr-only" }, "Scenario TOML"), text,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "btn" }, "Load scenario"))));
  }

  async function loadScenarios() {
    const r = await api("GET", "/__sim/scenarios");
    const sig = JSON.stringify([r.status, r.data]);
    if (sig === scenariosSig) return;
    scenariosSig = sig;
    Dash.clear(scenariosBox);
    if (r.status === 404 || r.status === 405) {
      scenariosBox.appendChild(h("p", { class: "muted" }, "scenarios: not available in this build."));
      return;
    }
    if (!r.ok) {
      scenariosBox.appendChild(Dash.notice((r.data && r.data.error) || `HTTP ${r.status}`, "bad"));
      return;
    }
    const items = Array.isArray(r.data) ? r.data : (r.data && r.data.scenarios) || [];
    scenariosBox.appendChild(items.length
      ? h("ul", { class: "scenario-list" }, items.map(scenarioItem))
      : Dash.empty("No scenarios loaded: every operation takes the happy path.",
        h("p", {}, "Start with ", h("code", {}, "whalet-sim serve --scenario FILE"), " or load one below.")));
    scenariosBox.appendChild(loadForm());
  }

  async function poll() {
    const c = Dash.state.clock;
    if (c) {
      const sig = JSON.stringify([c.now, c.mode, c.pending]);
      if (sig !== lastSig) {
        lastSig = sig;
        renderClock(c);
        showMode(c.mode);
      }
    }
    if (++ticks % 5 === 0) await loadScenarios();
  }

  Dash.view("clock", {
    async mount(root) {
      nowBox = h("div", { class: "now", "aria-live": "polite" });
      timersBox = h("div", {});
      scenariosBox = h("div", {});
      loadNote = h("div", { class: "load-note", id: "scenario-load-note", role: "status" });
      modeForm = modeControls();
      Dash.fill(root, 
        h("div", { class: "cards cards-2" },
          h("section", { class: "card", "aria-labelledby": "h-now" }, h("h2", { id: "h-now" }, "Now"), nowBox, advanceForm()),
          h("section", { class: "card", "aria-labelledby": "h-mode" }, h("h2", { id: "h-mode" }, "How time moves"), modeForm)),
        h("section", { class: "card", "aria-labelledby": "h-timers" }, h("h2", { id: "h-timers" }, "Pending timers"), timersBox),
        h("section", { class: "card", "aria-labelledby": "h-scen" }, h("h2", { id: "h-scen" }, "Scenarios"), scenariosBox, loadNote));
      await poll();
      await loadScenarios();
    },
    poll,
  });
})();
