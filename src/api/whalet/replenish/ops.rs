//! The partner's side of requests for material: `eddReplenishQuery` (the user's EDD requests),
//! `eddReplenishSubmit` (`{userId, replenishId, fileIds[], memo}`) and `tradeReplenishSubmit`
//! (`{userId, tradeId, attaches[], memo}`). Every file must have been uploaded by this partner.
//! A submission is reviewed (30 s by default; scenario rules on the submit apiCode decide); a
//! rejected request may be submitted again unless it is closed (its frozen money or its
//! collection went back to the payer, or the payout/pay it held for EDD has ended).

use serde_json::Value;

use super::core::{closed, view};
use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::kinds::ReplenishReview;
use crate::api::whalet::common::review;
use crate::api::whalet::common::{again, failure, user_rows};
use crate::api::whalet::{Ctx, Reply};
use crate::store::whalet::FileRef;
use crate::store::whalet_trade::{Replenish, ReplenishKind, ReplenishStatus};
use crate::store::TenantState;
use crate::wire::whalet::{json_type, WhaletError};

pub fn edd_query(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let id = c.opt("replenishId");
    let status = c
        .one_of(
            "status",
            &["WAIT_SUBMIT", "PROCESSING", "SUCCESS", "FAILURE"],
            false,
        )
        .and_then(ReplenishStatus::parse);
    c.finish()?;
    user_rows(ctx, user_id, |t| {
        t.whalet_trade
            .replenishes
            .values()
            .filter(|r| r.kind == ReplenishKind::Edd && r.user_id == user_id)
            .filter(|r| id.is_none_or(|i| r.replenish_id == i))
            .filter(|r| status.is_none_or(|s| r.status == s))
            .map(view)
            .collect()
    })
}

/// `fileIds` as a list of ids.
fn file_ids(c: &mut Check<'_>, body: &Value) -> Vec<FileRef> {
    crate::api::describe::record("fileIds", "fileIds", true, &[]);
    match body.get("fileIds") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v.as_str().filter(|s| !s.is_empty()) {
                Some(id) => Some(FileRef {
                    file_id: id.to_owned(),
                    file_name: String::new(),
                    file_url: String::new(),
                }),
                None => {
                    c.problem(format!("fileIds[{i}] must be a fileId string"));
                    None
                }
            })
            .collect(),
        None | Some(Value::Null) => {
            c.problem("fileIds is required (ids from POST /file/upload)");
            Vec::new()
        }
        Some(Value::Array(_)) => {
            c.problem("fileIds must list at least one fileId");
            Vec::new()
        }
        Some(other) => {
            c.problem(format!(
                "fileIds must be an array, got {}",
                json_type(other)
            ));
            Vec::new()
        }
    }
}

pub fn edd_submit(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let id = c.id("replenishId");
    let files = file_ids(&mut c, body);
    let memo = c.opt("memo").unwrap_or("");
    c.finish()?;
    submit(ctx, user_id, Target::Edd(id), "fileIds", &files, memo)
}

pub fn trade_submit(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let trade_id = c.id("tradeId");
    let files = c.files("attaches");
    let memo = c.opt("memo");
    crate::api::describe::record_either("attaches", "memo");
    if ["attaches", "memo"].iter().all(|f| left_out(body.get(f))) {
        c.problem(
            "attaches (uploaded files [{fileId, fileName, fileUrl}], ids from POST /file/upload) \
             or memo is required",
        );
    }
    let memo = memo.unwrap_or("");
    c.finish()?;
    submit(
        ctx,
        user_id,
        Target::Trade(trade_id),
        "attaches",
        &files,
        memo,
    )
}

/// A field the partner left out: absent, null, an empty array or a blank string. A field given
/// in another shape is not left out; its reader names what is wrong with it.
fn left_out(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    }
}

