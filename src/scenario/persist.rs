//! The loaded scenarios as data, for snapshots and the data directory: each scenario with the
//! text it was loaded from, its tenant, load time, generation and what its timeline fired; the
//! rules' occurrence counters (`nth`, `first`, `after`, `window`), the seeded draws and the
//! outages started by `sim.notify.down`. Restoring parses each text again.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::engine::{Counter, Loaded, ManualOutage, State};
use super::Scenarios;
use crate::clock::Millis;
use crate::tenant::TenantId;
use crate::trigger::TriggerDef;

/// Everything the engine holds, as data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScenariosRecord {
    pub next_generation: u64,
    pub loaded: Vec<LoadedRecord>,
    pub counters: Vec<CounterRecord>,
    pub draws: Vec<DrawRecord>,
    pub outages: Vec<OutageRecord>,
    /// In a one-tenant record: the scenarios of every tenant that the tenant's counters count
    /// under (they are not in `loaded`), so an import puts a counter back only under the same
    /// scenario, not under another that has the same generation on the importing simulator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub every_tenant: Vec<ScenarioRef>,
}

/// Which scenario a generation was: its name and the SHA-256 of its text (hex).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScenarioRef {
    pub generation: u64,
    pub name: String,
    pub sha256: String,
}

/// The SHA-256 of a scenario's text, as lowercase hex: with its name, what tells a scenario from
/// another loaded under the same generation elsewhere.
fn text_digest(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadedRecord {
    pub name: String,
    pub tenant: Option<String>,
    /// Where it was loaded from (a file name, or the control plane).
    pub source: String,
    /// The scenario text (TOML or JSON).
    pub text: String,
    pub loaded_at: Millis,
    pub generation: u64,
    pub fired: Vec<Value>,
    /// The timeline events a reset cancelled before they fired (`{"index", "event", "at",
    /// "by"}`), shown with the scenario; left out when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancelled: Vec<Value>,
}

/// How often rule `rule` of the scenario loaded as `generation` matched for `tenant`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CounterRecord {
    pub generation: u64,
    pub rule: usize,
    pub tenant: String,
    pub count: u64,
    pub window_start: Millis,
}

/// How many seeded values `tenant` drew for `purpose`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DrawRecord {
    pub tenant: String,
    pub purpose: String,
    pub count: u64,
}

/// An outage started by `sim.notify.down` (tenant None: every tenant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutageRecord {
    pub tenant: Option<String>,
    pub until: Option<Millis>,
    pub reason: String,
}

/// Refuses a scenario `earlier` ones of the same record already hold: the same name and tenant
/// (the engine keeps one per name and tenant, so one of them would be dropped silently), or the
/// same generation (which tells a scenario's pending timeline and counters from another's).
fn same_as_earlier(earlier: &[LoadedRecord], l: &LoadedRecord) -> Result<(), String> {
    let tenant = l.tenant.as_deref().unwrap_or("every tenant");
    if let Some(j) = earlier
        .iter()
        .position(|e| e.name == l.name && e.tenant == l.tenant)
    {
        return Err(format!(
            "scenario {:?} of {tenant} is loaded twice (also scenarios.loaded[{j}]); \
             a name is loaded once per tenant: keep one of them",
            l.name
        ));
    }
    if let Some(j) = earlier.iter().position(|e| e.generation == l.generation) {
        return Err(format!(
            "scenario {:?}: generation {} is also scenarios.loaded[{j}]'s; each loaded \
             scenario has its own generation",
            l.name, l.generation
        ));
    }
    Ok(())
}

/// The generation a one-tenant import gives a scenario exported as `wanted`: that one, so that
/// export → import → export gives the same bytes, unless a scenario still loaded (another
/// tenant's, or every tenant's, from a snapshot of another server) holds it; then a fresh one.
/// No old timer needs a new generation to fence it: the tenant's pending timers were cancelled
/// while no unit of work ran (`crate::cut`), as a whole import, which keeps every generation,
/// relies on too.
fn generation_for(state: &mut State, wanted: u64) -> u64 {
    let taken = |g: u64| g == 0 || state.loaded.iter().any(|l| l.generation == g);
    let generation = if taken(wanted) {
        state.next_generation + 1
    } else {
        wanted
    };
    state.next_generation = state.next_generation.max(generation);
    generation
}

