//! The simulator's operations and notifications, per surface, from the surfaces' own tables,
//! in one place: what a contract overlay may name (`crate::contract`), what `whalet-sim
//! contract dump` prints, what `GET /__sim/operations` lists, and what a surface says when it is
//! sent a name it does not serve: the nearest name it does serve, or the surface that serves
//! this one ("shopAccountBind is a whalet-platform operation: POST /v1/platform/shopAccountBind").

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde_json::Value;

use super::describe::{self, Described, Field};

use crate::config::Config;
use crate::contract::Catalog;
use crate::core::Core;
use crate::scenario::load::{OperationNames, Renamed};

/// One operation as a partner reaches it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    /// `whalet`, `platform`, `file`, `infinia` or `pockyt` (as in the journal).
    pub surface: &'static str,
    /// The surface's own name for it, as on the wire (after configured renames): the Whalet
    /// apiCode, the platform operation, the Infinia path after `/api/v1/`, the Pockyt path.
    pub name: String,
    /// The name scenario rules and the journal call it by, whatever `[whalet.api_codes]` or
    /// `[infinia.paths]` renames it to on the wire (`name`): the same as `name` when not renamed.
    pub canonical: String,
    /// Other names the surface serves this same operation under ([`aliases`]: Pockyt's
    /// `/v3/payee/account/create/...`), each a wire name whose `canonical` is this one: a request
    /// there is journaled, counted and decided by scenario rules as this operation. Left out
    /// when there is none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The request: `POST /api` (apiCode in `head.apiCode`), `POST /v1/platform/paymentQuery`, ...
    pub request: String,
    /// The body's fields in the order the operation reads them ([`describe`]).
    pub fields: Vec<Field>,
    /// A body it accepts once the operations in `needs` made the ids it names
    /// (`<userId from userOnboardingApply>`).
    pub example: Value,
    /// What must exist first: "an approved user: userOnboardingApply".
    pub needs: Vec<String>,
}

/// Every operation's description, made once when the simulator starts ([`describe_all`]) and
/// read by `GET /__sim/operations` and `whalet-sim call --example`.
#[derive(Default)]
pub struct Descriptions(OnceLock<HashMap<(&'static str, &'static str), Described>>);

impl Descriptions {
    fn get(&self, surface: &str, canonical: &str) -> Option<&Described> {
        self.0
            .get()?
            .iter()
            .find_map(|((s, n), d)| (*s == surface && *n == canonical).then_some(d))
    }
}