/// The request a submission names: an EDD request by its `replenishId`, trade material by the
/// `tradeId` of the collection it is about.
#[derive(Debug, Clone, Copy)]
enum Target<'a> {
    Edd(&'a str),
    Trade(&'a str),
}

/// The request of `user_id` that `target` names, or why there is none: an EDD request by its id,
/// trade material by the latest request about the collection (a new one is asked only once the
/// one before is decided), whatever its status, so that [`submit`] says alike for both why one
/// under review, decided or closed takes nothing now. An id of the other kind
/// of request (a trade request's `replenishId` given to `eddReplenishSubmit`, a `replenishId`
/// given as `tradeId`) is told apart from an id the user has no request under, and the refusal
/// names the operation and the id to use.
fn find<'t>(
    t: &'t TenantState,
    user_id: &str,
    target: Target<'_>,
) -> Result<&'t Replenish, String> {
    let mine = |r: &&Replenish| r.user_id == user_id;
    let by_id = |id: &str| {
        t.whalet_trade
            .replenishes
            .values()
            .filter(mine)
            .find(|r| r.replenish_id == id)
    };
    // How to name the collection a trade request is about (it always has one).
    let collection = |r: &Replenish| {
        r.trade_id
            .as_deref()
            .map_or("the tradeId of its collection".to_owned(), |id| {
                format!("tradeId {id:?}")
            })
    };
    let nothing = |what: String| {
        format!("{what}: user {user_id} has no request for material waiting for a submission")
    };
    match target {
        Target::Edd(id) => match by_id(id) {
            Some(r) if r.kind == ReplenishKind::Edd => Ok(r),
            Some(r) => Err(format!(
                "replenishId {id:?} is a request for trade material, not an EDD request: \
                 submit its material with tradeReplenishSubmit (userId, {}, attaches)",
                collection(r)
            )),
            None => Err(nothing(format!("replenishId {id:?}"))),
        },
        Target::Trade(trade_id) => {
            let latest = t
                .whalet_trade
                .replenishes
                .values()
                .filter(mine)
                .filter(|r| {
                    r.kind == ReplenishKind::Trade && r.trade_id.as_deref() == Some(trade_id)
                })
                .max_by_key(|r| (r.requested_at, r.replenish_id.as_str()));
            match (latest, by_id(trade_id)) {
                (Some(r), _) => Ok(r),
                (None, Some(r)) if r.kind == ReplenishKind::Edd => Err(format!(
                    "tradeId {trade_id:?} is the replenishId of an EDD request, not a \
                     collection: submit its material with eddReplenishSubmit (userId, \
                     replenishId {trade_id:?}, fileIds)"
                )),
                (None, Some(r)) => Err(format!(
                    "tradeId {trade_id:?} is the replenishId of a request for trade material, \
                     not a collection: give the collection's id instead ({})",
                    collection(r)
                )),
                (None, None) => Err(nothing(format!("tradeId {trade_id:?}"))),
            }
        }
    }
}

fn submit(
    ctx: &Ctx<'_>,
    user_id: &str,
    target: Target<'_>,
    field: &str,
    files: &[FileRef],
    memo: &str,
) -> Result<Reply, WhaletError> {
    let now = ctx.now();
    let (id, attempt, v) = ctx.with_state(|t| {
        t.whalet.user(user_id)?;
        let resolved = t
            .whalet_trade
            .resolve_files(field, files)
            .map_err(failure)?;
        let r = find(t, user_id, target).map_err(failure)?;
        if !r.status.awaits_submission() {
            return Err(failure(format!(
                "request {} is {}; nothing to submit now",
                r.replenish_id,
                r.status_text()
            )));
        }
        if let Some(why) = closed(t, r) {
            return Err(failure(why));
        }
        let id = r.replenish_id.clone();
        let r = again(&mut t.whalet_trade.replenishes, &id, &id).map_err(failure)?;
        r.status = ReplenishStatus::Processing;
        r.reported_status.clear();
        r.files = resolved;
        r.memo = memo.to_owned();
        r.attempt += 1;
        r.submitted_at = Some(now);
        // Under review again: an earlier decision no longer stands.
        r.decided_at = None;
        Ok((r.replenish_id.clone(), r.attempt, view(r)))
    })??;
    review::begin::<ReplenishReview>(ctx, &id, attempt);
    Ok(Reply::processing(v))
}
