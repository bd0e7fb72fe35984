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

use crate::tenant::{Provider, TenantId};

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
    /// (surface, canonical name) → what its handler reads in each request field (dot path as
    /// in `request_fields`): its kind and the values it allows (`api::describe`), against which
    /// an `optional` default is checked. An operation or field not listed is not checked.
    pub request_kinds: HashMap<(&'static str, String), HashMap<String, FieldFacts>>,
    /// `surface.operation` → the paths of its successful reply body, and `channel.name` → the
    /// paths of a notification's payload, as the simulator sends them ([`SentFields`]). One not
    /// listed is not checked.
    pub sent: Arc<SentFields>,
}

/// What a handler reads in one request field ([`Catalog::request_kinds`]): its kind as
/// `api::describe` names it (`string`, `enum`, `country`, `integer`, `object`, ...) and the values
/// it allows (an `enum`'s, a flag's), in the simulator's words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldFacts {
    pub kind: &'static str,
    pub allowed: Vec<String>,
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
    /// The canonical name of `surface`'s operation that `name` is the wire name of (after
    /// `[whalet.api_codes]` / `[infinia.paths]`), when that differs from it.
    fn canonical_of_wire(&self, surface: &str, name: &str) -> Option<&str> {
        let name = name.trim_matches('/');
        self.operations
            .iter()
            .find(|(s, n, wire)| *s == surface && wire.trim_matches('/') == name && n != wire)
            .map(|(_, n, _)| n.as_str())
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

/// The payloads whose fields are fixed and documented (docs/FIDELITY.md: "exactly these"), which
/// the examples do not cause, so the table of sent fields does not list them: a Pockyt payout
/// IPN (without `verifySign`, added when it is sent) and an Infinia seller status webhook. A
/// test checks them against what the simulator sends.
const FIXED_PAYLOADS: &[(&str, &[&str])] = &[
    (
        "pockyt.payout",
        &[
            "accountToken",
            "amount",
            "currency",
            "invoiceId",
            "paymentTime",
            "status",
            "transactionNo",
            "vendor",
        ],
    ),
    ("infinia.sellerStatus", &["requestNo", "sellerId", "status"]),
];

/// [`FIXED_PAYLOADS`]' fields of notification `name` (`channel.name`).
pub fn fixed_payload(name: &str) -> Option<&'static [String]> {
    type Table = Vec<(&'static str, Vec<String>)>;
    static TABLE: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    TABLE
        .get_or_init(|| {
            FIXED_PAYLOADS
                .iter()
                .map(|(n, fields)| (*n, fields.iter().map(|f| (*f).to_owned()).collect()))
                .collect()
        })
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, fields)| fields.as_slice())
}

/// Why an overlay's text did not read as one, when a table is written only through its
/// sub-tables (`[whalet.x.rename_reply]` with no `[whalet.x]`): the TOML reader then says
/// something about its own workings. The sub-table's header, the table it belongs to and the
/// header to write; None when that is not the mistake.
fn headerless_table(file: &str, text: &str) -> Option<anyhow::Error> {
    let table: toml::Table = toml::from_str(text).ok()?;
    // Every `[header]` written, as its keys, with where it is.
    let mut headers: Vec<(Vec<String>, usize)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        let inner = trimmed
            .strip_prefix('[')
            .filter(|_| !trimmed.starts_with("[["))
            .and_then(|rest| rest.split_once(']'))
            .map(|(inner, _)| inner);
        if let Some(Ok(keys)) = inner.map(|i| toml::from_str::<toml::Table>(&format!("{i} = 0"))) {
            let mut path = Vec::new();
            let mut at = &keys;
            while let Some((key, value)) = at.iter().next() {
                path.push(key.clone());
                match value {
                    toml::Value::Table(t) => at = t,
                    _ => break,
                }
            }
            headers.push((path, offset));
        }
        offset += line.len();
    }
    for (surface, entries) in &table {
        let is_overlay = SURFACES.contains(&surface.as_str()) || surface == "notification";
        let Some(entries) = entries.as_table().filter(|_| is_overlay) else {
            continue;
        };
        for name in entries.keys() {
            let own = [surface.clone(), name.clone()];
            if headers.iter().any(|(path, _)| path.as_slice() == own) {
                continue;
            }
            let sub = headers
                .iter()
                .find(|(path, _)| path.len() > 2 && path[..2] == own);
            if let Some((path, at_offset)) = sub {
                let key = &path[2];
                return Some(at(
                    file,
                    text,
                    *at_offset,
                    format!(
                        "{surface}.{name:?} is written only through its sub-table [{surface}.{name:?}.{key}]: write its header [{surface}.{name:?}] too, above it (or write the key inside that table: {key} = {{ ... }})"
                    ),
                ));
            }
        }
    }
    None
}

impl Contract {
    /// The part of this overlay that can apply to a tenant of `provider`: the tables of the
    /// surfaces and notification channels its provider serves ([`Provider::serving`]); with the
    /// tables left out (`[pockyt."/v3/payouts/balance"]` in a Whalet partner's overlay, whose
    /// requests never pass through that surface). One file may hold a partner's contract for
    /// its tenants of several providers.
    pub fn for_provider(&self, provider: Provider) -> (Contract, Vec<String>) {
        let serves = |surface: &str| Provider::serving(surface) == Some(provider);
        let mut left_out = Vec::new();
        let mut operations = HashMap::new();
        for (surface, overlays) in &self.operations {
            if serves(surface) {
                operations.insert(*surface, overlays.clone());
            } else {
                left_out.extend(overlays.keys().map(|name| format!("[{surface}.{name:?}]")));
            }
        }
        let mut notifications = BTreeMap::new();
        for (name, overlay) in &self.notifications {
            let channel = name.split_once('.').map_or(name.as_str(), |(c, _)| c);
            if serves(channel) {
                notifications.insert(name.clone(), overlay.clone());
            } else {
                left_out.push(format!("[notification.{name:?}]"));
            }
        }
        left_out.sort();
        let contract = Contract {
            source: self.source.clone(),
            operations,
            notifications,
        };
        (contract, left_out)
    }

    /// Reads and checks the overlay at `path`.
    pub fn load(path: &Path, catalog: &Catalog) -> anyhow::Result<Self> {
        let text = crate::files::read_limited_text(path, crate::files::FileKind::CONTRACT)
            .map_err(|e| anyhow::anyhow!("contract {}: {e}", path.display()))?;
        Self::parse(&path.display().to_string(), &text, catalog)
    }

    /// Parses and checks an overlay's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str, catalog: &Catalog) -> anyhow::Result<Self> {
        let raw: ContractFile = toml::from_str(text).map_err(|e| {
            headerless_table(file, text).unwrap_or_else(|| {
                let offset = e.span().map_or(0, |s| s.start);
                at(file, text, offset, crate::text::toml_reason(text, &e))
            })
        })?;
        // The same text read for where its keys and values are (for the lines of mistakes):
        // it parsed as an overlay, so it parses; were it not to, mistakes name table headers.
        let spans: FileSpans = toml::from_str(text).unwrap_or_default();
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
                    if let Some(canonical) = catalog.canonical_of_wire(surface, &name) {
                        let setting = if surface == "infinia" {
                            "[infinia.paths]"
                        } else {
                            "[whalet.api_codes]"
                        };
                        let message = format!(
                            "{surface} has no operation {name:?}: that is the name {setting} gives {canonical:?} on the wire, and an overlay names an operation by its own name: write [{surface}.{canonical:?}]"
                        );
                        return Err(at(file, text, offset, message));
                    }
                    let lead = format!("{surface} has no operation");
                    let dump = "; `whalet-sim contract dump` lists them";
                    return Err(at(file, text, offset, unknown(&lead, &name, &known, dump)));
                }
                let mistake = Mistake {
                    file,
                    text,
                    offset,
                    spans: spans.table(surface, &name),
                    what: format!("{surface}.{name:?}"),
                };
                let key = format!("{surface}.{name}");
                let statuses = statuses_of(&key, catalog.sent.replies.get(&key));
                check_operation(surface, &overlay, &statuses).map_err(|e| mistake.at_path(e))?;
                if let Some(facts) = catalog.request_kinds.get(&(surface, name.clone())) {
                    check_defaults(surface, &overlay, facts).map_err(|e| mistake.at_path(e))?;
                }
                if let Some(fields) = catalog.request_fields.get(&(surface, name.clone())) {
                    check_request_fields(&overlay, fields)
                        .and_then(|()| {
                            check_arrays("rename_request", &overlay.rename_request, fields)
                        })
                        .map_err(|e| mistake.at_path(e))?;
                }
                if let Some(fields) = catalog.sent.replies.get(&format!("{surface}.{name}")) {
                    let (renames, extra) = (&overlay.rename_reply, &overlay.extra);
                    check_sent_writes("rename_reply", "reply", renames, extra, fields)
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
                spans: spans.table("notification", &name),
                what: format!("notification {name:?}"),
            };
            let channel = name.split_once('.').map_or(name.as_str(), |(c, _)| c);
            let statuses = statuses_of(&name, catalog.sent.notifications.get(&name));
            check_notification(channel, &overlay, &statuses).map_err(|e| mistake.at_path(e))?;
            let sent = catalog.sent.notifications.get(&name).map(Vec::as_slice);
            if let Some(fields) = sent.or_else(|| fixed_payload(&name)) {
                check_sent_writes("rename", "payload", &overlay.rename, &overlay.extra, fields)
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

/// A mistake in one entry of an overlay file: the entry (`what`) starts at `offset` of `text`;
/// `spans` are where its keys and values are written.
struct Mistake<'a> {
    file: &'a str,
    text: &'a str,
    offset: usize,
    spans: Option<&'a Pairs<Item>>,
    what: String,
}

impl Mistake<'_> {
    /// `message` about the entry's `spot`, at the line of the key or value it names (the key's
    /// line when the value does not say, the entry's own line when no key does).
    fn at_path(&self, (spot, message): Found) -> anyhow::Error {
        let offset = self
            .spans
            .and_then(|table| spot.offset(table))
            .unwrap_or(self.offset);
        at(
            self.file,
            self.text,
            offset,
            format!("{}: {message}", self.what),
        )
    }
}

/// Where each key and value of an overlay file is written: the file read once more, keeping
/// the spans TOML gives (`[surface."operation"]` → its keys → their entries).
#[derive(Deserialize, Default)]
struct FileSpans {
    #[serde(default)]
    whalet: BTreeMap<String, Spanned<Pairs<Item>>>,
    #[serde(default)]
    platform: BTreeMap<String, Spanned<Pairs<Item>>>,
    #[serde(default)]
    infinia: BTreeMap<String, Spanned<Pairs<Item>>>,
    #[serde(default)]
    pockyt: BTreeMap<String, Spanned<Pairs<Item>>>,
    #[serde(default)]
    notification: BTreeMap<String, Spanned<Pairs<Item>>>,
}

impl FileSpans {
    fn table(&self, surface: &str, name: &str) -> Option<&Pairs<Item>> {
        let tables = match surface {
            "whalet" => &self.whalet,
            "platform" => &self.platform,
            "infinia" => &self.infinia,
            "pockyt" => &self.pockyt,
            _ => &self.notification,
        };
        tables.get(name).map(Spanned::get_ref)
    }
}

/// A TOML table's keys and values in the order written, each with its span.
struct Pairs<V>(Vec<(Spanned<String>, Spanned<V>)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Pairs<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(PairsVisitor(std::marker::PhantomData))
    }
}

struct PairsVisitor<V>(std::marker::PhantomData<V>);

impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for PairsVisitor<V> {
    type Value = Pairs<V>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a table")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Pairs<V>, A::Error> {
        let mut pairs = Vec::new();
        while let Some(key) = map.next_key()? {
            pairs.push((key, map.next_value()?));
        }
        Ok(Pairs(pairs))
    }
}

/// The value of a table's key: a table (renames, status words, defaults), an array
/// (`required`) or one value.
enum Item {
    Table(Pairs<Leaf>),
    Array(Vec<Spanned<Leaf>>),
    Leaf,
}

