//! The loaded scenarios and the deciding: precedence, counting (`nth`, `first`, `after`,
//! `window`), `chance`, seeded draws, and the decision a rule produces. One lock guards it all;
//! it is held only for short synchronous sections, never across `.await`.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Value};

use super::format::{self, ScenarioFile, Tenant};
use super::{random, timeline, AsyncResult, Decision, OperationCtx, SyncOutcome};
use crate::behaviour::NotifyBehaviour;
use crate::clock::{Clock, ClockMode, Millis};
use crate::tenant::TenantId;

/// One loaded scenario.
pub(super) struct Loaded {
    pub(super) file: ScenarioFile,
    /// The tenant it applies to; None = every tenant.
    pub(super) scope: Option<TenantId>,
    pub(super) source: String,
    pub(super) loaded_at: Millis,
    pub(super) generation: u64,
    pub(super) scheduled: bool,
    pub(super) fired: Vec<Value>,
}

impl Loaded {
    pub(super) fn applies_to(&self, tenant: &TenantId) -> bool {
        self.scope.as_ref().is_none_or(|s| s == tenant)
    }

    /// The view; `cancelled`: what a reset cancelled of its timeline ([`State::cancelled`]).
    fn view(&self, cancelled: &HashMap<u64, Vec<Value>>) -> Value {
        let cancelled: &[Value] = cancelled.get(&self.generation).map_or(&[], Vec::as_slice);
        let cause = |index: usize| {
            cancelled
                .iter()
                .find(|c| c["index"] == json!(index))
                .map(|c| c["by"].clone())
        };
        let rules: Vec<Value> = self
            .file
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| json!(rule_label(r, i)))
            .collect();
        let timeline: Vec<Value> = self
            .file
            .timeline
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut entry = json!({"at": timeline::due(self.loaded_at, e.at), "event": e.event, "params": e.params});
                if let Some(by) = cause(i + 1) {
                    entry["cancelled"] = by;
                }
                entry
            })
            .collect();
        let outages: Vec<Value> = self
            .file
            .outage
            .iter()
            .map(|o| json!({"from": timeline::due(self.loaded_at, o.from), "until": o.until.map(|u| timeline::due(self.loaded_at, u)), "channel": o.channel}))
            .collect();
        json!({
            "name": self.file.name.0,
            "description": self.file.description,
            "tenant": self.scope.as_ref().map(ToString::to_string),
            "seed": self.file.seed,
            "source": self.source,
            "loadedAt": self.loaded_at,
            "rules": rules,
            "timeline": timeline,
            "fired": self.fired,
            "cancelled": cancelled,
            "outages": outages,
        })
    }
}

/// The warning for a scenario scoped to `tenant`, which does not exist: its rules and timeline
/// apply only to that tenant's requests, so none until it exists.
pub fn missing_tenant(tenant: &TenantId) -> String {
    format!("no tenant {tenant} exists (yet); the scenario applies only to that tenant's requests")
}

/// The purpose a `chance` rule draws under: `chance:<scope>/<name>#<rule index>`, the scope
/// being the scenario's tenant or `*` for every tenant (as its timer labels), so two scenarios
/// of the same name (one for the tenant, one for every tenant) each have their own stream and
/// explaining reads the value the decision will draw. Stable across reloads and imports, so a
/// seed gives the same draws.
fn chance_purpose(l: &Loaded, rule: usize) -> String {
    let scope = l
        .scope
        .as_ref()
        .map_or_else(|| "*".to_owned(), ToString::to_string);
    format!("chance:{scope}/{}#{rule}", l.file.name.0)
}

fn rule_label(rule: &format::RuleSpec, index: usize) -> String {
    rule.name
        .clone()
        .unwrap_or_else(|| format!("rule {}", index + 1))
}

/// How often a rule's selectors matched, per tenant (for `nth`, `first`, `after`, `window`).
#[derive(Default, Clone, Copy)]
pub(super) struct Counter {
    pub(super) count: u64,
    pub(super) window_start: Millis,
}

