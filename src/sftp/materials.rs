//! whalet-platform trade materials over SFTP: a partner puts a CSV file in `/upload` (a header
//! row of `shopId` and the material fields of `tradeMaterialsUpload`, one material per row); when
//! the file is complete it is processed at once. Every row is checked by the function the API
//! calls (`api::platform::materials::check_rows`, so the messages are the API's, with the row's
//! position as `materials[i]`, counting data rows from 0), the good rows are stored like the
//! API's (source `sftp`, origin the file name), and the upload's own report ([`result_file_path`],
//! `/result/{stem}_result.csv` for `{stem}.csv`) lists every row (the header being row 1):
//! `rowNumber,shopId,tradeOrderId,result,error` (`ACCEPTED`, or `REFUSED` with the message).
//! A file the API would refuse as a whole (more rows than `[platform] max_materials`, no rows)
//! or that is not a readable CSV stores nothing and says why in one line.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fs::{Area, UPLOAD_DIR};
use super::process::{journal, keep_output};
use crate::api::platform::materials::{check_count, check_rows, shop_id, FIELDS};
use crate::core::Core;
use crate::store::infinia::UploadStatus;
use crate::store::platform::{MaterialSource, TradeMaterial};
use crate::tenant::TenantId;
use crate::text::{bound, echo, message, ECHO_BYTES};

/// The operation an SFTP file stands for (journal, FIDELITY).
pub const OPERATION: &str = "tradeMaterialsUpload";

/// The column naming the shop of each row (the API's `shopId`, one per upload there).
pub const SHOP_COLUMN: &str = "shopId";

pub use super::paths::result_file_path;

/// One line of the result report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    /// The row number (the header is row 1: [`super::trade_details::numbered_rows`]).
    pub row: u64,
    pub shop_id: String,
    pub trade_order_id: String,
    /// None: accepted.
    pub error: Option<String>,
}

/// What checking a file gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub rows: Vec<RowResult>,
    /// The accepted materials by shop, in file order.
    pub accepted: BTreeMap<String, Vec<TradeMaterial>>,
    /// Why the whole file was refused (nothing accepted then).
    pub reason: Option<String>,
}

impl Checked {
    fn refused(reason: String) -> Self {
        Self {
            rows: Vec::new(),
            accepted: BTreeMap::new(),
            reason: Some(reason),
        }
    }

    pub fn failed_rows(&self) -> u64 {
        self.rows.iter().filter(|r| r.error.is_some()).count() as u64
    }

    pub fn status(&self) -> UploadStatus {
        let failed = self.failed_rows();
        match () {
            _ if self.reason.is_some() || failed == self.rows.len() as u64 => UploadStatus::Failed,
            _ if failed > 0 => UploadStatus::PartiallyFailed,
            _ => UploadStatus::Success,
        }
    }

    /// The result report (CSV).
    pub fn report_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(["rowNumber", "shopId", "tradeOrderId", "result", "error"]);
        if let Some(reason) = &self.reason {
            let _ = w.write_record(["1", "", "", "REFUSED", reason]);
        }
        for r in &self.rows {
            let line = r.row.to_string();
            let (result, error) = match &r.error {
                None => ("ACCEPTED", ""),
                Some(e) => ("REFUSED", e.as_str()),
            };
            let _ = w.write_record([&line, &r.shop_id, &r.trade_order_id, result, error]);
        }
        w.into_inner().unwrap_or_default()
    }
}

