//! Durable state as data: the versioned snapshot document (`GET`/`POST /__sim/snapshot`,
//! `serve --snapshot FILE`). A snapshot holds every tenant's state (entities, ledger, requestNo
//! memory, idempotency records, uploaded files), the delivery ledger with each notification's
//! attempts and due time, and the virtual time. docs/PERSISTENCE.md describes the format.
//!
//! Boundary: this module reads and replaces state only through the handles of [`Core`] (the
//! store, the outbox, the clock); it knows no surface.

mod check;
mod infinia;
mod pockyt;
pub mod sqlite;
mod wal;
mod whalet;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::authorize::LinkRecord;
use crate::clock::{Millis, TimerRecord};
use crate::core::Core;
use crate::notify::OutboxState;
use crate::scenario::persist::ScenariosRecord;
use crate::store::{persist, TenantState};
use crate::tenant::TenantId;

/// The `format` field of every snapshot.
pub const FORMAT: &str = "whalet-sim snapshot";
/// The snapshot schema this simulator writes; it reads this one and every older one.
pub const SCHEMA_VERSION: u64 = 2;

/// One snapshot document.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Snapshot {
    pub format: String,
    pub schema_version: u64,
    /// `all`, or the one tenant (`provider:id`) it was taken of.
    pub scope: Scope,
    /// Virtual time when it was taken (epoch ms).
    pub now: Millis,
    /// Every tenant's state, by `provider:id`.
    pub tenants: BTreeMap<String, TenantState>,
    /// The delivery ledger: notifications, their attempts, pending due times.
    pub outbox: OutboxState,
    /// Pending work kept as data (reviews, settlements, expiries, timeline events), in due
    /// order and, at the same due time, in the order they were scheduled ([`timers_of`]).
    pub timers: Vec<TimerRecord>,
    /// Seller authorization links, by token.
    #[serde(default)]
    pub authorizations: Vec<LinkRecord>,
    /// The loaded scenarios with their counters (absent in a version 1 document: the loaded
    /// scenarios are then left as they are).
    #[serde(default)]
    pub scenarios: Option<ScenariosRecord>,
    /// The request journal, oldest first (only in a snapshot of all state).
    #[serde(default)]
    pub journal: Vec<Value>,
}

/// What a snapshot holds: all state, or the one tenant it was taken of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Scope {
    All,
    Tenant(TenantId),
}

impl TryFrom<String> for Scope {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        if text == "all" {
            return Ok(Scope::All);
        }
        TenantId::parse(&text).map(Scope::Tenant).ok_or_else(|| {
            format!(
                "scope {} is neither \"all\" nor a tenant (provider:id)",
                crate::text::echo(&text)
            )
        })
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> String {
        match scope {
            Scope::All => "all".to_owned(),
            Scope::Tenant(t) => t.to_string(),
        }
    }
}

/// What an import replaced.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Restored {
    pub scope: String,
    pub tenants: usize,
    pub notifications: usize,
    pub pending_notifications: usize,
    pub timers: usize,
    pub now: Millis,
}

/// The snapshot of every tenant (or one) as JSON text; the same state gives the same bytes.
/// Everything in it is read while no unit of work runs (`crate::cut`): a payout pending in a
/// tenant's state comes with the timer that settles it, and no timer comes without its object.
pub fn export(core: &Core, tenant: Option<&TenantId>) -> Result<Vec<u8>, String> {
    let mut text = persist::full(|| -> Result<Vec<u8>, String> {
        let mut doc = core.clock().cut().still(|| -> Result<Value, String> {
            let mut tenants = BTreeMap::new();
            for id in core.store().tenant_ids() {
                if tenant.is_some_and(|t| t != &id) {
                    continue;
                }
                let value = core
                    .store()
                    .read_tenant(&id, |t| serde_json::to_value(t))
                    .transpose()
                    .map_err(|e| format!("tenant {id} could not be written: {e}"))?;
                if let Some(value) = value {
                    tenants.insert(id.to_string(), value);
                }
            }
            Ok(serde_json::json!({
                "format": FORMAT,
                "schemaVersion": SCHEMA_VERSION,
                "scope": tenant.map_or("all".to_owned(), ToString::to_string),
                "now": core.clock().now(),
                "tenants": tenants,
                "outbox": core.outbox().export(tenant),
                "timers": timers_of(core, tenant),
                "authorizations": core.authorizations().export(tenant),
                "scenarios": core.scenarios().export(tenant),
            }))
        })?;
        doc["journal"] = Value::Array(if tenant.is_none() {
            journal_of(core)
        } else {
            Vec::new()
        });
        serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())
    })?;
    text.push(b'\n');
    Ok(text)
}