/// An outage started by the `sim.notify.down` trigger.
pub(super) struct ManualOutage {
    pub(super) until: Option<Millis>,
    pub(super) reason: String,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) loaded: Vec<Loaded>,
    pub(super) counters: HashMap<(u64, usize, TenantId), Counter>,
    pub(super) draws: HashMap<(TenantId, String), u64>,
    pub(super) outages: HashMap<Option<TenantId>, ManualOutage>,
    /// By generation: the timeline events of a loaded scenario a reset cancelled before they
    /// fired (`{"index", "event", "at": when, "by": "reset"}`), shown with the scenario.
    pub(super) cancelled: HashMap<u64, Vec<Value>>,
    pub(super) next_generation: u64,
    /// Counts changes (loads, counters, draws, outages), for the data directory.
    pub(super) version: u64,
}

impl State {
    /// Indices of the scenarios that apply to `tenant`, highest precedence first.
    fn precedence(&self, tenant: &TenantId) -> Vec<usize> {
        let scoped = self
            .loaded
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, l)| l.scope.as_ref() == Some(tenant));
        let global = self
            .loaded
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, l)| l.scope.is_none());
        scoped.chain(global).map(|(i, _)| i).collect()
    }

    fn seed_for(&self, tenant: &TenantId) -> u64 {
        self.precedence(tenant)
            .into_iter()
            .find_map(|i| self.loaded.get(i).and_then(|l| l.file.seed))
            .unwrap_or(random::DEFAULT_SEED)
    }

    fn next_draw(&mut self, tenant: &TenantId, purpose: &str, commit: bool) -> u64 {
        let seed = self.seed_for(tenant);
        let key = (tenant.clone(), purpose.to_owned());
        let counter = self.draws.get(&key).copied().unwrap_or(0);
        if commit {
            self.draws.insert(key, counter + 1);
            self.version += 1;
        }
        random::draw(seed, tenant, purpose, counter)
    }
}

/// The loaded scenarios. Cheap to clone.
#[derive(Clone)]
pub struct Scenarios {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) clock: Clock,
    /// (surface, canonical name) of every operation a rule may name (empty: names unchecked),
    /// and the wire names a configuration gives some of them.
    operations: Arc<super::load::OperationNames>,
    /// Held by a bounded load ([`Scenarios::load_within`]) from its check of the bounds to its
    /// insertion, so that two loads cannot both pass the bounds on the same count.
    loading: Arc<Mutex<()>>,
}

impl Default for Scenarios {
    fn default() -> Self {
        Self::new()
    }
}

/// The result of loading: whether it replaced a scenario of the same name and tenant, its view
/// at load, and its generation (to read the view again once its 0s events fired:
/// [`Scenarios::view`]).
#[derive(Debug, Clone)]
pub struct Loading {
    pub replaced: bool,
    pub view: Value,
    pub generation: u64,
}

impl Scenarios {
    /// An engine on its own frozen clock (unit tests); the app uses [`Scenarios::with_clock`].
    pub fn new() -> Self {
        Self::with_clock(Clock::new(ClockMode::Manual, Some(0)))
    }

    pub fn with_clock(clock: Clock) -> Self {
        Self {
            state: Arc::new(Mutex::new(State::default())),
            clock,
            operations: Arc::new(super::load::OperationNames::default()),
            loading: Arc::new(Mutex::new(())),
        }
    }