/// Describes every operation of every surface (each handler run once per field in describe
/// mode, against a tenant that does not exist) and keeps the result in the core.
pub fn describe_all(core: &Core) {
    let mut all = HashMap::new();
    type Describe = fn(&Core) -> Vec<Described>;
    let surfaces: [(&'static str, Describe); 4] = [
        ("whalet", super::whalet::describe),
        ("platform", super::platform::describe),
        ("infinia", super::infinia::describe),
        ("pockyt", super::pockyt::describe),
    ];
    for (surface, describe) in surfaces {
        for d in describe(core) {
            all.insert((surface, d.name), d);
        }
    }
    let _ = core.surface::<Descriptions>().0.set(all);
}

/// Checks the configured contract overlays against what each operation reads: an overlay that
/// renames to, or defaults, a request field the operation's handler does not read is refused
/// with its file and line (the overlays were loaded before the operations could be described;
/// this loads them again, now knowing the fields).
pub fn check_contract_fields(core: &Core) -> anyhow::Result<()> {
    let config = core.config();
    if config.contract.file.is_none() && config.contract.tenants.is_empty() {
        return Ok(());
    }
    let mut catalog = build(config);
    if let Some(all) = core.surface::<Descriptions>().0.get() {
        for ((surface, name), d) in all {
            // The arrays marked as `paths::all_paths` marks them, for renames across one.
            let arrays = array_prefixes(&d.fields)
                .into_keys()
                .map(|a| format!("{a}{}", crate::contract::paths::ARRAY));
            let fields = d
                .fields
                .iter()
                .map(|f| describe::dotted(&f.name))
                .chain(arrays)
                .collect();
            catalog
                .request_fields
                .insert((*surface, (*name).to_owned()), fields);
            // What each field takes, for the overlay's `optional` defaults.
            let kinds = d
                .fields
                .iter()
                .map(|f| {
                    let facts = crate::contract::FieldFacts {
                        kind: f.kind,
                        allowed: f.allowed.clone(),
                    };
                    (describe::dotted(&f.name), facts)
                })
                .collect();
            catalog
                .request_kinds
                .insert((*surface, (*name).to_owned()), kinds);
        }
    }
    let tenants: Vec<String> = core
        .store()
        .tenant_ids()
        .iter()
        .map(ToString::to_string)
        .collect();
    crate::contract::Contracts::load(
        config.contract.file.as_deref(),
        &config.contract.tenants,
        &catalog,
        &tenants,
    )?;
    Ok(())
}

/// Which operation makes the id a field names, per surface (and, where one name means different
/// things, per operation that takes it), and what it is: the source of the example's
/// placeholders and of "needs". The operation that makes an id (`b2cShopBind`'s `shopId`) does not
/// need itself.
const PRODUCERS: &[(&str, &str, &str, &str, &str)] = &[
    // (surface, field, only for this operation or "", made by, what it is)
    (
        "whalet",
        "userId",
        "",
        "userOnboardingApply",
        "an approved user",
    ),
    (
        "whalet",
        "holderId",
        "",
        "cardHolderApply",
        "an approved card holder",
    ),
    (
        "whalet",
        "cardId",
        "",
        "b2cVirtualAccountApply",
        "an opened collection account",
    ),
    (
        "whalet",
        "shopId",
        "",
        "b2cShopBind",
        "an approved shop binding",
    ),
    (
        "whalet",
        "beneficiaryId",
        "",
        "benificiaryAccountApply",
        "an approved payout beneficiary",
    ),
    (
        "whalet",
        "beneficaryId",
        "",
        "cardHolderBeneficaryApply",
        "an approved holder bank account",
    ),
    ("whalet", "rateId", "", "rateInquiry", "a rate quote"),
    ("whalet", "payoutId", "", "payoutApply", "a payout"),
    ("whalet", "payId", "", "payApply", "a pay order"),
    ("whalet", "orderId", "", "tradeOrderApply", "a trade order"),
    (
        "whalet",
        "tradeId",
        "tradeOrderBindApply",
        "trigger whalet.collection.received on a B2B card",
        "a collection on a B2B account",
    ),
    (
        "whalet",
        "tradeId",
        "tradeReplenishSubmit",
        "trigger whalet.trade_replenish.requested",
        "a collection with a request for material",
    ),
    (
        "whalet",
        "tradeId",
        "",
        "trigger whalet.collection.received",
        "a collection",
    ),
    (
        "whalet",
        "replenishId",
        "",
        "trigger whalet.edd.requested",
        "an EDD request",
    ),
    (
        "platform",
        "bindId",
        "",
        "shopAccountBind",
        "a shop binding",
    ),
    // Only a payment needs the shop bound: materials may name any shop (docs/FIDELITY.md).
    (
        "platform",
        "shopId",
        "paymentApply",
        "shopAccountBind",
        "a shop binding the seller approved",
    ),
    ("platform", "paymentId", "", "paymentApply", "a payment"),
    // A request alone leaves the binding PENDING: the seller must approve it too.
    (
        "infinia",
        "sellerId",
        "",
        "account-binding/request",
        "a seller bound to the app, the binding approved by the seller (its redirectUrl page, or \
         trigger infinia.binding.approved)",
    ),
    (
        "infinia",
        "requestNo",
        "account-binding/query",
        "account-binding/request",
        "a binding request",
    ),
    (
        "infinia",
        "requestNo",
        "revenue-sharing/query",
        "revenue-sharing/request",
        "a revenue sharing",
    ),
    (
        "pockyt",
        "customerNo",
        "",
        "/v3/payee/register",
        "an active payee",
    ),
    (
        "pockyt",
        "accountToken",
        "",
        "/v3/customers/account/create/bank-account",
        "an active payout account",
    ),
    ("pockyt", "transactionNo", "", "/v3/payouts/pay", "a payout"),
    (
        "infinia",
        "fileName",
        "trade-details/query",
        SFTP_TRADE_DETAILS,
        "a trade-details file uploaded over SFTP",
    ),
    (
        "pockyt",
        "invoiceId",
        "/v3/payouts/inquiry",
        "/v3/payouts/pay",
        "a payout",
    ),
];

/// How an Infinia merchant hands in trade details: a CSV file over SFTP (docs/WALKTHROUGH.md,
/// `samples/infinia-trade-details.csv`); the example's file name is this one's.
pub const SFTP_TRADE_DETAILS: &str = "SFTP put trade-details.csv /upload/";

/// What a Whalet pay or payout takes its money from: the user's available B2C balance (the
/// example's `fundSource`), which only a settled collection on one of the user's B2C accounts
/// fills (`whalet.account.ready` opens an account with nothing on it).
const FUNDED_B2C: &str = "money on the user's B2C balance, at least the amount: an opened B2C \
     collection account of the user (b2cVirtualAccountApply), then trigger \
     whalet.collection.received cardId=<cardId> amount=<amount> and trigger \
     whalet.collection.settled tradeId=<tradeId> (or wait for it to settle)";

/// What a whalet-platform payment takes its money from: the partner's own balance, which money
/// a marketplace sends fills.
const FUNDED_PLATFORM: &str = "money on the partner's balance, at least the amount: trigger \
     platform.bulk_payment.received amount=<amount> currency=<currency>";

/// What an operation needs besides the ids its fields name: the money a payment is paid from
/// (without it the operation answers "insufficient balance" once everything else exists), the
/// revenue a seller shares.
const ALSO_NEEDS: &[(&str, &str, &str)] = &[
    ("whalet", "payApply", FUNDED_B2C),
    ("whalet", "payoutApply", FUNDED_B2C),
    ("platform", "paymentApply", FUNDED_PLATFORM),
    (
        "infinia",
        "revenue-sharing/request",
        "revenue of the seller from trade details: SFTP put trade-details.csv /upload/ (rows naming the sellerId)",
    ),
];

/// The operation that makes `field` for operation `op` of `surface`, unless it is `op` itself.
pub fn producer(surface: &str, op: &str, field: &str) -> Option<(&'static str, &'static str)> {
    PRODUCERS
        .iter()
        .find(|(s, f, only, by, _)| {
            *s == surface && *f == field && (only.is_empty() || *only == op) && *by != op
        })
        .map(|(_, _, _, by, what)| (*by, *what))
}

/// The listing's fields, example and needs of one operation, in the names of `overlay`.
fn described(
    core: &Core,
    surface: &str,
    canonical: &str,
    overlay: Option<&crate::contract::Contract>,
) -> (Vec<Field>, Value, Vec<String>) {
    let Some(d) = core.surface::<Descriptions>().get(surface, canonical) else {
        return (Vec::new(), Value::Null, Vec::new());
    };
    // The producer under the name this simulator serves it ([whalet.api_codes] renames).
    let served = |by: &str| {
        match surface {
            "whalet" => core.config().whalet.api_codes.get(by).cloned(),
            _ => None,
        }
        .unwrap_or_else(|| by.to_owned())
    };
    let made_by = |leaf: &str| producer(surface, canonical, leaf).map(|(by, _)| served(by));
    let mut example = describe::example_for(canonical, &d.fields, Some(&made_by));
    let mut fields = d.fields.clone();
    // What the operation needs is read from the example in the simulator's names, which the
    // fields' names are.
    let needs = needs_of(surface, canonical, &d.fields, &example, &served);
    if let Some(c) = overlay {
        if let Some(o) = c.operation(surface, canonical) {
            for_partner(o, &mut fields, &mut example);
        }
        placeholders_for_partner(c, surface, canonical, &served, &mut example);
    }
    (fields, example, needs)
}

/// The lines of "needs" of an operation whose `example` (in the simulator's names) fills
/// `fields`: the operations that make the ids it names, an upload for its files, and what
/// [`ALSO_NEEDS`] adds.
fn needs_of(
    surface: &str,
    canonical: &str,
    fields: &[Field],
    example: &Value,
    served: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let mut needs: Vec<String> = Vec::new();
    for f in fields {
        let leaf = describe::leaf_name(&f.name);
        let in_example = crate::api::describe::lookup(example, &f.name).is_some();
        if in_example && matches!(f.kind, "files" | "fileIds") {
            let line = "an uploaded file: POST /file/upload".to_owned();
            if !needs.contains(&line) {
                needs.push(line);
            }
        }
        if let Some((by, what)) = producer(surface, canonical, leaf).filter(|_| in_example) {
            let line = format!("{what}: {}", served(by));
            if !needs.contains(&line) {
                needs.push(line);
            }
        }
    }
    needs.extend(
        ALSO_NEEDS
            .iter()
            .filter(|(s, op, _)| *s == surface && *op == canonical)
            .map(|(_, _, line)| (*line).to_owned()),
    );
    needs
}

/// The example's placeholders (`<userId from userOnboardingApply>`) name the id as the
/// partner reads it in the reply of the operation that makes it (that operation's
/// `rename_reply` in `contract`).
fn placeholders_for_partner(
    contract: &crate::contract::Contract,
    surface: &str,
    canonical: &str,
    served: &dyn Fn(&str) -> String,
    example: &mut Value,
) {
    for (s, field, only, by, _) in PRODUCERS {
        if *s != surface || (!only.is_empty() && *only != canonical) || *by == canonical {
            continue;
        }
        let Some(partner) = contract
            .operation(surface, by)
            .and_then(|o| reply_name(&o.rename_reply, field))
        else {
            continue;
        };
        let by = served(by);
        let from = format!("<{field} from {by}>");
        let to = Value::String(format!("<{partner} from {by}>"));
        replace_strings(example, &from, &to);
    }
}

/// The name the partner reads the id `field` under in a reply whose overlay renames it
/// (`renames`: the simulator's path → the partner's), if it does: the id is where the reply
/// sends it, at the top (`userId`) or inside an object (Pockyt's `customer.customerNo`), and is
/// named from the object it sat in (`customer.customerNo` → `customer.payeeId` is `payeeId`;
/// moved to another object, its whole path: `payee.id`). Of several renamed paths that end in
/// the id, the shallowest.
fn reply_name(renames: &std::collections::BTreeMap<String, String>, field: &str) -> Option<String> {
    let (from, to) = renames.get_key_value(field).or_else(|| {
        renames
            .iter()
            .filter(|(from, _)| from.rsplit('.').next() == Some(field))
            .min_by_key(|(from, _)| from.split('.').count())
    })?;
    let parent: Vec<&str> = from.split('.').collect();
    let parent = &parent[..parent.len() - 1];
    let to: Vec<&str> = to.split('.').collect();
    let shared = parent
        .iter()
        .zip(&to[..to.len() - 1])
        .take_while(|(a, b)| a == b)
        .count();
    let shared = if shared == parent.len() { shared } else { 0 };
    Some(to[shared..].join("."))
}

/// Every string of `v` that is `from` becomes `to`.
fn replace_strings(v: &mut Value, from: &str, to: &Value) {
    match v {
        Value::String(text) if text == from => *v = to.clone(),
        Value::Array(items) => items.iter_mut().for_each(|i| replace_strings(i, from, to)),
        Value::Object(map) => map.values_mut().for_each(|i| replace_strings(i, from, to)),
        _ => {}
    }
}

/// The fields and example in the names of the default contract overlay (docs/CONTRACTS.md):
/// renamed fields under the partner's name (in an array element too), and so the other field
/// of an either-or pair and the fields a condition names; a status field's values and its
/// example value in the partner's words (the overlay's `status`, which a request reads back);
/// its optional fields optional, its required fields required (an existing field, in an array
/// element too, or a new one) and in the example. Linear in the overlay's size: a large overlay
/// does not slow every listing down.
fn for_partner(
    o: &crate::contract::OperationOverlay,
    fields: &mut Vec<Field>,
    example: &mut Value,
) {
    let word = |w: &str| o.status.get(w).cloned();
    // In the simulator's names, where a request's status words are read back.
    crate::contract::paths::rewrite_status(example, &word);
    o.request_for_partner(example);
    let to_partner: HashMap<&str, &str> = o
        .rename_request
        .iter()
        .map(|(partner, sim)| (sim.as_str(), partner.as_str()))
        .collect();
    // The longest renamed path the field is or lies under, so that a renamed object's children
    // move with it (`company` for `legalEntity` lists `company.name`), as a refusal names them
    // (`message_for_partner`).
    let renamed = |name: &str| {
        let parts: Vec<&str> = name.split('.').collect();
        (1..=parts.len()).rev().find_map(|k| {
            let head = parts[..k].join(".");
            let partner = to_partner.get(describe::dotted(&head).as_str())?;
            let mut path = indexed_like(partner, &head);
            if let Some(index) = parts[k - 1].find('[').map(|at| &parts[k - 1][at..]) {
                if !path.ends_with(']') {
                    path.push_str(index);
                }
            }
            for tail in &parts[k..] {
                path.push('.');
                path.push_str(tail);
            }
            Some(path)
        })
    };
    for f in fields.iter_mut() {
        let key = describe::dotted(describe::leaf_name(&f.name));
        if crate::contract::paths::is_status_key(&key) && !o.status.is_empty() {
            // As a refusal lists them (`message_for_partner`): one function for both.
            f.allowed = o.words_for_partner(&f.allowed);
        }
        if let Some(other) = f.or.as_deref().and_then(renamed) {
            f.or = Some(other);
        }
        if let Some(condition) = &f.when {
            f.when = Some(o.message_for_partner(condition));
        }
        if let Some(partner) = renamed(&f.name) {
            f.name = partner;
        }
        if o.optional.contains_key(&describe::dotted(&f.name)) {
            f.required = false;
        }
    }
    let mut by_path: HashMap<String, usize> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| (describe::dotted(&f.name), i))
        .collect();
    let arrays = array_prefixes(fields);
    for path in &o.required {
        let at = *by_path.entry(path.clone()).or_insert_with(|| {
            fields.push(Field {
                name: with_indexes(path, &arrays),
                kind: "string",
                required: true,
                allowed: Vec::new(),
                or: None,
                when: None,
                added_by: None,
            });
            fields.len() - 1
        });
        let field = &mut fields[at];
        field.required = true;
        if describe::lookup(example, &field.name).is_none() {
            describe::put(example, &field.name, describe::value_of(field));
        }
    }
}

