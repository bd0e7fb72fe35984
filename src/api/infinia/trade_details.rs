//! `trade-details/query` (inferred path, spec §2.5 "Trade Details Upload Status Query"): the
//! processing status of a trade-details file uploaded over SFTP, by `fileName`: PROCESSING,
//! SUCCESS, PARTIALLY_FAILED, FAILED (or INCOMPLETE for an interrupted upload), with counts and
//! the SFTP path of the error file.

use serde_json::{json, Value};

use super::fields::{required, text};
use super::{Ctx, Operation};
use crate::clock::format;
use crate::store::infinia::Upload;
use crate::wire::infinia::InfiniaError;

pub const OPERATION: Operation = Operation {
    name: "trade-details/query",
    handler,
};

fn handler(ctx: &Ctx<'_>, body: &Value) -> Result<Value, InfiniaError> {
    let name = required(body, "fileName", 255)?;
    let name = name.rsplit('/').next().unwrap_or(name);
    ctx.with_state(|t| match t.infinia.uploads.get(name) {
        Some(upload) => Ok(view(upload)),
        None => Err(InfiniaError::invalid(format!(
            "no trade-details file named {name:?} has been uploaded to /upload by this app \
             (uploads still being written are not listed)"
        ))),
    })?
}

pub fn view(u: &Upload) -> Value {
    json!({
        "fileName": u.file_name,
        "status": u.status,
        "totalCount": u.total_rows.to_string(),
        "successCount": u.success_rows.to_string(),
        "failedCount": u.failed_rows.to_string(),
        "errorFile": text(u.error_file.as_deref()),
        "reason": text(u.reason.as_deref()),
        "receivedTime": format::china(u.received_at),
        "processedTime": text(u.processed_at.map(format::china)),
    })
}