/// Checks a whole file (pure: no state, no clock). `max_rows` is `[platform] max_materials`.
pub fn check(bytes: &[u8], max_rows: usize) -> Checked {
    let (mut reader, header) = match super::trade_details::open_csv(bytes) {
        Ok(opened) => opened,
        Err(why) => return Checked::refused(why),
    };
    for (i, name) in header.iter().enumerate() {
        if name != SHOP_COLUMN && !FIELDS.contains(&name.as_str()) {
            return Checked::refused(format!(
                "unknown column {} in the header; the columns are {SHOP_COLUMN},{}",
                echo(name),
                FIELDS.join(",")
            ));
        }
        if header[..i].contains(name) {
            return Checked::refused(format!("column {} appears twice in the header", echo(name)));
        }
    }
    if !header.iter().any(|h| h == SHOP_COLUMN) {
        return Checked::refused(format!("the header has no {SHOP_COLUMN:?} column"));
    }
    // Each data row as the API's JSON material (empty cells left out), or why it is unreadable.
    let mut rows: Vec<(u64, Result<Value, String>)> = Vec::new();
    for (line, record) in super::trade_details::numbered_rows(&mut reader) {
        rows.push(match record {
            Ok(r) if r.len() != header.len() => {
                let why = format!(
                    "the row has {}; the header has {}",
                    super::trade_details::counted(r.len() as u64, "field", "fields"),
                    header.len()
                );
                (line, Err(why))
            }
            Ok(r) => {
                let object: Map<String, Value> = header
                    .iter()
                    .zip(r.iter())
                    .filter(|(_, cell)| !cell.is_empty())
                    .map(|(name, cell)| (name.clone(), Value::String(cell.to_owned())))
                    .collect();
                (line, Ok(Value::Object(object)))
            }
            Err(e) => (line, Err(format!("unreadable row: {}", message(e)))),
        });
    }
    if rows.is_empty() {
        return Checked::refused(
            "the file has no rows after the header; materials must not be empty".into(),
        );
    }
    if let Err(e) = check_count(rows.len(), max_rows) {
        return Checked::refused(format!("{e} ([platform] max_materials)"));
    }
    let null = Value::Null;
    let shops: Vec<Result<&str, String>> = rows
        .iter()
        .enumerate()
        .map(|(i, (_, row))| match row {
            Ok(row) => shop_id(row, &format!("materials[{i}].{SHOP_COLUMN}")).map_err(String::from),
            Err(_) => Ok(""),
        })
        .collect();
    let verdicts =
        check_rows(rows.iter().zip(&shops).map(|((_, row), shop)| {
            (*shop.as_ref().unwrap_or(&""), row.as_ref().unwrap_or(&null))
        }));
    let mut checked = Checked {
        rows: Vec::with_capacity(rows.len()),
        accepted: BTreeMap::new(),
        reason: None,
    };
    for (((line, row), shop), verdict) in rows.iter().zip(shops).zip(verdicts) {
        let cell = |name: &str| {
            row.as_ref()
                .ok()
                .and_then(|r| r.get(name))
                .and_then(Value::as_str)
                .map(|s| bound(s, ECHO_BYTES).into_owned())
                .unwrap_or_default()
        };
        let error = match (row, shop, verdict) {
            (Err(why), _, _) => Some(why.clone()),
            // Every problem of the row, its shop's first (as the API names them).
            (Ok(_), Err(shop), Err(why)) => Some(format!("{shop}; {why}")),
            (Ok(_), Err(why), Ok(_)) | (Ok(_), Ok(_), Err(why)) => Some(why),
            (Ok(_), Ok(shop), Ok(material)) => {
                checked
                    .accepted
                    .entry(shop.to_owned())
                    .or_default()
                    .push(material);
                None
            }
        };
        checked.rows.push(RowResult {
            row: *line,
            shop_id: cell(SHOP_COLUMN),
            trade_order_id: cell("tradeOrderId"),
            error,
        });
    }
    checked
}

/// A partner's file read and checked ([`check`]) before it is processed, with the bytes it was
/// read from ([`read`]).
pub struct Read {
    bytes: Vec<u8>,
    checked: Checked,
}

/// Reads and checks `/upload/{name}` of a partner for [`process`]: the bytes taken under the
/// partner's lock, the rows read without it and off the async worker
/// ([`crate::core::cpu::off_worker`]): a file of up to `[infinia] sftp_max_file_bytes` takes
/// long enough to read that it would otherwise hold up the requests, pages and control plane
/// that worker serves, and every request of the partner. `None` when there is no such file.
pub fn read(core: &Core, tenant: &TenantId, name: &str) -> Option<Read> {
    let max_rows = core.config().platform.max_materials;
    let bytes = core
        .with_tenant(tenant, |t| {
            let file = t.platform.files.get(&format!("{UPLOAD_DIR}/{name}"));
            file.map(|f| f.data.clone())
        })
        .ok()
        .flatten()?;
    let checked = crate::core::cpu::off_worker(|| check(&bytes, max_rows));
    Some(Read { bytes, checked })
}

