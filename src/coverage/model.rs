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

fn forced(op: &str, code: &str) -> String {
    format!("a scenario rule: operation = \"{op}\", [rule.then] code = \"{code}\"")
}

/// Whether `op` only reads (a query, an inquiry, a balance, a list, the connectivity check): it
/// takes no business id, starts no review and moves no money. Read from the operation's name,
/// which says so on every surface (`…Query`, `…/query`, `…/retrieve`, `…/inquiry`, `…Inquiry`,
/// `…/balance`, `payout-accounts`, `connectivity`).
fn reads_only(op: &str) -> bool {
    let lower = op.to_ascii_lowercase();
    [
        "query",
        "retrieve",
        "inquiry",
        "balance",
        "payout-accounts",
        "connectivity",
    ]
    .iter()
    .any(|word| lower.contains(word))
}

/// How to provoke `code` from `op`: what does it naturally, then the rule that forces it. The
/// natural half is given only where it is true of `op`: a query has no business id to repeat,
/// no review to wait for and no payout to overdraw.
fn sync_hint(s: &SurfaceSource, op: &str, code: &str) -> String {
    let asynchronous = s.accepted_as_processing.contains(&op);
    if code == s.success || (asynchronous && Some(code) == s.processing) {
        return format!("a valid {op} request");
    }
    let reads = reads_only(op);
    let natural = match code {
        // The connectivity check refuses nothing but its own fields.
        _ if op == "connectivity" && code != "PARAMETER_ERROR" => "",
        // An operation that goes to review answers its processing code as its success (above).
        "PROCESSING" => "",
        "FAILURE" if reads => "an unknown or another partner's id, or",
        "FAILURE" => {
            "a request the state refuses (unknown or foreign id, wrong status, balance too low), or"
        }
        "PARAMETER_ERROR" => "bad input (a required field left out or malformed), or",
        "IDEMPOTENT_ERROR" if !reads => "the same business id again with different content, or",
        "SYS-002" | "SYS-004" | "SYS-005" | "SYS-006" => {
            "bad input (a field missing, malformed or out of range), or"
        }
        "000020" | "000022" | "000023" => {
            "bad input (a field missing, not matching or invalid), or"
        }
        "000021" if !op.ends_with("/register") => "an id that does not exist, or",
        "000040" if !reads && op.contains("payouts") => "a payout over the balance, or",
        _ => "",
    };
    if natural.is_empty() {
        forced(op, code)
    } else {
        format!("{natural} {}", forced(op, code))
    }
}

fn envelope_hint(surface: &str, code: &str) -> String {
    let how = match code {
        DROPPED => "a scenario rule with [rule.then] drop_connection = true",
        "PARTNER_NOT_EXIST" => "a partnerId the simulator does not know",
        "UNAUTHENTICATED_ERROR" => "a request signed with the wrong key",
        "PARAM_FORMAT_ERROR" => "a body that is not the envelope's JSON (or over the body limit)",
        "REQUEST_NO_NOT_UNIQUE" => "the same requestNo twice",
        "INTERFACE_UNAUTHORIZED" => "an apiCode the surface does not serve",
        "TOO_MANY_REQUESTS" => "scenarios/rate-limited.toml",
        "SYS-007" => "a body over [infinia] body_limit_bytes",
        _ => "",
    };
    if how.is_empty() {
        format!("a scenario rule: surface = \"{surface}\", [rule.then] code = \"{code}\"")
    } else {
        how.to_owned()
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
                "000000"
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
            "unknown or another partner's id",
        );
        said(&whalet, "payoutApply", "FAILURE", "balance too low");
        said(
            &pockyt,
            "/v3/payouts/pay",
            "000040",
            "a payout over the balance",
        );
        said(
            &pockyt,
            "/v3/payee/retrieve",
            "000021",
            "an id that does not exist",
        );
        assert_eq!(
            sync_hint(&whalet, "userOnboardingApply", "PROCESSING"),
            "a valid userOnboardingApply request"
        );
    }
}