/// Refuses a counter that could never count: one of a rule its scenario does not have, or of
/// another tenant than its scenario's, or (in a whole import, `whole`) of a generation no
/// scenario of the record holds. A one-tenant import may carry counters of a scenario of
/// every tenant that this server holds, or not; those it does not hold are dropped.
fn counter_fits(
    shapes: &[(u64, usize, Option<TenantId>)],
    c: &CounterRecord,
    t: &TenantId,
    whole: bool,
) -> Result<(), String> {
    let Some((_, rules, scope)) = shapes.iter().find(|(g, _, _)| *g == c.generation) else {
        if !whole {
            return Ok(());
        }
        let held: Vec<String> = shapes.iter().map(|(g, _, _)| g.to_string()).collect();
        return Err(format!(
            "generation {} is no loaded scenario's (scenarios.loaded holds {}); a counter \
             counts a rule of a loaded scenario: remove it or load its scenario",
            c.generation,
            if held.is_empty() {
                "none".to_owned()
            } else {
                held.join(", ")
            }
        ));
    };
    if c.rule >= *rules {
        return Err(format!(
            "rule {} of generation {}, whose scenario has {rules} rule(s) (numbered from 0)",
            c.rule, c.generation
        ));
    }
    if let Some(scope) = scope.as_ref().filter(|s| *s != t) {
        return Err(format!(
            "tenant {t} counts a rule of generation {}, a scenario of {scope} only",
            c.generation
        ));
    }
    Ok(())
}

fn parse_tenant(text: &str) -> Result<TenantId, String> {
    TenantId::parse(text).ok_or_else(|| format!("scenarios: tenant {text:?} is not provider:id"))
}

impl Scenarios {
    /// Counts every change (loads, counters, draws, outages, fired timeline events).
    pub fn version(&self) -> u64 {
        self.state.lock().version
    }

