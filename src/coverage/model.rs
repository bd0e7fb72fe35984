//! The coverage model, generated from what each surface declares ([`Sources`]): per operation one
//! item per operation-level sync code of its scheme; per surface one item per envelope code (and a
//! dropped connection); per notification topic one item per delivery outcome; per trigger one
//! state item (the transition or event it names, reached by the trigger or by the clock).

use std::collections::HashMap;

use super::{Index, Item, Kind, DELIVERY_OUTCOMES};

/// The answer code the pipeline journals for a connection a scenario dropped.
pub const DROPPED: &str = "DROPPED";

/// What one surface declares, gathered from its tables by `api::coverage`.
pub struct SurfaceSource {
    /// The surface's name in the journal (`whalet`, `platform`, `infinia`, `pockyt`, `file`).
    pub surface: &'static str,
    /// Operation groups: group name, canonical operation names.
    pub groups: Vec<(&'static str, Vec<&'static str>)>,
    /// Other names an operation arrives under (wire name → canonical), e.g. renamed apiCodes.
    pub aliases: Vec<(String, String)>,
    /// Every result code of the scheme, in documented order.
    pub codes: Vec<&'static str>,
    /// The codes that refuse the envelope rather than answer the operation.
    pub envelope: Vec<&'static str>,
    /// The success code.
    pub success: &'static str,
    /// Operations that accept a valid request with `processing` instead (asynchronous applies
    /// decided later): their success code is not an item, and `processing` is how they succeed.
    pub accepted_as_processing: Vec<&'static str>,
    /// The code such an operation accepts with.
    pub processing: Option<&'static str>,
    /// The notification channel of the outbox.
    pub channel: &'static str,
    /// Notifications: group, topic as the delivery ledger shows it.
    pub notifications: Vec<(&'static str, String)>,
}

/// A trigger, as the model needs it.
pub struct TriggerSource {
    pub group: String,
    pub name: &'static str,
    pub description: &'static str,
}

/// Everything the model is generated from.
pub struct Sources {
    pub surfaces: Vec<SurfaceSource>,
    pub triggers: Vec<TriggerSource>,
}

/// Where a surface's sync items are.
#[derive(Default)]
struct SurfaceIndex {
    /// Operation (canonical or alias) → code → item.
    operations: HashMap<String, Index>,
    /// Envelope code → item.
    envelope: Index,
}

/// Every coverage item, and the indexes that find one from what the simulator observed.
pub struct Model {
    pub items: Vec<Item>,
    sync: HashMap<&'static str, SurfaceIndex>,
    /// Channel → topic → the six delivery outcomes' items.
    notifications: HashMap<&'static str, HashMap<String, [usize; 6]>>,
    states: Index,
    /// Operations per surface, in table order (for the completeness test and reports).
    pub operations: Vec<(&'static str, String)>,
}

impl Model {
    pub fn generate(sources: &Sources) -> Model {
        let mut m = Model {
            items: Vec::new(),
            sync: HashMap::new(),
            notifications: HashMap::new(),
            states: Index::new(),
            operations: Vec::new(),
        };
        for s in &sources.surfaces {
            m.add_surface(s);
        }
        for t in &sources.triggers {
            let surface = surface_of_trigger(t.name, &sources.surfaces);
            let object = t.name.split('.').nth(1).unwrap_or(t.name).to_owned();
            let short = match t.name.strip_prefix(surface) {
                Some(rest) if rest.starts_with('.') => rest.to_owned(),
                _ => format!(".{}", t.name),
            };
            let index = m.push(Item {
                id: format!("{surface}.state{short}"),
                surface,
                group: t.group.clone(),
                operation: object,
                outcome: t.name.to_owned(),
                kind: Kind::State,
                hint: format!(
                    "POST /__sim/trigger/{} (or the scenario delay that leads to it): {}",
                    t.name, t.description
                ),
            });
            m.states.insert(t.name.to_owned(), index);
        }
        m
    }

    fn push(&mut self, item: Item) -> usize {
        self.items.push(item);
        self.items.len() - 1
    }

