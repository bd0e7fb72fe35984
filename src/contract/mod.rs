//! Contract overlays: a partner who holds a provider's real field lists makes the simulator
//! match them without code. An overlay is a TOML file (docs/CONTRACTS.md) with one table per
//! operation (`[<surface>."<operation>"]`) and per notification (`[notification."<channel>.<name>"]`)
//! that renames fields (request: partner's name → simulator's; reply and notification:
//! simulator's → partner's; dotted paths), rewrites status words, marks fields required or
//! optional (with the default filled before the handler), adds fixed fields to replies and
//! changes an operation's sync success code.
//!
//! The pipeline (`api::pipeline`) applies an operation's overlay to the decrypted request before
//! the handler and to the reply before it is sealed; the outbox applies a notification's overlay
//! to its payload when it is enqueued. Loading checks every operation and notification name
//! against the surfaces' tables ([`Catalog`]) and reports a mistake as `file:line: …`.
//!
//! Request field names are checked against what the handlers read (their descriptions,
//! `api::describe`, by `api::catalog::check_contract_fields`); reply and notification field
//! names against what the simulator sends ([`SentFields`], recorded by the examples test).
//! `required` fields are not checked (docs/CONTRACTS.md).

pub mod paths;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use toml::Spanned;

use crate::tenant::TenantId;

/// The surfaces whose operations an overlay may change (the pipeline's surface names).
pub const SURFACES: &[&str] = &["whalet", "platform", "infinia", "pockyt"];

/// The sync codes a Whalet operation's overlay may set as its success code.
pub const WHALET_SYNC_CODES: &[&str] = &["SUCCESS", "PROCESSING"];

/// What the simulator knows of its operations and notifications (built from the surfaces'
/// tables by `api::catalog`).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// (surface, canonical name, name on the wire).
    pub operations: Vec<(&'static str, String, String)>,
    /// (channel, name) of every notification; the overlay names it `channel.name`.
    pub notifications: Vec<(&'static str, String)>,
    /// Whalet notification apiCodes on the wire → canonical (after `[whalet.api_codes]`).
    pub whalet_wire: HashMap<String, String>,
    /// (surface, canonical name) → the request fields its handler reads (dot paths, as an
    /// overlay names them; `api::describe`). An operation not listed is not checked.
    pub request_fields: HashMap<(&'static str, String), Vec<String>>,
    /// `surface.operation` → the paths of its successful reply body, and `channel.name` → the
    /// paths of a notification's payload, as the simulator sends them ([`SentFields`]). One not
    /// listed is not checked.
    pub sent: Arc<SentFields>,
}

/// The fields the simulator sends, by reply and by notification: recorded from what it really
/// sent by the examples test (`tests/api/examples.rs`, which checks this table against what it
/// sees and rewrites it with `UPDATE_CONTRACT_FIELDS=1`; docs/CONTRACTS.md).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct SentFields {
    /// What this table is.
    #[serde(default)]
    pub about: String,
    /// `surface.operation` → paths of the successful reply body.
    pub replies: BTreeMap<String, Vec<String>>,
    /// `channel.name` → paths of the notification payload.
    pub notifications: BTreeMap<String, Vec<String>>,
}

/// The table of sent fields shipped with this build (`src/contract/fields.json`).
pub const SENT_FIELDS_JSON: &str = include_str!("fields.json");

impl SentFields {
    /// The shipped table, read once per process.
    pub fn shipped() -> Arc<Self> {
        static SHIPPED: std::sync::OnceLock<Arc<SentFields>> = std::sync::OnceLock::new();
        // The file is checked by the examples test; a broken one is a build of ours to fix, and
        // an empty table only turns the checks off.
        SHIPPED
            .get_or_init(|| Arc::new(serde_json::from_str(SENT_FIELDS_JSON).unwrap_or_default()))
            .clone()
    }
}

impl Catalog {
    /// The catalog name of a notification the outbox carries as `channel`/`topic`: Whalet
    /// topics are wire apiCodes (mapped back to canonical), Pockyt topics `payout.<status>`.
    pub fn notification_name(&self, channel: &str, topic: &str) -> String {
        match channel {
            "whalet" => self
                .whalet_wire
                .get(topic)
                .cloned()
                .unwrap_or_else(|| topic.to_owned()),
            "pockyt" => topic.split('.').next().unwrap_or(topic).to_owned(),
            _ => topic.to_owned(),
        }
    }
    fn has_operation(&self, surface: &str, name: &str) -> bool {
        self.operations
            .iter()
            .any(|(s, n, _)| *s == surface && n == name)
    }
    fn has_notification(&self, key: &str) -> bool {
        self.notifications
            .iter()
            .any(|(c, n)| key.split_once('.') == Some((c, n.as_str())))
    }
}

/// One operation's overlay.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OperationOverlay {
    /// Request fields: the partner's path → the simulator's path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rename_request: BTreeMap<String, String>,
    /// Reply fields: the simulator's path → the partner's path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rename_reply: BTreeMap<String, String>,
    /// Status words: the simulator's word → the partner's (replies; the reverse in requests).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status: BTreeMap<String, String>,
    /// Request fields (partner's paths) that must be present and not null.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
    /// Request fields (partner's paths) the partner may leave out: filled with this default.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub optional: BTreeMap<String, Value>,
    /// Fixed fields (partner's paths) added to every successful reply.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
    /// The sync success code (Whalet operations: `SUCCESS` or `PROCESSING`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// One notification's overlay.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NotificationOverlay {
    /// Payload fields: the simulator's path → the partner's path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rename: BTreeMap<String, String>,
    /// Status words: the simulator's word → the partner's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status: BTreeMap<String, String>,
    /// Fixed fields (partner's paths) added to the payload.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContractFile {
    #[serde(default)]
    whalet: BTreeMap<String, Spanned<OperationOverlay>>,
    #[serde(default)]
    platform: BTreeMap<String, Spanned<OperationOverlay>>,
    #[serde(default)]
    infinia: BTreeMap<String, Spanned<OperationOverlay>>,
    #[serde(default)]
    pockyt: BTreeMap<String, Spanned<OperationOverlay>>,
    #[serde(default)]
    notification: BTreeMap<String, Spanned<NotificationOverlay>>,
}