/// The pending durable timers of every tenant (or one), in the order the clock starts them:
/// due order and, at the same due time, the order they were scheduled in (docs/SCENARIOS.md,
/// "Seeds and determinism"). An import schedules them again in the order listed
/// ([`replace`]), so they start after it as they would have without it, and export → import →
/// export lists them alike.
fn timers_of(core: &Core, tenant: Option<&TenantId>) -> Vec<TimerRecord> {
    let key = tenant.map(ToString::to_string);
    core.clock()
        .records()
        .into_iter()
        .filter(|r| key.is_none() || r.tenant == key)
        .collect()
}

/// The journal, oldest first.
fn journal_of(core: &Core) -> Vec<Value> {
    let (entries, _) = core.journal().since(0);
    entries
        .into_iter()
        .filter_map(|(_, text)| serde_json::from_str(&text).ok())
        .collect()
}

/// Reads a snapshot; `source` names it in every message (a file path, or the request).
/// Refuses text that is not a snapshot, a newer schema, and state that does not read back.
pub fn parse(bytes: &[u8], source: &str) -> Result<Snapshot, String> {
    parse_from(bytes, source, Origin::Request)
}

/// Where a snapshot's bytes came from: what to do about a byte order mark differs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A request's body (`POST /__sim/snapshot`): send the JSON without the mark.
    Request,
    /// A file given at start (`serve --snapshot FILE`): save the file without it.
    File,
}

fn parse_from(bytes: &[u8], source: &str, origin: Origin) -> Result<Snapshot, String> {
    let fail = |what: String| format!("snapshot {source}: {what}");
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        fail(match origin {
            Origin::File if bytes.starts_with(crate::wire::BYTE_ORDER_MARK.as_bytes()) => {
                format!(
                    "{}, which a JSON document must not have; save the file as UTF-8 without \
                     the mark",
                    crate::wire::byte_order_mark()
                )
            }
            _ => not_json(bytes, &e),
        })
    })?;
    let Some(object) = value.as_object() else {
        return Err(fail("not a JSON object".into()));
    };
    // serde_json keeps the last copy of a repeated key: the others would be dropped unseen
    // (a tenant given twice, a second `now`).
    if let Some(path) = crate::json_keys::repeated_key(bytes) {
        return Err(fail(format!(
            "{} is given twice in its object; give each key once (a JSON reader keeps only one \
             of the copies, and the simulator would drop the other unseen)",
            check::place_of(&path)
        )));
    }
    match object.get("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        None => {
            return Err(fail(format!(
                "no \"format\": \"{FORMAT}\" field; this is not a simulator snapshot"
            )))
        }
        Some(other) => {
            return Err(fail(format!(
                "format: {} is not \"{FORMAT}\"; this is not a simulator snapshot",
                crate::text::bound(&other.to_string(), crate::text::MESSAGE_BYTES)
            )))
        }
    }
    let version = match object.get("schemaVersion") {
        None => return Err(fail("no schemaVersion (a positive integer)".into())),
        Some(v) => v.as_u64().ok_or_else(|| {
            fail(format!(
                "schemaVersion: {}, expected a positive integer (e.g. \"schemaVersion\": \
                 {SCHEMA_VERSION})",
                json_kind(v)
            ))
        })?,
    };
    if version > SCHEMA_VERSION {
        return Err(fail(format!(
            "schema version {version} is newer than this simulator reads (up to {SCHEMA_VERSION}); use a newer whalet-sim"
        )));
    }
    let mut value = migrate(value, version).map_err(fail)?;
    // The tenants are read one by one, as strictly as the rest ([`check::tenant`]).
    let tenants = match value.get_mut("tenants").map(Value::take) {
        Some(Value::Object(tenants)) => tenants,
        Some(_) => return Err(fail("tenants: not a JSON object (tenant → state)".into())),
        None => return Err(fail("missing field `tenants`".into())),
    };
    value["tenants"] = Value::Object(serde_json::Map::new());
    let mut snapshot: Snapshot = check::read_at("", &value).map_err(fail)?;
    for (key, state) in tenants {
        if TenantId::parse(&key).is_none() {
            return Err(fail(format!("tenant key {key:?} is not provider:id")));
        }
        let state = check::tenant(&key, &state).map_err(fail)?;
        snapshot.tenants.insert(key, state);
    }
    Ok(snapshot)
}

