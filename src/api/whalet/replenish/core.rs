//! The life of one request for material: asked (WAIT_SUBMIT, notification sent, money frozen),
//! submitted (PROCESSING, review scheduled), decided (SUCCESS/FAILURE, money released or
//! returned, result notification). Shared by EDD and trade replenishment.

use serde_json::{json, Value};

use crate::api::whalet::common::kinds::{CollectionReview, ReplenishReview};
use crate::api::whalet::common::review::{self, Notice, Review, Settle};
use crate::api::whalet::common::{again, mint, schedule, with_tenant, Verdict};
use crate::api::whalet::payout::outflow;
use crate::api::whalet::whalet_time;
use crate::behaviour::NotifyBehaviour;
use crate::clock::Millis;
use crate::core::Core;
use crate::money::Money;
use crate::store::whalet::{wallet_account, Bucket, CollectionStatus, FundSource, EXTERNAL_BANK};
use crate::store::whalet_trade::{OutflowStatus, Replenish, ReplenishKind, ReplenishStatus};
use crate::store::{TenantId, TenantState};

/// What is being asked.
pub struct Ask<'a> {
    pub kind: ReplenishKind,
    pub user_id: &'a str,
    pub trade_id: Option<&'a str>,
    pub outflow_id: Option<&'a str>,
    pub material_types: Vec<String>,
    pub message: String,
    pub freeze: Option<(FundSource, Money)>,
}

/// The request's notification and its result's.
fn notify_names(kind: ReplenishKind) -> (&'static str, &'static str) {
    match kind {
        ReplenishKind::Edd => ("eddReplenishNotify", "eddReplenishResultNotify"),
        ReplenishKind::Trade => ("tradeReplenishNotify", "tradeReplenishResultNotify"),
    }
}

pub fn view(r: &Replenish) -> Value {
    json!({
        "userId": r.user_id,
        "replenishId": r.replenish_id,
        "tradeId": r.trade_id,
        "relatedId": r.outflow_id,
        "materialTypes": r.material_types,
        "message": r.message,
        "freezeAmount": r.frozen.map(|(_, m)| m.to_whalet()),
        "status": r.reported(),
        "fileIds": r.files.iter().map(|f| f.file_id.clone()).collect::<Vec<_>>(),
        "memo": r.memo,
        "requestTime": whalet_time(r.requested_at),
        "submitTime": r.submitted_at.map(whalet_time),
        "decideTime": r.decided_at.map(whalet_time),
    })
}

/// Records the request (freezing money if asked) under the tenant lock; returns the
/// notification to send and its apiCode.
pub fn ask(
    t: &mut TenantState,
    a: Ask<'_>,
    now: i64,
) -> Result<(String, &'static str, Value), String> {
    if let Some((fund, amount)) = a.freeze {
        t.ledger
            .transfer(
                now,
                format!(
                    "{} review of {} frozen",
                    a.kind,
                    a.trade_id.unwrap_or(a.user_id)
                ),
                &wallet_account(a.user_id, fund, Bucket::Available),
                &wallet_account(a.user_id, fund, Bucket::Frozen),
                amount,
            )
            .map_err(|e| format!("cannot freeze {amount} of user {}: {e}", a.user_id))?;
    }
    let prefix = match a.kind {
        ReplenishKind::Edd => "ED",
        ReplenishKind::Trade => "TR",
    };
    let id = mint(t, prefix, now);
    let r = Replenish {
        replenish_id: id.clone(),
        kind: a.kind,
        user_id: a.user_id.to_owned(),
        trade_id: a.trade_id.map(str::to_owned),
        outflow_id: a.outflow_id.map(str::to_owned),
        material_types: a.material_types,
        message: a.message,
        frozen: a.freeze,
        status: ReplenishStatus::WaitSubmit,
        reported_status: String::new(),
        files: Vec::new(),
        memo: String::new(),
        attempt: 0,
        requested_at: now,
        submitted_at: None,
        decided_at: None,
    };
    let payload = view(&r);
    t.whalet_trade.replenishes.insert(id.clone(), r);
    Ok((id, notify_names(a.kind).0, payload))
}