/// A loaded, checked overlay.
#[derive(Debug, Clone, Default)]
pub struct Contract {
    /// Where it came from (journal notes and the dump).
    pub source: String,
    /// surface → operation → overlay.
    pub operations: HashMap<&'static str, BTreeMap<String, OperationOverlay>>,
    /// `channel.name` → overlay.
    pub notifications: BTreeMap<String, NotificationOverlay>,
}

/// A mistake in an overlay file, at `file:line`.
fn at(file: &str, text: &str, offset: usize, message: impl std::fmt::Display) -> anyhow::Error {
    let line = text[..offset.min(text.len())].matches('\n').count() + 1;
    anyhow::anyhow!("{file}:{line}: {message}")
}

impl Contract {
    /// Reads and checks the overlay at `path`.
    pub fn load(path: &Path, catalog: &Catalog) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("contract {}: {e}", path.display()))?;
        Self::parse(&path.display().to_string(), &text, catalog)
    }

    /// Parses and checks an overlay's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str, catalog: &Catalog) -> anyhow::Result<Self> {
        let raw: ContractFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            at(file, text, offset, e.message().trim_end())
        })?;
        let mut contract = Contract {
            source: file.to_owned(),
            ..Contract::default()
        };
        let surfaces = [
            ("whalet", raw.whalet),
            ("platform", raw.platform),
            ("infinia", raw.infinia),
            ("pockyt", raw.pockyt),
        ];
        for (surface, table) in surfaces {
            for (name, overlay) in table {
                let offset = overlay.span().start;
                let overlay = overlay.into_inner();
                if !catalog.has_operation(surface, &name) {
                    let known: Vec<&str> = catalog
                        .operations
                        .iter()
                        .filter(|(s, _, _)| *s == surface)
                        .map(|(_, n, _)| n.as_str())
                        .collect();
                    let lead = format!("{surface} has no operation");
                    let dump = "; `whalet-sim contract dump` lists them";
                    return Err(at(file, text, offset, unknown(&lead, &name, &known, dump)));
                }
                let mistake = Mistake {
                    file,
                    text,
                    offset,
                    what: format!("{surface}.{name:?}"),
                };
                check_operation(surface, &overlay).map_err(|m| mistake.here(m))?;
                if let Some(fields) = catalog.request_fields.get(&(surface, name.clone())) {
                    check_request_fields(&overlay, fields).map_err(|e| mistake.at_path(e))?;
                }
                if let Some(fields) = catalog.sent.replies.get(&format!("{surface}.{name}")) {
                    check_sent("rename_reply", "reply", overlay.rename_reply.keys(), fields)
                        .map_err(|e| mistake.at_path(e))?;
                }
                contract
                    .operations
                    .entry(surface)
                    .or_default()
                    .insert(name, overlay);
            }
        }
        for (name, overlay) in raw.notification {
            let offset = overlay.span().start;
            let overlay = overlay.into_inner();
            if !catalog.has_notification(&name) {
                let known: Vec<String> = catalog
                    .notifications
                    .iter()
                    .map(|(c, n)| format!("{c}.{n}"))
                    .collect();
                let message = unknown("no notification", &name, &known, "");
                return Err(at(file, text, offset, message));
            }
            let mistake = Mistake {
                file,
                text,
                offset,
                what: format!("notification {name:?}"),
            };
            check_notification(&overlay).map_err(|m| mistake.here(m))?;
            if let Some(fields) = catalog.sent.notifications.get(&name) {
                check_sent("rename", "payload", overlay.rename.keys(), fields)
                    .map_err(|e| mistake.at_path(e))?;
            }
            contract.notifications.insert(name, overlay);
        }
        Ok(contract)
    }

    /// The overlay of `surface`'s operation `name`, if any.
    pub fn operation(&self, surface: &str, name: &str) -> Option<&OperationOverlay> {
        self.operations.get(surface)?.get(name)
    }

    /// The overlay of notification `channel.name`, if any.
    pub fn notification(&self, channel: &str, name: &str) -> Option<&NotificationOverlay> {
        self.notifications.get(&format!("{channel}.{name}"))
    }
}