    /// The engine with the `--scenario` files loaded, in order, each rule's operations checked
    /// against `operations` (surface, canonical name; a wire name a configuration gives one is
    /// pointed to its canonical name). An unreadable or broken file is an error
    /// naming the file, line and reason, and so is a file named as an earlier one for the same
    /// tenant (the second would replace the first, whose `0s` events would never fire).
    /// Timelines start when the core schedules them. The files together must keep within
    /// `limits` (`[scenarios] max_loaded`, `max_rules_loaded`): the file that would pass one is
    /// an error naming the key ([`Scenarios::load_within`]).
    pub fn from_files<C>(
        clock: &Clock,
        paths: &[std::path::PathBuf],
        triggers: &[crate::trigger::TriggerDef<C>],
        operations: impl Into<super::load::OperationNames>,
        limits: &crate::config::ScenariosConfig,
    ) -> anyhow::Result<Self> {
        let mut engine = Self::with_clock(clock.clone());
        engine.operations = Arc::new(operations.into());
        for path in paths {
            let source = path.display().to_string();
            let text = crate::files::read_limited_text(path, crate::files::FileKind::SCENARIO)
                .map_err(|e| anyhow::anyhow!("cannot read scenario file {source:?}: {e}"))?;
            let file = engine
                .parse(&text, &source, triggers, None)
                .map_err(|e| anyhow::anyhow!("scenario rejected: {e}"))?;
            let scope = file.tenant.clone().map(|format::Tenant(t)| t);
            if let Some(first) = engine
                .state
                .lock()
                .loaded
                .iter()
                .find(|l| l.file.name == file.name && l.scope == scope)
            {
                let scope =
                    scope.map_or_else(|| "every tenant".to_owned(), |t| format!("tenant {t}"));
                anyhow::bail!(
                    "scenario files {:?} and {source:?} are both named {:?} for {scope}: the \
                     second would replace the first; rename one (names are per tenant)",
                    first.source,
                    file.name.0
                );
            }
            engine
                .load_within(file, None, &source, limits)
                .map_err(|e| anyhow::anyhow!("scenario file {source:?} not loaded: {e}"))?;
        }
        Ok(engine)
    }

    /// Parses and checks a scenario file for loading: its trigger names and parameters, and the
    /// operations its rules name (against the engine's list; see [`super::load::parse_checked`]).
    /// `scope`: the tenant it will be loaded for (`?tenant=`), which the tenant checks use
    /// instead of the file's.
    pub fn parse<C>(
        &self,
        text: &str,
        source: &str,
        triggers: &[crate::trigger::TriggerDef<C>],
        scope: Option<&TenantId>,
    ) -> Result<ScenarioFile, format::LoadError> {
        let operations = self.operation_names();
        let renamed = &self.operations.renamed;
        super::load::parse_checked(text, source, triggers, &operations, renamed, scope)
    }

    /// Why `operation` is no operation of `surface` a rule could name (the check a rule's
    /// `operation` gets at load, with the nearest name), if it is none. Unchecked when the engine
    /// was given no list (unit tests).
    pub fn unknown_operation(&self, surface: &str, operation: &str) -> Option<String> {
        let operations = self.operation_names();
        if operations.is_empty() {
            return None;
        }
        let renamed = &self.operations.renamed;
        super::load::unknown_operation(Some(surface), operation, &operations, renamed)
            .map(|(_, why)| why)
    }

    /// Why `operation` is not one operation of `surface` to explain: an unknown one (as
    /// [`Self::unknown_operation`]), or a pattern (`connect*`), which a rule may give but a
    /// request never names; the refusal names an operation it matches.
    pub fn not_one_operation(&self, surface: &str, operation: &str) -> Option<String> {
        if let Some(why) = self.unknown_operation(surface, operation) {
            return Some(why);
        }
        if !operation.contains('*') {
            return None;
        }
        let example = self
            .operation_names()
            .into_iter()
            .find(|(s, name)| *s == surface && super::format::pattern_matches(operation, name))
            .map_or(String::new(), |(_, name)| format!(", e.g. {name:?}"));
        Some(format!(
            "{operation:?} is a pattern, and explain answers for one operation as a request names \
             it: name one{example} (`GET /__sim/operations` lists them)"
        ))
    }

    /// (surface, canonical name) of every operation a rule may name, as the loader reads them.
    fn operation_names(&self) -> Vec<(&str, &str)> {
        self.operations
            .operations
            .iter()
            .map(|(surface, name)| (*surface, name.as_str()))
            .collect()
    }

