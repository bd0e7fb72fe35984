//! From a complete upload to a processed one: an upload becomes PROCESSING at once, and after a
//! virtual delay (`[infinia] trade_details_processing_seconds`, or the scenario's `delay` for
//! operation `trade-details/upload`) its rows are validated and applied; bad rows go to the
//! upload's own error file ([`error_file_path`]; within the app's file and byte quotas; when it
//! does not fit it is not kept and the upload's reason says so). The error file an earlier upload
//! of the name left is dropped when the name is processed again, whether or not the new one has
//! errors. A file open for writing again when its time comes is not processed (its close
//! records it anew). A scenario `result = "failure"` or a forced `code` fails the whole file;
//! the deciding rule is named in the journal. A partner's trade materials file (whalet-platform)
//! is processed at once, and the rules on operation `tradeMaterialsUpload` decide it the same way.

use std::collections::BTreeMap;

use serde_json::json;

use super::fs::{Area, ERROR_DIR, UPLOAD_DIR};
use super::trade_details;
use crate::clock::Millis;
use crate::core::Core;
use crate::scenario::OperationCtx;
use crate::store::infinia::{StoredFile, Upload, UploadStatus};
use crate::tenant::TenantId;

/// Scenario operation name of trade-details processing.
pub const OPERATION: &str = crate::api::infinia::SFTP_UPLOAD;

pub use super::paths::{error_file_path, report_path};

/// `/upload/{name}` is complete: the scenario rules decide it; an Infinia file is recorded
/// PROCESSING and its processing scheduled; a whalet-platform file is processed at once
/// ([`platform_complete`]). One unit of work (`crate::cut`): a snapshot holds the PROCESSING
/// record with its timer, or neither. A whalet-platform file's rows are read before, outside the
/// unit of work and the partner's lock ([`super::materials::read`]): a snapshot need not wait
/// for a large file to be read.
pub fn upload_complete(core: &Core, tenant: &TenantId, area: Area, name: &str) {
    let read = match area {
        Area::Platform => super::materials::read(core, tenant, name),
        Area::Infinia => None,
    };
    core.clock()
        .cut()
        .work(|| complete(core, tenant, area, name, read))
}

fn complete(
    core: &Core,
    tenant: &TenantId,
    area: Area,
    name: &str,
    read: Option<super::materials::Read>,
) {
    let (surface, operation) = area_operation(area);
    let decision = core.scenarios().decide(OperationCtx {
        surface,
        tenant,
        operation,
        fields: &json!({ "fileName": name }),
    });
    if area == Area::Platform {
        return platform_complete(core, tenant, (name, read), &decision);
    }
    let now = core.clock().now();
    let generation = core.with_tenant(tenant, |t| {
        let generation = t.next_seq();
        let mut upload = Upload::received(name, UploadStatus::Processing, now, generation, None);
        upload.error_file = Upload::report_left((&t.infinia.uploads, &t.infinia.files), name);
        t.infinia.uploads.insert(name.to_owned(), upload);
        generation
    });
    let Ok(generation) = generation else {
        return;
    };
    let rule = decision.rule.as_deref();
    journal(
        core,
        (tenant, Area::Infinia, rule),
        name,
        "PROCESSING",
        "upload complete; processing",
    );
    let default_ms = i64::try_from(
        core.infinia()
            .apps
            .config
            .trade_details_processing_seconds
            .saturating_mul(1000),
    )
    .unwrap_or(i64::MAX);
    let failure = scenario_failure(&decision, Area::Infinia);
    core.schedule_timer_in(
        &PROCESS_FILE,
        decision.delay_or(default_ms),
        crate::core::timers::Pending {
            label: format!("{tenant}/trade-details:{name}"),
            tenant: Some(tenant),
            key: name,
            params: serde_json::json!({
                "generation": generation,
                "failure": failure,
                "rule": decision.rule,
            }),
        },
    );
}