/// Why `bytes` are not a JSON document, in words that fit the cause: a UTF-8 byte order mark
/// before it ([`crate::wire::not_json`]), nested too deeply (the
/// reader's limit, which no snapshot comes near), a number no JSON reader holds, or text that
/// is not JSON at all (a file corrupt or cut short).
fn not_json(bytes: &[u8], e: &serde_json::Error) -> String {
    if bytes.starts_with(crate::wire::BYTE_ORDER_MARK.as_bytes()) {
        // A file saved by an editor that writes a byte order mark: not corrupt, and named as
        // every JSON body that has one is.
        return crate::wire::not_json(bytes, e);
    }
    let text = e.to_string();
    let at = format!("line {} column {}", e.line(), e.column());
    if text.starts_with("recursion limit exceeded") {
        format!(
            "nested too deeply: more than {JSON_DEPTH} arrays or objects inside one another (at \
             {at}); a snapshot nests fewer than 10 deep, so this is not one the simulator wrote"
        )
    } else if text.starts_with("number out of range") {
        format!(
            "a number at {at} is out of range: it is beyond what a JSON number holds (about \
             ±1.8e308), and no field of a snapshot takes a number that large"
        )
    } else {
        format!("not a JSON document ({e}); the file is corrupt or cut short")
    }
}

/// A JSON value as a refusal names what it is instead of what was expected: its type, with a
/// short value (`string "2"`, `number -1`, `null`).
fn json_kind(v: &Value) -> String {
    let shown = || crate::text::bound(&v.to_string(), 64).into_owned();
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(_) => format!("number {}", shown()),
        Value::String(_) => format!("string {}", shown()),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// How deep serde_json reads arrays and objects inside one another (its fixed recursion limit).
const JSON_DEPTH: usize = 128;

/// Brings an older document up to [`SCHEMA_VERSION`], one version at a time. Version 1 is the
/// first; version 2 added `timers` (pending work as data; a version 1 document has none).
fn migrate(mut value: Value, from: u64) -> Result<Value, String> {
    if from == 0 {
        return Err("schema version 0 does not exist (versions start at 1)".into());
    }
    if from < 2 {
        if let Some(object) = value.as_object_mut() {
            object.insert("timers".into(), Value::Array(Vec::new()));
            object.insert("schemaVersion".into(), Value::from(2));
        }
    }
    Ok(value)
}

/// Replaces all state with `snapshot` at start (`serve --snapshot`, a data directory's
/// contents; a one-tenant snapshot replaces its tenant only, as [`import`] does), then loads
/// the scenario files given at this start (`--scenario`) again over what it restored: the
/// import would drop them.
pub fn import_at_start(core: &Core, snapshot: Snapshot) -> Result<Restored, String> {
    let given = core.scenarios().export(None).loaded;
    let restored = import(core, snapshot, None)?;
    for l in given {
        let scope = l.tenant.as_deref().and_then(TenantId::parse);
        let file =
            crate::scenario::load::parse_for(&l.text, &l.source, core.triggers(), scope.as_ref())
                .map_err(|e| e.to_string())?;
        core.scenarios().load(file, scope, &l.source);
    }
    Ok(restored)
}

/// A saved scenario that no longer loads, set aside at a data directory's start
/// ([`set_aside_unloadable`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    pub name: String,
    /// `provider:id`, or None: every tenant.
    pub tenant: Option<String>,
    /// Why it does not load (the load's own message).
    pub reason: String,
}