    fn add_surface(&mut self, s: &SurfaceSource) {
        let mut index = SurfaceIndex::default();
        for (group, operations) in &s.groups {
            for op in operations {
                self.operations.push((s.surface, (*op).to_owned()));
                let mut codes = Index::new();
                let asynchronous = s.accepted_as_processing.contains(op);
                let sync_codes = s.codes.iter().filter(|c| !s.envelope.contains(c));
                for code in sync_codes.filter(|c| !(asynchronous && **c == s.success)) {
                    let at = self.push(Item {
                        id: format!("{}.{op}.{code}", s.surface),
                        surface: s.surface,
                        group: (*group).to_owned(),
                        operation: (*op).to_owned(),
                        outcome: (*code).to_owned(),
                        kind: Kind::Sync,
                        hint: sync_hint(s, op, code),
                    });
                    codes.insert((*code).to_owned(), at);
                }
                index.operations.insert((*op).to_owned(), codes);
            }
        }
        for (wire, canonical) in &s.aliases {
            if let Some(codes) = index.operations.get(canonical).cloned() {
                index.operations.entry(wire.clone()).or_insert(codes);
            }
        }
        let envelope = s.envelope.iter().copied().chain([DROPPED]);
        for code in envelope {
            let at = self.push(Item {
                id: format!("{}.envelope.{code}", s.surface),
                surface: s.surface,
                group: "envelope".to_owned(),
                operation: "envelope".to_owned(),
                outcome: code.to_owned(),
                kind: Kind::Envelope,
                hint: envelope_hint(s.surface, code),
            });
            index.envelope.insert(code.to_owned(), at);
        }
        self.sync.insert(s.surface, index);
        for (group, topic) in &s.notifications {
            let mut at = [0; 6];
            for (i, outcome) in DELIVERY_OUTCOMES.iter().enumerate() {
                at[i] = self.push(Item {
                    id: format!("{}.notify.{topic}.{outcome}", s.surface),
                    surface: s.surface,
                    group: (*group).to_owned(),
                    operation: topic.clone(),
                    outcome: (*outcome).to_owned(),
                    kind: Kind::Notification,
                    hint: delivery_hint(outcome).to_owned(),
                });
            }
            self.notifications
                .entry(s.channel)
                .or_default()
                .insert(topic.clone(), at);
        }
        // A notification renamed on the wire (`[whalet.api_codes]`) counts for its canonical one.
        if let Some(topics) = self.notifications.get_mut(s.channel) {
            for (wire, canonical) in &s.aliases {
                if let Some(at) = topics.get(canonical).copied() {
                    topics.entry(wire.clone()).or_insert(at);
                }
            }
        }
    }

    /// The item of `code` answered to `operation` on `surface`, if it is one.
    pub fn sync_index(&self, surface: &str, operation: &str, code: &str) -> Option<usize> {
        let s = self.sync.get(surface)?;
        s.operations
            .get(operation)
            .and_then(|codes| codes.get(code))
            .or_else(|| s.envelope.get(code))
            .copied()
    }

    /// The item of the state change named by `trigger`.
    pub fn state_index(&self, trigger: &str) -> Option<usize> {
        self.states.get(trigger).copied()
    }

    /// The six delivery items of a notification topic on `channel`.
    pub fn notification_indexes(&self, channel: &str, topic: &str) -> Option<&[usize; 6]> {
        self.notifications.get(channel)?.get(topic)
    }