/// A value inside a key's table or array: the text of a string (a rename's target, a word, a
/// required path); of anything else nothing is kept (a TOML date is read as a table whose key is
/// no spanned key, so nothing below this level is read with spans).
enum Leaf {
    Text(String),
    Other,
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Item;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Item, A::Error> {
                PairsVisitor(std::marker::PhantomData)
                    .visit_map(map)
                    .map(Item::Table)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Item::Array(items))
            }
            fn visit_str<E>(self, _: &str) -> Result<Item, E> {
                Ok(Item::Leaf)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Item, E> {
                Ok(Item::Leaf)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Item, E> {
                Ok(Item::Leaf)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Item, E> {
                Ok(Item::Leaf)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Item, E> {
                Ok(Item::Leaf)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Leaf {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Leaf;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value")
            }
            fn visit_str<E>(self, s: &str) -> Result<Leaf, E> {
                Ok(Leaf::Text(s.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Leaf, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Leaf::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Leaf, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Leaf::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Leaf, E> {
                Ok(Leaf::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Leaf, E> {
                Ok(Leaf::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Leaf, E> {
                Ok(Leaf::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Leaf, E> {
                Ok(Leaf::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// Where in a table a mistake is: under which of its keys (`code`, `rename_reply`), and which
/// entry of that key's value.
#[derive(Debug, Clone, PartialEq)]
struct Spot {
    key: &'static str,
    entry: Entry,
}

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    /// The key's value as a whole (`code = "DONE"`).
    Whole,
    /// A key of the key's table (a rename's source, a status word, a default's path).
    Key(String),
    /// A string value in the key's table or array (a rename's target, a required path).
    Value(String),
}

impl Spot {
    fn whole(key: &'static str) -> Self {
        Self {
            key,
            entry: Entry::Whole,
        }
    }
    fn key(key: &'static str, name: &str) -> Self {
        Self {
            key,
            entry: Entry::Key(name.to_owned()),
        }
    }
    fn value(key: &'static str, text: &str) -> Self {
        Self {
            key,
            entry: Entry::Value(text.to_owned()),
        }
    }

    /// Where this spot is written in `table`: the entry, else the key; None when the table does
    /// not write the key.
    fn offset(&self, table: &Pairs<Item>) -> Option<usize> {
        let (key, item) = table.0.iter().find(|(k, _)| k.get_ref() == self.key)?;
        let text = |leaf: &Spanned<Leaf>, text: &str| {
            matches!(leaf.get_ref(), Leaf::Text(t) if t == text).then(|| leaf.span().start)
        };
        let entry = match (&self.entry, item.get_ref()) {
            (Entry::Key(name), Item::Table(pairs)) => pairs
                .0
                .iter()
                .find(|(k, _)| k.get_ref() == name)
                .map(|(k, _)| k.span().start),
            (Entry::Value(t), Item::Table(pairs)) => pairs.0.iter().find_map(|(_, v)| text(v, t)),
            (Entry::Value(t), Item::Array(items)) => items.iter().find_map(|v| text(v, t)),
            _ => None,
        };
        Some(entry.unwrap_or(key.span().start))
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

/// A mistake in one table: where it is, and the message.
type Found = (Spot, String);

/// Each of `paths` must be a path; `spot` says where each is written.
fn check_paths<'a>(
    what: &str,
    paths: impl Iterator<Item = &'a String>,
    spot: impl Fn(&str) -> Spot,
) -> Result<(), Found> {
    for p in paths {
        paths::parse(p).map_err(|e| (spot(p), format!("{what}: {e}")))?;
    }
    Ok(())
}

/// Renames are applied all at once (a chain or a swap means the same in any order;
/// `paths::rename_all`), so among themselves only these are mistakes: two fields renamed to
/// one name, and a rename of a field inside another renamed field that moves it within that
/// field (`legalEntity = "company"` with `"legalEntity.name" = "legalEntity.legalName"`: the
/// object it moves in is gone; the partner's path is `company.legalName`). The simulator's
/// fields: `check_sent_writes`, `check_arrays`.
fn check_targets(what: &'static str, renames: &BTreeMap<String, String>) -> Result<(), Found> {
    check_paths(what, renames.keys(), |p| Spot::key(what, p))?;
    check_paths(what, renames.values(), |p| Spot::value(what, p))?;
    let mut seen = std::collections::HashSet::new();
    for to in renames.values() {
        if !seen.insert(to) {
            return Err((
                Spot::value(what, to),
                format!("{what}: two fields are renamed to {to:?}"),
            ));
        }
    }
    for (from, to) in renames {
        let (f, t): (Vec<&str>, Vec<&str>) = (from.split('.').collect(), to.split('.').collect());
        let shared = paths::shared_len(&f, &t);
        let outer = renames.iter().filter(|(o, _)| *o != from).find(|(o, _)| {
            let o: Vec<&str> = o.split('.').collect();
            o.len() <= shared && f.starts_with(&o)
        });
        if let Some((outer, outer_to)) = outer {
            let written = format!("{outer_to}{}", &to[outer.len()..]);
            return Err((
                Spot::key(what, from),
                format!(
                    "{what} renames {from:?} to {to:?} inside {outer:?}, which it renames to {outer_to:?}: renames apply at once, so write the new path whole: {from:?} = {written:?}"
                ),
            ));
        }
    }
    Ok(())
}

/// The words of each status the simulator keeps (its store's word enums), one constant each:
/// [`status_vocabularies`] lists them all, [`reported_statuses`] by what reports them.
mod vocabulary {
    use crate::store::{infinia, platform, pockyt, whalet, whalet_trade, Words};
    pub type Vocabulary = &'static [&'static str];
    pub const REVIEW: Vocabulary = <whalet::ReviewStatus as Words>::WORDS;
    pub const CARD: Vocabulary = <whalet::CardStatus as Words>::WORDS;
    pub const SHOP: Vocabulary = <whalet::ShopStatus as Words>::WORDS;
    pub const COLLECTION: Vocabulary = <whalet::CollectionStatus as Words>::WORDS;
    pub const BENEFICIARY: Vocabulary = <whalet_trade::BeneficiaryStatus as Words>::WORDS;
    pub const OUTFLOW: Vocabulary = <whalet_trade::OutflowStatus as Words>::WORDS;
    pub const TRADE_ORDER: Vocabulary = <whalet_trade::TradeOrderStatus as Words>::WORDS;
    pub const REPLENISH: Vocabulary = <whalet_trade::ReplenishStatus as Words>::WORDS;
    pub const SELLER: Vocabulary = <infinia::SellerStatus as Words>::WORDS;
    pub const SHARING: Vocabulary = <infinia::SharingStatus as Words>::WORDS;
    pub const BIND: Vocabulary = <platform::BindStatus as Words>::WORDS;
    pub const PAYMENT: Vocabulary = <platform::PaymentStatus as Words>::WORDS;
    pub const PAYOUT: Vocabulary = <pockyt::PayoutStatus as Words>::WORDS;
}

use vocabulary::Vocabulary;

/// The words each status the simulator keeps can take (its store's word enums): a word an
/// overlay maps onto another word of the same status must not stay a word of that status.
fn status_vocabularies() -> [Vocabulary; 13] {
    use vocabulary::*;
    [
        REVIEW,
        CARD,
        SHOP,
        COLLECTION,
        BENEFICIARY,
        OUTFLOW,
        TRADE_ORDER,
        REPLENISH,
        SELLER,
        SHARING,
        BIND,
        PAYMENT,
        PAYOUT,
    ]
}

/// The statuses of [`status_vocabularies`] that an operation's reply (`surface.operation`, its
/// canonical name) or a notification's payload (`channel.name`) reports in its status fields
/// (every key an overlay's `status` applies to, `paths::is_status_key`): its store's status type,
/// or a review's verdict (SUCCESS or FAILURE, the review's words) where a result notification
/// sends one. An empty list: it reports none of them (a status of its own, or only
/// `SUCCESS`). None: not in this table, which lists every reply and notification the table of
/// sent fields shows with a status field (a test checks both ways).
const REPORTED: &[(&[&str], &[Vocabulary])] = &[
    (
        &[
            "whalet.userOnboardingApply",
            "whalet.cardHolderApply",
            "whalet.cardHolderQuery",
            "whalet.cardHolderBeneficaryApply",
            "whalet.cardHolderBeneficaryQuery",
            "whalet.tradeOrderBindApply",
            "whalet.userOnboardingResultNotify",
            "whalet.cardHolderResultNotify",
            "whalet.cardHolderBeneficaryNotify",
            "whalet.tradeOrderBindNotify",
            "whalet.virtualAccountNotify",
            "whalet.b2cCardCancelResultNotify",
        ],
        &[vocabulary::REVIEW],
    ),
    (
        &[
            "whalet.b2bVirtualAccountApply",
            "whalet.b2cVirtualAccountApply",
            "whalet.b2cCardCancel",
            "whalet.b2cCardQuery",
        ],
        &[vocabulary::CARD],
    ),
    // A card's detail lists the shops bound to it.
    (
        &["whalet.b2cCardDetailQuery"],
        &[vocabulary::CARD, vocabulary::SHOP],
    ),
    (
        &["whalet.b2cShopBind", "whalet.b2cShopQuery"],
        &[vocabulary::SHOP],
    ),
    (
        &["whalet.b2cShopBindResultNotify"],
        &[vocabulary::REVIEW, vocabulary::SHOP],
    ),
    (
        &[
            "whalet.mockPayeeNotify",
            "whalet.collectionQuery",
            "whalet.collectionReceivedNotify",
        ],
        &[vocabulary::COLLECTION],
    ),
    (
        &[
            "whalet.benificiaryAccountApply",
            "whalet.benificiaryAccountDelete",
            "whalet.benificiaryAccountQuery",
            "whalet.benificiaryAccountNotify",
        ],
        &[vocabulary::BENEFICIARY],
    ),
    (
        &[
            "whalet.payoutApply",
            "whalet.payoutConfirm",
            "whalet.payApply",
            "whalet.payConfirm",
            "whalet.payoutResultNotify",
            "whalet.payResultNotify",
            "whalet.withdrawQuery",
            "whalet.payQuery",
            "whalet.paymentQuery",
        ],
        &[vocabulary::OUTFLOW],
    ),
    (&["whalet.tradeOrderApply"], &[vocabulary::TRADE_ORDER]),
    (
        &["whalet.tradeOrderQueryDetail", "whalet.tradeOrderQueryList"],
        &[vocabulary::TRADE_ORDER, vocabulary::REVIEW],
    ),
    (
        &[
            "whalet.eddReplenishSubmit",
            "whalet.tradeReplenishSubmit",
            "whalet.eddReplenishNotify",
            "whalet.tradeReplenishNotify",
            "whalet.eddReplenishResultNotify",
            "whalet.tradeReplenishResultNotify",
            "whalet.eddReplenishQuery",
        ],
        &[vocabulary::REPLENISH],
    ),
    (&["whalet.b2cBankLetterApply"], &[]),
    (
        &[
            "platform.shopAccountBindQuery",
            "whalet.shopAccountBindNotify",
        ],
        &[vocabulary::BIND],
    ),
    (
        &[
            "platform.paymentApply",
            "platform.paymentQuery",
            "whalet.paymentApplyNotify",
        ],
        &[vocabulary::PAYMENT],
    ),
    // A binding's and an uploaded file's statuses of their own (no word enum of the store); the
    // binding query reports the seller's status beside its binding's.
    (
        &[
            "infinia.account-binding/request",
            "infinia.trade-details/query",
        ],
        &[],
    ),
    (
        &[
            "infinia.account-binding/query",
            "infinia.available-revenue/query",
            "infinia.sellerStatus",
        ],
        &[vocabulary::SELLER],
    ),
    (
        &[
            "infinia.revenue-sharing/request",
            "infinia.revenue-sharing/query",
        ],
        &[vocabulary::SHARING],
    ),
    (
        &[
            "pockyt./v3/payouts/pay",
            "pockyt./v3/payouts/inquiry",
            "pockyt.payout",
        ],
        &[vocabulary::PAYOUT],
    ),
    // Accounts' and payees' statuses of their own.
    (
        &[
            "pockyt./v2/customers/account/create",
            "pockyt./v2/customers/account/retrieve",
            "pockyt./v3/customers/account/create/bank-account",
            "pockyt./v3/customers/account/create/paypal",
            "pockyt./v3/customers/account/create/venmo",
            "pockyt./v3/payee/payout-accounts",
            "pockyt./v3/payee/retrieve",
            "pockyt./v3/payee/update",
        ],
        &[],
    ),
];

/// [`REPORTED`]'s statuses of `key`; None when it does not list it.
fn reported_statuses(key: &str) -> Option<&'static [Vocabulary]> {
    REPORTED
        .iter()
        .find(|(keys, _)| keys.contains(&key))
        .map(|(_, statuses)| *statuses)
}

/// The statuses whose words an overlay of `key` (`surface.operation`, `channel.name`) must not
/// make the same: those it reports ([`reported_statuses`]); none when the simulator's `sent`
/// fields of it (`sent`, when they list it) hold no status field; else, not knowing, all of them.
fn statuses_of(key: &str, sent: Option<&Vec<String>>) -> Vec<Vocabulary> {
    if let Some(reported) = reported_statuses(key) {
        return reported.to_vec();
    }
    let has_status = |paths: &Vec<String>| {
        paths.iter().any(|p| {
            let leaf = p.rsplit('.').next().unwrap_or(p);
            paths::is_status_key(leaf.trim_end_matches("[]"))
        })
    };
    match sent {
        Some(paths) if !has_status(paths) => Vec::new(),
        _ => status_vocabularies().to_vec(),
    }
}

/// Status words: none empty, no two turned into the same word, and none turned into another
/// word of the same status that is not itself turned into something else (`PROCESSING =
/// "SUCCESS"` would make a processing and a successful review look alike, and a partner's
/// `SUCCESS` filter mean `PROCESSING`). The statuses are those the overlaid operation or
/// notification reports (`statuses`, [`statuses_of`]): another status's words are not its own.
fn check_words(words: &BTreeMap<String, String>, statuses: &[Vocabulary]) -> Result<(), Found> {
    let mut seen = std::collections::HashSet::new();
    for (from, to) in words {
        if from.is_empty() || to.is_empty() {
            return Err((
                Spot::key("status", from),
                "status: a status word cannot be empty".into(),
            ));
        }
        if !seen.insert(to) {
            return Err((
                Spot::key("status", from),
                format!("status: two words become {to:?}"),
            ));
        }
        let shared = statuses.iter().find(|vocabulary| {
            vocabulary.contains(&from.as_str()) && vocabulary.contains(&to.as_str())
        });
        if let (Some(vocabulary), false) = (shared, words.contains_key(to)) {
            return Err((
                Spot::key("status", from),
                format!(
                    "status: {from} = {to:?} makes {from} and the simulator's own {to} the same word ({from} and {to} are words of one status: {}); map {to} to another word too, or choose a word the status does not use",
                    vocabulary.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// A fixed or default value written as a TOML date or time would reach the handler as the TOML
/// library's private object, not as text: refused, naming the key (`what.path`).
fn check_values(what: &'static str, values: &BTreeMap<String, Value>) -> Result<(), Found> {
    match values
        .iter()
        .find(|(_, v)| crate::toml_dates::toml_datetime(v).is_some())
    {
        None => Ok(()),
        Some((path, _)) => Err((
            Spot::key(what, path),
            format!(
                "{what}: {path:?} is a TOML date/time; write it as a quoted string in the form the field takes (e.g. \"2026-01-01 00:00:00\")"
            ),
        )),
    }
}

/// Fixed fields among themselves, set as a reply gets them (in the order of their paths, an
/// object's before its fields): one inside another's value (`{ a = { b = 1 }, "a.b" = 2 }`)
/// would be set twice, one under another's plain value (`{ a = 1, "a.b" = 2 }`) cannot be.
fn check_extra(extra: &BTreeMap<String, Value>) -> Result<(), Found> {
    let mut body = Value::Object(serde_json::Map::new());
    for (path, value) in extra {
        let outer = || {
            extra
                .keys()
                .filter(|k| k.len() < path.len() && at_or_under(path, k))
                .max_by_key(|k| k.len())
                .map_or(String::new(), |k| k.clone())
        };
        let message = match paths::set_new(&mut body, path, value) {
            Ok(_) => continue,
            Err(paths::InTheWay::Taken) => format!(
                "extra sets {path:?} twice, on its own and inside {:?}: set it in one place",
                outer()
            ),
            Err(paths::InTheWay::Plain(parent)) => format!(
                "extra sets {path:?}, under {parent:?}, which extra sets to a plain value, not an object, so it cannot be set: write {parent:?} as a table, or choose another name"
            ),
        };
        return Err((Spot::key("extra", path), message));
    }
    Ok(())
}

/// The keys a surface's successful reply (`notification` false) or notification keeps beside
/// the body an overlay edits, which the overlay must not write: Pockyt's reply has
/// `ret_code` and `ret_msg` beside its fields, and its IPN `verifySign`, added when it is sent.
/// (Whalet, platform and Infinia bodies travel inside an envelope whose keys an overlay does
/// not reach.)
fn envelope_keys(surface: &str, notification: bool) -> &'static [&'static str] {
    match (surface, notification) {
        ("pockyt", false) => &["ret_code", "ret_msg"],
        ("pockyt", true) => &["verifySign"],
        _ => &[],
    }
}

/// Fixed fields and rename targets (`key`, of what the simulator sends) must not write one of
/// the `envelope` keys: the result code and message, or the signature, would be the overlay's.
fn check_envelope(
    key: &'static str,
    envelope: &[&str],
    renames: &BTreeMap<String, String>,
    extra: &BTreeMap<String, Value>,
) -> Result<(), Found> {
    let of = |path: &str| {
        let first = path.split('.').next().unwrap_or(path);
        envelope.iter().find(|k| **k == first).copied()
    };
    let what = |envelope_key: &str| {
        if envelope_key == "verifySign" {
            "the IPN's signature, added when it is sent"
        } else {
            "the reply's result, beside its fields"
        }
    };
    if let Some((path, k)) = extra.keys().find_map(|p| of(p).map(|k| (p, k))) {
        return Err((
            Spot::key("extra", path),
            format!(
                "extra sets {path:?}, but {k} is {} ({}), which an overlay does not change: choose another name",
                what(k),
                envelope.join(", ")
            ),
        ));
    }
    if let Some((from, to, k)) = renames.iter().find_map(|(f, t)| of(t).map(|k| (f, t, k))) {
        return Err((
            Spot::key(key, from),
            format!(
                "{key} renames {from:?} to {to:?}, but {k} is {} ({}), which an overlay does not change: choose another name",
                what(k),
                envelope.join(", ")
            ),
        ));
    }
    Ok(())
}

fn check_operation(
    surface: &str,
    o: &OperationOverlay,
    statuses: &[Vocabulary],
) -> Result<(), Found> {
    check_targets("rename_request", &o.rename_request)?;
    check_request_sources(&o.rename_request)?;
    check_targets("rename_reply", &o.rename_reply)?;
    check_paths("required", o.required.iter(), |p| {
        Spot::value("required", p)
    })?;
    check_paths("optional", o.optional.keys(), |p| Spot::key("optional", p))?;
    check_paths("extra", o.extra.keys(), |p| Spot::key("extra", p))?;
    check_values("optional", &o.optional)?;
    check_values("extra", &o.extra)?;
    check_extra(&o.extra)?;
    check_words(&o.status, statuses)?;
    check_envelope(
        "rename_reply",
        envelope_keys(surface, false),
        &o.rename_reply,
        &o.extra,
    )?;
    if let Some(p) = o.required.iter().find(|p| o.optional.contains_key(*p)) {
        return Err((
            Spot::value("required", p),
            format!("{p:?} is both required and optional"),
        ));
    }
    if let Some(code) = &o.code {
        let found = |message| Err((Spot::whole("code"), message));
        if surface != "whalet" {
            return found(format!(
                "code: only Whalet operations have a choice of sync success code, not {surface}"
            ));
        }
        if !WHALET_SYNC_CODES.contains(&code.as_str()) {
            return found(format!(
                "code {code:?} is not a sync success code (one of {})",
                WHALET_SYNC_CODES.join(", ")
            ));
        }
    }
    Ok(())
}

/// A request rename of a partner's field inside an object another rename gives the simulator's
/// name to (`"legalEntity.legalName" = ..` beside `company = "legalEntity"`), which no rename
/// moves away, could never apply: the partner sends that object as `company`, and a request
/// sending `legalEntity` too is refused as one field sent under both names. The partner's path
/// is the one inside `company`.
fn check_request_sources(renames: &BTreeMap<String, String>) -> Result<(), Found> {
    for (from, to) in renames {
        let outer = renames.iter().find(|(o_from, o_to)| {
            *o_from != from
                && o_to.len() < from.len()
                && at_or_under(from, o_to)
                && !renames.contains_key(*o_to)
        });
        if let Some((o_from, o_to)) = outer {
            let partner = format!("{o_from}{}", &from[o_to.len()..]);
            return Err((
                Spot::key("rename_request", from),
                format!(
                    "rename_request renames {from:?}, inside {o_to:?}, but {o_to:?} is the simulator's name of the partner's {o_from:?} (rename_request renames {o_from:?} to {o_to:?}), so a request can never send it without sending {o_from:?} twice: write the partner's path, {partner:?} = {to:?}"
                ),
            ));
        }
    }
    Ok(())
}

/// An `optional` default must be a value the handler reads in that field (`facts`, by the
/// simulator's path): of its kind (a string for a text, a code or a word; a number for an
/// integer; a table for an object; an array for a list) and one of the values it allows; a
/// status word in the partner's words (the overlay's `status` turns it back, as it does what the
/// partner sends). Otherwise every request leaving the field out would be refused, as if the
/// partner had sent the default. Pockyt reads a number as its text where it reads a string.
fn check_defaults(
    surface: &str,
    o: &OperationOverlay,
    facts: &HashMap<String, FieldFacts>,
) -> Result<(), Found> {
    for (path, default) in &o.optional {
        let sim = o.simulator_path(path);
        let Some(fact) = facts.get(&sim) else {
            continue;
        };
        let spot = || Spot::key("optional", path);
        let kind = fact.kind;
        let (fits, wanted) = match kind {
            "string" | "id" | "text" | "enum" | "country" | "currency" | "time" | "timestamp"
            | "date" | "email" | "flag" => (
                default.is_string() || (surface == "pockyt" && default.is_number()),
                "a string",
            ),
            "integer" => (
                default.is_u64()
                    || default.is_i64()
                    || default.as_str().is_some_and(|t| t.parse::<i64>().is_ok()),
                "a whole number",
            ),
            "amount" => (
                default.is_number() || default.is_string(),
                "an amount (a number or a string)",
            ),
            "object" => (default.is_object(), "a table"),
            "array" | "files" | "fileIds" => (default.is_array(), "an array"),
            _ => (true, ""),
        };
        if !fits {
            return Err((
                spot(),
                format!(
                    "optional: the default of {path:?} is {default}, but the operation reads {sim:?} as {kind} ({wanted}); a request leaving it out would be refused for this contract's value: write the default as {wanted}"
                ),
            ));
        }
        if fact.allowed.is_empty() {
            continue;
        }
        let text = match default {
            Value::String(t) => t.clone(),
            other => other.to_string(),
        };
        let leaf = sim.rsplit('.').next().unwrap_or(&sim);
        let status_field = paths::is_status_key(leaf) && !o.status.is_empty();
        let word = if status_field {
            if let Some((simulator, _)) = o.status.iter().find(|(_, p)| **p == text) {
                simulator.clone()
            } else if let Some(partner) = o.status.get(&text).filter(|p| **p != text) {
                return Err((
                    spot(),
                    format!(
                        "optional: the default of {path:?} is {text:?}, the simulator's word, which this contract's status turns into {partner:?}; a default is read as the partner sends it: write the partner's word, {partner:?}"
                    ),
                ));
            } else {
                text.clone()
            }
        } else {
            text.clone()
        };
        if !fact.allowed.contains(&word) {
            let allowed = if status_field {
                o.words_for_partner(&fact.allowed)
            } else {
                fact.allowed.clone()
            };
            return Err((
                spot(),
                format!(
                    "optional: the default of {path:?} is {text:?}, not a value the operation takes there (one of {}); a request leaving it out would be refused for this contract's value: write one of them",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The simulator's request fields an overlay names must be ones the operation reads: the targets
/// of `rename_request` and the `optional` fields (after renaming).
fn check_request_fields(o: &OperationOverlay, fields: &[String]) -> Result<(), Found> {
    let unknown = |key: &str, path: &str| {
        format!(
            "{key} names {path:?}, a field this operation does not read{} (it reads: {})",
            did_you_mean(path, &listed(fields)),
            listed(fields).join(", ")
        )
    };
    for sim in o.rename_request.values() {
        if !fields.contains(sim) {
            return Err((
                Spot::value("rename_request", sim),
                unknown("rename_request", sim),
            ));
        }
    }
    for path in o.optional.keys() {
        let sim = o.simulator_path(path);
        if !fields.contains(&sim) {
            return Err((Spot::key("optional", path), unknown("optional", path)));
        }
    }
    Ok(())
}

/// The simulator's fields a rename of what it sends names (`paths`, the rename's keys) must be
/// ones it sends: a path of `fields` (an object's path moves the whole object).
fn check_sent<'a>(
    key: &'static str,
    what: &str,
    mut paths: impl Iterator<Item = &'a String>,
    fields: &[String],
) -> Result<(), Found> {
    match paths.find(|p| !fields.contains(p)) {
        None => Ok(()),
        Some(path) => Err((
            Spot::key(key, path),
            format!(
                "{key} names {path:?}, a field not in the simulator's {what}{} (it sends: {})",
                did_you_mean(path, &listed(fields)),
                listed(fields).join(", ")
            ),
        )),
    }
}

/// A rename of what the simulator sends (`key`, of its `what`) and the fixed fields (`extra`)
/// against the paths it sends: a rename from a field it sends, not across an array; neither
/// onto nor under a field it keeps sending ([`check_written`]).
fn check_sent_writes(
    key: &'static str,
    what: &str,
    renames: &BTreeMap<String, String>,
    extra: &BTreeMap<String, Value>,
    fields: &[String],
) -> Result<(), Found> {
    check_sent(key, what, renames.keys(), fields)?;
    check_written(key, renames, extra, fields)?;
    check_arrays(key, renames, fields)
}

/// A rename must not take a field out of its array element, or put one into every element of
/// an array: `fields` marks the arrays ([`paths::all_paths`]).
fn check_arrays(
    key: &'static str,
    renames: &BTreeMap<String, String>,
    fields: &[String],
) -> Result<(), Found> {
    let arrays = paths::arrays(fields);
    let pairs: Vec<(&str, &str)> = renames
        .iter()
        .map(|(f, t)| (f.as_str(), t.as_str()))
        .collect();
    for (from, to) in renames {
        // A field inside a renamed array (or object) whose target is inside that one's target
        // stays in its element: where it goes within the array's own path.
        let local = paths::within_renamed(from, to, &pairs);
        if let Some(array) = paths::crosses_array(from, local.as_deref().unwrap_or(to), &arrays) {
            let fix = match renames.get(array) {
                Some(new) => format!(
                    "rename {array}.x to {new}.y, the new path written whole, as {key} renames the array to {new:?}"
                ),
                None => format!("rename {array}.x to {array}.y, or the array itself"),
            };
            return Err((
                Spot::key(key, from),
                format!(
                    "{key} renames {from:?} to {to:?} across the array {array:?}: a field stays in its array element ({fix})"
                ),
            ));
        }
    }
    Ok(())
}

/// The paths of `fields`, without the marks of arrays, for a message.
fn listed(fields: &[String]) -> Vec<&str> {
    fields
        .iter()
        .map(String::as_str)
        .filter(|p| !p.ends_with(paths::ARRAY))
        .collect()
}

/// Whether the simulator sends `path` as a plain value (a string, a number: a path of `fields`
/// with no path under it and not an array), which no field can be put under.
fn sent_plain(path: &str, fields: &[String]) -> bool {
    let under = format!("{path}.");
    fields.iter().any(|f| f == path)
        && !fields
            .iter()
            .any(|f| f.starts_with(&under) || f.strip_suffix(paths::ARRAY) == Some(path))
}

/// What a reply (or payload) holds at `path` once `renames` (the simulator's path → the
/// partner's) are applied: the simulator's path of the value there, and whether a rename moved
/// it there. That is the value a rename moves to `path` or above it (the deepest such target:
/// `paths::rename_all` places the shallower ones first), else the simulator's own at `path`;
/// none when it is renamed away (a source at or above it, under the moved field's own source).
/// The move of the rename from `own` is left out (what else would be at its target). Whether
/// the simulator sends that path is the caller's question.
fn held_at(
    path: &str,
    renames: &BTreeMap<String, String>,
    own: Option<&str>,
) -> Option<(String, bool)> {
    let moved = renames
        .iter()
        .filter(|(from, to)| Some(from.as_str()) != own && at_or_under(path, to))
        .max_by_key(|(_, to)| to.len());
    let (value, from) = match moved {
        Some((from, to)) => (format!("{from}{}", &path[to.len()..]), from.as_str()),
        None => (path.to_owned(), ""),
    };
    let taken = renames
        .keys()
        .any(|source| source.len() > from.len() && at_or_under(&value, source));
    (!taken).then_some((value, moved.is_some()))
}

/// Whether `path` is `outer` or a path under it.
fn at_or_under(path: &str, outer: &str) -> bool {
    path.strip_prefix(outer)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// What is in the way of a path a reply or notification writes ([`in_the_way`]).
enum Obstacle {
    /// The simulator's own field, sent there.
    Sent,
    /// The simulator's field a rename moves there.
    Moved(String),
    /// A rename (from, to) moves a field under the path (a fixed field would replace it).
    Holds(String, String),
    /// The parent path, which holds a plain value the simulator sends there.
    UnderSent(String),
    /// The parent path, and the simulator's plain value a rename moves there.
    UnderMoved(String, String),
}

/// What the overlay writes at `path`, a rename's target (the rename from `own`) or a fixed
/// field (`own` None), must not land on a field the simulator sends there once the renames are
/// applied (`userId = "status"` would overwrite the real `status`; `extra = { customerId = .. }`
/// the `userId` a rename moves to `customerId`), nor under one it sends as a plain value
/// (`userId = "status.id"`: the string `status` cannot hold `id`), unless that field is itself
/// renamed away; nor under a field a rename moves a plain value to. A fixed field must not
/// hold a field a rename moves under it either.
fn in_the_way(
    path: &str,
    own: Option<&str>,
    renames: &BTreeMap<String, String>,
    fields: &[String],
) -> Option<Obstacle> {
    if let Some((value, moved)) = held_at(path, renames, own).filter(|(v, _)| fields.contains(v)) {
        return Some(if moved {
            Obstacle::Moved(value)
        } else {
            Obstacle::Sent
        });
    }
    if own.is_none() {
        let under = renames
            .iter()
            .find(|(_, to)| to.len() > path.len() && at_or_under(to, path));
        if let Some((from, to)) = under {
            return Some(Obstacle::Holds(from.clone(), to.clone()));
        }
    }
    path.match_indices('.').find_map(|(i, _)| {
        let parent = &path[..i];
        let (plain, moved) =
            held_at(parent, renames, own).filter(|(value, _)| sent_plain(value, fields))?;
        Some(if moved {
            Obstacle::UnderMoved(parent.to_owned(), plain)
        } else {
            Obstacle::UnderSent(parent.to_owned())
        })
    })
}

/// Rename targets (`key`'s) and fixed fields (`extra`) against what the simulator sends
/// ([`in_the_way`]).
fn check_written(
    key: &'static str,
    renames: &BTreeMap<String, String>,
    extra: &BTreeMap<String, Value>,
    fields: &[String],
) -> Result<(), Found> {
    let plain = |parent: &str, there: &str| {
        format!("under {parent:?}, which is a plain value, not an object ({there})")
    };
    for (from, to) in renames {
        let Some(obstacle) = in_the_way(to, Some(from), renames, fields) else {
            continue;
        };
        let (why, fix) = match obstacle {
            Obstacle::Sent => (
                "a field the simulator already sends there, which would be lost".to_owned(),
                format!("choose another name, or rename {to:?} away too"),
            ),
            Obstacle::Moved(value) | Obstacle::Holds(value, _) => (
                format!("where {key} also moves {value:?}, so one of them would be lost"),
                format!("choose another name, or rename {value:?} elsewhere"),
            ),
            Obstacle::UnderSent(parent) => (
                format!(
                    "{}, so {from:?} would be lost",
                    plain(&parent, "the simulator sends it there")
                ),
                format!("choose another name, or rename {parent:?} away too"),
            ),
            Obstacle::UnderMoved(parent, value) => (
                format!(
                    "{}, so {from:?} would be lost",
                    plain(&parent, &format!("{key} moves {value:?} there"))
                ),
                format!("rename {value:?} elsewhere, or choose another name"),
            ),
        };
        return Err((
            Spot::key(key, from),
            format!("{key} renames {from:?} to {to:?}, {why}: {fix}"),
        ));
    }
    for path in extra.keys() {
        let Some(obstacle) = in_the_way(path, None, renames, fields) else {
            continue;
        };
        let (why, fix) = match obstacle {
            Obstacle::Sent => (
                "a field the simulator already sends there, which would be replaced".to_owned(),
                format!("choose another name, or rename {path:?} away with {key}"),
            ),
            Obstacle::Moved(value) => (
                format!("where {key} moves {value:?}, which would be replaced"),
                "choose another name".to_owned(),
            ),
            Obstacle::Holds(from, to) => (
                format!("where {key} moves {from:?} to {to:?}, which would be replaced"),
                "choose another name".to_owned(),
            ),
            Obstacle::UnderSent(parent) => (
                format!(
                    "{}, so it cannot be set",
                    plain(&parent, "the simulator sends it there")
                ),
                format!("choose another name, or rename {parent:?} away with {key}"),
            ),
            Obstacle::UnderMoved(parent, value) => (
                format!(
                    "{}, so it cannot be set",
                    plain(&parent, &format!("{key} moves {value:?} there"))
                ),
                format!("choose another name, or rename {value:?} elsewhere"),
            ),
        };
        return Err((
            Spot::key("extra", path),
            format!("extra sets {path:?}, {why}: {fix}"),
        ));
    }
    Ok(())
}

fn check_notification(
    channel: &str,
    o: &NotificationOverlay,
    statuses: &[Vocabulary],
) -> Result<(), Found> {
    check_targets("rename", &o.rename)?;
    check_paths("extra", o.extra.keys(), |p| Spot::key("extra", p))?;
    check_values("extra", &o.extra)?;
    check_extra(&o.extra)?;
    check_words(&o.status, statuses)?;
    check_envelope("rename", envelope_keys(channel, true), &o.rename, &o.extra)
}

/// What applying an overlay to a request found.
#[derive(Debug, PartialEq)]
pub enum RequestOutcome {
    /// Nothing changed.
    Unchanged,
    /// The body was rewritten for the handler.
    Changed,
    /// The request cannot be applied: what to tell the partner, and in which code
    /// ([`Refusal::code`]).
    Refused(Refusal),
}

/// Why an overlay refuses a request, in the partner's names.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RefusalKind {
    /// A field the overlay requires is absent or null.
    Missing,
    /// The fields sent cannot be read as the overlay says: a field sent under both its names,
    /// or a field to be moved under one the partner sent as a plain value.
    Invalid,
}

impl Refusal {
    fn missing(message: String) -> Self {
        Self {
            kind: RefusalKind::Missing,
            message,
        }
    }
    fn invalid(message: String) -> Self {
        Self {
            kind: RefusalKind::Invalid,
            message,
        }
    }

    /// The surface's code for this refusal, as its handlers answer the like: a missing field
    /// [`parameter_code`] (Infinia `SYS-004`, Pockyt `000020`); fields that cannot be read
    /// together Infinia `SYS-002` (as `shareDetails` with a single `sellerId`) and Pockyt
    /// `000023`; Whalet and platform `PARAMETER_ERROR` for both.
    pub fn code(&self, surface: &str) -> &'static str {
        match (self.kind, surface) {
            (RefusalKind::Missing, _) => parameter_code(surface),
            (RefusalKind::Invalid, "infinia") => "SYS-002",
            (RefusalKind::Invalid, "pockyt") => "000023",
            (RefusalKind::Invalid, _) => "PARAMETER_ERROR",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What `apply_request` adds to a simulator's status word the overlay turns into another, so
/// that no handler reads it as that word (a NUL no word has, echoed as `\0`).
const MAPPED_AWAY: &str = "\u{0}mapped-away";

impl OperationOverlay {
    /// Rewrites a request body for the handler: required fields checked, a field sent under
    /// both names refused, optional ones filled, the partner's names moved to the simulator's,
    /// partner status words turned back into the simulator's.
    pub fn apply_request(&self, body: &mut Value) -> RequestOutcome {
        if let Some(field) = paths::first_missing(body, &self.required) {
            return RequestOutcome::Refused(Refusal::missing(format!("{field} is required")));
        }
        // Before the defaults, which may fill a field a rename then replaces.
        if let Some(refusal) = self.sent_twice(body) {
            return RequestOutcome::Refused(Refusal::invalid(refusal));
        }
        // The renames go on a copy until they are known to apply: a refused request is left as
        // it came.
        let mut rewritten = body.clone();
        let mut changed = false;
        let renames = self.rename_request.iter();
        match paths::rename_all(
            &mut rewritten,
            renames.map(|(p, s)| (p.as_str(), s.as_str())),
        ) {
            Ok(moved) => changed |= moved,
            Err(blocked) => {
                return RequestOutcome::Refused(Refusal::invalid(self.blocked_message(&blocked)))
            }
        }
        // The defaults after the renames, under the simulator's names: a field the partner sent
        // under either name is there, and is never replaced by a default.
        for (path, default) in &self.optional {
            changed |= paths::fill(&mut rewritten, &self.simulator_path(path), default);
        }
        *body = rewritten;
        // A partner's word turns back into the simulator's; a simulator's word the overlay
        // turns into another (and that is not also a partner's) is not one the partner may
        // send: it is marked so that the handler refuses it as any unknown word, listing the
        // partner's words ([`Self::message_for_partner`] takes the mark out of the echo).
        let back = |w: &str| {
            self.status
                .iter()
                .find(|(_, partner)| partner.as_str() == w)
                .map(|(sim, _)| sim.clone())
                .or_else(|| {
                    self.status
                        .get(w)
                        .filter(|partner| partner.as_str() != w)
                        .map(|_| format!("{w}{MAPPED_AWAY}"))
                })
        };
        changed |= paths::rewrite_status(body, &back);
        if changed {
            RequestOutcome::Changed
        } else {
            RequestOutcome::Unchanged
        }
    }

    /// Where the partner's request field `path` is for the handler: the target of its rename,
    /// or of the rename of the object it is in (`company.countryCode` under `company =
    /// "legalEntity"` is `legalEntity.countryCode`); else `path` itself.
    pub fn simulator_path(&self, path: &str) -> String {
        simulator_path(&self.rename_request, path)
    }

    /// A request rename that cannot be applied (a field to be moved under a value the partner
    /// sent that is not an object), in the partner's names: the value in the way is named as
    /// the partner sent it (the source of the rename that moves it there, if one does).
    fn blocked_message(&self, blocked: &paths::Blocked) -> String {
        if blocked.taken {
            return format!(
                "{} and {} were both sent, but this contract renames {} to {}: send {} only",
                blocked.from, blocked.to, blocked.from, blocked.to, blocked.from
            );
        }
        let parent = self
            .rename_request
            .iter()
            .find(|(_, sim)| **sim == blocked.parent)
            .map_or(blocked.parent.as_str(), |(partner, _)| partner.as_str());
        format!(
            "{} cannot be read: this contract moves it under {parent}, which was not sent as an object; send {parent} as an object, or leave it out",
            blocked.from
        )
    }

    /// A field the partner sent under its own name (renamed to the simulator's `sim`) while
    /// also sending `sim` itself, which no rename moves away: two values for one field of the
    /// handler, refused rather than one of them lost.
    fn sent_twice(&self, body: &Value) -> Option<String> {
        self.rename_request
            .iter()
            .filter(|(_, sim)| !self.rename_request.contains_key(*sim))
            .find(|(partner, sim)| paths::present(body, partner) && paths::present(body, sim))
            .map(|(partner, sim)| {
                format!(
                    "{partner} and {sim} were both sent, but this contract renames {partner} to {sim}: send {partner} only"
                )
            })
    }

    /// Whether [`Self::message_for_partner`] can change a message: the overlay renames request
    /// fields or turns status words.
    pub fn rewrites_messages(&self) -> bool {
        !self.rename_request.is_empty() || !self.status.is_empty()
    }

    /// The partner's words for a status field's values (`words`, the simulator's), each once, in
    /// their order: what the operation listing shows and a refusal lists.
    pub fn words_for_partner<S: AsRef<str>>(&self, words: &[S]) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(words.len());
        for w in words {
            let w = w.as_ref();
            let w = self.status.get(w).map_or(w, String::as_str);
            if !out.iter().any(|o| o == w) {
                out.push(w.to_owned());
            }
        }
        out
    }

    /// A handler's message (a refusal) in the partner's names: every request field path the
    /// overlay renames, written whole (not part of a longer name or path), becomes the partner's
    /// path, longest first and in one pass (a chain is not renamed twice). A path the message
    /// writes with an array index (`orders[0].orderNo`) is not recognised (docs/CONTRACTS.md).
    /// The values a status field allows, which a refusal lists, are in the partner's words
    /// ([`Self::status_lists`]).
    pub fn message_for_partner(&self, message: &str) -> String {
        if !self.rewrites_messages() {
            return message.to_owned();
        }
        // A word marked by `apply_request` is echoed as the partner sent it.
        let escaped = format!("{MAPPED_AWAY:?}");
        let unmarked = message.replace(&format!("{}\"", &escaped[1..escaped.len() - 1]), "\"");
        let message = unmarked.as_str();
        let lists = self.status_lists(message);
        let mut renames: Vec<(&str, &str)> = self
            .rename_request
            .iter()
            .map(|(partner, sim)| (sim.as_str(), partner.as_str()))
            .collect();
        renames.sort_by_key(|(sim, _)| std::cmp::Reverse(sim.len()));
        let part_of_name = |c: char| c.is_alphanumeric() || c == '_';
        let mut out = String::with_capacity(message.len());
        let mut rest = message;
        let mut after_name = false;
        while let Some(c) = rest.chars().next() {
            let here = message.len() - rest.len();
            if let Some((range, words)) = lists.iter().find(|(range, _)| range.start == here) {
                out.push_str(words);
                rest = &message[range.end..];
                after_name = true;
                continue;
            }
            let found = (!after_name)
                .then(|| {
                    renames.iter().find(|(sim, _)| {
                        rest.strip_prefix(sim)
                            .is_some_and(|tail| !tail.starts_with(part_of_name))
                    })
                })
                .flatten();
            match found {
                Some((sim, partner)) => {
                    out.push_str(partner);
                    rest = &rest[sim.len()..];
                    after_name = true;
                }
                None => {
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                    after_name = part_of_name(c) || c == '.';
                }
            }
        }
        out
    }

    /// The lists of a status field's values in a refusal (`status must be one of PENDING,
    /// SUCCESS, FAILURE, got "X"`), with the partner's words for them: in each of the message's
    /// problems (joined by `; `, each starting with the field it is about, as the handlers write
    /// them) about a status field (a key the overlay's `status` applies to), each run of two or
    /// more words joined by `, ` that are all words of one of the simulator's statuses (its
    /// store's, which the handler lists), before any quoted value (what the partner sent, left
    /// as it is).
    fn status_lists(&self, message: &str) -> Vec<(std::ops::Range<usize>, String)> {
        let mut lists = Vec::new();
        if self.status.is_empty() {
            return lists;
        }
        let vocabularies = status_vocabularies();
        // A run's words are where they are in their problem, which starts at `offset`.
        let mut flush = |run: &mut Vec<(std::ops::Range<usize>, &str)>, offset: usize| {
            let words: Vec<&str> = run.iter().map(|(_, w)| *w).collect();
            let one_status = vocabularies
                .iter()
                .any(|v| words.iter().all(|w| v.contains(w)));
            if let (true, Some((first, _)), Some((last, _))) =
                (words.len() >= 2 && one_status, run.first(), run.last())
            {
                let range = first.start + offset..last.end + offset;
                lists.push((range, self.words_for_partner(&words).join(", ")));
            }
            run.clear();
        };
        let mut offset = 0;
        for problem in message.split("; ") {
            let own = problem.split('"').next().unwrap_or(problem);
            let field = own.split_whitespace().next().unwrap_or("");
            let leaf = field.rsplit('.').next().unwrap_or(field);
            if paths::is_status_key(leaf.split('[').next().unwrap_or(leaf)) {
                let mut run = Vec::new();
                for (range, word) in word_spans(own) {
                    let joined =
                        run.last()
                            .is_some_and(|(last, _): &(std::ops::Range<usize>, &str)| {
                                &own[last.end..range.start] == ", "
                            });
                    if !joined {
                        flush(&mut run, offset);
                    }
                    if vocabularies.iter().any(|v| v.contains(&word)) {
                        run.push((range, word));
                    } else {
                        flush(&mut run, offset);
                    }
                }
                flush(&mut run, offset);
            }
            offset += problem.len() + "; ".len();
        }
        lists
    }

    /// A request body in the simulator's names (an example) in the partner's: the reverse of
    /// `rename_request`.
    pub fn request_for_partner(&self, body: &mut Value) {
        let renames = self.rename_request.iter();
        // An example the simulator made holds its fields as it reads them: a rename the load
        // accepted applies; were one not to, the example stays in the simulator's names.
        let _ = paths::rename_all(body, renames.map(|(p, s)| (s.as_str(), p.as_str())));
    }

    /// Rewrites a reply body for the partner: fields renamed, status words, fixed fields.
    pub fn apply_reply(&self, body: &mut Value) {
        outgoing(body, &self.rename_reply, &self.status, &self.extra);
    }
}

/// [`OperationOverlay::simulator_path`] under `renames` (partner's path → simulator's).
fn simulator_path(renames: &BTreeMap<String, String>, path: &str) -> String {
    if let Some(sim) = renames.get(path) {
        return sim.clone();
    }
    renames
        .iter()
        .filter(|(partner, _)| partner.len() < path.len() && at_or_under(path, partner))
        .max_by_key(|(partner, _)| partner.len())
        .map_or_else(
            || path.to_owned(),
            |(partner, sim)| format!("{sim}{}", &path[partner.len()..]),
        )
}

/// The words of `text` (runs of letters, digits and `_`), with where each is.
fn word_spans(text: &str) -> impl Iterator<Item = (std::ops::Range<usize>, &str)> {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    text.char_indices()
        .filter(move |&(i, c)| word(c) && !text[..i].ends_with(word))
        .map(move |(i, _)| {
            let end = text[i..]
                .find(|c: char| !word(c))
                .map_or(text.len(), |n| i + n);
            (i..end, &text[i..end])
        })
}

/// What goes to the partner, a reply or a notification: its status words turned into the
/// partner's, the simulator's names moved to the partner's, the fixed fields added. The words
/// are turned first, where the status fields still have the simulator's names (the reverse of a
/// request), so that a status field the same overlay renames (`status = "state"`) carries the
/// partner's word too.
fn outgoing(
    body: &mut Value,
    rename: &BTreeMap<String, String>,
    status: &BTreeMap<String, String>,
    extra: &BTreeMap<String, Value>,
) {
    paths::rewrite_status(body, &|w| status.get(w).cloned());
    match paths::rename_all(body, rename.iter().map(|(s, p)| (s.as_str(), p.as_str()))) {
        Ok(_) => {}
        // The load refuses a target on a field the simulator sends, or under one it sends as a
        // plain value; one the list of sent fields does not know (`[contract]
        // check_sent_fields = false`, a field the examples never show) can still meet one.
        // Nothing is renamed then, rather than a value lost or replaced.
        Err(blocked) if blocked.taken => tracing::error!(
            from = %blocked.from,
            to = %blocked.to,
            "contract: a rename's target is a field this body already has; this body's renames were not applied, so that value is kept (choose another name, or rename the field there away too)"
        ),
        Err(blocked) => tracing::error!(
            from = %blocked.from,
            to = %blocked.to,
            parent = %blocked.parent,
            "contract: a rename's target is under a value that is not an object; this body's renames were not applied (rename the field in the way away too, or choose another name)"
        ),
    }
    for (path, value) in extra {
        // The load refuses a fixed field on or under one the simulator sends (as a rename
        // there); one the list of sent fields does not know can still meet one. The field is
        // not set then, rather than a value the simulator sent replaced.
        match paths::set_new(body, path, value) {
            Ok(_) => {}
            Err(paths::InTheWay::Taken) => tracing::error!(
                path = %path,
                "contract: an extra field is already in this body (the simulator sends it, or a rename moves a field there); it was not set, so that value is kept (choose another name for the extra field)"
            ),
            Err(paths::InTheWay::Plain(parent)) => tracing::error!(
                path = %path,
                parent = %parent,
                "contract: an extra field's path is under a value that is not an object; it was not set (choose another name for the extra field)"
            ),
        }
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
    /// What [`Contracts::warn_left_out`] says: per tenant, the sections of its overlay file
    /// that are another provider's and so left out of its overlay.
    left_out: Vec<String>,
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
        let mut notes = Vec::new();
        for (tenant, f) in tenants {
            let Some((provider, id)) = tenant.split_once(':') else {
                anyhow::bail!(
                    "contract.tenants: {tenant:?} is not a tenant (provider:id, e.g. \"whalet:P0001\")"
                );
            };
            let Some(provider) = Provider::named(provider).filter(|_| !id.is_empty()) else {
                anyhow::bail!(
                    "contract.tenants: {tenant:?} is not a tenant (provider whalet, infinia or pockyt, then :id)"
                );
            };
            anyhow::ensure!(
                known.contains(tenant),
                "contract.tenants: no tenant {tenant:?} is configured (configured: {})",
                known.join(", ")
            );
            // Checked whole, kept for what can apply to the tenant (said at start).
            let whole = Contract::load(f, catalog)?;
            let (contract, left_out) = whole.for_provider(provider);
            if !left_out.is_empty() {
                notes.push(format!(
                    "contract overlay {}: {} of another provider's surfaces can never apply to \
                     {tenant} and are left out of its overlay (they apply to the tenants of \
                     that provider given this file)",
                    f.display(),
                    left_out.join(", ")
                ));
            }
            by_tenant.insert(tenant.clone(), Arc::new(contract));
        }
        Ok(Self {
            default,
            tenants: by_tenant,
            left_out: notes,
        })
    }

    /// Logs, once per start (the overlays are loaded twice: installed, then checked against
    /// the operations' fields), the sections a tenant's overlay leaves out as another
    /// provider's.
    pub fn warn_left_out(&self) {
        for note in &self.left_out {
            tracing::warn!("{note}");
        }
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

/// The surface's code for a missing parameter, in which a missing overlay-required field is
/// refused (Infinia's handlers answer `SYS-004` for a missing or null field).
pub fn parameter_code(surface: &str) -> &'static str {
    match surface {
        "infinia" => "SYS-004",
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
            request_kinds: HashMap::new(),
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
        let good = "[whalet.createUser]\nrename_reply = { \"user.userId\" = \"customer.id\", user = \"customer\" }\n\n[notification.\"whalet.userNotify\"]\nrename = { userId = \"id\" }\n";
        let c = Contract::parse("c.toml", good, &catalog).expect("parses");
        let mut reply = serde_json::json!({"user": {"userId": "U1", "name": "N"}, "status": "S"});
        c.operation("whalet", "createUser")
            .expect("parses")
            .apply_reply(&mut reply);
        assert_eq!(
            reply,
            serde_json::json!({"status": "S", "customer": {"name": "N", "id": "U1"}})
        );
        // A move inside a field renamed away names the path it meant.
        let bad = "[whalet.createUser]\nrename_reply = { \"user.userId\" = \"user.id\", user = \"customer\" }\n";
        let err = Contract::parse("c.toml", bad, &catalog).expect_err("an error");
        assert!(
            err.to_string()
                .contains("write the new path whole: \"user.userId\" = \"customer.id\""),
            "{err}"
        );
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
        assert!(err.to_string().starts_with("c.toml:2: "), "{err}");
    }

    /// A mistake in a table's value names the line of its key, not the table's header; a key
    /// of a later table is not mistaken for it.
    #[test]
    fn a_mistake_names_the_line_of_its_key() {
        let text = "[whalet.createUser]\nrequired = [\"a\"]\n\nstatus = { SUCCESS = \"OK\", FAILURE = \"OK\" }\n";
        let err = Contract::parse("c.toml", text, &catalog()).expect_err("an error");
        assert!(err.to_string().starts_with("c.toml:4: "), "{err}");
        let text = "[whalet.createUser]\nrequired = [\"a\"]\noptional = { a = 1 }\n";
        let err = Contract::parse("c.toml", text, &catalog()).expect_err("an error");
        assert!(err.to_string().starts_with("c.toml:2: "), "{err}");
    }

    /// Renames apply all at once: a chain and a swap are what they say in any order; a
    /// partner sending a field under its own name and the simulator's is refused, not merged.
    #[test]
    fn renames_apply_at_once_and_a_field_sent_twice_is_refused() {
        let text = "[whalet.createUser]\nrename_request = { a = \"email\", email = \"phone\" }\nrename_reply = { email = \"phone\", phone = \"email\" }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("parses");
        let o = c.operation("whalet", "createUser").expect("parses");
        let mut body = serde_json::json!({"a": "A", "email": "E"});
        assert_eq!(o.apply_request(&mut body), RequestOutcome::Changed);
        assert_eq!(body, serde_json::json!({"email": "A", "phone": "E"}));
        let mut reply = serde_json::json!({"email": "E", "phone": "P"});
        o.apply_reply(&mut reply);
        assert_eq!(reply, serde_json::json!({"phone": "E", "email": "P"}));
        let text = "[whalet.createUser]\nrename_request = { phone = \"email\" }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("parses");
        let o = c.operation("whalet", "createUser").expect("parses");
        let mut body = serde_json::json!({"phone": "P", "email": "E"});
        let RequestOutcome::Refused(why) = o.apply_request(&mut body) else {
            panic!("refused: {body}");
        };
        assert!(
            why.message.contains("phone and email were both sent"),
            "{why}"
        );
        assert_eq!(why.kind, RefusalKind::Invalid);
        assert_eq!(body, serde_json::json!({"phone": "P", "email": "E"}));
        // A default of the simulator's field is not a second value: the partner's replaces it.
        let text = "[whalet.createUser]\nrename_request = { phone = \"email\" }\noptional = { email = \"x\" }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("parses");
        let o = c.operation("whalet", "createUser").expect("parses");
        let mut body = serde_json::json!({"phone": "P"});
        assert_eq!(o.apply_request(&mut body), RequestOutcome::Changed);
        assert_eq!(body, serde_json::json!({"email": "P"}));
    }

    /// A reply rename onto a field the simulator sends beside it is refused, unless that field
    /// is renamed away too.
    #[test]
    fn a_reply_rename_onto_a_sent_field_is_refused() {
        let mut catalog = catalog();
        let mut sent = SentFields::default();
        sent.replies.insert(
            "whalet.createUser".into(),
            vec!["userId".into(), "status".into()],
        );
        catalog.sent = Arc::new(sent);
        let bad = "[whalet.createUser]\n\nrename_reply = { userId = \"status\" }\n";
        let err = Contract::parse("c.toml", bad, &catalog).expect_err("an error");
        let err = err.to_string();
        assert!(err.starts_with("c.toml:3: "), "{err}");
        assert!(err.contains("already sends"), "{err}");
        let good =
            "[whalet.createUser]\nrename_reply = { userId = \"status\", status = \"state\" }\n";
        assert!(Contract::parse("c.toml", good, &catalog).is_ok());
    }

    /// A status word mapped onto another word of the same status that stays is refused.
    #[test]
    fn a_status_word_onto_a_word_in_use_is_refused() {
        let bad = "[whalet.createUser]\nstatus = { PROCESSING = \"SUCCESS\" }\n";
        let err = Contract::parse("c.toml", bad, &catalog()).expect_err("an error");
        assert!(
            err.to_string().contains("the simulator's own SUCCESS"),
            "{err}"
        );
        let bad = "[notification.\"whalet.userNotify\"]\nstatus = { FAILURE = \"PROCESSING\" }\n";
        assert!(Contract::parse("c.toml", bad, &catalog()).is_err());
        let good =
            "[whalet.createUser]\nstatus = { PROCESSING = \"SUCCESS\", SUCCESS = \"DONE\" }\n";
        assert!(Contract::parse("c.toml", good, &catalog()).is_ok());
    }

    /// The simulator's catalogue, as it starts with no configuration.
    fn real_catalog() -> Catalog {
        crate::api::catalog::build(&crate::config::Config::default())
    }

    /// Regression: the check looked for the two words in every status the simulator keeps, so
    /// a platform binding's overlay was refused for the Open API shop's UNBOUND, a payment's for
    /// a collection account's CANCELLED. Only the statuses the overlaid operation or
    /// notification reports count; a real collision in one of them is still refused.
    #[test]
    fn status_words_collide_only_within_the_statuses_the_overlaid_one_reports() {
        let catalog = real_catalog();
        for good in [
            "[platform.\"shopAccountBindQuery\"]\nstatus = { SUCCESS = \"BOUND\", FAILURE = \"UNBOUND\" }\n",
            "[platform.\"paymentQuery\"]\nstatus = { FAILURE = \"CANCELLED\" }\n",
            "[notification.\"whalet.shopAccountBindNotify\"]\nstatus = { FAILURE = \"UNBOUND\" }\n",
            "[platform.\"balanceQuery\"]\nstatus = { FAILURE = \"UNBOUND\" }\n",
        ] {
            if let Err(e) = Contract::parse("c.toml", good, &catalog) {
                panic!("{good:?} refused: {e}");
            }
        }
        refused_at(
            &catalog,
            &[
                (
                    "[platform.\"shopAccountBindQuery\"]\nstatus = { PROCESSING = \"SUCCESS\" }\n",
                    2,
                    "the simulator's own SUCCESS",
                ),
                (
                    "[whalet.\"b2cShopBind\"]\nstatus = { FAILURE = \"UNBOUND\" }\n",
                    2,
                    "the simulator's own UNBOUND",
                ),
                (
                    "[whalet.\"b2cCardQuery\"]\nstatus = { FAILURE = \"CANCELLED\" }\n",
                    2,
                    "the simulator's own CANCELLED",
                ),
                // The shop's status beside the verdict: FAILURE is a word of both.
                (
                    "[notification.\"whalet.b2cShopBindResultNotify\"]\nstatus = { FAILURE = \"UNBOUND\" }\n",
                    2,
                    "the simulator's own UNBOUND",
                ),
                (
                    "[infinia.\"account-binding/query\"]\nstatus = { FROZEN = \"ACTIVE\" }\n",
                    2,
                    "the simulator's own ACTIVE",
                ),
            ],
        );
    }

    /// Every reply and notification the simulator sends with a status field (the table of sent
    /// fields) says which statuses it reports, and the table names only operations and
    /// notifications the simulator has.
    #[test]
    fn every_status_field_sent_names_the_statuses_it_reports() {
        let catalog = real_catalog();
        let sent = SentFields::shipped();
        let has_status = |paths: &Vec<String>| {
            statuses_of("(not listed)", Some(paths)).len() == status_vocabularies().len()
        };
        for (key, paths) in sent.replies.iter().chain(&sent.notifications) {
            if has_status(paths) {
                assert!(
                    reported_statuses(key).is_some(),
                    "{key} reports which status?"
                );
            }
        }
        let operations = catalog
            .operations
            .iter()
            .map(|(s, n, _)| format!("{s}.{n}"));
        let notifications = catalog
            .notifications
            .iter()
            .map(|(c, n)| format!("{c}.{n}"));
        let known: Vec<String> = operations.chain(notifications).collect();
        for key in REPORTED.iter().flat_map(|(keys, _)| keys.iter()) {
            assert!(
                known.iter().any(|k| k == key),
                "{key} is not in the catalogue"
            );
        }
    }

    /// A refusal that lists the values a status field allows lists them in the partner's
    /// words (the overlay's `status`), with no field renamed too; the value the partner sent,
    /// another field's list and a problem about another field keep theirs.
    #[test]
    fn a_refusal_lists_a_status_fields_values_in_the_partners_words() {
        use crate::store::{whalet::CollectionStatus, Words};
        let words = CollectionStatus::WORDS.join(", ");
        let text = "[whalet.createUser]\nstatus = { PENDING = \"SUCCESS\", SUCCESS = \"SETTLED\", FAILURE = \"BOUNCED\" }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("parses");
        let o = c.operation("whalet", "createUser").expect("parses");
        assert!(o.rewrites_messages());
        let partner = o.words_for_partner(CollectionStatus::WORDS).join(", ");
        assert!(!partner.contains("PENDING"), "{partner}");
        let refusal = format!("status must be one of {words}, got \"NOPE\"");
        assert_eq!(
            o.message_for_partner(&refusal),
            format!("status must be one of {partner}, got \"NOPE\"")
        );
        // In an array element, beside another problem; the quoted value as the partner sent it.
        let refusal = format!(
            "type must be one of {words}; records[0].payStatus must be one of {words}, got \"{words}\""
        );
        assert_eq!(
            o.message_for_partner(&refusal),
            format!(
                "type must be one of {words}; records[0].payStatus must be one of {partner}, got \"{words}\""
            )
        );
        // A list that is not all one status's words is another field's: left as it is.
        let other = "status must be one of PENDING, ACTIVE, INDIVIDUAL";
        assert_eq!(o.message_for_partner(other), other);
        // With the status field renamed too.
        let text = format!("{text}rename_request = {{ state = \"status\" }}\n");
        let c = Contract::parse("c.toml", &text, &catalog()).expect("parses");
        let o = c.operation("whalet", "createUser").expect("parses");
        assert_eq!(
            o.message_for_partner(&format!("status must be one of {words}, got \"X\"")),
            format!("state must be one of {partner}, got \"X\"")
        );
    }

    /// A refusal's message names the partner's fields: whole names and paths only, once.
    #[test]
    fn a_message_names_the_partners_fields() {
        let text = "[whalet.createUser]\nrename_request = { merchantUserId = \"outUserId\", \"legalEntity.legalName\" = \"legalEntity.name\", a = \"email\", email = \"phone\" }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("parses");
        let o = c.operation("whalet", "createUser").expect("parses");
        assert_eq!(
            o.message_for_partner(
                "legalEntity.name is required; name and outUserIdX, x.outUserId, outUserId."
            ),
            "legalEntity.legalName is required; name and outUserIdX, x.outUserId, merchantUserId."
        );
        assert_eq!(
            o.message_for_partner("email is not an e-mail address; phone too"),
            "a is not an e-mail address; email too"
        );
    }

    /// A TOML date/time as a default or a fixed field is refused with its key's line.
    #[test]
    fn a_toml_datetime_value_is_refused() {
        let bad = "[whalet.createUser]\nrequired = [\"a\"]\noptional = { startTime = 2026-01-01T00:00:00Z }\n";
        let err = Contract::parse("c.toml", bad, &catalog()).expect_err("an error");
        let err = err.to_string();
        assert!(err.starts_with("c.toml:3: "), "{err}");
        assert!(err.contains("\"startTime\" is a TOML date/time"), "{err}");
        let bad = "[notification.\"whalet.userNotify\"]\nextra = { at = { day = 2026-01-01 } }\n";
        assert!(Contract::parse("c.toml", bad, &catalog()).is_err());
    }

    /// The refusal of each overlay text of `cases`, checked to name its line and to say its
    /// needle: `(text, line, needle)`.
    fn refused_at(catalog: &Catalog, cases: &[(&str, usize, &str)]) -> Vec<String> {
        cases
            .iter()
            .map(|(text, line, needle)| {
                let err = Contract::parse("c.toml", text, catalog)
                    .expect_err(text)
                    .to_string();
                assert!(
                    err.starts_with(&format!("c.toml:{line}: ")),
                    "{text:?}: {err}"
                );
                assert!(err.contains(needle), "{text:?}: {err}");
                err
            })
            .collect()
    }

    fn onboarding_catalog() -> Catalog {
        let mut catalog = catalog();
        catalog.operations.push((
            "pockyt",
            "/v3/payee/retrieve".into(),
            "/v3/payee/retrieve".into(),
        ));
        catalog.notifications.push(("pockyt", "payout".into()));
        let mut sent = SentFields::default();
        sent.replies.insert(
            "whalet.createUser".into(),
            ["outUserId", "status", "userId", "entity", "entity.name"]
                .map(String::from)
                .to_vec(),
        );
        sent.notifications.insert(
            "whalet.userNotify".into(),
            ["reMaterial", "status", "userId"]
                .map(String::from)
                .to_vec(),
        );
        catalog.sent = Arc::new(sent);
        catalog
    }

    /// A rename under a field the simulator sends as a plain value is refused at load, unless
    /// that field is renamed away too; then the renames mean the same in either order and no
    /// value is lost (a reply and a notification alike).
    #[test]
    fn a_rename_under_a_plain_sent_field_is_refused_unless_it_is_renamed_away() {
        let catalog = onboarding_catalog();
        for renames in [
            "{ outUserId = \"userId.x\", userId = \"uid\" }",
            "{ userId = \"outUserId.x\", outUserId = \"ouid\" }",
        ] {
            let text = format!("[whalet.createUser]\nrename_reply = {renames}\n");
            let c = Contract::parse("c.toml", &text, &catalog).expect("parses");
            let mut reply =
                serde_json::json!({"status": "PROCESSING", "userId": "U1", "outUserId": "m-1"});
            c.operation("whalet", "createUser")
                .expect("parses")
                .apply_reply(&mut reply);
            let text = reply.to_string();
            let lost: Vec<&str> = ["U1", "m-1", "PROCESSING"]
                .into_iter()
                .filter(|v| !text.contains(&format!("\"{v}\"")))
                .collect();
            assert!(lost.is_empty(), "{renames}: {lost:?} lost in {reply}");
        }
        let text =
            "[whalet.createUser]\nrename_reply = { outUserId = \"userId.x\", userId = \"uid\" }\n";
        let c = Contract::parse("c.toml", text, &catalog).expect("parses");
        let mut reply =
            serde_json::json!({"status": "PROCESSING", "userId": "U1", "outUserId": "m-1"});
        c.operation("whalet", "createUser")
            .unwrap()
            .apply_reply(&mut reply);
        assert_eq!(reply["userId"]["x"], "m-1", "{reply}");
        assert_eq!(reply["uid"], "U1", "{reply}");

        let bad = [
            ("[whalet.createUser]\n\nrename_reply = { userId = \"status.id\" }\n", 3, "under \"status\", which is a plain value"),
            ("[whalet.createUser]\nrename_reply = { outUserId = \"userId.x\" }\n", 2, "rename \"userId\" away too"),
            // Under a field another rename moves a plain value to.
            ("[whalet.createUser]\nrename_reply = { status = \"state\", outUserId = \"state.x\" }\n", 2, "rename_reply moves \"status\" there"),
            ("[notification.\"whalet.userNotify\"]\nrename = { reMaterial = \"userId.reMaterial\" }\n", 2, "under \"userId\""),
        ];
        for (text, line, needle) in bad {
            let err = Contract::parse("c.toml", text, &catalog)
                .expect_err(text)
                .to_string();
            assert!(err.starts_with(&format!("c.toml:{line}: ")), "{err}");
            assert!(err.contains(needle), "{err}");
        }
        // Under a plain value another rename moves there: refused; under an object the
        // simulator sends, or one a rename moves there: fine.
        let bad =
            "[whalet.createUser]\nrename_reply = { userId = \"user\", status = \"user.status\" }\n";
        let err = Contract::parse("c.toml", bad, &catalog).expect_err("userId is plain");
        assert!(
            err.to_string()
                .contains("rename_reply moves \"userId\" there"),
            "{err}"
        );
        let good = "[whalet.createUser]\nrename_reply = { outUserId = \"entity.outUserId\", entity = \"company\", status = \"company.status\" }\n";
        let c = Contract::parse("c.toml", good, &catalog).expect("parses");
        let mut reply =
            serde_json::json!({"status": "S", "outUserId": "m", "entity": {"name": "N"}});
        c.operation("whalet", "createUser")
            .unwrap()
            .apply_reply(&mut reply);
        assert_eq!(
            reply,
            serde_json::json!({"company": {"name": "N", "status": "S"}, "entity": {"outUserId": "m"}})
        );
        let text = "[notification.\"whalet.userNotify\"]\nrename = { reMaterial = \"userId.reMaterial\", userId = \"uid\" }\n";
        let c = Contract::parse("c.toml", text, &catalog).expect("parses");
        let mut payload = serde_json::json!({"userId": "U1", "reMaterial": "R", "status": "S"});
        c.notification("whalet", "userNotify")
            .unwrap()
            .apply(&mut payload);
        assert_eq!(
            payload,
            serde_json::json!({"status": "S", "uid": "U1", "userId": {"reMaterial": "R"}})
        );
    }

    /// A fixed field (`extra`) on or under a field the simulator sends is refused at load, as a
    /// rename there is: on a field it sends (an array too), on one a rename moves there, on an
    /// object holding one a rename moves there, under one it sends (or a rename moves there) as
    /// a plain value; in a notification too. Beside what it sends, or inside an object it sends,
    /// it is fine; so is one where a field renamed away was.
    #[test]
    fn an_extra_field_on_or_under_a_sent_field_is_refused() {
        let mut catalog = onboarding_catalog();
        let mut sent = (*catalog.sent).clone();
        sent.replies
            .get_mut("whalet.createUser")
            .expect("listed")
            .extend(["accounts", "accounts[]", "accounts.id"].map(String::from));
        catalog.sent = Arc::new(sent);
        let bad = [
            ("[whalet.createUser]\nrename_reply = { userId = \"customerId\" }\n\nextra = { \"customerId\" = \"FIXED\" }\n", 4, "where rename_reply moves \"userId\""),
            ("[whalet.createUser]\nextra = { \"outUserId.x\" = \"y\" }\n", 2, "under \"outUserId\", which is a plain value"),
            ("[whalet.createUser]\nextra = { accounts = \"x\" }\n", 2, "a field the simulator already sends there"),
            ("[whalet.createUser]\nextra = { \"accounts.id\" = \"x\" }\n", 2, "already sends"),
            ("[whalet.createUser]\nextra = { entity = { a = 1 } }\n", 2, "already sends"),
            ("[whalet.createUser]\nrename_reply = { status = \"state\" }\nextra = { \"state.x\" = 1 }\n", 3, "rename_reply moves \"status\" there"),
            ("[whalet.createUser]\nrename_reply = { status = \"meta.state\" }\nextra = { meta = 1 }\n", 3, "moves \"status\" to \"meta.state\""),
            ("[notification.\"whalet.userNotify\"]\nextra = { userId = \"U\" }\n", 2, "already sends"),
            ("[notification.\"whalet.userNotify\"]\nrename = { reMaterial = \"material\" }\nextra = { \"material.x\" = 1 }\n", 3, "rename moves \"reMaterial\" there"),
        ];
        for err in refused_at(&catalog, &bad) {
            assert!(err.contains("choose another name"), "{err}");
        }
        let good = [
            "[whalet.createUser]\nextra = { reviewChannel = \"STANDARD\", \"entity.code\" = 1, \"accounts.bank\" = \"B\" }\n",
            "[whalet.createUser]\nrename_reply = { userId = \"customerId\" }\nextra = { userId = \"FIXED\" }\n",
            "[whalet.createUser]\nrename_reply = { outUserId = \"ouid\" }\nextra = { \"outUserId.x\" = 1 }\n",
            "[notification.\"whalet.userNotify\"]\nextra = { source = \"SIM\" }\n",
        ];
        for text in good {
            if let Err(e) = Contract::parse("c.toml", text, &catalog) {
                panic!("{text:?}: {e}");
            }
        }
        // The same mechanism finds a rename onto a field another rename moves there.
        let bad = "[whalet.createUser]\nrename_reply = { entity = \"company\", outUserId = \"company.name\" }\n";
        let err = Contract::parse("c.toml", bad, &catalog).expect_err("entity.name is lost");
        assert!(
            err.to_string().contains("also moves \"entity.name\""),
            "{err}"
        );
    }

    /// Fixed fields among themselves: one set twice (inside another's value too) or under
    /// another's plain value is refused whatever the simulator sends.
    #[test]
    fn an_extra_field_inside_another_is_refused() {
        for (text, needle) in [
            (
                "[whalet.createUser]\nextra = { meta = { v = 1 }, \"meta.v\" = 2 }\n",
                "twice",
            ),
            (
                "[whalet.createUser]\nextra = { meta = 1, \"meta.v\" = 2 }\n",
                "under \"meta\"",
            ),
            (
                "[notification.\"whalet.userNotify\"]\nextra = { meta = [1], \"meta.v\" = 2 }\n",
                "under \"meta\"",
            ),
        ] {
            let err = Contract::parse("c.toml", text, &catalog())
                .expect_err(text)
                .to_string();
            assert!(err.starts_with("c.toml:2: "), "{err}");
            assert!(err.contains(needle), "{text:?}: {err}");
        }
        let good = "[whalet.createUser]\nextra = { meta = { v = 1 }, \"meta.w\" = 2 }\n";
        let c = Contract::parse("c.toml", good, &catalog()).expect("parses");
        let mut reply = serde_json::json!({"userId": "U1"});
        c.operation("whalet", "createUser")
            .unwrap()
            .apply_reply(&mut reply);
        assert_eq!(
            reply["meta"],
            serde_json::json!({"v": 1, "w": 2}),
            "{reply}"
        );
    }

    /// A fixed field the load could not check (the list of sent fields does not know the
    /// operation) that meets a value in the reply is not set, rather than the value replaced;
    /// the other fixed fields are.
    #[test]
    fn an_extra_field_that_meets_a_sent_value_replaces_nothing() {
        let text = "[whalet.createUser]\nrename_reply = { userId = \"customerId\" }\nextra = { customerId = \"FIXED\", \"outUserId.x\" = \"y\", accounts = \"x\", channel = \"WEB\" }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("not checked");
        let mut reply =
            serde_json::json!({"userId": "U1", "outUserId": "a1", "accounts": [{"id": "A"}]});
        c.operation("whalet", "createUser")
            .unwrap()
            .apply_reply(&mut reply);
        assert_eq!(
            reply,
            serde_json::json!({"outUserId": "a1", "accounts": [{"id": "A"}], "customerId": "U1", "channel": "WEB"})
        );
        let text = "[notification.\"whalet.userNotify\"]\nextra = { userId = \"FIXED\" }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("not checked");
        let mut payload = serde_json::json!({"userId": "U1"});
        c.notification("whalet", "userNotify")
            .unwrap()
            .apply(&mut payload);
        assert_eq!(payload, serde_json::json!({"userId": "U1"}));
    }

    /// A rename the load could not check (a field the list of sent fields does not know) that
    /// meets a plain value leaves the reply as it was, never a value lost; in a request, it is
    /// refused naming the partner's fields.
    #[test]
    fn a_rename_that_cannot_be_placed_loses_nothing() {
        let text = "[whalet.createUser]\nrename_reply = { userId = \"status.id\" }\nrename_request = { uid = \"entity.id\", company = \"entity\" }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("not checked");
        let o = c.operation("whalet", "createUser").unwrap();
        let reply = serde_json::json!({"status": "PROCESSING", "userId": "U1"});
        let mut rewritten = reply.clone();
        o.apply_reply(&mut rewritten);
        assert_eq!(rewritten, reply);
        let request = serde_json::json!({"uid": "U1", "company": "ACME"});
        let mut body = request.clone();
        let RequestOutcome::Refused(why) = o.apply_request(&mut body) else {
            panic!("refused: {body}");
        };
        assert_eq!(why.kind, RefusalKind::Invalid);
        assert!(
            why.message.contains("uid cannot be read") && why.message.contains("under company"),
            "{why}"
        );
        assert_eq!(body, request, "left as it came");
    }

    /// An overlay's missing required field takes the surface's code for a missing field (Infinia
    /// SYS-004, as its handlers); fields that cannot be read together its code for an invalid
    /// request.
    #[test]
    fn a_missing_required_field_takes_the_surfaces_missing_field_code() {
        let missing = Refusal::missing("foo is required".into());
        let invalid = Refusal::invalid("a and b were both sent".into());
        assert_eq!(parameter_code("infinia"), "SYS-004");
        assert_eq!(missing.code("infinia"), "SYS-004");
        assert_eq!(invalid.code("infinia"), "SYS-002");
        assert_eq!(missing.code("pockyt"), "000020");
        assert_eq!(invalid.code("pockyt"), "000023");
        assert_eq!(missing.code("whalet"), "PARAMETER_ERROR");
        assert_eq!(invalid.code("platform"), "PARAMETER_ERROR");
    }

    /// A mistake names the line of the key it is about, wherever a key of the same name is
    /// written before it, and in whichever form the table is written.
    #[test]
    fn a_mistake_names_the_line_of_the_key_it_is_about() {
        let catalog = onboarding_catalog();
        let cases = [
            ("[whalet.createUser]\nextra = { code = 1 }\ncode = \"DONE\"\n", 3, "not a sync success code"),
            ("[whalet.createUser]\nstatus = { PROCESSING = \"X\" }\nrename_reply = { status = \"userId\" }\n", 3, "already sends"),
            ("[whalet.createUser]\nrequired = [\"a\"]\nstatus = { \"\" = \"X\" }\n", 3, "cannot be empty"),
            ("[whalet.createUser]\nrequired = [\"a\"]\nextra = { \"\" = 1 }\n", 3, "not a field path"),
            ("[whalet.createUser]\nrequired = [\"a\"]\n\n[whalet.createUser.status]\nFAILURE = \"OK\"\nSUCCESS = \"OK\"\n", 6, "two words become"),
            ("[whalet.createUser]\ncode = \"SUCCESS\"\n[whalet.createUser.rename_reply]\nuserId = \"a\"\noutUserId = \"a\"\n", 4, "two fields are renamed to \"a\""),
            ("[whalet.createUser]\nrequired = [\"x\",\n  \"status\"]\noptional = { status = 1 }\n", 3, "both required and optional"),
            ("[whalet.createUser]\nrequired = [\"a\"]\noptional = { \"a b\" = 1 }\n", 3, "not a field path"),
        ];
        refused_at(&catalog, &cases);
    }

    /// An overlay cannot write the keys a Pockyt reply keeps beside its fields (`ret_code`,
    /// `ret_msg`) or the IPN's signature.
    #[test]
    fn an_overlay_cannot_write_a_replys_envelope_keys() {
        let catalog = onboarding_catalog();
        let cases = [
            ("[pockyt.\"/v3/payee/retrieve\"]\nextra = { ret_code = \"999999\", ret_msg = \"overlay\" }\n", 2, "extra sets \"ret_code\""),
            ("[pockyt.\"/v3/payee/retrieve\"]\nextra = { \"ret_msg.x\" = 1 }\n", 2, "extra sets \"ret_msg.x\""),
            ("[pockyt.\"/v3/payee/retrieve\"]\nrename_reply = { customerNo = \"ret_msg\" }\n", 2, "renames \"customerNo\" to \"ret_msg\""),
            ("[notification.\"pockyt.payout\"]\nextra = { verifySign = \"x\" }\n", 2, "the IPN's signature"),
        ];
        for err in refused_at(&catalog, &cases) {
            assert!(err.contains("choose another name"), "{err}");
        }
        // The same names on another surface are the body's own.
        let text = "[whalet.createUser]\nextra = { ret_code = \"1\", verifySign = \"x\" }\n";
        assert!(Contract::parse("c.toml", text, &catalog).is_ok());
    }

    #[test]
    fn an_overlay_rewrites_requests_and_replies() {
        let text = "[whalet.createUser]\nrename_request = { fullName = \"name\" }\nrename_reply = { userId = \"customerId\" }\nstatus = { SUCCESS = \"SUCCEEDED\" }\nrequired = [\"purpose\"]\noptional = { channel = \"WEB\" }\nextra = { \"meta.version\" = 2 }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("parses");
        let o = c.operation("whalet", "createUser").expect("parses");
        let mut body = serde_json::json!({"fullName": "A"});
        assert_eq!(
            o.apply_request(&mut body),
            RequestOutcome::Refused(Refusal::missing("purpose is required".into()))
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

    /// Regression: replies and notifications turned status words after the renames, matching
    /// only status-named keys, so a status field the same overlay renamed kept the simulator's
    /// word (a word the same server refuses in a request).
    #[test]
    fn a_renamed_status_field_carries_the_partners_word_in_replies_and_notifications() {
        let text = "[whalet.createUser]\nrename_request = { state = \"status\" }\nrename_reply = { \"records.status\" = \"records.state\", status = \"state\" }\nstatus = { PROCESSING = \"IN_REVIEW\" }\n\n[notification.\"whalet.userNotify\"]\nrename = { status = \"state\" }\nstatus = { SUCCESS = \"APPROVED\" }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("parses");
        let o = c.operation("whalet", "createUser").expect("parses");
        let mut reply = serde_json::json!({"status": "PROCESSING", "records": [{"status": "PROCESSING"}, {"status": "SUCCESS"}]});
        o.apply_reply(&mut reply);
        assert_eq!(
            reply,
            serde_json::json!({"state": "IN_REVIEW", "records": [{"state": "IN_REVIEW"}, {"state": "SUCCESS"}]})
        );
        // The word the reply shows is the one a request may send.
        let mut request = serde_json::json!({"state": reply["state"].clone()});
        assert_eq!(o.apply_request(&mut request), RequestOutcome::Changed);
        assert_eq!(request, serde_json::json!({"status": "PROCESSING"}));
        let mut payload = serde_json::json!({"userId": "U1", "status": "SUCCESS"});
        c.notification("whalet", "userNotify")
            .expect("parses")
            .apply(&mut payload);
        assert_eq!(
            payload,
            serde_json::json!({"userId": "U1", "state": "APPROVED"})
        );
    }

    /// Regression: a default was filled under the partner's name and then renamed over the
    /// value the partner had sent under the simulator's, which was lost. The default is filled
    /// after the renames, only where the field is still absent.
    #[test]
    fn a_default_never_replaces_a_value_sent_under_the_simulators_name() {
        let text = "[whalet.createUser]\nrename_request = { merchantUserId = \"outUserId\" }\noptional = { merchantUserId = \"dflt\" }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("parses");
        let o = c.operation("whalet", "createUser").expect("parses");
        for (sent, seen) in [
            (serde_json::json!({"outUserId": "X"}), "X"),
            (serde_json::json!({"merchantUserId": "M"}), "M"),
            (serde_json::json!({"merchantUserId": null}), "dflt"),
            (serde_json::json!({}), "dflt"),
        ] {
            let mut body = sent.clone();
            let outcome = o.apply_request(&mut body);
            assert!(!matches!(outcome, RequestOutcome::Refused(_)), "{sent}");
            assert_eq!(body, serde_json::json!({"outUserId": seen}), "{sent}");
        }
    }

    /// Regression: a rename onto a field the payload already had replaced it where the load
    /// could not check (a reply the list of sent fields does not know). Now the renames are
    /// not applied and the value is kept; a Pockyt IPN's and an Infinia webhook's fields, fixed
    /// and documented, are checked when the file is loaded.
    #[test]
    fn a_rename_onto_a_field_the_payload_has_replaces_nothing() {
        let text = "[whalet.createUser]\nrename_reply = { outUserId = \"userId\" }\n\n[notification.\"whalet.userNotify\"]\nrename = { vendor = \"currency\" }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("not checked");
        let reply = serde_json::json!({"outUserId": "m-1", "userId": "U1"});
        let mut rewritten = reply.clone();
        c.operation("whalet", "createUser")
            .unwrap()
            .apply_reply(&mut rewritten);
        assert_eq!(rewritten, reply);
        let payload = serde_json::json!({"vendor": "BANK_ACCOUNT", "currency": "USD"});
        let mut rewritten = payload.clone();
        c.notification("whalet", "userNotify")
            .unwrap()
            .apply(&mut rewritten);
        assert_eq!(rewritten, payload);
        // In a request, as a field sent under both names.
        let text = "[whalet.createUser]\nrename_request = { \"a.b\" = \"c.d\", a = \"c\" }\n";
        let c = Contract::parse("c.toml", text, &catalog()).expect("parses");
        let sent = serde_json::json!({"a": {"b": 1, "d": 2}});
        let mut body = sent.clone();
        let RequestOutcome::Refused(why) = c
            .operation("whalet", "createUser")
            .unwrap()
            .apply_request(&mut body)
        else {
            panic!("refused: {body}");
        };
        assert!(why.message.contains("were both sent"), "{why}");
        assert_eq!(body, sent);
        let catalog = real_catalog();
        refused_at(
            &catalog,
            &[
                (
                    "[notification.\"pockyt.payout\"]\n\nrename = { vendor = \"currency\" }\n",
                    3,
                    "already sends",
                ),
                (
                    "[notification.\"infinia.sellerStatus\"]\nrename = { sellerId = \"status\" }\n",
                    2,
                    "already sends",
                ),
                (
                    "[notification.\"pockyt.payout\"]\nrename = { vendr = \"x\" }\n",
                    2,
                    "did you mean \"vendor\"?",
                ),
            ],
        );
        let good = "[notification.\"pockyt.payout\"]\nrename = { vendor = \"accountType\" }\n\n[notification.\"infinia.sellerStatus\"]\nrename = { sellerId = \"merchantSellerId\" }\n";
        if let Err(e) = Contract::parse("c.toml", good, &catalog) {
            panic!("{e}");
        }
    }

    /// Regression: an array renamed together with a field of its elements could not be
    /// written: the load's two refusals pointed at each other. The field is written whole
    /// (`list.createTime`) and moves within each element, in replies and requests alike.
    #[test]
    fn an_array_renamed_with_a_field_of_its_elements_moves_the_field_within_each_element() {
        let mut catalog = catalog();
        let mut sent = SentFields::default();
        sent.replies.insert(
            "whalet.createUser".into(),
            [
                "accounts",
                "accounts[]",
                "accounts.createdAt",
                "accounts.id",
            ]
            .map(String::from)
            .to_vec(),
        );
        catalog.sent = Arc::new(sent);
        catalog.request_fields.insert(
            ("whalet", "createUser".into()),
            ["items", "items[]", "items.sku", "items.qty"]
                .map(String::from)
                .to_vec(),
        );
        let text = "[whalet.createUser]\nrename_reply = { accounts = \"list\", \"accounts.createdAt\" = \"list.createTime\" }\nrename_request = { orders = \"items\", \"orders.no\" = \"items.sku\" }\n";
        let c = Contract::parse("c.toml", text, &catalog).expect("loads");
        let o = c.operation("whalet", "createUser").unwrap();
        let mut reply = serde_json::json!({"accounts": [{"createdAt": 1, "id": "a"}, {"createdAt": 2, "id": "b"}]});
        o.apply_reply(&mut reply);
        assert_eq!(
            reply,
            serde_json::json!({"list": [{"createTime": 1, "id": "a"}, {"createTime": 2, "id": "b"}]})
        );
        let mut body = serde_json::json!({"orders": [{"no": "S1", "qty": 1}, {"no": "S2"}]});
        assert_eq!(o.apply_request(&mut body), RequestOutcome::Changed);
        assert_eq!(
            body,
            serde_json::json!({"items": [{"sku": "S1", "qty": 1}, {"sku": "S2"}]})
        );
        o.request_for_partner(&mut body);
        assert_eq!(
            body,
            serde_json::json!({"orders": [{"no": "S1", "qty": 1}, {"no": "S2"}]})
        );
        // Both refusals point at the form that loads.
        let errors = refused_at(
            &catalog,
            &[
                (
                    "[whalet.createUser]\nrename_reply = { accounts = \"list\", \"accounts.createdAt\" = \"accounts.createTime\" }\n",
                    2,
                    "\"accounts.createdAt\" = \"list.createTime\"",
                ),
                (
                    "[whalet.createUser]\nrename_reply = { accounts = \"list\", \"accounts.createdAt\" = \"createTime\" }\n",
                    2,
                    "rename accounts.x to list.y",
                ),
            ],
        );
        assert!(!errors[1].contains("or the array itself"), "{}", errors[1]);
    }

    /// Regression: a default the handler refuses (a simulator's status word the overlay turns
    /// into another, a number for a country code) loaded, and every request leaving the field
    /// out was refused as if the partner had sent it. It is refused at load, naming the key.
    #[test]
    fn an_optional_default_the_handler_would_refuse_is_refused_at_load() {
        let mut catalog = catalog();
        let facts = |kind, allowed: &[&str]| FieldFacts {
            kind,
            allowed: allowed.iter().map(|w| (*w).to_owned()).collect(),
        };
        catalog.request_kinds.insert(
            ("whalet", "createUser".into()),
            HashMap::from([
                (
                    "status".to_owned(),
                    facts("enum", &["PROCESSING", "ACTIVE", "CANCELLED"]),
                ),
                ("legalEntity.countryCode".to_owned(), facts("country", &[])),
                ("count".to_owned(), facts("integer", &[])),
            ]),
        );
        let head = "[whalet.createUser]\nrename_request = { state = \"status\" }\nstatus = { ACTIVE = \"LIVE\" }\n";
        let cases = [
            (
                format!("{head}optional = {{ state = \"ACTIVE\" }}\n"),
                "write the partner's word, \"LIVE\"",
            ),
            (
                format!("{head}optional = {{ state = \"NOPE\" }}\n"),
                "one of PROCESSING, LIVE, CANCELLED",
            ),
            (
                format!("{head}optional = {{ \"legalEntity.countryCode\" = 86 }}\n"),
                "reads \"legalEntity.countryCode\" as country (a string)",
            ),
            (
                format!("{head}optional = {{ count = \"many\" }}\n"),
                "a whole number",
            ),
        ];
        for (text, needle) in &cases {
            let err = Contract::parse("c.toml", text, &catalog)
                .expect_err(text)
                .to_string();
            assert!(err.starts_with("c.toml:4: "), "{err}");
            assert!(err.contains("the default of"), "{err}");
            assert!(err.contains(needle), "{text:?}: {err}");
        }
        let good = format!(
            "{head}optional = {{ state = \"LIVE\", \"legalEntity.countryCode\" = \"CN\", count = 2 }}\n"
        );
        let c = Contract::parse("c.toml", &good, &catalog).expect("loads");
        let mut body = serde_json::json!({});
        c.operation("whalet", "createUser")
            .unwrap()
            .apply_request(&mut body);
        assert_eq!(body["status"], "ACTIVE", "{body}");
    }

    /// Regression: a table written only through a sub-table got the TOML reader's words about
    /// its own workings; the message names the table and the header to write.
    #[test]
    fn a_table_written_only_through_a_sub_table_is_refused_naming_its_header() {
        for (text, line, header) in [
            (
                "[whalet.createUser.rename_reply]\nuserId = \"customerId\"\n",
                1,
                "[whalet.\"createUser\"]",
            ),
            (
                "# partner\n\n[whalet.\"createUser\".status]\nSUCCESS = \"OK\"\n",
                3,
                "[whalet.\"createUser\"]",
            ),
            (
                "[notification.\"whalet.userNotify\".rename]\nuserId = \"id\"\n",
                1,
                "[notification.\"whalet.userNotify\"]",
            ),
        ] {
            let err = Contract::parse("c.toml", text, &catalog())
                .expect_err(text)
                .to_string();
            assert!(err.starts_with(&format!("c.toml:{line}: ")), "{err}");
            assert!(
                err.contains(&format!("write its header {header}")),
                "{text:?}: {err}"
            );
            assert!(!err.contains("borrowed"), "{err}");
        }
    }

    /// Regression: an overlay table named by an operation's wire name was refused as an
    /// unknown operation; the message says it is the wire name and names the table to write.
    #[test]
    fn an_overlay_table_named_by_a_wire_name_names_the_operation() {
        let mut catalog = catalog();
        catalog.operations.push((
            "whalet",
            "userOnboardingApply".into(),
            "onboardApply".into(),
        ));
        catalog.operations.push((
            "infinia",
            "account-binding/request".into(),
            "binding/create".into(),
        ));
        refused_at(
            &catalog,
            &[
                (
                    "\n[whalet.onboardApply]\ncode = \"SUCCESS\"\n",
                    2,
                    "[whalet.api_codes] gives \"userOnboardingApply\" on the wire, and an overlay names an operation by its own name: write [whalet.\"userOnboardingApply\"]",
                ),
                (
                    "[infinia.\"/binding/create\"]\nrequired = [\"a\"]\n",
                    1,
                    "[infinia.paths] gives \"account-binding/request\" on the wire",
                ),
            ],
        );
    }

    /// Regression: an `optional` field under a renamed object was refused as a field the
    /// operation does not read (its partner's path was looked up as it stands), and a request
    /// rename of a partner's field inside the simulator's name of another renamed object loaded,
    /// then refused every request using it.
    #[test]
    fn request_fields_under_a_renamed_object_are_read_under_its_new_name() {
        let mut catalog = catalog();
        catalog.request_fields.insert(
            ("whalet", "createUser".into()),
            [
                "outUserId",
                "legalEntity",
                "legalEntity.name",
                "legalEntity.countryCode",
            ]
            .map(String::from)
            .to_vec(),
        );
        let text = "[whalet.createUser]\nrename_request = { company = \"legalEntity\", \"company.legalName\" = \"legalEntity.name\" }\noptional = { \"company.countryCode\" = \"CN\" }\n";
        let c = Contract::parse("c.toml", text, &catalog).expect("loads");
        let mut body = serde_json::json!({"company": {"legalName": "ACME"}});
        assert_eq!(
            c.operation("whalet", "createUser")
                .unwrap()
                .apply_request(&mut body),
            RequestOutcome::Changed
        );
        assert_eq!(
            body,
            serde_json::json!({"legalEntity": {"name": "ACME", "countryCode": "CN"}})
        );
        refused_at(
            &catalog,
            &[(
                "[whalet.createUser]\nrename_request = { merchantUserId = \"outUserId\", company = \"legalEntity\", \"legalEntity.legalName\" = \"legalEntity.name\" }\n",
                2,
                "write the partner's path, \"company.legalName\" = \"legalEntity.name\"",
            )],
        );
    }
}