/// Takes out of `snapshot` (a data directory's contents, read at its start) every saved
/// scenario whose text no longer loads (it passed an older build's checks, not this one's), with
/// its occurrence counters and pending timeline events, and logs each at error level: its name,
/// tenant, the reason and its text (cut at [`crate::text::MESSAGE_BYTES`]), so that it can be
/// fixed and loaded again. The rest of the state starts; the directory loses the scenario at its
/// next write. A snapshot import does not do this: it refuses such a scenario (the file can be
/// edited). A scenario whose tenant is not `provider:id` is left in, for the import to refuse.
pub fn set_aside_unloadable(core: &Core, snapshot: &mut Snapshot) -> Vec<SetAside> {
    let Some(record) = snapshot.scenarios.as_mut() else {
        return Vec::new();
    };
    let mut set_aside = Vec::new();
    let mut generations = Vec::new();
    record.loaded.retain(|l| {
        let scope = match l.tenant.as_deref().map(TenantId::parse) {
            Some(None) => return true,
            Some(Some(t)) => Some(t),
            None => None,
        };
        let Err(e) =
            crate::scenario::load::parse_for(&l.text, &l.source, core.triggers(), scope.as_ref())
        else {
            return true;
        };
        let reason = e.to_string();
        tracing::error!(
            scenario = %l.name,
            tenant = l.tenant.as_deref().unwrap_or("every tenant"),
            reason = %reason,
            text = ?crate::text::bound(&l.text, crate::text::MESSAGE_BYTES),
            "a saved scenario no longer loads: set aside (not loaded, and removed from the data \
             dir); fix its text (logged here) and load it again with POST /__sim/scenarios"
        );
        generations.push(l.generation);
        set_aside.push(SetAside {
            name: l.name.clone(),
            tenant: l.tenant.clone(),
            reason,
        });
        false
    });
    record
        .counters
        .retain(|c| !generations.contains(&c.generation));
    snapshot.timers.retain(|r| {
        r.kind != "scenario.timeline"
            || !r
                .params
                .get("generation")
                .and_then(Value::as_u64)
                .is_some_and(|g| generations.contains(&g))
    });
    set_aside
}