/// Processes `/upload/{name}` of a partner now: stores the accepted materials, writes the
/// result report (within the account's SFTP quotas), records the upload and journals it, naming
/// `rule`, the scenario rule that decided the file (and let it be processed). `read` is the file
/// as [`read`] checked it; it is checked again here only if the file changed since.
pub fn process(core: &Core, tenant: &TenantId, name: &str, rule: Option<&str>, read: Option<Read>) {
    let now = core.clock().now();
    let sftp = &core.infinia().apps.config;
    let quotas = (sftp.sftp_max_files, sftp.sftp_max_bytes);
    let max_rows = core.config().platform.max_materials;
    let _gone = core.with_tenant(tenant, |t| {
        let file = t.platform.files.get(&format!("{UPLOAD_DIR}/{name}"));
        let checked = match (file, read) {
            (Some(f), Some(read)) if f.data == read.bytes => read.checked,
            (Some(f), _) => check(&f.data, max_rows),
            (None, _) => Checked::refused("the file was removed before it was processed".into()),
        };
        for (shop, materials) in &checked.accepted {
            t.platform
                .materials
                .add(shop, MaterialSource::Sftp, name, now, materials.clone());
        }
        let path = result_file_path(name);
        let kept = keep_output(
            &mut t.platform.files,
            &path,
            checked.report_csv(),
            now,
            quotas,
        );
        let failed = checked.failed_rows();
        let total = checked.rows.len() as u64;
        let mut reason = checked.reason.clone();
        if let Err(note) = &kept {
            reason = Some(match reason {
                Some(r) => format!("{r}; {note}"),
                None => note.clone(),
            });
        }
        let status = checked.status();
        let code = match status {
            UploadStatus::Success => "SUCCESS",
            UploadStatus::PartiallyFailed => "PARTIALLY_FAILED",
            _ => "FAILED",
        };
        let detail = format!("{total} rows: {} accepted, {failed} failed", total - failed);
        journal(
            core,
            (tenant, Area::Platform, rule),
            name,
            code,
            reason.as_deref().unwrap_or(&detail),
        );
        let generation = t.next_seq();
        let mut upload =
            crate::store::infinia::Upload::received(name, status, now, generation, reason);
        upload.processed_at = Some(now);
        upload.total_rows = total;
        upload.success_rows = total - failed;
        upload.failed_rows = failed;
        upload.error_file = kept.ok().map(|()| path);
        t.platform.uploads.insert(name.to_owned(), upload);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "shopId,tradeOrderId,tradeOrderNo,tradeType,tradeTime,tradeCurrency,tradeAmount,tradeName,tradeCount,payerName,payerCountryCode\n";

    #[test]
    fn rows_are_checked_with_the_api_messages_and_positions() {
        let file = format!(
            "{HEADER}S1,T1,O1,0,2025-01-01 10:00:00,USD,10.00,Lamp,1,Ivan,RU\n\
             S1,T2,O2,0,yesterday,USD,5.00,Lamp,1,Ivan,RU\n\
             S1,T1,O3,0,2025-01-01 10:00:00,USD,1.00,Lamp,1,Ivan,RU\n\
             S2,T1,O4,0,2025-01-01 10:00:00,USD,1.00,Lamp,1,Ivan,RU\n\
             ,T5,O5,0,2025-01-01 10:00:00,USD,1.00,Lamp,1,Ivan,RU\n\
             S1,T6\n"
        );
        let checked = check(file.as_bytes(), 1000);
        assert_eq!(checked.reason, None);
        let errors: Vec<_> = checked
            .rows
            .iter()
            .map(|r| (r.row, r.error.clone()))
            .collect();
        assert_eq!(errors[0], (2, None));
        let e1 = errors[1].1.as_deref().unwrap_or_default();
        assert!(
            e1.starts_with("materials[1].tradeTime: must be a time"),
            "{e1}"
        );
        assert_eq!(
            errors[2].1.as_deref(),
            Some("materials[2].tradeOrderId: \"T1\" appears again (first at materials[0])")
        );
        // The same tradeOrderId for another shop is another material.
        assert_eq!(errors[3], (5, None));
        assert_eq!(
            errors[4].1.as_deref(),
            Some("materials[4].shopId is required")
        );
        assert_eq!(
            errors[5].1.as_deref(),
            Some("the row has 2 fields; the header has 11")
        );
        assert_eq!(checked.status(), UploadStatus::PartiallyFailed);
        assert_eq!(checked.accepted["S1"].len(), 1);
        assert_eq!(checked.accepted["S2"].len(), 1);
        let report = String::from_utf8(checked.report_csv()).unwrap_or_default();
        assert!(
            report.starts_with("rowNumber,shopId,tradeOrderId,result,error\n2,S1,T1,ACCEPTED,\n"),
            "{report}"
        );
    }

    /// Regression: `rowNumber` was the CSV line (off by one for CRLF files, always 1 for CR-only
    /// ones); it counts rows, the header being row 1.
    #[test]
    fn row_numbers_count_records_whatever_the_line_ends() {
        let good = "S1,T1,O1,0,2025-01-01 10:00:00,USD,10.00,Lamp,1,Ivan,RU";
        let bad = "S1,T2,O2,0,yesterday,USD,5.00,\"Desk\nlamp\",1,Ivan,RU";
        for end in ["\n", "\r\n", "\r"] {
            let text = [HEADER.trim_end(), good, bad, good].join(end) + end;
            let checked = check(text.as_bytes(), 10);
            let rows: Vec<_> = checked
                .rows
                .iter()
                .map(|r| (r.row, r.error.is_some()))
                .collect();
            assert_eq!(rows, [(2, false), (3, true), (4, true)], "line end {end:?}");
        }
    }

    /// Regression: a row without its shop said only that, though the API names every problem
    /// of a material at once.
    #[test]
    fn a_row_without_its_shop_names_its_other_problems_too() {
        let file = format!("{HEADER},T1,O1,0,yesterday,USD,10.00,Lamp,1,Ivan,RU\n");
        let checked = check(file.as_bytes(), 10);
        let error = checked.rows[0].error.clone().unwrap_or_default();
        assert!(
            error.starts_with(
                "materials[0].shopId is required; materials[0].tradeTime: must be a time"
            ),
            "{error}"
        );
    }

    #[test]
    fn a_file_the_api_would_refuse_whole_stores_nothing() {
        let rows = "S1,T1,O1,0,2025-01-01 10:00:00,USD,10.00,Lamp,1,Ivan,RU\n".repeat(3);
        let checked = check(format!("{HEADER}{rows}").as_bytes(), 2);
        assert_eq!(
            checked.reason.as_deref(),
            Some("materials has 3 entries; at most 2 are accepted in one upload ([platform] max_materials)")
        );
        assert!(checked.accepted.is_empty());
        assert_eq!(checked.status(), UploadStatus::Failed);
        let unknown = check(b"shopId,colour\nS1,red\n", 10);
        assert!(unknown
            .reason
            .unwrap_or_default()
            .starts_with("unknown column \"colour\""));
        assert!(check(HEADER.as_bytes(), 10).reason.is_some());
    }
}

/// Regression: a quoted cell never closed took every later row into it, and the file was
/// processed with those rows silently lost.
#[cfg(test)]
mod unclosed_quote_tests {
    use super::*;

    #[test]
    fn an_unclosed_quote_refuses_the_whole_file_naming_its_row() {
        let file = "shopId,tradeOrderId,tradeOrderNo,tradeType,tradeTime,tradeCurrency,tradeAmount,tradeName,tradeCount,payerName,payerCountryCode\n\
             S1,T1,O1,0,2025-01-01 10:00:00,USD,10.00,\"Lamp,1,Ivan,RU\n\
             S1,T2,O2,0,2025-01-01 10:00:00,USD,5.00,Lamp,1,Ivan,RU\n";
        let checked = check(file.as_bytes(), 1000);
        assert_eq!(checked.status(), UploadStatus::Failed);
        assert!(checked.accepted.is_empty());
        let why = checked.reason.unwrap_or_default();
        assert!(why.starts_with("row 2: "), "{why}");
        assert!(why.contains("\"tradeName\""), "{why}");
        assert!(why.contains("never closed"), "{why}");
    }
}