/// A mistake in one entry of an overlay file: the entry (`what`) starts at `offset` of `text`.
struct Mistake<'a> {
    file: &'a str,
    text: &'a str,
    offset: usize,
    what: String,
}

impl Mistake<'_> {
    /// `message` about the entry as a whole, at the entry's line.
    fn here(&self, message: String) -> anyhow::Error {
        at(
            self.file,
            self.text,
            self.offset,
            format!("{}: {message}", self.what),
        )
    }

    /// `message` about the entry's `path`, at the line naming it.
    fn at_path(&self, (path, message): (String, String)) -> anyhow::Error {
        let offset = line_of(self.text, self.offset, &path);
        at(
            self.file,
            self.text,
            offset,
            format!("{}: {message}", self.what),
        )
    }
}

/// `{lead} "name"` that the catalogue does not have: with a did-you-mean, the `known` names, and
/// `more` at the end of the parenthesis.
fn unknown<S: AsRef<str>>(lead: &str, name: &str, known: &[S], more: &str) -> String {
    let names: Vec<&str> = known.iter().map(AsRef::as_ref).collect();
    format!(
        "{lead} {name:?}{} (known: {}{more})",
        did_you_mean(name, known),
        names.join(", ")
    )
}

/// `; did you mean "x"?` when one of `known` is within a few edits of `name`.
fn did_you_mean<S: AsRef<str>>(name: &str, known: &[S]) -> String {
    known
        .iter()
        .map(|k| (crate::text::edit_distance(name, k.as_ref()), k.as_ref()))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| format!("; did you mean {k:?}?"))
        .unwrap_or_default()
}

fn check_paths<'a>(what: &str, paths: impl Iterator<Item = &'a String>) -> Result<(), String> {
    for p in paths {
        paths::parse(p).map_err(|e| format!("{what}: {e}"))?;
    }
    Ok(())
}

fn check_targets(what: &str, renames: &BTreeMap<String, String>) -> Result<(), String> {
    check_paths(what, renames.keys().chain(renames.values()))?;
    let mut seen = std::collections::HashSet::new();
    for to in renames.values() {
        if !seen.insert(to) {
            return Err(format!("{what}: two fields are renamed to {to:?}"));
        }
    }
    Ok(())
}

fn check_words(words: &BTreeMap<String, String>) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for (from, to) in words {
        if from.is_empty() || to.is_empty() {
            return Err("status: a status word cannot be empty".into());
        }
        if !seen.insert(to) {
            return Err(format!("status: two words become {to:?}"));
        }
    }
    Ok(())
}