/// A scenario asked for EDD on a confirmed payout/pay: the outflow stays PROCESSING with its
/// money frozen until the EDD is decided. Returns (replenishId, apiCode, payload) to send.
/// A `materialTypes` that lists no type (`""`, `","`) asks for the default material, as one
/// left out does: a request for nothing could never be answered.
pub fn hold_outflow(
    t: &mut TenantState,
    user_id: &str,
    outflow_id: &str,
    values: &serde_json::Map<String, Value>,
    now: i64,
) -> Result<(String, &'static str, Value), String> {
    // A text key: a number or a boolean is taken as its text, as the loader takes it.
    let types = match values.get("materialTypes") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Some(v.to_string()),
        _ => None,
    };
    let types = types
        .as_deref()
        .and_then(split_types)
        .or_else(|| split_types(EDD_TYPES))
        .unwrap_or_default();
    let message = values
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("enhanced due diligence: please submit the listed material");
    ask(
        t,
        Ask {
            kind: ReplenishKind::Edd,
            user_id,
            trade_id: None,
            outflow_id: Some(outflow_id),
            material_types: types,
            message: message.to_owned(),
            freeze: None,
        },
        now,
    )
}

/// The open requests (WAIT_SUBMIT or PROCESSING) of `kind` about `id`: the collection's
/// trade id for trade material, the held outflow's id for EDD. At most one, since a second is
/// refused while one is open; until it is decided, what it holds has no result
/// (docs/FIDELITY.md, EDD).
pub fn open_about<'a>(
    t: &'a TenantState,
    kind: ReplenishKind,
    id: &'a str,
) -> impl Iterator<Item = &'a Replenish> {
    t.whalet_trade.replenishes.values().filter(move |r| {
        let about = match kind {
            ReplenishKind::Trade => &r.trade_id,
            ReplenishKind::Edd => &r.outflow_id,
        };
        r.kind == kind
            && about.as_deref() == Some(id)
            && matches!(
                r.status,
                ReplenishStatus::WaitSubmit | ReplenishStatus::Processing
            )
    })
}

/// What returning collection `trade_id` does to the trade material asked about it, as it does
/// to the collection's bindings: the money went back to the payer, so there is nothing left to
/// decide and an open request ends FAILURE saying why, in its `message` (a scheduled decision on
/// it then does nothing). A collection with material open about it is returned only while
/// pending (a settled one goes back by the rejection of that material, which is then decided),
/// and material asked about a pending one froze nothing, so no money moves. Returns each
/// request's id and `tradeReplenishResultNotify`.
pub fn end_returned(t: &mut TenantState, trade_id: &str, now: Millis) -> Vec<(String, Notice)> {
    let open: Vec<String> = open_about(t, ReplenishKind::Trade, trade_id)
        .map(|r| r.replenish_id.clone())
        .collect();
    let mut notices = Vec::new();
    for id in open {
        let Some(r) = t.whalet_trade.replenishes.get_mut(&id) else {
            continue;
        };
        r.status = ReplenishStatus::Failure;
        r.reported_status.clear();
        r.message = format!(
            "{}; this request for material is closed",
            returned(trade_id)
        );
        r.decided_at = Some(now);
        let api_code = notify_names(r.kind).1;
        let payload = view(r);
        notices.push((id, Notice { api_code, payload }));
    }
    notices
}

fn returned(trade_id: &str) -> String {
    format!("collection {trade_id} was returned to the payer")
}

/// Why request `r` takes no more material although its status would (`awaits_submission`):
/// it was rejected and its frozen money returned, the order it held has ended (a decision on new
/// material could neither resume nor fail it), or the collection it is about was returned.
pub fn closed(t: &TenantState, r: &Replenish) -> Option<String> {
    let id = &r.replenish_id;
    if r.status == ReplenishStatus::Failure && r.frozen.is_some() {
        return Some(format!(
            "request {id} was rejected and its money returned; it is closed"
        ));
    }
    if let Some(why) = held_order_ended(t, r) {
        return Some(format!("request {id} is closed: {why}"));
    }
    let trade_id = r.trade_id.as_deref()?;
    let c = t.whalet.collections.get(trade_id)?;
    (c.status == CollectionStatus::Failure)
        .then(|| format!("request {id} is closed: {}", returned(trade_id)))
}