    /// The outbox's delivery gate: fails attempts during an outage.
    pub fn delivery_gate(&self) -> crate::notify::DeliveryGate {
        let engine = self.clone();
        Arc::new(move |tenant, channel, now| engine.outage(tenant, channel, now))
    }

    /// Decides the outcome of one operation, counting it for `nth`/`first`/`after`.
    pub fn decide(&self, ctx: OperationCtx<'_>) -> Decision {
        self.decide_inner(ctx, true, Selecting::Every)
    }

    /// Decides an event that is not a request but is governed by the rules on an operation (money
    /// arriving by trigger or timeline: `mockPayeeNotify`): only the rules that name `ctx`'s
    /// operation select and count it. A rule without `operation` (a blanket rate limit) is
    /// about requests, so the event neither uses up one of its counts nor is decided by it.
    pub fn decide_event(&self, ctx: OperationCtx<'_>) -> Decision {
        self.decide_inner(ctx, true, Selecting::Named)
    }

    /// Whether any loaded rule selects the request `ctx` (so that [`Scenarios::decide`] could
    /// decide or count it), counting nothing: a request no rule selects needs no further look
    /// before its decision, which is then the default.
    pub fn selects_any(&self, ctx: &OperationCtx<'_>) -> bool {
        let state = self.state.lock();
        state.precedence(ctx.tenant).into_iter().any(|si| {
            state.loaded.get(si).is_some_and(|l| {
                l.file
                    .rules
                    .iter()
                    .any(|rule| selects(rule, ctx, Selecting::Every))
            })
        })
    }

    /// What [`Scenarios::decide`] would answer now, without counting (the explain endpoint).
    pub fn explain(&self, ctx: OperationCtx<'_>) -> Decision {
        self.decide_inner(ctx, false, Selecting::Every)
    }

    fn decide_inner(&self, ctx: OperationCtx<'_>, commit: bool, selecting: Selecting) -> Decision {
        let now = self.clock.now();
        let mut state = self.state.lock();
        let mut winner: Option<(usize, usize)> = None;
        for si in state.precedence(ctx.tenant) {
            let (generation, rule_count) = match state.loaded.get(si) {
                Some(l) => (l.generation, l.file.rules.len()),
                None => continue,
            };
            for ri in 0..rule_count {
                let Some(rule) = state.loaded.get(si).and_then(|l| l.file.rules.get(ri)) else {
                    continue;
                };
                if !selects(rule, &ctx, selecting) {
                    continue;
                }
                let (nth, first, after, window, chance) = (
                    rule.nth.map(|n| n.0),
                    rule.first.map(|n| n.0),
                    rule.after,
                    rule.window.map(|w| w.0),
                    rule.chance.map(|c| c.0),
                );
                let key = (generation, ri, ctx.tenant.clone());
                let mut counter = state.counters.get(&key).copied().unwrap_or_default();
                // A window cannot start after now (the clock put back, a counter from a
                // simulator ahead): it started now at the latest, so it ends at most `w` after.
                counter.window_start = counter.window_start.min(now);
                if window.is_some_and(|w| counter.count == 0 || now >= counter.window_start + w) {
                    counter = Counter {
                        count: 0,
                        window_start: now,
                    };
                }
                counter.count += 1;
                let n = counter.count;
                if commit {
                    state.counters.insert(key, counter);
                    state.version += 1;
                }
                if winner.is_some() {
                    continue;
                }
                let by_count = nth.is_none_or(|k| n == k)
                    && first.is_none_or(|k| n <= k)
                    && after.is_none_or(|k| n > k);
                if !by_count {
                    continue;
                }
                if let Some(p) = chance {
                    let purpose = state
                        .loaded
                        .get(si)
                        .map(|l| chance_purpose(l, ri))
                        .unwrap_or_default();
                    if random::unit(state.next_draw(ctx.tenant, &purpose, commit)) >= p {
                        continue;
                    }
                }
                winner = Some((si, ri));
            }
        }
        let Some((si, ri)) = winner else {
            return Decision::default();
        };
        match state.loaded.get(si) {
            Some(l) => match l.file.rules.get(ri) {
                Some(rule) => decision_of(&l.file.name.0, &rule_label(rule, ri), &rule.then),
                None => Decision::default(),
            },
            None => Decision::default(),
        }
    }