    /// Where an item is, by id.
    pub fn find(&self, id: &str) -> Option<usize> {
        self.items.iter().position(|i| i.id == id)
    }
}

/// The surface a trigger belongs to: its name's first part when that is a surface, else `sim`.
fn surface_of_trigger(name: &str, surfaces: &[SurfaceSource]) -> &'static str {
    let first = name.split('.').next().unwrap_or_default();
    surfaces
        .iter()
        .map(|s| s.surface)
        .find(|s| *s == first)
        .unwrap_or("sim")
}

/// The Whalet file upload's operation name, as rules and the journal name it
/// (`api::whalet::upload::OPERATION`, which this module sits below).
const UPLOAD_OPERATION: &str = "/file/upload";

fn forced(op: &str, code: &str) -> String {
    format!("a scenario rule: operation = \"{op}\", [rule.then] code = \"{code}\"")
}

/// Pockyt's NO_RELATED_INFORMATION from an operation that looks its payee up by `customerNo`
/// alone.
const NO_PAYEE: &str = "a customerNo no payee has";

/// Pockyt's BALANCE_NOT_SUFFICIENT from an account creation.
const PAYEE_REFUSED: &str = "a payee declined or deactivated";

/// Codes an operation answers by itself, each with what provokes it.
type Causes = &'static [(&'static str, &'static str)];

/// What each operation answers by itself besides refusing bad input (which every operation
/// does, the input codes of [`INPUT_CODES`]): per surface, operations and the codes they answer,
/// each with what provokes it. Read from the handlers: what they refuse, and whether they keep
/// the partner's business id; the Whalet Open API's are its table in [`crate::answers`]. A test
/// checks every operation of the model is here or there. A code an operation is not listed with
/// is provoked only by a scenario rule.
const NATURAL: &[(&str, &[&str], Causes)] = &[
    (
        "platform",
        &["shopAccountBind"],
        &[
            (
                "FAILURE",
                "a shop already bound, or with a binding waiting for the seller",
            ),
            (
                "IDEMPOTENT_ERROR",
                "the same bindId again with different content",
            ),
        ],
    ),
    (
        "platform",
        &["shopAccountBindQuery"],
        &[("FAILURE", "a bindId this partner does not have")],
    ),
    (
        "platform",
        &["paymentApply"],
        &[
            (
                "FAILURE",
                "a shop the seller has not bound, or an amount over the balance",
            ),
            (
                "IDEMPOTENT_ERROR",
                "the same paymentId again with different content",
            ),
        ],
    ),
    (
        "platform",
        &["paymentQuery"],
        &[("FAILURE", "a paymentId this partner does not have")],
    ),
    // A second upload of a tradeOrderId replaces it (docs/FIDELITY.md); no id is kept.
    ("platform", &["balanceQuery", "tradeMaterialsUpload"], &[]),
    (
        "file",
        &[UPLOAD_OPERATION],
        &[(
            "FAILURE",
            "a file past what the simulator stores for the partner (reset the tenant to free it)",
        )],
    ),
    (
        "infinia",
        &[
            "account-binding/request",
            "account-binding/query",
            "trade-details/query",
            "account-balance/query",
            "available-revenue/query",
            "revenue-sharing/request",
            "revenue-sharing/query",
        ],
        &[],
    ),
    // Pockyt: the ids each handler reads, named as it refuses them. Register and balance look
    // nothing up; only the operations that compare two ids answer 000022 (docs/FIDELITY.md, "ids
    // that disagree").
    (
        "pockyt",
        &["/v3/payee/register", "/v3/payouts/balance"],
        &[],
    ),
    (
        "pockyt",
        &["/v3/payee/retrieve"],
        &[
            ("000021", "a customerNo, customerCode or email no payee has"),
            (
                "000022",
                "a customerNo, customerCode and email that name different payees",
            ),
        ],
    ),
    ("pockyt", &["/v3/payee/update"], &[("000021", NO_PAYEE)]),
    (
        "pockyt",
        &[
            "/v3/customers/account/create/bank-account",
            "/v3/customers/account/create/paypal",
            "/v3/customers/account/create/venmo",
        ],
        &[
            ("000021", NO_PAYEE),
            (
                "000022",
                "an accountType other than the one the path creates",
            ),
            ("000040", PAYEE_REFUSED),
        ],
    ),
    // The legacy path takes its type from accountType (one of a list: 000023 otherwise).
    (
        "pockyt",
        &["/v2/customers/account/create"],
        &[("000021", NO_PAYEE), ("000040", PAYEE_REFUSED)],
    ),
    (
        "pockyt",
        &["/v3/payee/payout-accounts"],
        &[
            (
                "000021",
                "a customerNo no payee has, or an accountToken or accountTag none of its live \
                 accounts has",
            ),
            (
                "000022",
                "an accountToken of another payee's account, or an accountToken and accountTag \
                 of different accounts",
            ),
            ("000040", "a payee not activated"),
        ],
    ),
    (
        "pockyt",
        &["/v3/payee/account/delete"],
        &[
            (
                "000021",
                "a customerNo no payee has, or an accountToken of no live account (unknown or \
                 deleted)",
            ),
            ("000022", "an accountToken of another payee's account"),
        ],
    ),
    (
        "pockyt",
        &["/v2/customers/account/retrieve"],
        &[
            (
                "000021",
                "an accountToken of no live account, a customerNo no payee has, or an accountTag \
                 none of its live accounts has",
            ),
            (
                "000022",
                "an accountToken of another payee than customerNo's, or an accountToken and \
                 accountTag of different accounts",
            ),
        ],
    ),
    (
        "pockyt",
        &["/v3/payouts/pay"],
        &[
            (
                "000021",
                "a customerNo no payee has, or an accountToken of no live account",
            ),
            (
                "000022",
                "an accountToken of another payee's account, or an invoiceId already paid with \
                 another customerNo, accountToken or amount",
            ),
            (
                "000040",
                "a payout over the balance, or to a payee or account not activated",
            ),
        ],
    ),
    (
        "pockyt",
        &["/v3/payouts/inquiry"],
        &[
            ("000021", "an invoiceId or transactionNo no payout has"),
            (
                "000022",
                "a transactionNo sent with the invoiceId of another payout",
            ),
        ],
    ),
];

/// The codes that refuse bad input, per surface, with what provokes them: every operation reads
/// a request (its body or form, and the envelope around it), so every one answers them.
const INPUT_CODES: &[(&str, &[&str], &str)] = &[
    (
        "whalet-scheme",
        &["PARAMETER_ERROR"],
        "bad input (a required field left out or malformed)",
    ),
    (
        "infinia",
        &["SYS-002", "SYS-004", "SYS-005", "SYS-006"],
        "bad input (a field missing, malformed or out of range)",
    ),
    // 000022 (ids that disagree) is per operation, in [`NATURAL`].
    (
        "pockyt",
        &["000020", "000023"],
        "bad input (a field missing or invalid)",
    ),
];

/// The codes `op` on `surface` answers by itself, with their causes ([`NATURAL`], and the
/// Whalet table of [`crate::answers`]); None when neither lists the operation.
fn natural_of(surface: &str, op: &str) -> Option<Vec<(&'static str, &'static str)>> {
    if surface == "whalet" {
        let a = crate::answers::whalet(op)?;
        let failure = a.fails.cause().map(|cause| ("FAILURE", cause));
        let repeat = a
            .keeps_id
            .then_some(("IDEMPOTENT_ERROR", crate::answers::SAME_ID));
        return Some(failure.into_iter().chain(repeat).collect());
    }
    NATURAL
        .iter()
        .find(|(s, ops, _)| *s == surface && ops.contains(&op))
        .map(|(_, _, codes)| codes.to_vec())
}

/// What provokes `code` from `op` on `surface` by itself, if anything does ([`NATURAL`],
/// [`INPUT_CODES`]).
fn natural_cause(surface: &str, op: &str, code: &str) -> Option<&'static str> {
    let scheme = match surface {
        "whalet" | "platform" | "file" => "whalet-scheme",
        other => other,
    };
    let input = INPUT_CODES
        .iter()
        .find(|(s, codes, _)| *s == scheme && codes.contains(&code))
        .map(|(_, _, cause)| *cause);
    input.or_else(|| {
        natural_of(surface, op)?
            .into_iter()
            .find(|(c, _)| *c == code)
            .map(|(_, cause)| cause)
    })
}