/// Replaces all state (`tenant` None) or one tenant's with the snapshot's. A one-tenant
/// snapshot replaces only its tenant, asked for or not ([`scope_of`]). All state: every tenant,
/// the delivery ledger, pending timers and authorization links are dropped (as by
/// `POST /__sim/reset`), then the snapshot's tenants, notifications and virtual time are put in.
/// One tenant: only that tenant's state and notifications are replaced; the clock is untouched.
/// Pending notifications get their timers back at their due times. Every part is checked
/// ([`check`]) before anything is dropped, so nothing changes when refused.
pub fn import(
    core: &Core,
    snapshot: Snapshot,
    tenant: Option<&TenantId>,
) -> Result<Restored, String> {
    let tenant = scope_of(&snapshot.scope, tenant)?;
    let tenant = tenant.as_ref();
    if let Scope::Tenant(of) = &snapshot.scope {
        only_its_tenant(&snapshot, of)?;
    }
    let mut checked = check(core, snapshot, tenant)?;
    let (count, timer_count) = (checked.states.len(), checked.timers.len());
    let ended_uploads = std::mem::take(&mut checked.ended_uploads);
    let notifications = checked.outbox.notifications.len();
    let pending = checked
        .outbox
        .notifications
        .iter()
        .filter(|n| n.status == crate::notify::Status::Pending && n.next_attempt_at.is_some())
        .count();
    // While no unit of work runs (`crate::cut`): none is left half in the old state.
    let replaced = core.clock().cut().still(|| replace(core, tenant, checked));
    // A replacement that failed half-way (a bug: every part was checked) changed the state
    // too: the data directory rewrites it either way.
    sqlite::state_replaced(core);
    replaced?;
    uploads_ended(core, &ended_uploads, check::IMPORTED_WHILE_WRITTEN);
    Ok(Restored {
        scope: tenant.map_or("all".to_owned(), ToString::to_string),
        tenants: count,
        notifications,
        pending_notifications: pending,
        timers: timer_count,
        now: core.clock().now(),
    })
}

/// An SFTP upload a restart or an import ended INCOMPLETE ([`check::end_uploads_left_open`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedUpload {
    /// `provider:id`.
    pub tenant: String,
    /// The surface and operation its journal entries are under (`infinia`
    /// `trade-details/upload`, `platform` `tradeMaterialsUpload`).
    pub surface: &'static str,
    pub operation: &'static str,
    pub name: String,
}

/// Journals and logs the uploads a restart or an import ended INCOMPLETE
/// with `reason` ([`check::end_uploads_left_open`]), as the end of the session that wrote the
/// file journals an upload it ends so: the partner finds why the file was not processed beside
/// its other uploads. Written after the journal is restored, so an import of all state keeps
/// them.
fn uploads_ended(core: &Core, ended: &[EndedUpload], reason: &str) {
    if ended.is_empty() {
        return;
    }
    for e in ended {
        core.journal().record(crate::journal::JournalEntry::event(
            (e.surface, &e.tenant, e.operation),
            core.clock().now(),
            ("INCOMPLETE", reason),
            serde_json::json!({ "fileName": e.name }),
        ));
    }
    tracing::warn!(uploads = ended.len(), "uploads ended INCOMPLETE: {reason}");
}

/// The tenant an import replaces (None: all state). A snapshot of one tenant replaces that
/// tenant only, with `?tenant=` naming it or without: never all state, which would drop every
/// other tenant. A `?tenant=` naming another tenant than such a snapshot's is refused.
fn scope_of(scope: &Scope, asked: Option<&TenantId>) -> Result<Option<TenantId>, String> {
    match (scope, asked) {
        (Scope::All, asked) => Ok(asked.cloned()),
        (Scope::Tenant(of), Some(asked)) if asked != of => Err(format!(
            "the snapshot is of tenant {of} (its scope), not of {asked}: import it with \
             ?tenant={of}, or without ?tenant="
        )),
        (Scope::Tenant(of), _) => Ok(Some(of.clone())),
    }
}