    /// Loads (or replaces) a scenario. `scope` overrides the file's `tenant`. The caller
    /// schedules its timeline ([`timeline::schedule_pending`]).
    pub fn load(&self, file: ScenarioFile, scope: Option<TenantId>, source: &str) -> Loading {
        let scope = scope.or_else(|| file.tenant.clone().map(|Tenant(t)| t));
        let name = file.name.0.clone();
        let replaced = self.remove(&name, scope.as_ref());
        let mut state = self.state.lock();
        state.next_generation += 1;
        state.version += 1;
        let loaded = Loaded {
            file,
            scope,
            source: source.to_owned(),
            loaded_at: self.clock.now(),
            generation: state.next_generation,
            scheduled: false,
            fired: Vec::new(),
        };
        let view = loaded.view(&state.cancelled);
        let generation = loaded.generation;
        state.loaded.push(loaded);
        Loading {
            replaced,
            view,
            generation,
        }
    }

    /// Loads (or replaces) a scenario as [`Scenarios::load`] does, unless the loaded scenarios
    /// would then pass `limits`: more than `[scenarios] max_loaded` scenarios, or more than
    /// `[scenarios] max_rules_loaded` rules of all of them together. A replacement (same name and
    /// tenant) counts its new rules instead of the old ones. Refused, nothing changes and the
    /// error names the key, the totals now and with the file, and what to do.
    pub fn load_within(
        &self,
        file: ScenarioFile,
        scope: Option<TenantId>,
        source: &str,
        limits: &crate::config::ScenariosConfig,
    ) -> Result<Loading, String> {
        let _turn = self.loading.lock();
        let scope = scope.or_else(|| file.tenant.clone().map(|Tenant(t)| t));
        {
            let state = self.state.lock();
            let (mut scenarios, mut rules) = (state.loaded.len(), 0usize);
            let mut replaced = None;
            for l in &state.loaded {
                rules += l.file.rules.len();
                if l.file.name == file.name && l.scope == scope {
                    replaced = Some(l.file.rules.len());
                    scenarios -= 1;
                }
            }
            let now = (state.loaded.len(), rules);
            rules = rules - replaced.unwrap_or(0) + file.rules.len();
            scenarios += 1;
            let name = crate::text::echo(&file.name.0);
            let unload = "unload scenarios no longer needed (DELETE \
                          /__sim/scenarios/{name}[?tenant=], or DELETE /__sim/scenarios for all; \
                          GET /__sim/scenarios lists them)";
            if scenarios > limits.max_loaded {
                return Err(format!(
                    "loading scenario {name} would make {scenarios} scenarios loaded, over \
                     [scenarios] max_loaded = {}: {} are loaded now; {unload}, or raise \
                     [scenarios] max_loaded",
                    limits.max_loaded, now.0
                ));
            }
            if rules > limits.max_rules_loaded {
                let replacing = replaced
                    .map(|old| format!(", replacing the loaded one's {old}"))
                    .unwrap_or_default();
                return Err(format!(
                    "loading scenario {name} ({} rules{replacing}) would make {rules} rules \
                     of all loaded scenarios together, over [scenarios] max_rules_loaded = {}: \
                     {} rules are loaded now in {} scenarios; {unload}, or raise [scenarios] \
                     max_rules_loaded",
                    file.rules.len(),
                    limits.max_rules_loaded,
                    now.1,
                    now.0
                ));
            }
        }
        Ok(self.load(file, scope, source))
    }