/// How to provoke `code` from `op`: what does it by itself, then the rule that forces it. The
/// natural half is given only where the operation answers so ([`natural_cause`]): a query has no
/// business id to repeat, an upload that keeps none no conflict, a balance no id to miss.
fn sync_hint(s: &SurfaceSource, op: &str, code: &str) -> String {
    let asynchronous = s.accepted_as_processing.contains(&op);
    if code == s.success || (asynchronous && Some(code) == s.processing) {
        return format!("a valid {op} request");
    }
    match natural_cause(s.surface, op, code) {
        Some(natural) => format!("{natural}, or {}", forced(op, code)),
        None => forced(op, code),
    }
}

/// How to provoke an envelope `code` of `surface`: what the scheme answers so by itself
/// ([`envelope_cause`]), else the scenario rule that forces it ([`envelope_rule`]).
fn envelope_hint(surface: &str, code: &str) -> String {
    if code == DROPPED {
        return "a scenario rule with [rule.then] drop_connection = true".to_owned();
    }
    if let Some(cause) = envelope_cause(surface, code) {
        return cause.to_owned();
    }
    let rule = envelope_rule(surface, code);
    // The code an every-surface rule's forced code becomes where the surface lacks it
    // (docs/SCENARIOS.md, per surface).
    match (surface, code) {
        ("infinia", "SYS-008") | ("pockyt", "000000") => {
            format!("{rule} (or a rule without surface whose code {surface} lacks)")
        }
        _ => rule,
    }
}