/// Why the payout/pay request `r` holds for EDD no longer waits for it, if it does not: it is
/// no longer PROCESSING (the EDD's rejection failed it, or it completed).
fn held_order_ended(t: &TenantState, r: &Replenish) -> Option<String> {
    let outflow_id = r.outflow_id.as_deref()?;
    match t.whalet_trade.outflows.get(outflow_id) {
        Some(o) if o.status == OutflowStatus::Processing => None,
        Some(o) => Some(format!(
            "{outflow_id}, the order it held, has ended (status {}); there is nothing left to decide",
            o.reported_status
        )),
        None => Some(format!(
            "{outflow_id}, the order it held, is not a payout or pay of this partner"
        )),
    }
}

/// The collection trade request `r` holds: one still pending (a settled one's amount was
/// frozen instead, and is released or returned by the review itself).
fn held_collection(t: &TenantState, r: &Replenish) -> Option<String> {
    let trade_id = r
        .trade_id
        .as_deref()
        .filter(|_| r.kind == ReplenishKind::Trade)?;
    let c = t.whalet.collections.get(trade_id)?;
    (c.status == CollectionStatus::Pending).then(|| trade_id.to_owned())
}

/// The material types a comma-separated list names, each trimmed, empty items dropped; None
/// when it names none (`""`, `","`, `" , "`): a request for material asks for something.
/// The scenario loader refuses a rule's list that names none with the same reading
/// ([`crate::text::comma_list`]).
pub fn split_types(text: &str) -> Option<Vec<String>> {
    crate::text::comma_list(text)
}

/// The material an EDD asks for when the rule or trigger names none.
pub const EDD_TYPES: &str = "SOURCE_OF_FUNDS,BUSINESS_PROOF";

/// What request `r` decides besides itself (and its own frozen money, which the decision
/// releases or returns).
enum Holds {
    /// An EDD request holding nothing else.
    Nothing,
    /// A confirmed payout/pay held for this EDD: it resumes (approved) or fails (rejected).
    Outflow(String),
    /// A pending collection held for this trade material: it settles (approved) or is
    /// returned to the payer (rejected).
    Pending(String),
    /// A settled collection whose amount this trade material froze: rejected, that amount goes
    /// back to the payer and the collection is returned with it.
    Settled(String),
}

fn holds(t: &TenantState, r: &Replenish) -> Holds {
    if let Some(outflow_id) = &r.outflow_id {
        return Holds::Outflow(outflow_id.clone());
    }
    match (&r.trade_id, r.frozen) {
        (Some(trade_id), Some(_)) if r.kind == ReplenishKind::Trade => {
            Holds::Settled(trade_id.clone())
        }
        _ => held_collection(t, r).map_or(Holds::Nothing, Holds::Pending),
    }
}

/// Why a collection held for request `id` went back to the payer (its `reason`).
fn rejected_material(id: &str) -> String {
    format!("returned to the payer: the trade material of request {id} was rejected")
}

/// Refuses a decision on request `id` that could not take its full effect, before anything
/// changes: a rejection fails the payout held for the EDD, which must still be PROCESSING.
fn check_effect(t: &TenantState, id: &str, held: &Holds, v: &Verdict) -> Result<(), String> {
    let Holds::Outflow(outflow_id) = held else {
        return Ok(());
    };
    if v.success {
        return Ok(());
    }
    let status = t
        .whalet_trade
        .outflows
        .get(outflow_id)
        .map(|o| (o.status, o.reported_status.as_str()));
    match status {
        Some((OutflowStatus::Processing, _)) => Ok(()),
        Some((_, word)) => Err(format!(
            "request {id} cannot be rejected: {outflow_id}, the order it holds, is no longer processing (status {word}), so rejecting the EDD could not fail it"
        )),
        None => Err(format!(
            "request {id} cannot be rejected: {outflow_id}, the order it holds, is not a payout or pay of this partner"
        )),
    }
}