/// A snapshot of one tenant (`scope`) holds nothing of another: a part naming another tenant
/// (or none, where the part names one) is refused, naming it, rather than left out. Leaving it
/// out would import the tenant without it: a PROCESSING review without the timer that decides
/// it, a notification never sent. (An import of a snapshot of all state with `?tenant=` takes
/// that tenant's parts and leaves the others' by design.)
fn only_its_tenant(snapshot: &Snapshot, of: &TenantId) -> Result<(), String> {
    let ours = of.to_string();
    let refuse = |at: String, named: Option<&str>| {
        Err(format!(
            "{at} is of {}, not of {ours}, the tenant this snapshot is of (its scope): a \
             snapshot of one tenant holds only that tenant's state; remove it, or import a \
             snapshot of all state",
            named.map_or_else(|| "every tenant".to_owned(), |t| format!("tenant {t:?}"))
        ))
    };
    if let Some(key) = snapshot.tenants.keys().find(|k| **k != ours) {
        return refuse(format!("tenants[{key:?}]"), Some(key));
    }
    let notifications = snapshot.outbox.notifications.iter().enumerate();
    if let Some((i, n)) = notifications.clone().find(|(_, n)| &n.tenant != of) {
        let at = format!("outbox.notifications[{i}] (notification {})", n.id);
        return refuse(at, Some(&n.tenant.to_string()));
    }
    let timers = snapshot.timers.iter().enumerate();
    if let Some((i, r)) = timers
        .clone()
        .find(|(_, r)| r.tenant.as_ref() != Some(&ours))
    {
        return refuse(format!("timers[{i}] ({:?})", r.label), r.tenant.as_deref());
    }
    let links = snapshot.authorizations.iter().enumerate();
    if let Some((i, l)) = links.clone().find(|(_, l)| &l.request.tenant != of) {
        return refuse(
            format!("authorizations[{i}]"),
            Some(&l.request.tenant.to_string()),
        );
    }
    let Some(record) = &snapshot.scenarios else {
        return Ok(());
    };
    let named = |t: Option<&String>| t != Some(&ours);
    if let Some((i, l)) = (record.loaded.iter().enumerate()).find(|(_, l)| named(l.tenant.as_ref()))
    {
        return refuse(
            format!("scenarios.loaded[{i}] ({:?})", l.name),
            l.tenant.as_deref(),
        );
    }
    if let Some((i, c)) = (record.counters.iter().enumerate()).find(|(_, c)| c.tenant != ours) {
        return refuse(format!("scenarios.counters[{i}]"), Some(&c.tenant));
    }
    if let Some((i, d)) = (record.draws.iter().enumerate()).find(|(_, d)| d.tenant != ours) {
        return refuse(format!("scenarios.draws[{i}]"), Some(&d.tenant));
    }
    if let Some((i, o)) =
        (record.outages.iter().enumerate()).find(|(_, o)| named(o.tenant.as_ref()))
    {
        return refuse(format!("scenarios.outages[{i}]"), o.tenant.as_deref());
    }
    Ok(())
}

/// A snapshot's parts an import puts in, each checked as the step of [`replace`] that puts it
/// in checks it.
struct Checked {
    states: Vec<(TenantId, TenantState)>,
    outbox: OutboxState,
    links: Vec<LinkRecord>,
    scenarios: Option<ScenariosRecord>,
    /// Empty for a one-tenant import, which leaves the journal alone.
    journal: Vec<Value>,
    timers: Vec<TimerRecord>,
    now: Millis,
    /// Uploads ended INCOMPLETE, as (tenant, file name): the snapshot was taken while their
    /// file was being written ([`check::end_uploads_left_open`]).
    ended_uploads: Vec<EndedUpload>,
}