/// What makes `surface` answer the envelope `code` by itself, read from its scheme's `open`
/// (`src/api/*`) and `wire/`; None when only a rule gives it. The Whalet envelope's causes hold
/// where the surface reads that part of the envelope: the file upload (`/file/upload`) is a
/// multipart form with no requestNo, no apiCode and no JSON to misformat (a bad or oversized
/// form is its PARAMETER_ERROR), and only the Open API counts `rate_limit`
/// (`scenarios/rate-limited.toml`, a rule of the Whalet surface, counts uploads too, not
/// whalet-platform's requests).
fn envelope_cause(surface: &str, code: &str) -> Option<&'static str> {
    let cause = match (surface, code) {
        ("whalet" | "platform" | "file", "PARTNER_NOT_EXIST") => {
            "a partnerId the simulator does not know"
        }
        ("whalet" | "platform", "UNAUTHENTICATED_ERROR") => "a request signed with the wrong key",
        ("file", "UNAUTHENTICATED_ERROR") => {
            "an upload without a token, or with one that is not the partner's signature over \
             partnerId|timestamp (e.g. signed with the wrong key)"
        }
        ("whalet" | "platform", "PARAM_FORMAT_ERROR") => {
            "a body that is not the envelope's JSON (or over the body limit)"
        }
        ("whalet" | "platform", "REQUEST_NO_NOT_UNIQUE") => "the same requestNo twice",
        ("whalet", "INTERFACE_UNAUTHORIZED") => {
            "an apiCode the surface does not serve, or one not in the partner's api_codes"
        }
        ("platform", "INTERFACE_UNAUTHORIZED") => {
            "a path /v1/platform/{apiCode} with an operation the surface does not serve, or one \
             not in the partner's api_codes"
        }
        ("whalet", "TOO_MANY_REQUESTS") => {
            "scenarios/rate-limited.toml, or more requests a second than the partner's rate_limit"
        }
        ("file", "TOO_MANY_REQUESTS") => {
            "scenarios/rate-limited.toml (its rule, of the Whalet surface, counts uploads too)"
        }
        ("infinia", "SYS-007") => {
            "a body over [infinia] body_limit_bytes, or a requestData of more RSA blocks than \
             [infinia] max_request_blocks"
        }
        ("pockyt", "000030") => {
            "a verifySign that does not match the request (e.g. signed with another token), a \
             storeNo that is not the merchant's, or a merchantNo no merchant has"
        }
        _ => return None,
    };
    Some(cause)
}

/// The scenario rule that forces the envelope `code` on `surface`. The file upload's rules are
/// the Whalet surface's (no rule names `surface = "file"`), so its rule names its operation.
fn envelope_rule(surface: &str, code: &str) -> String {
    match surface {
        "file" => forced(UPLOAD_OPERATION, code),
        _ => format!("a scenario rule: surface = \"{surface}\", [rule.then] code = \"{code}\""),
    }
}