    /// Removes one scenario, its rules' counters and its pending timeline (a load that replaces
    /// a scenario removes it first). False when it was not loaded.
    pub fn remove(&self, name: &str, scope: Option<&TenantId>) -> bool {
        let removed = {
            let mut state = self.state.lock();
            let before = state.loaded.len();
            state
                .loaded
                .retain(|l| !(l.file.name.0 == name && l.scope.as_ref() == scope));
            // Counters are kept by generation: those of no loaded scenario would count for
            // nothing, yet stay in every snapshot.
            let held: Vec<u64> = state.loaded.iter().map(|l| l.generation).collect();
            state
                .counters
                .retain(|(generation, _, _), _| held.contains(generation));
            state
                .cancelled
                .retain(|generation, _| held.contains(generation));
            state.version += 1;
            before != state.loaded.len()
        };
        if removed {
            self.clock
                .cancel_matching(&timeline::label_prefix(scope, name));
        }
        removed
    }

    /// Removes every scenario (or every scenario scoped to `scope`). Returns how many.
    pub fn remove_all(&self, scope: Option<&TenantId>) -> usize {
        let gone: Vec<(Option<TenantId>, String)> = {
            let state = self.state.lock();
            state
                .loaded
                .iter()
                .filter(|l| scope.is_none() || l.scope.as_ref() == scope)
                .map(|l| (l.scope.clone(), l.file.name.0.clone()))
                .collect()
        };
        for (s, name) in &gone {
            self.remove(name, s.as_ref());
        }
        gone.len()
    }

    /// One warning per loaded scenario scoped to a tenant that does not exist (`exists` says
    /// which do), naming its source: such a scenario applies to no request until that tenant
    /// exists. For the start (`serve --scenario`, a restored snapshot or data dir), where the
    /// tenants are the configuration's, so the warning is the only sign the scenario is idle.
    pub fn missing_tenants(&self, exists: impl Fn(&TenantId) -> bool) -> Vec<String> {
        let state = self.state.lock();
        state
            .loaded
            .iter()
            .filter_map(|l| {
                let tenant = l.scope.as_ref().filter(|t| !exists(t))?;
                Some(format!(
                    "scenario {} ({}): {}",
                    l.file.name.0,
                    l.source,
                    missing_tenant(tenant)
                ))
            })
            .collect()
    }

    /// Views of the loaded scenarios in load order (optionally those applying to one tenant).
    pub fn list(&self, tenant: Option<&TenantId>) -> Vec<Value> {
        let state = self.state.lock();
        state
            .loaded
            .iter()
            .filter(|l| tenant.is_none_or(|t| l.applies_to(t)))
            .map(|l| l.view(&state.cancelled))
            .collect()
    }

    /// The view of the scenario loaded as `generation`, while it is loaded (the load answer
    /// shows what its timeline did by then).
    pub fn view(&self, generation: u64) -> Option<Value> {
        let state = self.state.lock();
        state
            .loaded
            .iter()
            .find(|l| l.generation == generation)
            .map(|l| l.view(&state.cancelled))
    }

    /// The view of one scenario.
    pub fn get(&self, name: &str, scope: Option<&TenantId>) -> Option<Value> {
        let state = self.state.lock();
        state
            .loaded
            .iter()
            .find(|l| l.file.name.0 == name && l.scope.as_ref() == scope)
            .map(|l| l.view(&state.cancelled))
    }

    /// The seed in effect for `tenant`: the highest-precedence applicable scenario's `seed`.
    pub fn seed_for(&self, tenant: &TenantId) -> u64 {
        self.state.lock().seed_for(tenant)
    }

    /// A reproducible 64-bit random value for `tenant` and `purpose` (e.g. `"payout.fee"`):
    /// a pure function of the seed in effect, the tenant, the purpose and how many values this
    /// (tenant, purpose) has drawn since the last reset. Surfaces use it for every random choice.
    pub fn random_u64(&self, tenant: &TenantId, purpose: &str) -> u64 {
        self.state.lock().next_draw(tenant, purpose, true)
    }

    /// A reproducible value in `0..n` (see [`Scenarios::random_u64`]).
    pub fn random_below(&self, tenant: &TenantId, purpose: &str, n: u64) -> u64 {
        random::below(self.random_u64(tenant, purpose), n)
    }