/// The parts of `snapshot` that `tenant` (None: all) takes, every one checked before anything
/// changes: times on the clock, notification channels and ids, scenarios (parsed again, none
/// twice), authorization links (each token once), the journal's entries (ids increasing), and
/// each timer as it will run.
fn check(core: &Core, snapshot: Snapshot, tenant: Option<&TenantId>) -> Result<Checked, String> {
    let Snapshot {
        tenants,
        mut outbox,
        timers,
        authorizations,
        scenarios,
        journal,
        now,
        ..
    } = snapshot;
    crate::clock::check_time(now, "the snapshot's now")?;
    // The whole delivery ledger, before a one-tenant import keeps its tenant's: a refusal
    // names a notification by its place in the document.
    core.outbox().check_import(&outbox)?;
    let mut states: Vec<(TenantId, TenantState)> = Vec::new();
    for (key, state) in tenants {
        let Some(id) = TenantId::parse(&key) else {
            return Err(format!("tenant key {key:?} is not provider:id"));
        };
        if tenant.is_none_or(|t| t == &id) {
            states.push((id, state));
        }
    }
    if tenant.is_none() {
        // An all-state import leaves the snapshot's tenants and the configured ones: a
        // notification of any other could never be addressed, and would be tried to
        // exhaustion.
        let known =
            |t: &TenantId| states.iter().any(|(id, _)| id == t) || core.store().is_configured(t);
        if let Some((i, n)) = outbox
            .notifications
            .iter()
            .enumerate()
            .find(|(_, n)| !known(&n.tenant))
        {
            return Err(format!(
                "outbox.notifications[{i}]: notification {} is of tenant {}, which is neither \
                 among the snapshot's tenants nor configured here; add the tenant or remove \
                 the notification",
                n.id, n.tenant
            ));
        }
    }
    if let Some(t) = tenant {
        if states.is_empty() {
            return Err(format!("the snapshot has no tenant {t}"));
        }
        outbox.notifications.retain(|n| &n.tenant == t);
    }
    let timers = checked_timers(core, timers, tenant)?;
    // The virtual time after the import: the snapshot's for all state; a one-tenant import
    // leaves the clock alone.
    let at = match tenant {
        None => now,
        Some(_) => core.clock().now(),
    };
    // No session of the imported state holds its files: none is being written any more, and an
    // upload its timer skipped (the file open for writing again) ends INCOMPLETE.
    let ended_uploads = check::end_uploads_left_open(
        states.iter_mut().map(|(id, state)| (id.to_string(), state)),
        timers.iter().map(|(_, record)| record),
        (check::LeftOpen::Marked, check::IMPORTED_WHILE_WRITTEN, at),
    );
    check::timers(&states, &timers)?;
    let timers = timers.into_iter().map(|(_, record)| record).collect();
    for n in &outbox.notifications {
        if let Some(at) = n.next_attempt_at {
            crate::clock::check_time(at, &format!("notification {}: nextAttemptAt", n.id))?;
        }
    }
    if let Some(record) = &scenarios {
        // Parsed once to check; the engine is replaced in `replace`.
        crate::scenario::Scenarios::new().import(record.clone(), tenant, core.triggers())?;
    }
    let links: Vec<LinkRecord> = authorizations
        .into_iter()
        .filter(|l| tenant.is_none_or(|t| &l.request.tenant == t))
        .collect();
    distinct_tokens(&links)?;
    if tenant.is_some() {
        tokens_not_held_elsewhere(core, &links)?;
    }
    core.authorizations().check(&links)?;
    let journal = match tenant {
        None => {
            // Read once into a journal of the same bounds to check; the real one in `replace`.
            crate::journal::Journal::new(&core.config().journal).restore(journal.clone())?;
            journal
        }
        Some(_) => Vec::new(),
    };
    Ok(Checked {
        states,
        outbox,
        links,
        scenarios,
        journal,
        timers,
        now,
        ended_uploads,
    })
}

/// Refuses two links with the same token: the links are kept by token, so one of them would
/// be dropped silently.
fn distinct_tokens(links: &[LinkRecord]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    match links
        .iter()
        .find(|l| !seen.insert(l.request.token.as_str()))
    {
        Some(l) => Err(format!(
            "authorizations: token {} is there twice; each link has its own token",
            crate::text::echo(&l.request.token)
        )),
        None => Ok(()),
    }
}