/// A partner's trade materials file is complete: processed at once
/// ([`super::materials::process`]), unless the scenario rule that decided it fails it
/// ([`scenario_failure`], as it fails an Infinia file): the file is then not processed, stores
/// nothing, and ends FAILED with the rule's reason in the upload and in its result report's one
/// line. Either way the journal names the deciding rule.
fn platform_complete(
    core: &Core,
    tenant: &TenantId,
    (name, read): (&str, Option<super::materials::Read>),
    decision: &crate::scenario::Decision,
) {
    let rule = decision.rule.as_deref();
    let Some(reason) = scenario_failure(decision, Area::Platform) else {
        return super::materials::process(core, tenant, name, rule, read);
    };
    // A rule's forced code counts as the API's answer with that code would.
    if let Some(code) = decision.sync.as_ref().and_then(|s| s.code.as_deref()) {
        count_platform(core, tenant, code);
    }
    let now = core.clock().now();
    let sftp = &core.infinia().apps.config;
    let quotas = (sftp.sftp_max_files, sftp.sftp_max_bytes);
    let _gone = core.with_tenant(tenant, |t| {
        let refused = super::materials::Checked {
            rows: Vec::new(),
            accepted: BTreeMap::new(),
            reason: Some(reason),
        };
        let path = super::materials::result_file_path(name);
        let report = refused.report_csv();
        let kept = keep_output(&mut t.platform.files, &path, report, now, quotas);
        let mut reason = refused.reason.unwrap_or_default();
        if let Err(note) = &kept {
            reason = format!("{reason}; {note}");
        }
        journal(
            core,
            (tenant, Area::Platform, rule),
            name,
            "FAILED",
            &reason,
        );
        let generation = t.next_seq();
        let status = UploadStatus::Failed;
        let mut upload = Upload::received(name, status, now, generation, Some(reason));
        upload.processed_at = Some(now);
        upload.error_file = kept.ok().map(|()| path);
        t.platform.uploads.insert(name.to_owned(), upload);
    });
}

/// Why a scenario rule fails the whole file of `area`, if it does: `result = "failure"` (its
/// `reason`), or a sync `code` (the file is not processed: it fails with the code and the rule's
/// `detail`, as an API operation answers with them and does not execute).
fn scenario_failure(decision: &crate::scenario::Decision, area: Area) -> Option<String> {
    let by = match area {
        Area::Infinia => "Infinia Pay",
        Area::Platform => "whalet-platform",
    };
    if let Some(code) = decision.sync.as_ref().and_then(|s| s.code.as_deref()) {
        let detail = decision.sync.as_ref().and_then(|s| s.detail.as_deref());
        return Some(match detail {
            Some(detail) => format!("{code}: {detail}"),
            None => format!("{code}: the file was rejected by {by} (scenario rule)"),
        });
    }
    (!decision.succeeds()).then(|| {
        decision.reason().map_or_else(
            || format!("the file was rejected by {by} (scenario)"),
            str::to_owned,
        )
    })
}

/// What the processing timer of one upload carries: which upload (`generation`), a scenario's
/// verdict, and the deciding rule's name (for the journal).
pub struct Pending {
    pub generation: u64,
    pub failure: Option<String>,
    pub rule: Option<String>,
}

/// Validates and applies the file. Nothing happens when the upload was replaced by a newer one
/// of the name, or when its file is open for writing again: its processing is then the close's
/// (which records the name anew), never the half-written file's.
///
/// Reading a file of up to `[infinia] sftp_max_file_bytes` takes seconds, so it holds neither
/// an async worker nor the app's lock (a file's rows once stopped the whole server: no request,
/// page or `GET /__sim/health` was answered meanwhile): the file's bytes are taken under the
/// lock, read and checked cell by cell on the blocking pool ([`trade_details::parse`], through
/// [`crate::core::cpu::CpuGate::background`]), and the lock is taken again to check the rows
/// against the app's state and keep them ([`trade_details::Parsed::apply`]), if the upload is
/// still this one ([`settle`]). An app's files take their turn one at a time, in the order
/// their timers fell due, so they apply in that order as before. The timer's record stays
/// until the upload is settled: a process killed meanwhile processes the file on restart.
pub async fn process(core: &Core, tenant: &TenantId, name: &str, pending: Pending) {
    let _turn = core.cpu().turn(&tenant.to_string()).await;
    let Some(taken) = take_file(core, tenant, name, pending.generation) else {
        return;
    };
    let read = match (taken, pending.failure.clone()) {
        (_, Some(reason)) => Read::Failed(reason),
        (None, None) => Read::Failed("the file was removed before it was processed".into()),
        (Some(bytes), None) => {
            let parsed = core
                .cpu()
                .background(move || (trade_details::parse(&bytes), bytes))
                .await;
            let Some((parsed, bytes)) = parsed else {
                return; // the runtime is stopping: nothing was read, nothing changes
            };
            Read::Parsed(parsed, bytes)
        }
    };
    // Checking the rows against the state and keeping them still takes a while for a large
    // file (about 2 s for 130,000 rows in a debug build): not on the async worker either.
    crate::core::cpu::off_worker(|| settle(core, tenant, name, pending, read));
}

