//! From a complete upload to a processed one: an upload becomes PROCESSING at once, and after a
//! virtual delay (`[infinia] trade_details_processing_seconds`, or the scenario's `delay` for
//! operation `trade-details/upload`) its rows are validated and applied; bad rows go to
//! `/error/{stem}_error_file.csv` (within the app's file and byte quotas; when it does not fit
//! it is not kept and the upload's reason says so). The error file an earlier upload of the name
//! left is dropped when the name is processed again, whether or not the new one has errors. A
//! scenario `result = "failure"` fails the whole file.

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
pub const OPERATION: &str = "trade-details/upload";

/// An uploaded file's name without its `.csv` (or `.CSV`) ending.
pub fn csv_stem(name: &str) -> &str {
    name.strip_suffix(".csv")
        .or_else(|| name.strip_suffix(".CSV"))
        .unwrap_or(name)
}

/// The error file's SFTP path for an uploaded file name.
pub fn error_file_path(name: &str) -> String {
    format!("{ERROR_DIR}/{}_error_file.csv", csv_stem(name))
}

/// A file just received, not processed yet.
pub(super) fn received(
    name: &str,
    status: UploadStatus,
    now: Millis,
    generation: u64,
    reason: Option<String>,
) -> Upload {
    Upload {
        file_name: name.to_owned(),
        status,
        received_at: now,
        processed_at: None,
        total_rows: 0,
        success_rows: 0,
        failed_rows: 0,
        error_file: None,
        reason,
        generation,
    }
}

/// `/upload/{name}` is complete: an Infinia file is recorded PROCESSING and its processing
/// scheduled; a whalet-platform file is processed at once (`sftp::materials`). One unit of work
/// (`crate::cut`): a snapshot holds the PROCESSING record with its timer, or neither.
pub fn upload_complete(core: &Core, tenant: &TenantId, area: Area, name: &str) {
    core.clock()
        .cut()
        .work(|| complete(core, tenant, area, name))
}

fn complete(core: &Core, tenant: &TenantId, area: Area, name: &str) {
    if area == Area::Platform {
        return super::materials::process(core, tenant, name);
    }
    let decision = core.scenarios().decide(OperationCtx {
        surface: "infinia",
        tenant,
        operation: OPERATION,
        fields: &json!({ "fileName": name }),
    });
    let now = core.clock().now();
    let generation = core.with_tenant(tenant, |t| {
        let generation = t.next_seq();
        let upload = received(name, UploadStatus::Processing, now, generation, None);
        t.infinia.uploads.insert(name.to_owned(), upload);
        generation
    });
    let Ok(generation) = generation else {
        return;
    };
    journal(
        core,
        (tenant, Area::Infinia),
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
    let failure = (!decision.succeeds()).then(|| {
        decision
            .reason()
            .unwrap_or("the file was rejected by Infinia Pay (scenario)")
            .to_owned()
    });
    core.schedule_timer_in(
        &PROCESS_FILE,
        decision.delay_or(default_ms),
        crate::core::timers::Pending {
            label: format!("{tenant}/trade-details:{name}"),
            tenant: Some(tenant),
            key: name,
            params: serde_json::json!({"generation": generation, "failure": failure}),
        },
    );
}

/// Validates and applies the file (under the app's lock).
pub fn process(
    core: &Core,
    tenant: &TenantId,
    name: &str,
    generation: u64,
    failure: Option<String>,
) {
    let now = core.clock().now();
    let config = &core.infinia().apps.config;
    let (max_files, max_bytes) = (config.sftp_max_files, config.sftp_max_bytes);
    let max_error_rows = config.sftp_max_error_rows;
    let _gone = core.with_tenant(tenant, |t| {
        let s = &mut t.infinia;
        match s.uploads.get(name) {
            Some(u) if u.generation == generation && u.status == UploadStatus::Processing => {}
            _ => return, // replaced by a newer upload of the same name
        }
        let bytes = s
            .files
            .get(&format!("{UPLOAD_DIR}/{name}"))
            .map(|f| f.data.clone());
        let outcome = match (bytes, failure) {
            (_, Some(reason)) => trade_details::Outcome::failed(reason),
            (None, None) => trade_details::Outcome::failed(
                "the file was removed before it was processed".into(),
            ),
            (Some(bytes), None) => trade_details::apply(s, name, &bytes, max_error_rows),
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
            (tenant, Area::Infinia),
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
    data.shrink_to_fit(); // held until removed: no spare capacity against the quota
    files.remove(path);
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
        },
    );
    Ok(())
}

/// The session ended with `path` still open for writing: the partial file is not processed.
pub fn upload_interrupted(core: &Core, tenant: &TenantId, area: Area, path: &str) {
    upload_abandoned(
        core,
        (tenant, area),
        path,
        "the SFTP session ended with the file still open",
        "the SFTP session ended before the file was closed; the partial file was not processed — upload it again",
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
        journal(core, (tenant, area), name, "INCOMPLETE", detail);
        let generation = t.next_seq();
        let upload = received(
            name,
            UploadStatus::Incomplete,
            now,
            generation,
            Some(reason.into()),
        );
        area.uploads(t).insert(name.to_owned(), upload);
    });
}

/// Records an SFTP event in the request journal, so uploads show up beside the API calls:
/// `surface=infinia`, operation `trade-details/upload` for an app; `surface=platform`,
/// operation `tradeMaterialsUpload` for a partner.
pub(super) fn journal(
    core: &Core,
    (tenant, area): (&TenantId, Area),
    name: &str,
    code: &str,
    detail: &str,
) {
    let (surface, operation) = match area {
        Area::Infinia => ("infinia", OPERATION),
        Area::Platform => ("platform", super::materials::OPERATION),
    };
    core.journal().record(crate::journal::JournalEntry {
        id: 0,
        surface,
        tenant: Some(tenant.to_string()),
        operation: operation.to_owned(),
        request_no: None,
        virtual_time: core.clock().now(),
        wall_time: crate::clock::system_now(),
        http_status: 0,
        code: code.to_owned(),
        detail: detail.to_owned(),
        request: json!({ "fileName": name }),
        reply: serde_json::Value::Null,
        rule: None,
        latency_us: 0,
    });
}

crate::core::timers::timer_kind! {
    /// An uploaded trade-details file's processing (key: the file name).
    pub PROCESS_FILE = "infinia.sftp.process",
    |core, tenant, key, generation: u64 = "generation", failure: Option<String> = "failure"| {
        process(&core, &tenant, &key, generation, failure);
    }
}
