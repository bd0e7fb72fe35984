//! `trade-details/query` (inferred path, spec §2.5 "Trade Details Upload Status Query"): the
//! processing status of a trade-details file uploaded over SFTP, by `fileName`: PROCESSING,
//! SUCCESS, PARTIALLY_FAILED, FAILED (or INCOMPLETE for an interrupted upload), with counts and
//! the SFTP path of the error file.

use serde_json::{json, Value};

use super::fields::{required, text};
use super::{Ctx, Operation};
use crate::clock::format;
use crate::sftp::fs::in_progress;
use crate::sftp::trade_details::{temporary_name_hint, MAX_FILE_NAME_CHARS};
use crate::store::infinia::Upload;
use crate::text::echo;
use crate::wire::infinia::InfiniaError;

pub const OPERATION: Operation = Operation {
    name: "trade-details/query",
    handler,
};

fn handler(ctx: &Ctx<'_>, body: &Value) -> Result<Value, InfiniaError> {
    let name = file_name(body)?;
    ctx.with_state(|t| match t.infinia.uploads.get(name) {
        Some(upload) => Ok(view(upload)),
        // A file under a temporary name has no upload record: say why, not "never uploaded".
        None if in_progress(name) => {
            let held = t.infinia.files.contains_key(&format!("/upload/{name}"));
            Err(InfiniaError::invalid(format!(
                "{}{}",
                temporary_name_hint(name),
                if held {
                    " (the file is in /upload under the temporary name)"
                } else {
                    ""
                }
            )))
        }
        None => Err(InfiniaError::invalid(format!(
            "no trade-details file named {name:?} has been uploaded to /upload by this app \
             (uploads still being written are not listed)"
        ))),
    })?
}

/// The `fileName` asked about: a name as uploaded to `/upload`, never a path. A name holding a
/// `/` or a backslash is refused (SYS-005) rather than cut to its last part, so that
/// `../../etc/ex.csv` is not answered for `ex.csv`.
fn file_name(body: &Value) -> Result<&str, InfiniaError> {
    let name = required(body, "fileName", MAX_FILE_NAME_CHARS)?;
    if !name.contains(['/', '\\']) {
        return Ok(name);
    }
    let hint = match name.rsplit(['/', '\\']).next().unwrap_or_default() {
        "" => String::new(),
        base => format!(", such as {}", echo(base)),
    };
    Err(InfiniaError::format(format!(
        "fileName {} carries a path; give only the file's name as uploaded to /upload{hint}",
        echo(name)
    )))
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