    /// `len` reproducible decimal digits (for ids that look random).
    pub fn random_digits(&self, tenant: &TenantId, purpose: &str, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b'0' + self.random_below(tenant, purpose, 10) as u8))
            .collect()
    }

    /// Forgets counters, random draws and trigger-started outages of `tenant` (or all).
    /// Loaded scenarios stay loaded; the reset cancels the pending timeline events of those
    /// of `tenant` (of every scenario without one), and their views say so.
    pub fn reset(&self, tenant: Option<&TenantId>) {
        let mut state = self.state.lock();
        state.version += 1;
        let now = self.clock.now();
        let mut marks: Vec<(u64, Value)> = Vec::new();
        for l in state
            .loaded
            .iter()
            .filter(|l| l.scheduled && tenant.is_none_or(|t| l.scope.as_ref() == Some(t)))
        {
            let done = |index: usize| {
                let index = json!(index);
                l.fired.iter().any(|f| f["index"] == index)
                    || state
                        .cancelled
                        .get(&l.generation)
                        .is_some_and(|c| c.iter().any(|c| c["index"] == index))
            };
            for (i, e) in l.file.timeline.iter().enumerate() {
                if !done(i + 1) {
                    marks.push((
                        l.generation,
                        json!({"index": i + 1, "event": e.event, "at": now, "by": "reset"}),
                    ));
                }
            }
        }
        for (generation, mark) in marks {
            state.cancelled.entry(generation).or_default().push(mark);
        }
        let keep = |t: &TenantId| tenant.is_some_and(|wanted| wanted != t);
        state.counters.retain(|(_, _, t), _| keep(t));
        state.draws.retain(|(t, _), _| keep(t));
        match tenant {
            None => state.outages.clear(),
            Some(t) => {
                state.outages.remove(&Some(t.clone()));
            }
        }
    }
}

/// Which rules may select what is being decided.
#[derive(Clone, Copy, PartialEq)]
enum Selecting {
    /// A request: every rule whose selectors match it.
    Every,
    /// An event governed by an operation's rules: only those that name the operation.
    Named,
}

fn selects(rule: &format::RuleSpec, ctx: &OperationCtx<'_>, selecting: Selecting) -> bool {
    let operation = match &rule.operation {
        Some(o) => o.matches(ctx.operation),
        None => selecting == Selecting::Every,
    };
    rule.surface.is_none_or(|s| s.as_str() == ctx.surface)
        && operation
        && rule.tenant.as_ref().is_none_or(|Tenant(t)| t == ctx.tenant)
        && rule.when.iter().all(|(path, p)| p.holds(ctx.fields, path))
}