fn check_operation(surface: &str, o: &OperationOverlay) -> Result<(), String> {
    check_targets("rename_request", &o.rename_request)?;
    check_targets("rename_reply", &o.rename_reply)?;
    check_paths("required", o.required.iter())?;
    check_paths("optional", o.optional.keys())?;
    check_paths("extra", o.extra.keys())?;
    check_words(&o.status)?;
    if let Some(p) = o.required.iter().find(|p| o.optional.contains_key(*p)) {
        return Err(format!("{p:?} is both required and optional"));
    }
    if let Some(code) = &o.code {
        if surface != "whalet" {
            return Err(format!(
                "code: only Whalet operations have a choice of sync success code, not {surface}"
            ));
        }
        if !WHALET_SYNC_CODES.contains(&code.as_str()) {
            return Err(format!(
                "code {code:?} is not a sync success code (one of {})",
                WHALET_SYNC_CODES.join(", ")
            ));
        }
    }
    Ok(())
}

/// The simulator's request fields an overlay names must be ones the operation reads: the targets
/// of `rename_request` and the `optional` fields (after renaming). On a mistake: the path as the
/// file spells it, and the message.
fn check_request_fields(o: &OperationOverlay, fields: &[String]) -> Result<(), (String, String)> {
    let unknown = |key: &str, path: &str| {
        format!(
            "{key} names {path:?}, a field this operation does not read (it reads: {})",
            fields.join(", ")
        )
    };
    for sim in o.rename_request.values() {
        if !fields.contains(sim) {
            return Err((sim.clone(), unknown("rename_request", sim)));
        }
    }
    for path in o.optional.keys() {
        let sim = o.rename_request.get(path).unwrap_or(path);
        if !fields.contains(sim) {
            return Err((path.clone(), unknown("optional", path)));
        }
    }
    Ok(())
}

/// The simulator's fields a rename of what it sends names (`paths`, the rename's keys) must be
/// ones it sends: a path of `fields` (an object's path moves the whole object). On a mistake:
/// the path, and the message.
fn check_sent<'a>(
    key: &str,
    what: &str,
    mut paths: impl Iterator<Item = &'a String>,
    fields: &[String],
) -> Result<(), (String, String)> {
    match paths.find(|p| !fields.contains(p)) {
        None => Ok(()),
        Some(path) => Err((
            path.clone(),
            format!(
                "{key} names {path:?}, a field not in the simulator's {what}{} (it sends: {})",
                did_you_mean(path, fields),
                fields.join(", ")
            ),
        )),
    }
}

/// Where `path` is first written after `offset` (quoted, else bare), for an error's line.
fn line_of(text: &str, offset: usize, path: &str) -> usize {
    let after = &text[offset..];
    [
        format!("\"{path}\""),
        format!("{path} ="),
        format!("{path}="),
    ]
    .iter()
    .find_map(|written| after.find(written.as_str()))
    .or_else(|| after.find(path))
    .map_or(offset, |i| offset + i)
}

fn check_notification(o: &NotificationOverlay) -> Result<(), String> {
    check_targets("rename", &o.rename)?;
    check_paths("extra", o.extra.keys())?;
    check_words(&o.status)
}

/// What applying an overlay to a request found.
#[derive(Debug, PartialEq)]
pub enum RequestOutcome {
    /// Nothing changed.
    Unchanged,
    /// The body was rewritten for the handler.
    Changed,
    /// A field the overlay requires is missing (the partner's path).
    Missing(String),
}

impl OperationOverlay {
    /// Rewrites a request body for the handler: required fields checked, optional ones filled,
    /// the partner's names moved to the simulator's, partner status words turned back into the
    /// simulator's.
    pub fn apply_request(&self, body: &mut Value) -> RequestOutcome {
        if let Some(field) = paths::first_missing(body, &self.required) {
            return RequestOutcome::Missing(field.to_owned());
        }
        let mut changed = false;
        for (path, default) in &self.optional {
            changed |= paths::fill(body, path, default);
        }
        for (partner, sim) in &self.rename_request {
            changed |= paths::rename(body, partner, sim);
        }
        let back = |w: &str| {
            self.status
                .iter()
                .find(|(_, partner)| partner.as_str() == w)
                .map(|(sim, _)| sim.clone())
        };
        changed |= paths::rewrite_status(body, &back);
        if changed {
            RequestOutcome::Changed
        } else {
            RequestOutcome::Unchanged
        }
    }