impl Review for ReplenishReview {
    /// Decides the material under review: its frozen money is released (approved) or returned
    /// to the payer (rejected; a settled collection whose amount was frozen is then returned),
    /// and the request keeps the decision's message and time, as its notification says them.
    /// Whatever could refuse is checked first ([`check_effect`]): a refused decision changes
    /// nothing.
    fn settle(t: &mut TenantState, s: Settle<'_>) -> Result<Notice, String> {
        let (id, v) = (s.id, s.v);
        let r = s.find(&t.whalet_trade.replenishes, "a request for material")?;
        let busy = (
            r.status == ReplenishStatus::Processing,
            "has no material under review",
        );
        s.expect(
            &format!("request {id}"),
            busy,
            r.status_text(),
            Some(r.attempt),
        )?;
        let held = holds(t, r);
        if let Err(why) = check_effect(t, id, &held, v) {
            // Under review, yet its decision cannot take effect: not a routine stale decision.
            tracing::warn!(
                request = id,
                why,
                "decision not applied to a request under review"
            );
            return Err(why);
        }
        if let Some((fund, amount)) = r.frozen {
            let frozen = wallet_account(&r.user_id, fund, Bucket::Frozen);
            let (to, memo) = v.pick(
                (
                    wallet_account(&r.user_id, fund, Bucket::Available),
                    "released",
                ),
                (EXTERNAL_BANK.to_owned(), "returned to the payer"),
            );
            t.ledger
                .transfer(
                    s.now,
                    format!("{} review {id} {memo}", r.kind),
                    &frozen,
                    &to,
                    amount,
                )
                .map_err(|e| format!("{id}: {e}"))?;
        }
        if let (Holds::Settled(trade_id), false) = (&held, v.success) {
            CollectionReview::returned_after_settling(t, trade_id, rejected_material(id));
        }
        let r = again(&mut t.whalet_trade.replenishes, id, id)?;
        r.status = v.pick(ReplenishStatus::Success, ReplenishStatus::Failure);
        r.reported_status = review::reported(v, r.status.as_str());
        r.message = v.message("material accepted", "material rejected");
        r.decided_at = Some(s.now);
        let payload = view(r);
        Ok(Notice {
            api_code: notify_names(r.kind).1,
            payload,
        })
    }

    /// What the request held follows its decision ([`Holds`]): a held payout resumes or fails;
    /// a held pending collection settles now or is returned; a settled collection returned by
    /// the rejection ends what depends on it as any returned collection does
    /// ([`CollectionReview::end_dependents`]), each notification after this request's.
    fn after(core: &Core, tenant: &TenantId, id: &str, v: &Verdict) -> Result<(), String> {
        let held = with_tenant(core, tenant, |t| {
            Ok(t.whalet_trade
                .replenishes
                .get(id)
                .map_or(Holds::Nothing, |r| holds(t, r)))
        })?;
        match held {
            Holds::Nothing => Ok(()),
            Holds::Pending(trade_id) => {
                let verdict = Verdict {
                    after: Some(id.to_owned()),
                    ..match v.success {
                        true => Verdict::approve(),
                        false => Verdict::reject(Some(rejected_material(id))),
                    }
                };
                review::decide::<CollectionReview>(core, tenant, &trade_id, None, verdict).map(drop)
            }
            Holds::Settled(trade_id) if !v.success => {
                CollectionReview::end_dependents(core, tenant, &trade_id, id)
            }
            Holds::Settled(_) => Ok(()),
            Holds::Outflow(outflow_id) => {
                resume_or_fail(core, tenant, id, &outflow_id, v);
                Ok(())
            }
        }
    }
}