fn delivery_hint(outcome: &str) -> &'static str {
    match outcome {
        "delivered_first_time" => "the partner's notify endpoint acknowledges the first attempt",
        "delivered_after_retries" => "the endpoint fails the first attempt (an [[outage]] or sim.notify.down shorter than the retry schedule), then acknowledges",
        "exhausted" => "the endpoint fails every attempt of the retry schedule ([[outage]] or sim.notify.down, then advance the clock)",
        "duplicated" => "[rule.then.notify] duplicate = true on the operation that causes it",
        "out_of_order" => "[rule.then.notify] reorder = true on the operation that causes it",
        _ => "[rule.then.notify] corrupt_signature = true; the partner must refuse the attempt",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surface(name: &'static str) -> SurfaceSource {
        SurfaceSource {
            surface: name,
            groups: Vec::new(),
            aliases: Vec::new(),
            codes: Vec::new(),
            envelope: Vec::new(),
            success: if name == "pockyt" {
                "000100"
            } else {
                "SUCCESS"
            },
            accepted_as_processing: vec!["userOnboardingApply"],
            processing: Some("PROCESSING"),
            channel: name,
            notifications: Vec::new(),
        }
    }

    /// Regression: every operation got the same natural way to each code, so a query was told
    /// to go to review, to repeat its business id, and a payee registration to overdraw a
    /// payout. The natural half is now given only where the operation can answer so.
    #[test]
    fn a_hint_names_a_natural_cause_only_where_the_operation_has_it() {
        let whalet = surface("whalet");
        let pockyt = surface("pockyt");
        let natural = |s: &SurfaceSource, op: &str, code: &str| {
            let hint = sync_hint(s, op, code);
            (!hint.starts_with("a scenario rule")).then_some(hint)
        };
        for (op, code) in [
            ("beneficiaryCountryQuery", "PROCESSING"),
            ("beneficiaryCountryQuery", "IDEMPOTENT_ERROR"),
            ("payoutApply", "PROCESSING"),
            ("connectivity", "FAILURE"),
        ] {
            assert_eq!(natural(&whalet, op, code), None, "{op} {code}");
        }
        for (op, code) in [
            ("/v3/payee/register", "000040"),
            ("/v3/payouts/balance", "000040"),
            ("/v3/payee/register", "000021"),
        ] {
            assert_eq!(natural(&pockyt, op, code), None, "{op} {code}");
        }
        let said = |s: &SurfaceSource, op: &str, code: &str, what: &str| {
            let hint = natural(s, op, code).unwrap_or_default();
            assert!(hint.contains(what), "{op} {code}: {hint}");
            assert!(hint.contains("a scenario rule"), "{op} {code}: {hint}");
        };
        said(
            &whalet,
            "cardHolderApply",
            "IDEMPOTENT_ERROR",
            "business id",
        );
        said(
            &whalet,
            "b2cCardQuery",
            "FAILURE",
            "unknown, or another partner's",
        );
        said(
            &whalet,
            "payoutApply",
            "FAILURE",
            "over the available balance",
        );
        said(
            &pockyt,
            "/v3/payouts/pay",
            "000040",
            "a payout over the balance",
        );
        said(&pockyt, "/v3/payee/retrieve", "000021", "no payee has");
        assert_eq!(
            sync_hint(&whalet, "userOnboardingApply", "PROCESSING"),
            "a valid userOnboardingApply request"
        );
    }

    /// Regression: the natural half was guessed from the operation's name, so the platform's
    /// trade-materials upload (which keeps no business id and never answers FAILURE) was told to
    /// repeat its business id and to be refused by the state, and its balance query, which takes
    /// no id, to name an unknown one. Now an operation gets a natural cause only for the codes
    /// its handler answers by itself.
    #[test]
    fn an_operation_that_cannot_answer_a_code_by_itself_is_told_only_the_rule() {
        let platform = surface("platform");
        let file = surface("file");
        let pockyt = surface("pockyt");
        for (s, op, code) in [
            (&platform, "tradeMaterialsUpload", "IDEMPOTENT_ERROR"),
            (&platform, "tradeMaterialsUpload", "FAILURE"),
            (&platform, "balanceQuery", "FAILURE"),
            (&platform, "shopAccountBindQuery", "IDEMPOTENT_ERROR"),
            (&file, "/file/upload", "IDEMPOTENT_ERROR"),
            (&surface("whalet"), "userOnboardingApply", "FAILURE"),
            (&surface("whalet"), "queryPlatformBalance", "FAILURE"),
            (
                &surface("whalet"),
                "tradeOrderBindApply",
                "IDEMPOTENT_ERROR",
            ),
            (&pockyt, "/v3/payouts/balance", "000021"),
            (&pockyt, "/v3/payee/retrieve", "000040"),
        ] {
            assert_eq!(sync_hint(s, op, code), forced(op, code), "{op} {code}");
        }
        // What they do answer by themselves keeps its cause.
        for (s, op, code) in [
            (&platform, "tradeMaterialsUpload", "PARAMETER_ERROR"),
            (&platform, "paymentApply", "IDEMPOTENT_ERROR"),
            (&platform, "paymentQuery", "FAILURE"),
            (&file, "/file/upload", "FAILURE"),
            (&pockyt, "/v3/customers/account/create/paypal", "000040"),
        ] {
            let hint = sync_hint(s, op, code);
            assert!(hint.ends_with(&forced(op, code)), "{hint}");
            assert_ne!(hint, forced(op, code), "{op} {code}");
        }
    }

    /// Every operation of the simulator's model says what it answers by itself, and the table
    /// names only operations the model has.
    #[test]
    fn every_operation_of_the_model_says_what_it_answers_by_itself() {
        let dispatch = crate::api::whalet::Dispatch::new(&Default::default()).expect("dispatch");
        let model = crate::api::coverage::model(&dispatch, &[]);
        for (surface, op) in &model.operations {
            assert!(natural_of(surface, op).is_some(), "{surface} {op}");
        }
        for op in crate::answers::WHALET.iter().map(|a| a.name) {
            for (code, _) in natural_of("whalet", op).expect("listed") {
                let id = format!("whalet.{op}.{code}");
                assert!(model.find(&id).is_some(), "{id} is not an item");
            }
        }
        for (surface, ops, codes) in NATURAL {
            for op in *ops {
                assert!(
                    model
                        .operations
                        .iter()
                        .any(|(s, o)| s == surface && o == op),
                    "{surface} {op} is not an operation of the model"
                );
                for (code, _) in *codes {
                    let id = format!("{surface}.{op}.{code}");
                    assert!(model.find(&id).is_some(), "{id} is not an item");
                }
            }
        }
    }

    /// The model's Pockyt sync items, as (operation, code, hint).
    fn pockyt_hints(model: &Model) -> Vec<(&str, &str, &str)> {
        model
            .items
            .iter()
            .filter(|i| i.surface == "pockyt" && i.kind == Kind::Sync)
            .map(|i| (i.operation.as_str(), i.outcome.as_str(), i.hint.as_str()))
            .collect()
    }

    /// Regression: every Pockyt operation's 000021 hint named "a customerNo, accountToken or
    /// transactionNo", though the payee retrieve reads no accountToken or transactionNo (it looks
    /// payees up by customerNo, customerCode or email) and the payout inquiry no customerNo or
    /// accountToken (it looks payouts up by invoiceId or transactionNo). A field a hint names
    /// is now one its operation's handler reads (as describe mode records it), and the payee
    /// retrieve's and the inquiry's name the fields they do look up.
    #[test]
    fn a_pockyt_hint_names_only_fields_its_operation_reads() {
        let bed = crate::api::whalet::common::testing::TestBed::new();
        let described = crate::api::pockyt::describe(&bed.core);
        let reads = |op: &str| -> Vec<String> {
            let d = described.iter().find(|d| d.name == op);
            let d = d.unwrap_or_else(|| panic!("{op} is not described"));
            d.fields.iter().map(|f| f.name.clone()).collect()
        };
        let every_field: Vec<String> = described
            .iter()
            .flat_map(|d| d.fields.iter().map(|f| f.name.clone()))
            .collect();
        let dispatch = crate::api::whalet::Dispatch::new(&Default::default()).expect("dispatch");
        let model = crate::api::coverage::model(&dispatch, &[]);
        let hints = pockyt_hints(&model);
        assert!(hints.len() > 50, "{} Pockyt items", hints.len());
        for (op, code, hint) in &hints {
            let own = reads(op);
            let named = hint
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| every_field.iter().any(|f| f == w));
            for field in named {
                assert!(
                    own.iter().any(|f| f == field),
                    "{op} {code} names {field}, which {op} does not read: {hint}"
                );
            }
        }
        let hint_of = |op: &str, code: &str| {
            hints
                .iter()
                .find(|(o, c, _)| *o == op && *c == code)
                .map(|(_, _, h)| *h)
                .unwrap_or_default()
        };
        let looked_up: [(&str, &[&str]); 2] = [
            (
                "/v3/payee/retrieve",
                &["customerNo", "customerCode", "email"],
            ),
            ("/v3/payouts/inquiry", &["invoiceId", "transactionNo"]),
        ];
        for (op, fields) in looked_up {
            let hint = hint_of(op, "000021");
            for field in fields {
                assert!(hint.contains(field), "{op} 000021: {hint}");
            }
        }
    }

    /// Regression: every Pockyt operation was told it answers 000022 (parameters do not match)
    /// for bad input, though the payee registration, the payee update, the balance and the
    /// legacy account creation never compare two ids and never answer it. Only the operations
    /// whose handlers compare ids (docs/FIDELITY.md, "ids that disagree") name a cause of their
    /// own, and each names the ids it compares.
    #[test]
    fn only_an_operation_that_compares_ids_is_told_it_answers_000022_by_itself() {
        let pockyt = surface("pockyt");
        for op in [
            "/v3/payee/register",
            "/v3/payee/update",
            "/v3/payouts/balance",
            "/v2/customers/account/create",
        ] {
            assert_eq!(
                sync_hint(&pockyt, op, "000022"),
                forced(op, "000022"),
                "{op}"
            );
        }
        for (op, compared) in [
            ("/v3/payee/retrieve", "email"),
            ("/v3/customers/account/create/paypal", "accountType"),
            ("/v3/payee/payout-accounts", "accountTag"),
            ("/v3/payee/account/delete", "accountToken"),
            ("/v2/customers/account/retrieve", "accountTag"),
            ("/v3/payouts/pay", "invoiceId"),
            ("/v3/payouts/inquiry", "transactionNo"),
        ] {
            let hint = sync_hint(&pockyt, op, "000022");
            assert!(hint.ends_with(&forced(op, "000022")), "{op}: {hint}");
            assert!(!hint.starts_with("a scenario rule"), "{op}: {hint}");
            assert!(hint.contains(compared), "{op}: {hint}");
        }
        // The codes every operation answers for bad input (its envelope fields included).
        for op in ["/v3/payouts/balance", "/v3/payee/register"] {
            for code in ["000020", "000023"] {
                let hint = sync_hint(&pockyt, op, code);
                assert!(hint.starts_with("bad input"), "{op} {code}: {hint}");
            }
        }
    }

    /// Regression: the file surface's envelope hints named causes `/file/upload` cannot have
    /// (it has no requestNo, no apiCode and no JSON envelope: a bad or oversized form is its
    /// PARAMETER_ERROR), and its rule hints `surface = "file"`, which no rule can name; the
    /// platform's TOO_MANY_REQUESTS named `rate-limited.toml`, whose rule is the Whalet
    /// surface's. Such codes name the rule that forces them, one a scenario can load.
    #[test]
    fn an_envelope_code_a_surface_cannot_answer_by_itself_names_a_loadable_rule() {
        for code in [
            "PARAM_FORMAT_ERROR",
            "REQUEST_NO_NOT_UNIQUE",
            "INTERFACE_UNAUTHORIZED",
            "UNAUTHORIZED",
            "INTERNAL_ERROR",
        ] {
            let hint = envelope_hint("file", code);
            let rule = format!(
                "a scenario rule: operation = \"/file/upload\", [rule.then] code = \"{code}\""
            );
            assert_eq!(hint, rule, "{code}");
        }
        assert_eq!(UPLOAD_OPERATION, crate::api::whalet::upload::OPERATION);
        assert!(envelope_hint("file", "UNAUTHENTICATED_ERROR").contains("token"));
        assert!(envelope_hint("file", "PARTNER_NOT_EXIST").contains("partnerId"));
        assert_eq!(
            envelope_hint("platform", "TOO_MANY_REQUESTS"),
            "a scenario rule: surface = \"platform\", [rule.then] code = \"TOO_MANY_REQUESTS\""
        );
        assert!(envelope_hint("whalet", "TOO_MANY_REQUESTS").contains("rate-limited.toml"));
        assert!(envelope_hint("whalet", "REQUEST_NO_NOT_UNIQUE").contains("requestNo"));
        assert!(envelope_hint("platform", "PARAM_FORMAT_ERROR").contains("JSON"));
        // Every surface's envelope hints: a rule names a surface a rule can have.
        let dispatch = crate::api::whalet::Dispatch::new(&Default::default()).expect("dispatch");
        let model = crate::api::coverage::model(&dispatch, &[]);
        let rule_surfaces = ["whalet", "platform", "infinia", "pockyt"];
        let envelope = model.items.iter().filter(|i| i.kind == Kind::Envelope);
        for item in envelope {
            assert!(!item.hint.is_empty(), "{}", item.id);
            if let Some(rest) = item.hint.split("surface = \"").nth(1) {
                let named = rest.split('"').next().unwrap_or_default();
                assert!(rule_surfaces.contains(&named), "{}: {}", item.id, item.hint);
            }
        }
    }

    /// Regression: Pockyt's 000030 hint gave only a scenario rule, though the scheme answers
    /// 000030 by itself for a verifySign that does not match, a storeNo that is not the
    /// merchant's and an unknown merchantNo; Infinia's SYS-007 named the body limit but not the
    /// RSA block limit, which answers it too. The codes only a rule (or a bug) gives keep the
    /// rule, with the fallback an every-surface rule's code becomes.
    #[test]
    fn an_envelope_hint_names_what_the_scheme_answers_by_itself() {
        let denied = envelope_hint("pockyt", "000030");
        for field in ["verifySign", "storeNo", "merchantNo"] {
            assert!(denied.contains(field), "{denied}");
        }
        assert!(!denied.starts_with("a scenario rule"), "{denied}");
        let too_large = envelope_hint("infinia", "SYS-007");
        for limit in ["body_limit_bytes", "max_request_blocks"] {
            assert!(too_large.contains(limit), "{too_large}");
        }
        for (surface, code) in [
            ("pockyt", "000000"),
            ("infinia", "SYS-003"),
            ("infinia", "SYS-008"),
        ] {
            let hint = envelope_hint(surface, code);
            let rule = format!("surface = \"{surface}\", [rule.then] code = \"{code}\"");
            assert!(hint.contains(&rule), "{surface} {code}: {hint}");
        }
        assert!(envelope_hint("infinia", "SYS-008").contains("without surface"));
        assert!(!envelope_hint("infinia", "SYS-003").contains("without surface"));
    }
}