/// Refuses, in a one-tenant import, a link whose token another tenant's link holds: the links
/// are kept by token, so importing it would take that tenant's link away (its binding would
/// then never end) while the other tenants are to be left as they are.
fn tokens_not_held_elsewhere(core: &Core, links: &[LinkRecord]) -> Result<(), String> {
    let now = core.clock().now();
    for l in links {
        if let Some((held, _)) = core.authorizations().get(&l.request.token, now) {
            if held.tenant != l.request.tenant {
                return Err(format!(
                    "authorizations: token {} is the token of a link of tenant {}; a one-tenant \
                     import leaves the other tenants as they are",
                    crate::text::echo(&l.request.token),
                    held.tenant
                ));
            }
        }
    }
    Ok(())
}

/// The snapshot's timers `tenant` (None: all) takes, each checked as it will run: a due time on
/// the clock, a kind this simulator knows, a tenant and parameters the kind reads
/// ([`Core::check_timer`]). A refusal names the timer by its place in the document
/// (`timers[0] ("…"): params.completion: …`).
fn checked_timers(
    core: &Core,
    timers: Vec<TimerRecord>,
    tenant: Option<&TenantId>,
) -> Result<Vec<(usize, TimerRecord)>, String> {
    let key = tenant.map(ToString::to_string);
    let mut kept = Vec::with_capacity(timers.len());
    for (i, record) in timers.into_iter().enumerate() {
        if key.is_some() && record.tenant != key {
            continue;
        }
        let at = format!("timers[{i}] ({:?})", record.label);
        crate::clock::check_time(record.due, &format!("{at}: due"))?;
        core.check_timer(&record)
            .map_err(|e| format!("{at}: {e}"))?;
        kept.push((i, record));
    }
    Ok(kept)
}

/// Drops what `tenant` (None: all) had and puts the checked parts in. Each step below refuses
/// only what [`check`] refused already.
fn replace(core: &Core, tenant: Option<&TenantId>, checked: Checked) -> Result<(), String> {
    let Checked {
        states,
        outbox,
        links,
        scenarios,
        journal,
        mut timers,
        now,
        ended_uploads: _,
    } = checked;
    match tenant {
        None => {
            core.store().reset(None);
            core.scenarios().reset(None);
            core.clock().cancel_matching("");
            core.authorizations().clear();
            // A running advance stops here rather than go on over the new state and time.
            core.clock().end_advances();
            core.clock().restore_now(now);
        }
        Some(t) => {
            core.store().reset(Some(t));
            core.scenarios().reset(Some(t));
            core.cancel_tenant_work(t);
            if scenarios.is_some() {
                core.scenarios().remove_all(Some(t));
            }
        }
    }
    for (id, state) in states {
        core.store()
            .put_restored(&id, state, core.config().whalet.request_no_memory);
    }
    core.outbox().import(tenant, outbox)?;
    core.authorizations().import(links)?;
    if let Some(record) = scenarios {
        let moved = core.scenarios().import(record, tenant, core.triggers())?;
        // A tenant's scenarios got fresh generations: their timeline timers follow.
        for r in timers.iter_mut().filter(|r| r.kind == "scenario.timeline") {
            let old = r.params.get("generation").and_then(Value::as_u64);
            if let Some((_, new)) = moved.iter().find(|(o, _)| Some(*o) == old) {
                r.params["generation"] = Value::from(*new);
            }
        }
    }
    if tenant.is_none() {
        // All state: the journal is the snapshot's, even an empty one.
        core.journal().restore(journal)?;
    }
    // Due order, timers due at the same time in the order listed (a stable sort): the order
    // they were scheduled in, for a document the simulator wrote.
    timers.sort_by_key(|r| r.due);
    for record in timers {
        core.restore_timer(record)?;
    }
    Ok(())
}

/// Reads a snapshot file (`serve --snapshot FILE`): the message names the file.
pub fn read_file(path: &std::path::Path) -> Result<Snapshot, String> {
    let source = path.display().to_string();
    let bytes = crate::files::read_limited(path, crate::files::FileKind::SNAPSHOT)
        .map_err(|e| format!("snapshot {source}: cannot read it: {e}"))?;
    parse_from(&bytes, &source, Origin::File)
}