/// What [`process`] read of an upload: the whole file failed (a scenario, the file removed), or
/// its rows as parsed and the bytes they were parsed from.
enum Read {
    Failed(String),
    Parsed(trade_details::Parsed, Vec<u8>),
}

/// Whether upload `name` of `generation` is to be processed (still PROCESSING, the latest of its
/// name, its file not open for writing): `Some` with its file's bytes (`None` when the file is
/// gone), or `None` to do nothing.
fn take_file(
    core: &Core,
    tenant: &TenantId,
    name: &str,
    generation: u64,
) -> Option<Option<Vec<u8>>> {
    core.with_tenant(tenant, |t| {
        let s = &t.infinia;
        if !is_current(s, name, generation) {
            return None;
        }
        let file = s.files.get(&format!("{UPLOAD_DIR}/{name}"));
        Some(file.map(|f| f.data.clone()))
    })
    .ok()
    .flatten()
}

/// Whether upload `name` of `generation` is still to be processed: PROCESSING, not replaced by a
/// newer upload of the name, and its file not open for writing again.
fn is_current(s: &crate::store::infinia::InfiniaState, name: &str, generation: u64) -> bool {
    let own = matches!(
        s.uploads.get(name),
        Some(u) if u.generation == generation && u.status == UploadStatus::Processing
    );
    let writing = s
        .files
        .get(&format!("{UPLOAD_DIR}/{name}"))
        .is_some_and(|f| f.writing);
    own && !writing
}