    /// The engine's state as data; `tenant` keeps only what is scoped to that tenant. Sorted,
    /// so the same state gives the same record.
    pub fn export(&self, tenant: Option<&TenantId>) -> ScenariosRecord {
        let state = self.state.lock();
        let wanted = |t: Option<&TenantId>| tenant.is_none() || t == tenant;
        let loaded = state
            .loaded
            .iter()
            .filter(|l| wanted(l.scope.as_ref()))
            .map(|l| LoadedRecord {
                name: l.file.name.0.clone(),
                tenant: l.scope.as_ref().map(ToString::to_string),
                source: l.source.clone(),
                text: l.file.text.clone(),
                loaded_at: l.loaded_at,
                generation: l.generation,
                fired: l.fired.clone(),
                cancelled: state
                    .cancelled
                    .get(&l.generation)
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect();
        let mut counters: Vec<CounterRecord> = state
            .counters
            .iter()
            .filter(|((_, _, t), _)| wanted(Some(t)))
            .map(|((generation, rule, t), c)| CounterRecord {
                generation: *generation,
                rule: *rule,
                tenant: t.to_string(),
                count: c.count,
                window_start: c.window_start,
            })
            .collect();
        counters.sort_by(|a, b| {
            (a.generation, a.rule, &a.tenant).cmp(&(b.generation, b.rule, &b.tenant))
        });
        let mut draws: Vec<DrawRecord> = state
            .draws
            .iter()
            .filter(|((t, _), _)| wanted(Some(t)))
            .map(|((t, purpose), count)| DrawRecord {
                tenant: t.to_string(),
                purpose: purpose.clone(),
                count: *count,
            })
            .collect();
        draws.sort_by(|a, b| (&a.tenant, &a.purpose).cmp(&(&b.tenant, &b.purpose)));
        let mut outages: Vec<OutageRecord> = state
            .outages
            .iter()
            .filter(|(t, _)| tenant.is_none() || t.as_ref() == tenant)
            .map(|(t, o)| OutageRecord {
                tenant: t.as_ref().map(ToString::to_string),
                until: o.until,
                reason: o.reason.clone(),
            })
            .collect();
        outages.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        // A one-tenant record names the scenarios of every tenant its counters count under.
        let mut every_tenant: Vec<ScenarioRef> = match tenant {
            None => Vec::new(),
            Some(_) => state
                .loaded
                .iter()
                .filter(|l| l.scope.is_none())
                .filter(|l| counters.iter().any(|c| c.generation == l.generation))
                .map(|l| ScenarioRef {
                    generation: l.generation,
                    name: l.file.name.0.clone(),
                    sha256: text_digest(&l.file.text),
                })
                .collect(),
        };
        every_tenant.sort_by_key(|r| r.generation);
        ScenariosRecord {
            next_generation: state.next_generation,
            loaded,
            counters,
            draws,
            outages,
            every_tenant,
        }
    }

    /// Replaces the engine's state (`tenant` None) or adds one tenant's scenarios, counters,
    /// draws and outages (after the caller removed that tenant's), parsing each text again with
    /// `triggers`. A tenant's scenarios keep their generations unless another scenario holds
    /// one ([`generation_for`]); the returned pairs (old, new) let the caller move pending
    /// timeline timers along. A scenario twice in the record (same name and tenant, or same
    /// generation) is refused. Checked before anything changes.
    pub fn import<C>(
        &self,
        record: ScenariosRecord,
        tenant: Option<&TenantId>,
        triggers: &[TriggerDef<C>],
    ) -> Result<Vec<(u64, u64)>, String> {
        let mut loaded = Vec::new();
        // Every scenario of the record: generation, rules, tenant (the counters are checked
        // against them).
        let mut shapes = Vec::new();
        for (i, l) in record.loaded.iter().enumerate() {
            let scope = l.tenant.as_deref().map(parse_tenant).transpose()?;
            // Checked for the tenant it was loaded for (which `?tenant=` may have set).
            let file = super::load::parse_for(&l.text, &l.source, triggers, scope.as_ref())
                .map_err(|e| format!("scenario {:?}: {e}", l.name))?;
            // The engine names a scenario by its text: a record whose `name` says another
            // would pass the duplicate check below under one name and load under the other.
            if file.name.0 != l.name {
                return Err(format!(
                    "scenarios.loaded[{i}]: the record's name {:?} disagrees with the name its \
                     text gives ({:?}); a scenario is named by its text: make the two agree \
                     (a name is loaded once per tenant)",
                    l.name, file.name.0
                ));
            }
            same_as_earlier(&record.loaded[..i], l)
                .map_err(|e| format!("scenarios.loaded[{i}]: {e}"))?;
            shapes.push((l.generation, file.rules.len(), scope.clone()));
            if tenant.is_some() && scope.as_ref() != tenant {
                continue;
            }
            loaded.push((l, file, scope));
        }
        let mut counters = Vec::new();
        for (i, c) in record.counters.iter().enumerate() {
            let t = parse_tenant(&c.tenant)?;
            counter_fits(&shapes, c, &t, tenant.is_none())
                .map_err(|e| format!("scenarios.counters[{i}]: {e}"))?;
            counters.push((c, t));
        }
        let mut draws = Vec::new();
        for d in &record.draws {
            draws.push((d, parse_tenant(&d.tenant)?));
        }
        let mut outages = Vec::new();
        for o in &record.outages {
            outages.push((o, o.tenant.as_deref().map(parse_tenant).transpose()?));
        }
        let now = self.clock.now();
        let mut state = self.state.lock();
        let mut moved = Vec::new();
        if tenant.is_none() {
            state.loaded.clear();
            state.counters.clear();
            state.draws.clear();
            state.outages.clear();
            state.cancelled.clear();
            state.next_generation = state.next_generation.max(record.next_generation);
        }
        for (l, file, scope) in loaded {
            let generation = match tenant {
                None => l.generation,
                Some(_) => {
                    let generation = generation_for(&mut state, l.generation);
                    moved.push((l.generation, generation));
                    generation
                }
            };
            state.loaded.push(Loaded {
                file,
                scope,
                source: l.source.clone(),
                loaded_at: l.loaded_at,
                generation,
                scheduled: true,
                fired: l.fired.clone(),
            });
            // Set, not added to: a generation taken over from a scenario removed before.
            match l.cancelled.is_empty() {
                true => state.cancelled.remove(&generation),
                false => state.cancelled.insert(generation, l.cancelled.clone()),
            };
        }
        // A tenant's counters of a scenario of every tenant still loaded keep its generation,
        // when it is the same scenario: the same generation, name and text as the record says
        // its counters counted under (a scenario of every tenant in `loaded`, or `everyTenant`).
        // Counters of a scenario not loaded here (another simulator's with the same generation,
        // or a record that does not say which it was) are dropped.
        let global: Vec<(u64, String, String)> = state
            .loaded
            .iter()
            .filter(|l| l.scope.is_none())
            .map(|l| {
                (
                    l.generation,
                    l.file.name.0.clone(),
                    text_digest(&l.file.text),
                )
            })
            .collect();
        let counted_under = |g: u64| -> Option<(String, String)> {
            record
                .loaded
                .iter()
                .find(|l| l.generation == g && l.tenant.is_none())
                .map(|l| (l.name.clone(), text_digest(&l.text)))
                .or_else(|| {
                    record
                        .every_tenant
                        .iter()
                        .find(|r| r.generation == g)
                        .map(|r| (r.name.clone(), r.sha256.clone()))
                })
        };
        let new_generation = |g: u64| match tenant {
            None => Some(g),
            Some(_) => moved
                .iter()
                .find(|(old, _)| *old == g)
                .map(|(_, new)| *new)
                .or_else(|| {
                    let (name, digest) = counted_under(g)?;
                    global
                        .iter()
                        .any(|(held, n, d)| *held == g && *n == name && *d == digest)
                        .then_some(g)
                }),
        };
        // A window cannot start after the importing simulator's now (a snapshot of a simulator
        // whose clock is ahead): it is clamped to now, so it ends at most its length from now.
        for (c, t) in counters {
            if tenant.is_some_and(|wanted| wanted != &t) {
                continue;
            }
            if let Some(g) = new_generation(c.generation) {
                state.counters.insert(
                    (g, c.rule, t),
                    Counter {
                        count: c.count,
                        window_start: c.window_start.min(now),
                    },
                );
            }
        }
        for (d, t) in draws {
            if tenant.is_none_or(|wanted| wanted == &t) {
                state.draws.insert((t, d.purpose.clone()), d.count);
            }
        }
        for (o, t) in outages {
            if tenant.is_none() || t.as_ref() == tenant {
                state.outages.insert(
                    t,
                    ManualOutage {
                        until: o.until,
                        reason: o.reason.clone(),
                    },
                );
            }
        }
        state.version += 1;
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::tenant::Provider;

    const TEXT: &str =
        "name = \"r\"\n[[rule]]\noperation = \"connectivity\"\n[rule.then]\nlatency_ms = 1\n";

    fn record(tenant: &TenantId, generation: u64) -> ScenariosRecord {
        ScenariosRecord {
            next_generation: generation,
            loaded: vec![LoadedRecord {
                name: "r".into(),
                tenant: Some(tenant.to_string()),
                source: "test".into(),
                text: TEXT.into(),
                loaded_at: 0,
                generation,
                fired: Vec::new(),
                cancelled: Vec::new(),
            }],
            ..ScenariosRecord::default()
        }
    }

    /// A one-tenant import keeps a free generation (and lifts `nextGeneration` to it), and
    /// gives a fresh one only when a scenario still loaded holds it.
    #[test]
    fn a_one_tenant_import_keeps_its_generation_unless_another_scenario_holds_it() {
        let engine = Scenarios::new();
        let file = super::super::format::parse::<()>(TEXT, "global.toml", &[]).unwrap();
        engine.load(file, None, "global.toml");
        let t = TenantId::new(Provider::Whalet, "1");
        let none: &[TriggerDef<()>] = &[];
        assert_eq!(
            engine.import(record(&t, 5), Some(&t), none).unwrap(),
            [(5, 5)]
        );
        assert_eq!(engine.export(None).next_generation, 5);
        let other = TenantId::new(Provider::Whalet, "2");
        assert_eq!(
            engine
                .import(record(&other, 1), Some(&other), none)
                .unwrap(),
            [(1, 6)]
        );
        let mut twice = record(&t, 7);
        twice.loaded.push(twice.loaded[0].clone());
        let e = engine.import(twice, None, none).unwrap_err();
        assert!(
            e.starts_with("scenarios.loaded[1]: scenario \"r\" of whalet:1 is loaded twice"),
            "{e}"
        );
    }

    /// Regression: a record whose `name` disagreed with its text's was loaded under the text's
    /// name after the duplicate check had read the record's, so two scenarios of the same name
    /// and tenant were loaded (an export of them was then refused, and neither could be
    /// deleted on its own). Refused, naming the record and both names.
    #[test]
    fn a_record_whose_name_disagrees_with_its_text_is_refused() {
        let engine = Scenarios::new();
        let t = TenantId::new(Provider::Whalet, "1");
        let none: &[TriggerDef<()>] = &[];
        let mut edited = record(&t, 1);
        let mut second = edited.loaded[0].clone();
        second.name = "other".into();
        second.generation = 2;
        edited.loaded.push(second);
        let e = engine.import(edited, None, none).unwrap_err();
        assert!(
            e.starts_with(
                "scenarios.loaded[1]: the record's name \"other\" disagrees with the name its \
                 text gives (\"r\")"
            ),
            "{e}"
        );
        assert!(engine.export(None).loaded.is_empty(), "nothing was loaded");
    }

    /// Regression: counters that could never count (no such generation, no such rule, another
    /// tenant's) were imported and kept; they are refused, naming the counter, and nothing
    /// changes.
    #[test]
    fn a_counter_of_no_loaded_rule_is_refused() {
        let engine = Scenarios::new();
        let t = TenantId::new(Provider::Whalet, "1");
        let none: &[TriggerDef<()>] = &[];
        let counter = |generation, rule, tenant: &TenantId| CounterRecord {
            generation,
            rule,
            tenant: tenant.to_string(),
            count: 2,
            window_start: 0,
        };
        let other = TenantId::new(Provider::Whalet, "2");
        for (c, said) in [
            (
                counter(9, 0, &t),
                "generation 9 is no loaded scenario's (scenarios.loaded holds 3)",
            ),
            (
                counter(3, 1, &t),
                "rule 1 of generation 3, whose scenario has 1 rule(s)",
            ),
            (
                counter(3, 0, &other),
                "tenant whalet:2 counts a rule of generation 3",
            ),
        ] {
            let mut r = record(&t, 3);
            r.counters = vec![counter(3, 0, &t), c];
            let e = engine.import(r, None, none).unwrap_err();
            assert!(
                e.starts_with(&format!("scenarios.counters[1]: {said}")),
                "{e}"
            );
            assert_eq!(engine.export(None), ScenariosRecord::default());
        }
        let mut r = record(&t, 3);
        r.counters = vec![counter(3, 0, &t)];
        engine.import(r.clone(), None, none).unwrap();
        assert_eq!(engine.export(None).counters, r.counters);
        // A one-tenant import may bring counters of a scenario of every tenant it does not
        // hold: dropped, not refused.
        r.counters.push(counter(9, 0, &t));
        let fresh = Scenarios::new();
        fresh.import(r, Some(&t), none).unwrap();
        assert_eq!(fresh.export(None).counters, [counter(3, 0, &t)]);
    }
}