/// The payout/pay held for EDD `id` resumes (approved: it ends as the rule that held it said,
/// after its delay, [`outflow::after_edd`]; without one, it succeeds after the usual delay) or
/// fails now (rejected; [`check_effect`] made sure it is still processing).
fn resume_or_fail(core: &Core, tenant: &TenantId, id: &str, outflow_id: &str, v: &Verdict) {
    if v.success {
        let held = with_tenant(core, tenant, |t| {
            Ok(t.whalet_trade
                .outflows
                .get(outflow_id)
                .map(outflow::after_edd))
        });
        let (delay, verdict) = match held {
            Ok(Some(end)) => end,
            Ok(None) | Err(_) => (outflow::DEFAULT_DELAY_MS, Verdict::approve()),
        };
        let verdict = Verdict {
            after: Some(id.to_owned()),
            ..verdict
        };
        schedule(
            core,
            tenant,
            delay,
            ("outflow after EDD", outflow_id, 1),
            verdict,
            crate::api::whalet::common::OUTFLOW,
        );
        return;
    }
    let verdict = Verdict {
        notify: NotifyBehaviour::default(),
        after: Some(id.to_owned()),
        ..Verdict::reject(Some(format!("EDD {id} rejected")))
    };
    if let Err(e) = outflow::complete(core, tenant, outflow_id, None, verdict) {
        tracing::warn!(replenish = id, outflow = outflow_id, "{e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::whalet::common::testing::TestBed;

    /// A list of material types names each type once trimmed; one that names none is no list.
    #[test]
    fn a_type_list_naming_none_is_none() {
        assert_eq!(
            split_types(" A ,, B ,"),
            Some(vec!["A".to_owned(), "B".to_owned()])
        );
        for empty in ["", ",", " , ", " ", ",,"] {
            assert_eq!(split_types(empty), None, "{empty:?}");
        }
    }

    /// Regression: a rule `values = { edd = "Y", materialTypes = "" }` (or `","`) held the order
    /// for an EDD asking for no material at all. A list naming none asks for the default
    /// material, as one left out does; a number is taken as its text.
    #[test]
    fn an_edd_holding_an_order_asks_for_material() {
        let bed = TestBed::new();
        bed.seed(Some("USD"));
        let asked = |values: Value| {
            let values = values.as_object().cloned().unwrap_or_default();
            bed.core
                .with_tenant(&bed.tenant, |t| {
                    let (_, _, payload) = hold_outflow(t, "U1", "PO1", &values, 0).unwrap();
                    payload["materialTypes"].clone()
                })
                .ok()
                .unwrap()
        };
        let default = json!(["SOURCE_OF_FUNDS", "BUSINESS_PROOF"]);
        assert_eq!(asked(json!({})), default);
        for none in ["", ",", " , "] {
            assert_eq!(asked(json!({"materialTypes": none})), default, "{none:?}");
        }
        assert_eq!(asked(json!({"materialTypes": "A, B"})), json!(["A", "B"]));
        assert_eq!(asked(json!({"materialTypes": 7})), json!(["7"]));
    }

    /// A rejection that could not fail the payout its EDD holds (here there is no such payout)
    /// is refused before anything changes: the request stays under review, nothing is sent,
    /// and a warning says why (a scheduled decision's refusal was once dropped without a word
    /// at the default log level; a routine stale decision stays at debug).
    #[tokio::test]
    async fn a_refused_decision_changes_nothing() {
        let (logs, _logging) = crate::test_logs::capture(tracing::Level::WARN);
        let bed = TestBed::new();
        bed.seed(Some("USD"));
        let id = bed
            .core
            .with_tenant(&bed.tenant, |t| {
                let (id, _, _) = hold_outflow(t, "U1", "PO404", &Default::default(), 0).unwrap();
                let r = t.whalet_trade.replenishes.get_mut(&id).unwrap();
                r.status = ReplenishStatus::Processing;
                r.attempt = 1;
                id
            })
            .ok()
            .unwrap();
        let err = review::decide::<ReplenishReview>(
            &bed.core,
            &bed.tenant,
            &id,
            None,
            Verdict::reject(None),
        )
        .unwrap_err();
        assert!(err.contains("PO404"), "{err}");
        let (status, decided) = bed
            .core
            .with_tenant(&bed.tenant, |t| {
                let r = &t.whalet_trade.replenishes[&id];
                (r.status, r.decided_at)
            })
            .ok()
            .unwrap();
        assert_eq!((status, decided), (ReplenishStatus::Processing, None));
        assert!(bed.sent("eddReplenishResultNotify").is_empty());
        let logged = logs.text();
        assert!(
            logged.contains("WARN")
                && logged.contains("decision not applied to a request under review")
                && logged.contains("PO404"),
            "{logged}"
        );
    }
}