/// Ends upload `name` with what [`process`] read, under the app's lock: the rows checked against
/// the state and kept, the error file written, the upload's outcome recorded and journaled.
/// Nothing happens when the upload changed while the file was read ([`is_current`]), or its
/// file now holds other bytes than those read (state imported meanwhile, with the timer that
/// processes it).
fn settle(core: &Core, tenant: &TenantId, name: &str, pending: Pending, read: Read) {
    let Pending {
        generation, rule, ..
    } = pending;
    let now = core.clock().now();
    let config = &core.infinia().apps.config;
    let (max_files, max_bytes) = (config.sftp_max_files, config.sftp_max_bytes);
    let max_error_rows = config.sftp_max_error_rows;
    let _gone = core.with_tenant(tenant, |t| {
        let s = &mut t.infinia;
        if !is_current(s, name, generation) {
            return;
        }
        let outcome = match read {
            Read::Failed(reason) => trade_details::Outcome::failed(reason),
            Read::Parsed(parsed, bytes) => {
                let file = s.files.get(&format!("{UPLOAD_DIR}/{name}"));
                if file.is_some_and(|f| f.data != bytes) {
                    return;
                }
                let limits = trade_details::Limits {
                    max_error_rows,
                    max_trades: config.max_trades,
                };
                parsed.apply(s, name, limits)
            }
        };
        let mut reason = outcome.reason.clone();
        let mut error_file = None;
        let path = error_file_path(name);
        if outcome.errors.is_empty() {
            // An earlier upload of the name left it; it would list errors this one does not have.
            s.files.remove(&path);
        } else {
            let data = outcome.error_csv();
            match keep_output(&mut s.files, &path, data, now, (max_files, max_bytes)) {
                Err(note) => {
                    reason = Some(match reason {
                        Some(r) => format!("{r}; {note}"),
                        None => note,
                    });
                }
                Ok(()) => error_file = Some(path),
            }
        }
        let detail = format!(
            "{} rows: {} accepted, {} failed",
            outcome.total_rows, outcome.success_rows, outcome.failed_rows
        );
        let code = serde_json::to_value(outcome.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        journal(
            core,
            (tenant, Area::Infinia, rule.as_deref()),
            name,
            &code,
            reason.as_deref().unwrap_or(&detail),
        );
        if let Some(u) = s.uploads.get_mut(name) {
            u.status = outcome.status;
            u.processed_at = Some(now);
            u.total_rows = outcome.total_rows;
            u.success_rows = outcome.success_rows;
            u.failed_rows = outcome.failed_rows;
            u.error_file = error_file;
            u.reason = reason;
        }
    });
}

/// Stores a report the simulator writes (`data` at `path`) within the account's file and byte
/// quotas (`[infinia] sftp_max_files`, `sftp_max_bytes`: it counts like an upload, else
/// renaming an upload again and again would pile reports up without bound). The report it
/// replaces goes first, kept or not: it was about an earlier upload of the name. `Err` says
/// why it was not kept.
pub fn keep_output(
    files: &mut BTreeMap<String, StoredFile>,
    path: &str,
    mut data: Vec<u8>,
    now: Millis,
    (max_files, max_bytes): (usize, usize),
) -> Result<(), String> {
    // A handle still open on the report it replaces finds that one gone, as after a removal
    // over SFTP, rather than read on into this one: another file (docs/INFINIA.md).
    files.remove(path);
    data.shrink_to_fit(); // held until removed: no spare capacity against the quota
    let others = super::fs::bytes_held(files);
    let refused = if files.len() >= max_files {
        Some(format!(
            "the account already has {} files ([infinia] sftp_max_files)",
            files.len()
        ))
    } else if others.saturating_add(data.len()) > max_bytes {
        Some(format!(
            "its {} bytes would take the account's files over {max_bytes} bytes ([infinia] sftp_max_bytes)",
            data.len()
        ))
    } else {
        None
    };
    if let Some(why) = refused {
        return Err(format!(
            "the {} file was not kept: {why}; remove files or reset the account",
            if path.starts_with(ERROR_DIR) {
                "error"
            } else {
                "result"
            }
        ));
    }
    files.insert(
        path.to_owned(),
        StoredFile {
            size: data.len() as u64,
            data,
            modified_at: now,
            writing: false,
            ..Default::default()
        },
    );
    Ok(())
}

/// `/upload/{name}` of an app was renamed to `to`: an upload of the name still PROCESSING fails
/// at once, since its file is no longer there to process (its timer then finds the upload
/// settled). Without this, an upload whose timer found the file open for writing again, and
/// which was then renamed, would stay PROCESSING for good.
pub fn renamed_away(core: &Core, tenant: &TenantId, name: &str, to: &str) {
    let now = core.clock().now();
    let _gone = core.with_tenant(tenant, |t| {
        let Some(upload) = t.infinia.uploads.get_mut(name) else {
            return;
        };
        if upload.status != UploadStatus::Processing {
            return;
        }
        let reason = format!(
            "the file was renamed to {} before it was processed",
            crate::text::echo(to)
        );
        journal(core, (tenant, Area::Infinia, None), name, "FAILED", &reason);
        upload.status = UploadStatus::Failed;
        upload.processed_at = Some(now);
        upload.reason = Some(reason);
    });
}

/// The session ended with `path` still open for writing: the partial file is not processed.
/// `closed_why` is the server's reason when the server closed the connection (the idle
/// timeout, a shutdown), None when the client ended it.
pub fn upload_interrupted(
    core: &Core,
    tenant: &TenantId,
    area: Area,
    path: &str,
    closed_why: Option<&str>,
) {
    let Some(why) = closed_why else {
        return upload_abandoned(
            core,
            (tenant, area),
            path,
            "the SFTP session ended with the file still open",
            "the SFTP session ended before the file was closed; the partial file was not processed — upload it again",
        );
    };
    upload_abandoned(
        core,
        (tenant, area),
        path,
        &format!("the server closed the SFTP connection with the file still open: {why}"),
        &format!(
            "the server closed the SFTP connection before the file was closed ({why}); the \
             partial file was not processed — upload it again"
        ),
    );
}

/// `path` was closed after a refused write: what was stored is not the whole file, so it is
/// recorded INCOMPLETE with `why` instead of being processed.
pub fn upload_broken(core: &Core, tenant: &TenantId, area: Area, path: &str, why: &str) {
    let reason = format!(
        "a write was refused ({}); the partial file was not processed — upload it again",
        crate::text::message(why)
    );
    upload_abandoned(core, (tenant, area), path, why, &reason);
}

fn upload_abandoned(
    core: &Core,
    (tenant, area): (&TenantId, Area),
    path: &str,
    detail: &str,
    reason: &str,
) {
    let now = core.clock().now();
    let _gone = core.with_tenant(tenant, |t| {
        let Some(name) = path.strip_prefix(&format!("{UPLOAD_DIR}/")) else {
            return;
        };
        if super::fs::in_progress(name) {
            return;
        }
        journal(core, (tenant, area, None), name, "INCOMPLETE", detail);
        let generation = t.next_seq();
        let account = match area {
            Area::Infinia => (&mut t.infinia.uploads, &t.infinia.files),
            Area::Platform => (&mut t.platform.uploads, &t.platform.files),
        };
        Upload::end_incomplete(account, name, (now, generation), reason.into());
    });
}

/// The surface and operation an area's uploads are journaled under and decided by the
/// scenario rules as: `infinia` `trade-details/upload`, `platform` `tradeMaterialsUpload`.
fn area_operation(area: Area) -> (&'static str, &'static str) {
    match area {
        Area::Infinia => ("infinia", OPERATION),
        Area::Platform => ("platform", super::materials::OPERATION),
    }
}

/// Records an SFTP event in the request journal, so uploads show up beside the API calls:
/// `surface=infinia`, operation `trade-details/upload` for an app; `surface=platform`,
/// operation `tradeMaterialsUpload` for a partner; `rule`, the scenario rule that decided it.
pub(super) fn journal(
    core: &Core,
    (tenant, area, rule): (&TenantId, Area, Option<&str>),
    name: &str,
    code: &str,
    detail: &str,
) {
    let (surface, operation) = area_operation(area);
    if area == Area::Platform {
        count_platform(core, tenant, code);
    }
    let mut entry = crate::journal::JournalEntry::event(
        (surface, &tenant.to_string(), operation),
        core.clock().now(),
        (code, detail),
        json!({ "fileName": name }),
    );
    entry.rule = rule.map(str::to_owned);
    core.journal().record(entry);
}

/// Counts a partner's SFTP trade materials upload for coverage (docs/COVERAGE.md) as an API
/// request of `tradeMaterialsUpload` answered `code` is counted: a file processed with every row
/// accepted (`SUCCESS`) counts as the operation's `SUCCESS`, a scenario rule's forced code as
/// that code; an outcome the API has no code for (`PARTIALLY_FAILED`, `FAILED`, `INCOMPLETE`)
/// is no item and counts nothing.
fn count_platform(core: &Core, tenant: &TenantId, code: &str) {
    let (surface, operation) = area_operation(Area::Platform);
    let coverage = core.surface::<crate::coverage::Coverage>();
    coverage.request(surface, Some(tenant), operation, code);
}

crate::core::timers::timer_kind! {
    /// An uploaded trade-details file's processing (key: the file name).
    pub PROCESS_FILE = "infinia.sftp.process",
    |core, tenant, key, generation: u64 = "generation", failure: Option<String> = "failure",
        rule: Option<String> = "rule"| {
        process(&core, &tenant, &key, Pending { generation, failure, rule }).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: `c.csv`, `c.CSV` and `c` shared one report; each name has its own now, and a
    /// name without the `.csv` ending can never take a `.csv` name's.
    #[test]
    fn every_upload_name_has_its_own_report() {
        let names = [
            "c.csv",
            "c.CSV",
            "c",
            "c.csv.csv",
            "c_error_file",
            "é.csv",
            "csv",
        ];
        let paths: Vec<String> = names.iter().map(|n| error_file_path(n)).collect();
        assert_eq!(
            paths[..3],
            [
                "/error/c_error_file.csv",
                "/error/c_error_file.CSV",
                "/error/c.error_file.csv"
            ]
        );
        assert_eq!(
            report_path("/result", "m", "result"),
            "/result/m.result.csv"
        );
        assert_eq!(
            report_path("/result", "m.csv", "result"),
            "/result/m_result.csv"
        );
        let mut unique = paths.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), paths.len(), "{paths:?}");
    }
}