/// The partner's dotted `path` written with the array indexes of the simulator's field `name`
/// where their keys agree (`orders.no` for `orders[0].orderNo` is `orders[0].no`): a rename
/// never leaves its array element, so the arrays are the shared prefix's.
fn indexed_like(path: &str, name: &str) -> String {
    let sim: Vec<&str> = name.split('.').collect();
    let mut same = true;
    path.split('.')
        .enumerate()
        .map(|(i, key)| {
            let there = sim.get(i).filter(|s| same && describe::dotted(s) == key);
            same = there.is_some();
            there.map_or(key, |s| *s)
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Every prefix of the fields' names that ends at an array (`orders` → `orders[0]`).
fn array_prefixes(fields: &[Field]) -> HashMap<String, String> {
    let mut arrays = HashMap::new();
    for f in fields {
        let mut indexed = String::new();
        for key in f.name.split('.') {
            if !indexed.is_empty() {
                indexed.push('.');
            }
            indexed.push_str(key);
            if key.ends_with(']') {
                arrays.insert(describe::dotted(&indexed), indexed.clone());
            }
        }
    }
    arrays
}

/// A dotted path written with the indexes of the arrays it crosses (`orders.goodsName` is
/// `orders[0].goodsName`).
fn with_indexes(path: &str, arrays: &HashMap<String, String>) -> String {
    let mut dotted = String::new();
    let mut out = String::new();
    for key in path.split('.') {
        if !dotted.is_empty() {
            dotted.push('.');
        }
        dotted.push_str(key);
        match arrays.get(&dotted) {
            Some(indexed) => out.clone_from(indexed),
            None => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
        }
    }
    out
}

/// Every operation of every surface as a partner reaches it (wire names, after the configured
/// renames), from [`build`]; Whalet's apiCodes sorted by name. Fields and examples are in the
/// names of the default contract overlay.
pub fn operations(core: &Core) -> Vec<Listed> {
    operations_for(core, None)
}

/// [`operations`], with fields and examples in the names of the overlay in force for `tenant`
/// (its own, else the default one).
pub fn operations_for(core: &Core, tenant: Option<&crate::tenant::TenantId>) -> Vec<Listed> {
    let contracts = core.surface::<crate::contract::Contracts>();
    let overlay = match tenant {
        Some(t) => contracts.for_tenant(t),
        None => contracts.default.as_deref(),
    };
    let catalog = build(core.config());
    let mut out: Vec<Listed> = catalog
        .operations
        .into_iter()
        .map(|(surface, canonical, name)| {
            let (mut fields, example, needs) = described(core, surface, &canonical, overlay);
            if surface == "pockyt" {
                fields.extend(pockyt_signing_fields());
            }
            Listed {
                surface,
                request: match surface {
                    "whalet" => {
                        format!("POST /api (head.apiCode = {name}), or POST /api/{name}")
                    }
                    "platform" => format!("POST /v1/platform/{name}"),
                    "infinia" => format!("POST /api/v1/{name}"),
                    // Pockyt: its fields list what the signing layer adds (`addedBy`).
                    _ => format!("POST {name}"),
                },
                name,
                aliases: aliases()
                    .filter(|(s, _, of)| *s == surface && *of == canonical)
                    .map(|(_, alias, _)| alias.to_owned())
                    .collect(),
                canonical,
                fields,
                example,
                needs,
            }
        })
        .collect();
    let whalet = out.iter().take_while(|op| op.surface == "whalet").count();
    out[..whalet].sort_by(|a, b| a.name.cmp(&b.name));
    let after_platform = out
        .iter()
        .position(|op| op.surface != "whalet" && op.surface != "platform")
        .unwrap_or(out.len());
    out.insert(
        after_platform,
        Listed {
            surface: "file",
            name: "upload".to_owned(),
            canonical: "upload".to_owned(),
            aliases: Vec::new(),
            request: "POST /file/upload (multipart/form-data, not a JSON body: each field \
                      below is a form part, partnerId, timestamp and token also accepted as \
                      headers; answers {code, detail, info} with the fileId; \
                      scripts/whalet_envelope.py file-token prints a token for the demo partner)"
                .to_owned(),
            fields: upload_fields(),
            example: upload_example(),
            needs: Vec::new(),
        },
    );
    // Infinia's trade details arrive as a file over SFTP, not as a request: listed (scenario
    // rules name it) with what reaches it, and no fields or example of an HTTP body.
    let after_infinia = out
        .iter()
        .rposition(|op| op.surface == "infinia")
        .map_or(out.len(), |i| i + 1);
    out.insert(
        after_infinia,
        Listed {
            surface: "infinia",
            name: super::infinia::SFTP_UPLOAD.to_owned(),
            canonical: super::infinia::SFTP_UPLOAD.to_owned(),
            aliases: Vec::new(),
            request: format!(
                "{SFTP_TRADE_DETAILS} (logged in as the appId, any file name; trade details as \
                 CSV: docs/INFINIA.md, Trade-details files); no HTTP request"
            ),
            fields: trade_details_columns(),
            example: Value::String(TRADE_DETAILS_SAMPLE.to_owned()),
            needs: Vec::new(),
        },
    );
    out
}

/// The fields every Pockyt request carries besides the operation's own, which the signing layer
/// adds (`partner::surfaces`, `whalet-sim call`), with their kind and what they are
/// (docs/FIDELITY.md, Pockyt: the order of checks).
pub const POCKYT_SIGNING: &[(&str, &str, &str)] = &[
    ("merchantNo", "id", "the merchant"),
    ("storeNo", "id", "the merchant's store"),
    ("timestamp", "timestamp", "UTC yyyy-MM-ddTHH:mm:ssZ"),
    (
        "verifySign",
        "string",
        "lower-case hex MD5 of the sorted fields and md5(token)",
    ),
];

/// [`POCKYT_SIGNING`] as rows of an operation's table, required and marked as the signing
/// layer's: not in the example, which is the operation's own fields.
fn pockyt_signing_fields() -> impl Iterator<Item = Field> {
    POCKYT_SIGNING.iter().map(|(name, kind, _)| Field {
        name: (*name).to_owned(),
        kind,
        required: true,
        allowed: Vec::new(),
        or: None,
        when: None,
        added_by: Some("the signing layer"),
    })
}

/// The parts of `POST /file/upload`'s form (`api::whalet::upload`), as README "File upload" lists
/// them: `timestamp` is 13-digit milliseconds, `token` the hex SHA1withRSA of
/// `partnerId|timestamp` by the partner's key (valid 30 minutes), `file` the file itself.
fn upload_fields() -> Vec<Field> {
    vec![
        Field::plain("partnerId", "id", true),
        Field::plain("timestamp", "string", true),
        Field::plain("token", "string", true),
        Field::plain("file", "file", true),
    ]
}

/// The upload's form as an example: the parts and what each holds (not a JSON body to send).
fn upload_example() -> Value {
    serde_json::json!({
        "partnerId": "<your partnerId>",
        "timestamp": "<now in milliseconds, 13 digits: 1767225600000>",
        "token": "<hex SHA1withRSA of partnerId|timestamp by your key>",
        "file": "<the file's bytes, with its file name: invoice.pdf>",
    })
}

/// The columns of an Infinia trade-details CSV (docs/INFINIA.md, Trade-details files; the SFTP
/// processing reads them, `sftp::trade_details::COLUMNS`): `originalTradeNo` is required for a
/// RETURN or an EXCHANGE only.
fn trade_details_columns() -> Vec<Field> {
    let mut fields: Vec<Field> = [
        ("tradeNo", "id", true),
        ("tradeType", "enum", true),
        ("orderNo", "id", true),
        ("sellerId", "id", true),
        ("originalTradeNo", "id", true),
        ("tradeTime", "time", true),
        ("currency", "currency", true),
        ("amount", "amount", true),
        ("productName", "text", false),
        ("quantity", "integer", false),
    ]
    .into_iter()
    .map(|(name, kind, required)| Field::plain(name, kind, required))
    .collect();
    fields[1].allowed = ["SALE", "RETURN", "EXCHANGE"].map(str::to_owned).to_vec();
    fields[4].when = Some("tradeType is RETURN or EXCHANGE".to_owned());
    fields
}

/// A trade-details file as the example of its SFTP upload: the header and one sale
/// (`samples/infinia-trade-details.csv` has more).
const TRADE_DETAILS_SAMPLE: &str = "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,\
currency,amount,productName,quantity
T-1001,SALE,ORD-1001,<sellerId from account-binding/request>,,2026-01-01 10:00:00,USD,500.00,\
Desk lamp,1
";

/// Whether `op` is reached by an HTTP request (not a file put over SFTP).
fn over_http(op: &Listed) -> bool {
    !op.request.starts_with("SFTP ")
}

/// The sentence that follows "`given` is not an operation of this surface": the operation of
/// another surface with that very name, or the nearest name this surface serves, and where the
/// whole list is.
pub fn unknown(core: &Core, surface: &str, given: &str) -> String {
    let all = operations(core);
    // By its name or its whole path (`/api/v1/account-balance/query`), slashes at the ends aside.
    let wanted = given.trim_matches('/');
    // A canonical name the configuration renames on the wire: only the new name is served.
    if let Some(op) = all.iter().find(|op| {
        op.surface == surface && op.name != op.canonical && op.canonical.trim_matches('/') == wanted
    }) {
        return format!(
            "it is renamed to {:?} here ({}): {}",
            op.name,
            rename_table(surface),
            op.request
        );
    }
    // An operation of this surface that no HTTP request reaches.
    if let Some(op) = all
        .iter()
        .find(|op| op.surface == surface && !over_http(op) && op.name == wanted)
    {
        return format!("{given} is no HTTP operation: {}", op.request);
    }
    let path = |op: &Listed| {
        let request = op.request.split_once(' ').map_or("", |(_, path)| path);
        request.trim_matches('/').to_owned()
    };
    if let Some(other) = all.iter().find(|op| {
        op.surface != surface
            && (op.name.trim_matches('/') == wanted
                || (op.surface != "whalet" && path(op) == wanted))
    }) {
        let title = surface_title(other.surface);
        let article = if title.starts_with(['A', 'E', 'I', 'O', 'U']) {
            "an"
        } else {
            "a"
        };
        return format!("{given} is {article} {title} operation: {}", other.request);
    }
    // Its names and the aliases it serves them under too (`/v3/payee/account/create/venmo/`
    // is near the alias, and far from the operation's own path).
    let here: Vec<&str> = all
        .iter()
        .filter(|op| op.surface == surface && over_http(op))
        .flat_map(|op| std::iter::once(&op.name).chain(&op.aliases))
        .map(String::as_str)
        .collect();
    let mut text = String::new();
    if let Some(near) = crate::text::nearest(given, &here) {
        text.push_str(&format!("did you mean `{near}`? "));
    }
    text.push_str("GET /__sim/operations lists every operation of every surface");
    text
}

/// A surface as people call it.
pub fn surface_title(surface: &str) -> &'static str {
    match surface {
        "whalet" => "Whalet Open API",
        "platform" => "whalet-platform",
        "file" => "Whalet file upload",
        "infinia" => "Infinia Pay",
        "pockyt" => "Pockyt",
        _ => "simulator",
    }
}

/// Every operation (canonical name and wire name after the configured renames) and every
/// notification of every surface.
pub fn build(config: &Config) -> Catalog {
    let mut catalog = Catalog::default();
    if config.contract.check_sent_fields {
        catalog.sent = crate::contract::SentFields::shipped();
    }
    let renames = &config.whalet.api_codes;
    let wire = |name: &str| {
        renames
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    };
    for op in super::whalet::all_operations() {
        catalog
            .operations
            .push(("whalet", op.name.to_owned(), wire(op.name)));
    }
    for op in super::platform::OPERATIONS {
        catalog
            .operations
            .push(("platform", op.name.to_owned(), op.name.to_owned()));
    }
    let paths = &config.infinia.paths;
    for op in super::infinia::OPERATIONS {
        let wire_path = paths.get(op.name).map_or(op.name, String::as_str);
        catalog.operations.push((
            "infinia",
            op.name.to_owned(),
            wire_path.trim_matches('/').to_owned(),
        ));
    }
    for op in super::pockyt::OPERATIONS {
        catalog
            .operations
            .push(("pockyt", op.name.to_owned(), op.name.to_owned()));
    }
    let whalet_notifications = super::whalet::NOTIFICATIONS.iter().chain(
        super::whalet::ops::NOTIFICATIONS
            .iter()
            .flat_map(|g| g.iter()),
    );
    // whalet-platform's notifications travel in the Whalet envelope, on the `whalet` channel.
    let whalet_notifications = whalet_notifications.chain(super::platform::NOTIFICATIONS.iter());
    for name in whalet_notifications {
        catalog.notifications.push(("whalet", (*name).to_owned()));
        catalog.whalet_wire.insert(wire(name), (*name).to_owned());
    }
    catalog
        .notifications
        .push(("infinia", super::infinia::sellers::TOPIC.to_owned()));
    catalog.notifications.push(("pockyt", "payout".to_owned()));
    catalog
}

/// Every operation a scenario rule may name, as (surface, canonical name): the surfaces'
/// operation tables and the Open API's file upload; and each one `config` renames on the wire or
/// a surface serves under an alias path too ([`aliases`]), so that a rule naming the wire name
/// is pointed to the canonical name. Operations decided
/// outside the surfaces (SFTP processing) are added by whoever builds the engine.
pub fn scenario_operations(config: &Config) -> OperationNames {
    let mut names = OperationNames::default();
    for (surface, canonical, wire) in build(config).operations {
        if wire != canonical {
            names.renamed.push(Renamed {
                surface,
                wire,
                canonical: canonical.clone(),
                table: rename_table(surface),
            });
        }
        names.push((surface, canonical));
    }
    // A path a surface serves an operation under too is a wire name of that operation alike.
    for (surface, alias, canonical) in aliases() {
        names.renamed.push(Renamed {
            surface,
            wire: alias.to_owned(),
            canonical: canonical.to_owned(),
            table: ALIAS_TABLE,
        });
    }
    names.push(("whalet", super::whalet::upload::OPERATION.to_owned()));
    names
}

/// What gives an alias path its name, as a scenario rule naming it is told
/// (`"…" is the wire name {ALIAS_TABLE} gives surface pockyt's operation "…"`).
const ALIAS_TABLE: &str = "Pockyt's alias table (docs/FIDELITY.md)";

/// Every path a surface serves an operation under besides the operation's own, as (surface,
/// alias, canonical name): Pockyt's `/v3/payee/account/create/...` (`pockyt::ALIASES`). Served
/// whatever the configuration, and named by the canonical path wherever an operation is named.
fn aliases() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    super::pockyt::ALIASES
        .iter()
        .map(|(alias, canonical)| ("pockyt", *alias, *canonical))
}

/// The configuration table that renames the operations of `surface` on the wire.
fn rename_table(surface: &str) -> &'static str {
    match surface {
        "whalet" => "[whalet.api_codes]",
        "infinia" => "[infinia.paths]",
        _ => "the configuration",
    }
}