fn decision_of(scenario: &str, rule: &str, then: &format::ThenSpec) -> Decision {
    let sync = (then.code.is_some()
        || then.detail.is_some()
        || then.http_status.is_some()
        || then.drop_connection)
        .then(|| SyncOutcome {
            code: then.code.clone(),
            detail: then.detail.clone(),
            http_status: then.http_status.map(|s| s.0),
            drop_connection: then.drop_connection,
        });
    let result = then.result.map(|outcome| AsyncResult {
        outcome,
        status: then.status.clone(),
        reason: then.reason.clone(),
    });
    Decision {
        rule: Some(rule.to_owned()),
        sync,
        latency_ms: then.latency_ms.0,
        result,
        delay_ms: then.delay.map(|d| d.0),
        notify: NotifyBehaviour {
            delay_ms: then.notify.delay.map_or(0, |d| d.0),
            duplicate: then.notify.duplicate,
            suppress: then.notify.suppress,
            corrupt_signature: then.notify.corrupt_signature,
            reorder: then.notify.reorder,
        },
        values: then.values.clone(),
        scenario: Some(scenario.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::Provider;
    use crate::trigger::TriggerDef;

    fn never((): (), _: serde_json::Map<String, Value>) -> crate::trigger::TriggerFuture {
        Box::pin(async { Err("not run in these tests".to_owned()) })
    }

    const TRIGGERS: &[TriggerDef<()>] = &[TriggerDef {
        name: "whalet.collection.received",
        description: "",
        params: &[],
        run: never,
    }];

    /// A scenario of two events (0s and 1m) loaded for `scope`, its timeline scheduled and its
    /// first event fired; answers its generation.
    fn loaded(engine: &Scenarios, scope: Option<TenantId>) -> u64 {
        let text =
            "name = \"tl\"\n[[timeline]]\nat = \"0s\"\nevent = \"whalet.collection.received\"\n\
                    [[timeline]]\nat = \"1m\"\nevent = \"whalet.collection.received\"\n";
        let file = format::parse(text, "tl.toml", TRIGGERS).unwrap();
        let generation = engine.load(file, scope, "tl.toml").generation;
        assert_eq!(engine.take_unscheduled().len(), 1);
        engine.record_fired(
            generation,
            json!({"index": 1, "event": "whalet.collection.received", "ok": true}),
        );
        generation
    }

    /// Each timeline entry's `cancelled`, and the `[index, by]` of each listed under `cancelled`.
    fn cancelled(view: &Value) -> (Value, Value) {
        let marked: Vec<Value> = view["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["cancelled"].clone())
            .collect();
        let listed: Vec<Value> = view["cancelled"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| json!([c["index"], c["by"]]))
            .collect();
        (json!(marked), json!(listed))
    }

    #[test]
    fn a_reset_marks_the_unfired_events_of_the_scenarios_it_concerns_cancelled() {
        let engine = Scenarios::new();
        let t = TenantId::new(Provider::Whalet, "1");
        let other = TenantId::new(Provider::Whalet, "2");
        let generation = loaded(&engine, Some(t.clone()));
        // Another tenant's reset concerns neither this scenario nor its timers.
        engine.reset(Some(&other));
        let view = engine.view(generation).unwrap();
        assert_eq!(cancelled(&view), (json!([null, null]), json!([])), "{view}");
        engine.reset(Some(&t));
        engine.reset(None);
        let view = engine.view(generation).unwrap();
        // The fired one is not cancelled; the other is, once, by a reset.
        assert_eq!(
            cancelled(&view),
            (json!([null, "reset"]), json!([[2, "reset"]])),
            "{view}"
        );
        // Loaded again: nothing cancelled.
        let generation = loaded(&engine, Some(t));
        let view = engine.view(generation).unwrap();
        assert_eq!(view["cancelled"], json!([]), "{view}");
    }

    /// Regression: the marks a reset made were not in the engine's record, so after a restart
    /// on a data dir (or an import) a cancelled event showed as pending, past its time, and
    /// never fired. They go with the scenario; a record without them clears a generation's.
    #[test]
    fn a_resets_marks_go_with_the_scenario_through_export_and_import() {
        let engine = Scenarios::new();
        let t = TenantId::new(Provider::Whalet, "1");
        let generation = loaded(&engine, Some(t.clone()));
        engine.reset(Some(&t));
        let record = engine.export(None);
        assert_eq!(record.loaded[0].cancelled.len(), 1, "{record:?}");
        let restarted = Scenarios::new();
        restarted.import(record.clone(), None, TRIGGERS).unwrap();
        let view = restarted.view(generation).unwrap();
        assert_eq!(
            cancelled(&view),
            (json!([null, "reset"]), json!([[2, "reset"]])),
            "{view}"
        );
        assert_eq!(restarted.export(None), record);
        // The same generation imported for the tenant (whose scenarios the caller removes
        // first) without marks shows none.
        let mut fresh = record;
        fresh.loaded[0].cancelled.clear();
        restarted.remove_all(Some(&t));
        assert_eq!(
            restarted.import(fresh, Some(&t), TRIGGERS).unwrap(),
            [(generation, generation)]
        );
        let view = restarted.view(generation).unwrap();
        assert_eq!(cancelled(&view), (json!([null, null]), json!([])), "{view}");
    }
}