    /// A request body in the simulator's names (an example) in the partner's: the reverse of
    /// `rename_request`.
    pub fn request_for_partner(&self, body: &mut Value) {
        for (partner, sim) in &self.rename_request {
            paths::rename(body, sim, partner);
        }
    }

    /// Rewrites a reply body for the partner: fields renamed, status words, fixed fields.
    pub fn apply_reply(&self, body: &mut Value) {
        outgoing(body, &self.rename_reply, &self.status, &self.extra);
    }
}

/// What goes to the partner, a reply or a notification: the simulator's names moved to the
/// partner's, its status words turned into the partner's, the fixed fields added.
fn outgoing(
    body: &mut Value,
    rename: &BTreeMap<String, String>,
    status: &BTreeMap<String, String>,
    extra: &BTreeMap<String, Value>,
) {
    for (sim, partner) in rename {
        paths::rename(body, sim, partner);
    }
    paths::rewrite_status(body, &|w| status.get(w).cloned());
    for (path, value) in extra {
        paths::set(body, path, value);
    }
}

impl NotificationOverlay {
    /// Rewrites a notification payload for the partner.
    pub fn apply(&self, payload: &mut Value) {
        outgoing(payload, &self.rename, &self.status, &self.extra);
    }
}

/// The overlays in force: the default one and those of single tenants (which replace the
/// default for that tenant). Registered in the core at start-up.
#[derive(Debug, Default)]
pub struct Contracts {
    pub default: Option<Arc<Contract>>,
    /// Tenant (`provider:id`) → its overlay.
    pub tenants: HashMap<String, Arc<Contract>>,
}

impl Contracts {
    /// Loads the default overlay `file` and the per-tenant ones; `known` are the configured
    /// tenants (`provider:id`), which a per-tenant overlay must name.
    pub fn load(
        file: Option<&Path>,
        tenants: &BTreeMap<String, PathBuf>,
        catalog: &Catalog,
        known: &[String],
    ) -> anyhow::Result<Self> {
        let default = file
            .map(|f| Contract::load(f, catalog).map(Arc::new))
            .transpose()?;
        let mut by_tenant = HashMap::new();
        for (tenant, f) in tenants {
            let Some((provider, id)) = tenant.split_once(':') else {
                anyhow::bail!(
                    "contract.tenants: {tenant:?} is not a tenant (provider:id, e.g. \"whalet:P0001\")"
                );
            };
            anyhow::ensure!(
                ["whalet", "infinia", "pockyt"].contains(&provider) && !id.is_empty(),
                "contract.tenants: {tenant:?} is not a tenant (provider whalet, infinia or pockyt, then :id)"
            );
            anyhow::ensure!(
                known.contains(tenant),
                "contract.tenants: no tenant {tenant:?} is configured (configured: {})",
                known.join(", ")
            );
            by_tenant.insert(tenant.clone(), Arc::new(Contract::load(f, catalog)?));
        }
        Ok(Self {
            default,
            tenants: by_tenant,
        })
    }

    /// The overlay in force for `tenant`.
    pub fn for_tenant(&self, tenant: &TenantId) -> Option<&Contract> {
        if self.tenants.is_empty() {
            return self.default.as_deref();
        }
        self.tenants
            .get(&tenant.to_string())
            .or(self.default.as_ref())
            .map(Arc::as_ref)
    }

    /// Whether no overlay is loaded at all.
    pub fn is_empty(&self) -> bool {
        self.default.is_none() && self.tenants.is_empty()
    }
}