/// Loads the configured overlays (`[contract]`) and installs the notification rewrite on the
/// outbox; the returned handle is what the pipeline reads (`Core::surface::<Contracts>()`).
pub fn install_contracts(
    config: &crate::config::Config,
    outbox: &crate::notify::Outbox,
    tenants: &[crate::tenant::TenantId],
) -> anyhow::Result<Arc<crate::contract::Contracts>> {
    let catalog = build(config);
    let known: Vec<String> = tenants.iter().map(ToString::to_string).collect();
    let contracts = Arc::new(crate::contract::Contracts::load(
        config.contract.file.as_deref(),
        &config.contract.tenants,
        &catalog,
        &known,
    )?);
    contracts.warn_left_out();
    if !contracts.is_empty() {
        let handle = contracts.clone();
        outbox.set_rewrite(Arc::new(move |tenant, channel, topic, payload| {
            let name = catalog.notification_name(channel, topic);
            if let Some(overlay) = handle
                .for_tenant(tenant)
                .and_then(|c| c.notification(channel, &name))
            {
                overlay.apply(payload);
            }
        }));
    }
    Ok(contracts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: `tradeMaterialsUpload --example` said it needed a shop binding the seller
    /// approved, while the simulator takes materials for a shop never bound.
    #[test]
    fn only_a_platform_payment_needs_a_bound_shop() {
        assert_eq!(
            producer("platform", "paymentApply", "shopId"),
            Some(("shopAccountBind", "a shop binding the seller approved"))
        );
        assert_eq!(producer("platform", "tradeMaterialsUpload", "shopId"), None);
        assert_eq!(producer("platform", "shopAccountBind", "shopId"), None);
    }

    /// A status field required in the example: its value and its words are the partner's, and
    /// the example, sent as it stands, reaches the handler in the simulator's words.
    #[test]
    fn an_examples_status_words_are_the_partners_and_read_back() {
        let overlay = crate::contract::OperationOverlay {
            status: [("ACTIVE", "OPEN"), ("CANCELLED", "CLOSED")]
                .into_iter()
                .map(|(s, p)| (s.to_owned(), p.to_owned()))
                .collect(),
            ..Default::default()
        };
        let mut fields = vec![Field {
            name: "status".to_owned(),
            kind: "enum",
            required: true,
            allowed: vec![
                "ACTIVE".to_owned(),
                "PROCESSING".to_owned(),
                "CANCELLED".to_owned(),
            ],
            or: None,
            when: None,
            added_by: None,
        }];
        let mut example = describe::example(&fields, None);
        for_partner(&overlay, &mut fields, &mut example);
        assert_eq!(fields[0].allowed, ["OPEN", "PROCESSING", "CLOSED"]);
        assert_eq!(example["status"], "OPEN");
        overlay.apply_request(&mut example);
        assert_eq!(example["status"], "ACTIVE");
    }

    /// An id renamed inside its object is named from that object; moved to another, by its
    /// whole path; renamed at the top, by the partner's path.
    #[test]
    fn a_reply_rename_names_the_id_where_the_partner_reads_it() {
        let renames = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(s, p)| ((*s).to_owned(), (*p).to_owned()))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        let name = |pairs: &[(&str, &str)], field: &str| reply_name(&renames(pairs), field);
        assert_eq!(
            name(&[("customer.customerNo", "customer.payeeId")], "customerNo").as_deref(),
            Some("payeeId")
        );
        assert_eq!(
            name(&[("result.invoiceId", "payout.ref")], "invoiceId").as_deref(),
            Some("payout.ref")
        );
        assert_eq!(
            name(&[("userId", "user.id")], "userId").as_deref(),
            Some("user.id")
        );
        assert_eq!(name(&[("result.customerNo2", "x")], "customerNo"), None);
    }
}