/// The surface's parameter-error code, in which a missing overlay-required field is refused.
pub fn parameter_code(surface: &str) -> &'static str {
    match surface {
        "infinia" => "SYS-002",
        "pockyt" => "000020",
        _ => "PARAMETER_ERROR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog {
            operations: vec![("whalet", "createUser".into(), "createUser".into())],
            notifications: vec![("whalet", "userNotify".into())],
            whalet_wire: HashMap::new(),
            request_fields: HashMap::new(),
            sent: Arc::default(),
        }
    }

    /// Renamed reply and notification fields must be ones the simulator sends (when the table
    /// lists the operation or notification), with the line of the bad key.
    #[test]
    fn renamed_sent_fields_are_checked_against_what_is_sent() {
        let mut catalog = catalog();
        let mut sent = SentFields::default();
        sent.replies.insert(
            "whalet.createUser".into(),
            vec!["user".into(), "user.userId".into(), "status".into()],
        );
        sent.notifications
            .insert("whalet.userNotify".into(), vec!["userId".into()]);
        catalog.sent = Arc::new(sent);
        let good = "[whalet.createUser]\nrename_reply = { \"user.userId\" = \"user.id\", user = \"customer\" }\n\n[notification.\"whalet.userNotify\"]\nrename = { userId = \"id\" }\n";
        assert!(Contract::parse("c.toml", good, &catalog).is_ok());
        let bad = "[whalet.createUser]\n\nrename_reply = { \"user.userID\" = \"id\" }\n";
        let err = Contract::parse("c.toml", bad, &catalog).expect_err("an error");
        let err = err.to_string();
        assert!(err.starts_with("c.toml:3: "), "{err}");
        assert!(err.contains("did you mean \"user.userId\"?"), "{err}");
        let bad = "[notification.\"whalet.userNotify\"]\nrename = { user = \"id\" }\n";
        let err = Contract::parse("c.toml", bad, &catalog).expect_err("an error");
        assert!(err.to_string().starts_with("c.toml:2: "), "{err}");
        // Not listed: not checked.
        catalog.sent = Arc::default();
        assert!(Contract::parse("c.toml", bad, &catalog).is_ok());
    }

    #[test]
    fn unknown_operation_field_and_notification_name_their_line() {
        let text = "# a contract\n\n[whalet.createUser]\nrequired = [\"a\"]\n\n[whalet.nope]\nrequired = []\n";
        let err = Contract::parse("c.toml", text, &catalog()).expect_err("an error");
        assert!(err.to_string().starts_with("c.toml:6: "), "{err}");
        let text = "[whalet.creatUser]\n";
        let err = Contract::parse("c.toml", text, &catalog()).expect_err("an error");
        assert!(
            err.to_string().contains("did you mean \"createUser\"?"),
            "{err}"
        );
        let text = "[whalet.createUser]\nrequired = [\"a\"]\nrenamed = {}\n";
        let err = Contract::parse("c.toml", text, &catalog()).expect_err("an error");
        assert!(err.to_string().starts_with("c.toml:3: "), "{err}");
        let text =
            "\n[notification.\"whalet.userNotify\"]\nrename = {}\n[notification.\"whalet.x\"]\n";
        let err = Contract::parse("c.toml", text, &catalog()).expect_err("an error");
        assert!(err.to_string().starts_with("c.toml:4: "), "{err}");
        let text = "[platform.createUser]\n";
        assert!(Contract::parse("c.toml", text, &catalog()).is_err());
        let text = "[whalet.createUser]\ncode = \"DONE\"\n";
        let err = Contract::parse("c.toml", text, &catalog()).expect_err("an error");
        assert!(err.to_string().starts_with("c.toml:1: "), "{err}");
    }

    #[test]
    fn an_overlay_rewrites_requests_and_replies() {
        let text = "[whalet.createUser]\nrename_request = { fullName = \"name\" }\nrename_reply = { userId = \"customerId\" }\nstatus = { SUCCESS = \"SUCCEEDED\" }\nrequired = [\"purpose\"]\noptional = { channel = \"WEB\" }\nextra = { \"meta.version\" = 2 }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("parses");
        let o = c.operation("whalet", "createUser").expect("parses");
        let mut body = serde_json::json!({"fullName": "A"});
        assert_eq!(
            o.apply_request(&mut body),
            RequestOutcome::Missing("purpose".into())
        );
        let mut body = serde_json::json!({"fullName": "A", "purpose": "x", "status": "SUCCEEDED"});
        assert_eq!(o.apply_request(&mut body), RequestOutcome::Changed);
        assert_eq!(
            body,
            serde_json::json!({"purpose": "x", "status": "SUCCESS", "channel": "WEB", "name": "A"})
        );
        let mut reply = serde_json::json!({"userId": "U1", "status": "SUCCESS"});
        o.apply_reply(&mut reply);
        assert_eq!(
            reply,
            serde_json::json!({"status": "SUCCEEDED", "customerId": "U1", "meta": {"version": 2}})
        );
    }
}
