//! Trade Materials Upload: the trade orders behind a seller's payments. The rows are checked by
//! [`check_rows`] (each material by [`read_material`], then repeated orders), which the API
//! and the SFTP drop (`sftp::materials`, rows of a CSV file in the same JSON shape) both call;
//! errors name the row and the field (`materials[3].tradeTime: ...`), every problem of a row,
//! not only its first. Over the API one bad row refuses the whole upload, leaving the store
//! unchanged, and the reply names up to [`MAX_REPORTED`] problems across the rows; over SFTP the
//! good rows are kept and the bad ones listed in the file's result report. Accepted materials
//! land in the tenant's `MaterialStore` (`store::platform`), tagged with their source.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::fields::{
    self, checked, country_code, optional_up_to, required_up_to, Collect, FieldError,
};
use super::Ctx;
use crate::api::whalet::common::fields::{Check, MAX_TEXT};
use crate::clock::format::{china_time, TimeFault};
use crate::store::platform::{MaterialSource, TradeMaterial};
use crate::text::echo;
use crate::wire::whalet::WhaletError;

/// The material problems one reply names at most (the rest are counted): a reply stays short
/// however many rows are bad.
const MAX_REPORTED: usize = 10;

/// `tradeMaterialsUpload {shopId, materials: [...]}` → `{}`.
pub fn trade_materials_upload(ctx: &Ctx<'_>, body: &Value) -> Result<Value, WhaletError> {
    let mut check = Check::new(body)?;
    let shop_id = check.take(shop_id(body, "shopId"));
    let max = ctx.core.config().platform.max_materials;
    let rows = check.take(rows(body).and_then(|rows| check_count(rows.len(), max).map(|()| rows)));
    let rows = rows.map(|rows| whole_numbers_as_sent(rows, &ctx.sent));
    let materials = rows.and_then(|rows| check.take(validate_batch(&rows)));
    check.finish()?;
    let (shop_id, materials) = (checked(shop_id)?, checked(materials)?);
    let now = ctx.now();
    ctx.with_state(|t| {
        t.platform.materials.add(
            shop_id,
            MaterialSource::Api,
            &ctx.request_no,
            now,
            materials,
        )
    })?;
    Ok(json!({}))
}

/// The longest payer's name, a material's `payerName` and a bulk payment's (the
/// `platform.bulk_payment.received` trigger's) alike, both the name of who paid: the Open API's
/// limit on a name ([`MAX_TEXT`]). The larger of the two limits the platform had (128 for a
/// material), so that no name either took before is refused now.
pub const MAX_PAYER_NAME: usize = MAX_TEXT;

/// The whole-number fields of a material ([`integer`]).
const WHOLE_NUMBERS: [&str; 2] = ["tradeType", "tradeCount"];

/// `rows` with each whole-number field ([`WHOLE_NUMBERS`]) the partner sent as a JSON number put
/// back as that number. The pipeline keeps the text of a number a double does not hold as
/// written (`1e0`, `-0`, `1.0000000000000001`) as a string, for the amounts
/// (`money::keep_number_texts`); a whole-number field would then get a string's refusal with the
/// number quoted as text (`no sign or spaces, got "1e0"`), not a number's. `sent` is the
/// body's JSON text as sent (the session's). Borrowed as it is when no such field is a string.
fn whole_numbers_as_sent<'a>(rows: &'a [Value], sent: &str) -> Cow<'a, [Value]> {
    let texts = |row: &Value| {
        WHOLE_NUMBERS
            .iter()
            .any(|field| row.get(field).is_some_and(Value::is_string))
    };
    if !rows.iter().any(texts) {
        return Cow::Borrowed(rows);
    }
    let Ok(sent) = serde_json::from_str::<Value>(sent) else {
        return Cow::Borrowed(rows);
    };
    let Some(sent_rows) = sent.get("materials").and_then(Value::as_array) else {
        return Cow::Borrowed(rows);
    };
    let mut rows = rows.to_vec();
    for (row, sent_row) in rows.iter_mut().zip(sent_rows) {
        for field in WHOLE_NUMBERS {
            let number = sent_row.get(field).filter(|v| v.is_number());
            if let (Some(Value::String(_)), Some(number)) = (row.get(field), number) {
                row[field] = number.clone();
            }
        }
    }
    Cow::Owned(rows)
}

/// The fields of one material, in the documented order (also the columns of an SFTP file).
pub const FIELDS: &[&str] = &[
    "tradeOrderId",
    "tradeOrderNo",
    "tradeType",
    "tradeTime",
    "tradeCurrency",
    "tradeAmount",
    "tradeName",
    "tradeCount",
    "tradeUnit",
    "payerName",
    "payerCountryCode",
    "goodsCarrier",
    "goodsLogisticsNo",
    "serviceDetail",
    "serviceTime",
    "hsCode",
    "memo",
];

/// The rows of an upload: `materials`, a non-empty array.
fn rows(body: &Value) -> Result<&[Value], FieldError> {
    crate::api::describe::record("materials", "array", true, &[]);
    match body.get("materials") {
        Some(Value::Array(rows)) if !rows.is_empty() => Ok(rows),
        Some(Value::Array(_)) => Err("materials must not be empty".into()),
        None | Some(Value::Null) => Err("materials is required".into()),
        Some(_) => Err("materials must be an array of objects".into()),
    }
}

/// The shop the materials belong to (`path` names it in the message).
pub fn shop_id<'a>(body: &'a Value, path: &str) -> Result<&'a str, FieldError> {
    required_up_to(body, "shopId", path, 64)
}

/// Refuses more than `[platform] max_materials` materials in one upload.
pub fn check_count(rows: usize, max: usize) -> Result<(), FieldError> {
    if rows > max {
        return Err(format!(
            "materials has {rows} entries; at most {max} are accepted in one upload"
        )
        .into());
    }
    Ok(())
}

/// Checks every row of an SFTP file: each `(shop, material)` on its own, then a tradeOrderId
/// given twice for the same shop (the later row is refused; [`Repeats::OfKeptRows`]). One
/// verdict per row, in order: the material, or every problem of the row joined by `; `.
pub fn check_rows<'a>(
    rows: impl IntoIterator<Item = (&'a str, &'a Value)>,
) -> Vec<Result<TradeMaterial, String>> {
    row_verdicts(rows, Repeats::OfKeptRows)
        .into_iter()
        .map(|verdict| verdict.map_err(|problems| problems.join("; ")))
        .collect()
}

/// Which earlier row a row's tradeOrderId repeats.
#[derive(Clone, Copy, PartialEq)]
enum Repeats {
    /// Over the API one bad row refuses the whole upload, so every row counts: a row repeating
    /// the id of an earlier bad row is told so in the same reply, not only once that row is
    /// fixed (which would cost the partner a second round trip for the same file).
    OfAnyRow,
    /// Over SFTP the good rows are kept and the bad ones refused one by one, so only a kept row
    /// counts: a row repeating the id of an earlier refused row is the only material of that
    /// id the file stores (the way to correct a bad row is to add it again further down).
    OfKeptRows,
}

/// The verdict of every row ([`check_rows`]) with each row's problems one by one; a repeated
/// tradeOrderId (for the same shop) by the rule of `repeats`.
fn row_verdicts<'a>(
    rows: impl IntoIterator<Item = (&'a str, &'a Value)>,
    repeats: Repeats,
) -> Vec<Result<TradeMaterial, Vec<String>>> {
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    let mut verdicts = Vec::new();
    for (i, (shop, row)) in rows.into_iter().enumerate() {
        // An id as sent: a blank one is only "required", never a repeat.
        let id =
            (row.get("tradeOrderId").and_then(Value::as_str)).filter(|id| !id.trim().is_empty());
        let repeat = id.and_then(|id| {
            let first = seen.get(&(shop, id))?;
            Some(format!(
                "materials[{i}].tradeOrderId: {id:?} appears again (first at materials[{first}])"
            ))
        });
        let verdict = read_material(i, row);
        let counts = match repeats {
            Repeats::OfAnyRow => true,
            Repeats::OfKeptRows => verdict.is_ok() && repeat.is_none(),
        };
        if let Some(id) = id.filter(|_| counts) {
            seen.entry((shop, id)).or_insert(i);
        }
        verdicts.push(match (verdict, repeat) {
            (Ok(_), Some(repeat)) => Err(vec![repeat]),
            (Err(mut problems), Some(repeat)) => {
                problems.push(repeat);
                Err(problems)
            }
            (verdict, None) => verdict,
        });
    }
    verdicts
}

/// Validates every row; the row-precise problems of all rows (up to [`MAX_REPORTED`], the rest
/// counted) joined by `; `.
fn validate_batch(rows: &[Value]) -> Result<Vec<TradeMaterial>, FieldError> {
    let mut problems = Vec::new();
    let mut materials = Vec::with_capacity(rows.len());
    for verdict in row_verdicts(rows.iter().map(|row| ("", row)), Repeats::OfAnyRow) {
        match verdict {
            Ok(m) => materials.push(m),
            Err(row) => problems.extend(row),
        }
    }
    if problems.is_empty() {
        return Ok(materials);
    }
    let total = problems.len();
    let mut detail = problems
        .into_iter()
        .take(MAX_REPORTED)
        .collect::<Vec<_>>()
        .join("; ");
    if total > MAX_REPORTED {
        detail.push_str(&format!("; and {} more errors", total - MAX_REPORTED));
    }
    Err(FieldError(detail))
}

/// A whole-number field, as a JSON integer or its decimal text; absent or null is None. It is
/// read as an `i64`: a whole number past that range is refused as too large (or too small),
/// naming the limit. A JSON number is never echoed: serde_json reads one with a fraction, an
/// exponent or past the integer range as an `f64` and would print a text the client never sent
/// (`100000000000000000000` as `1e+20`).
fn integer(row: &Map<String, Value>, field: &str, path: &str) -> Result<Option<i64>, String> {
    match row.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) => Ok(Some(v)),
            None => Err(not_an_i64(n, path)),
        },
        Some(Value::String(s)) => digit_string(s, path).map(Some),
        Some(other) => Err(format!(
            "{path} must be a whole number, got {}",
            crate::wire::whalet::json_type(other)
        )),
    }
}

/// A whole number sent as a string: ASCII digits only, written as a JSON integer writes it (no
/// sign, no whitespace, no leading zero but in `0` itself), so `"+0"`, `"-0"`, `"00"` and `" 1 "`
/// are refused naming the value, not read as 0 or 1 (whitespace is refused around every
/// value, docs/FIDELITY.md "request amounts"). The fields using it are never negative.
fn digit_string(s: &str, path: &str) -> Result<i64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{path} must be a whole number in digits 0-9 (no sign or spaces), got {}",
            echo(s)
        ));
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(format!(
            "{path} must be a whole number without leading zeros, got {}",
            echo(s)
        ));
    }
    // Digits only: the one way left to fail is a number past the range.
    s.parse().map_err(|_| too_large(path))
}

/// Why JSON number `n`, which is no `i64`, is refused (without echoing it): a whole number out
/// of range (a `u64` past `i64::MAX`, or a whole `f64` as large), else a fraction or an exponent.
fn not_an_i64(n: &serde_json::Number, path: &str) -> String {
    let whole = n.as_f64().filter(|f| f.is_finite() && f.fract() == 0.0);
    match whole {
        _ if n.is_u64() => too_large(path),
        // `-0` (or `-0.0`), which no whole-number field takes: said so, as it is not echoed.
        Some(f) if f == 0.0 && f.is_sign_negative() => {
            format!("{path} must be a whole number written without a sign (0, not -0)")
        }
        // `i64::MAX as f64` is 2^63, the first whole f64 past the range.
        Some(f) if f >= i64::MAX as f64 => too_large(path),
        Some(f) if f < i64::MIN as f64 => too_small(path),
        Some(_) => {
            format!("{path} must be a whole number written without a decimal point or exponent")
        }
        None => format!("{path} must be a whole number, not a fraction"),
    }
}

fn too_large(path: &str) -> String {
    format!("{path} is too large: at most {}", i64::MAX)
}

fn too_small(path: &str) -> String {
    format!("{path} is too small: at least {}", i64::MIN)
}

/// A time as the Open API reads one ([`china_time`]): a value of the right form that names no
/// calendar date or time of day is told so, not pointed back to the format.
fn time(value: &str, path: &str) -> Result<String, FieldError> {
    match china_time(value) {
        Ok(_) => Ok(value.to_owned()),
        Err(TimeFault::Shape) => {
            Err(format!("{path}: must be a time as yyyy-MM-dd HH:mm:ss, got {value:?}").into())
        }
        Err(TimeFault::NotCalendar(why)) => Err(format!("{path}: {why}").into()),
    }
}

/// `tradeType`: 0 (goods) or 1 (service).
fn trade_type(row: &Map<String, Value>, path: &str) -> Result<i64, String> {
    crate::api::describe::record(path, "integer", true, &["0", "1"]);
    let trade_type = integer(row, "tradeType", path)?
        .ok_or_else(|| format!("{path} is required (0 = goods, 1 = service)"))?;
    if !matches!(trade_type, 0 | 1) {
        return Err(format!(
            "{path} must be 0 (goods) or 1 (service), got {trade_type}"
        ));
    }
    Ok(trade_type)
}

/// `tradeCount`: a whole number, at least 1.
fn trade_count(row: &Map<String, Value>, path: &str) -> Result<i64, String> {
    crate::api::describe::record(path, "integer", true, &[]);
    let count = integer(row, "tradeCount", path)?.ok_or_else(|| format!("{path} is required"))?;
    if count < 1 {
        return Err(format!("{path} must be at least 1, got {count}"));
    }
    Ok(count)
}

/// An optional HS code: 6 to 10 digits.
fn hs_code(code: Option<String>, path: &str) -> Result<Option<String>, String> {
    match code {
        Some(c) if c.len() < 6 || !c.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("{path} must be 6 to 10 digits, got {c:?}"))
        }
        code => Ok(code),
    }
}

/// Reads one material: the material, or every problem with it, each naming
/// `materials[{index}].{field}`.
fn read_material(index: usize, row: &Value) -> Result<TradeMaterial, Vec<String>> {
    let Value::Object(map) = row else {
        return Err(vec![format!("materials[{index}] must be an object")]);
    };
    let at = |field: &str| format!("materials[{index}].{field}");
    let mut p = Vec::new();
    let text = |p: &mut Vec<String>, field: &str, max: usize| {
        p.take(required_up_to(row, field, &at(field), max))
            .map(str::to_owned)
    };
    let opt = |p: &mut Vec<String>, field: &str, max: usize| {
        p.take(optional_up_to(row, field, &at(field), max))
            .map(|v| v.map(str::to_owned))
    };
    let trade_order_id = text(&mut p, "tradeOrderId", 64);
    let trade_order_no = text(&mut p, "tradeOrderNo", 64);
    let trade_type = p.take(trade_type(map, &at("tradeType")));
    let trade_time = text(&mut p, "tradeTime", 19).and_then(|t| p.take(time(&t, &at("tradeTime"))));
    let currency = text(&mut p, "tradeCurrency", 3)
        .and_then(|c| p.take(fields::currency(&c, &at("tradeCurrency"))));
    let trade_amount = fields::amount(&mut p, row, "tradeAmount", &at("tradeAmount"), currency);
    let trade_name = text(&mut p, "tradeName", 256);
    let trade_count = p.take(trade_count(map, &at("tradeCount")));
    let payer_name = text(&mut p, "payerName", MAX_PAYER_NAME);
    let payer_country_code = text(&mut p, "payerCountryCode", 2).and_then(|code| {
        p.take(country_code(&code, &at("payerCountryCode"), "RU"))?;
        Some(code)
    });
    let service_detail = opt(&mut p, "serviceDetail", 512);
    let service_time = opt(&mut p, "serviceTime", 19)
        .and_then(|t| p.take(t.map(|t| time(&t, &at("serviceTime"))).transpose()));
    if trade_type == Some(1) && service_detail == Some(None) {
        p.push(format!(
            "{} is required for a service trade (tradeType 1)",
            at("serviceDetail")
        ));
    }
    let hs_code = opt(&mut p, "hsCode", 10).and_then(|c| p.take(hs_code(c, &at("hsCode"))));
    let trade_unit = opt(&mut p, "tradeUnit", 32);
    let goods_carrier = opt(&mut p, "goodsCarrier", 128);
    let goods_logistics_no = opt(&mut p, "goodsLogisticsNo", 64);
    let memo = opt(&mut p, "memo", 256);
    let material = || {
        Some(TradeMaterial {
            trade_order_id: trade_order_id?,
            trade_order_no: trade_order_no?,
            trade_type: trade_type?,
            trade_time: trade_time?,
            trade_amount: trade_amount?,
            trade_name: trade_name?,
            trade_count: trade_count?,
            trade_unit: trade_unit?,
            payer_name: payer_name?,
            payer_country_code: payer_country_code?,
            goods_carrier: goods_carrier?,
            goods_logistics_no: goods_logistics_no?,
            service_detail: service_detail?,
            service_time: service_time?,
            hs_code: hs_code?,
            memo: memo?,
        })
    };
    // A field is None only with its problem noted: with no problem, every field was read.
    material().filter(|_| p.is_empty()).ok_or(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row's verdict as SFTP reports it: the material, or its problems joined by `; `.
    fn validate_material(index: usize, row: &Value) -> Result<TradeMaterial, String> {
        read_material(index, row).map_err(|problems| problems.join("; "))
    }

    fn row() -> Value {
        json!({"tradeOrderId": "1", "tradeOrderNo": "OR1", "tradeType": 0,
               "tradeTime": "2024-02-29 23:59:59", "tradeCurrency": "JPY", "tradeAmount": 1200,
               "tradeName": "Lamp", "tradeCount": "3", "payerName": "b", "payerCountryCode": "RU"})
    }

    /// Regression: a row was refused at its first problem (`materials[0].tradeOrderNo is
    /// required` for a row that lacked nine fields); each row now names every problem it has.
    #[test]
    fn a_row_names_every_problem_it_has() {
        let missing = [
            "tradeOrderNo",
            "tradeType",
            "tradeTime",
            "tradeCurrency",
            "tradeAmount",
            "tradeName",
            "tradeCount",
            "payerName",
            "payerCountryCode",
        ];
        let problems = read_material(0, &json!({"tradeOrderId": "t1"})).unwrap_err();
        assert_eq!(problems.len(), missing.len(), "{problems:?}");
        for (problem, field) in problems.iter().zip(missing) {
            assert!(
                problem.starts_with(&format!("materials[0].{field} is required")),
                "{problem}"
            );
        }
        let mut r = row();
        r["tradeTime"] = json!("yesterday");
        r["tradeCount"] = json!(0);
        r["hsCode"] = json!("73A");
        assert_eq!(
            validate_material(4, &r).unwrap_err(),
            "materials[4].tradeTime: must be a time as yyyy-MM-dd HH:mm:ss, got \"yesterday\"; \
             materials[4].tradeCount must be at least 1, got 0; \
             materials[4].hsCode must be 6 to 10 digits, got \"73A\""
        );
    }

    /// A bad row that also repeats an earlier row's tradeOrderId names both; an upload's reply
    /// names at most ten problems across its rows and counts the rest.
    #[test]
    fn an_upload_names_up_to_ten_problems_across_its_rows() {
        let mut repeat = row();
        repeat["payerName"] = json!("");
        let verdicts = check_rows([("s", &row()), ("s", &repeat)]);
        assert_eq!(
            verdicts[1],
            Err("materials[1].payerName must not be empty; \
                 materials[1].tradeOrderId: \"1\" appears again (first at materials[0])"
                .into())
        );
        let rows: Vec<Value> = (0..3)
            .map(|i| json!({"tradeOrderId": i.to_string()}))
            .collect();
        let detail = validate_batch(&rows).unwrap_err().0;
        let named: Vec<&str> = detail.split("; ").collect();
        assert_eq!(named.len(), MAX_REPORTED + 1, "{detail}");
        assert_eq!(named[0], "materials[0].tradeOrderNo is required");
        assert_eq!(named[9], "materials[1].tradeOrderNo is required");
        assert_eq!(named[10], "and 17 more errors");
    }

    /// Regression: over the API a repeated tradeOrderId was named only once the earlier row was
    /// valid (a second round trip). It is named whatever that row's verdict now; over SFTP, where
    /// the bad row is not kept, the later row is the only material of its id and is kept. A blank
    /// id is only "required", never a repeat.
    #[test]
    fn a_repeat_of_a_bad_row_counts_over_the_api_and_not_over_sftp() {
        let mut bad = row();
        bad["tradeName"] = json!("");
        let detail = validate_batch(&[bad.clone(), row()]).unwrap_err().0;
        assert_eq!(
            detail,
            "materials[0].tradeName must not be empty; \
             materials[1].tradeOrderId: \"1\" appears again (first at materials[0])"
        );
        let verdicts = check_rows([("s", &bad), ("s", &row())]);
        assert!(verdicts[0].is_err() && verdicts[1].is_ok(), "{verdicts:?}");
        let mut blank = row();
        blank["tradeOrderId"] = json!(" ");
        let detail = validate_batch(&[blank.clone(), blank]).unwrap_err().0;
        assert!(!detail.contains("appears again"), "{detail}");
    }

    /// Regression: the pipeline keeps a number a double does not hold as written (`1e0`, `-0`)
    /// as its text, so a whole-number field got a string's refusal quoting it. The rows are read
    /// with such a field as the number sent; a string sent stays a string.
    #[test]
    fn a_whole_number_sent_as_a_json_number_is_read_as_that_number() {
        let text = r#"{"materials":[{"tradeCount":1e0,"tradeType":"-0"},{"tradeType":-0}]}"#;
        let mut body: Value = serde_json::from_str(text).unwrap();
        crate::money::keep_number_texts(text, &mut body);
        let rows = body["materials"].as_array().unwrap();
        assert_eq!(rows[0]["tradeCount"], json!("1e0"), "the pipeline's text");
        let read = whole_numbers_as_sent(rows, text);
        assert!(read[0]["tradeCount"].is_number(), "{read:?}");
        assert_eq!(read[0]["tradeType"], json!("-0"));
        assert!(read[1]["tradeType"].is_number(), "{read:?}");
        let err = validate_material(0, &read[1]).unwrap_err();
        assert!(
            err.contains("materials[0].tradeType must be a whole number written without a sign"),
            "{err}"
        );
        // No such field a string: the rows as they are, the text not read.
        let mut numbers = row();
        numbers["tradeCount"] = json!(3);
        let read = whole_numbers_as_sent(std::slice::from_ref(&numbers), "not read");
        assert!(matches!(read, Cow::Borrowed(_)));
    }

    #[test]
    fn a_minimal_goods_row_is_valid() {
        let m = validate_material(0, &row()).unwrap();
        assert_eq!(m.trade_amount.minor, 1200);
        assert_eq!(m.trade_count, 3);
    }

    #[test]
    fn each_rule_names_its_row_and_field() {
        let cases = [
            (
                "tradeTime",
                json!("2023-02-30 10:00"),
                "materials[7].tradeTime: must be a time as yyyy-MM-dd HH:mm:ss, got",
            ),
            (
                "tradeTime",
                json!("2023-02-29 10:00:00"),
                "materials[7].tradeTime: 2023-02-29 is not a calendar date (February 2023 has 28 days)",
            ),
            (
                "serviceTime",
                json!("2023-01-01 24:00:00"),
                "materials[7].serviceTime: 24:00:00 is not a time of day (00:00:00 to 23:59:59)",
            ),
            (
                "tradeAmount",
                json!("12.5"),
                "materials[7].tradeAmount \"12.5\" has 1 decimal place; JPY has 0",
            ),
            (
                "tradeAmount",
                json!("0"),
                "materials[7].tradeAmount must be greater than zero",
            ),
            (
                "tradeCurrency",
                json!("XXY"),
                "materials[7].tradeCurrency \"XXY\" is unknown",
            ),
            (
                "tradeType",
                json!(2),
                "materials[7].tradeType must be 0 (goods) or 1 (service), got 2",
            ),
            (
                "tradeCount",
                json!(0),
                "materials[7].tradeCount must be at least 1",
            ),
            (
                "tradeCount",
                json!(1.5),
                "materials[7].tradeCount must be a whole number",
            ),
            (
                "payerCountryCode",
                json!("ru"),
                "materials[7].payerCountryCode must be an ISO 3166",
            ),
            (
                "hsCode",
                json!("73A"),
                "materials[7].hsCode must be 6 to 10 digits",
            ),
        ];
        for (field, value, expected) in cases {
            let mut r = row();
            r[field] = value;
            let err = validate_material(7, &r).unwrap_err();
            assert!(err.starts_with(expected), "{field}: {err}");
        }
        let mut service = row();
        service["tradeType"] = json!(1);
        assert!(validate_material(0, &service)
            .unwrap_err()
            .contains("serviceDetail is required"));
        assert_eq!(
            validate_material(2, &json!([1])).unwrap_err(),
            "materials[2] must be an object"
        );
    }

    /// Regression: a digit string was trimmed and read by `str::parse`, so `"+0"`, `"-0"`,
    /// `"00"` and `" 1 "` were accepted as 0 and 1.
    #[test]
    fn an_integer_string_is_digits_only_without_leading_zeros() {
        let not_digits = "must be a whole number in digits 0-9 (no sign or spaces), got";
        let cases = [
            ("+0", not_digits),
            ("-0", not_digits),
            ("-1", not_digits),
            (" 1 ", not_digits),
            ("1 ", not_digits),
            ("", not_digits),
            ("1_0", not_digits),
            ("\u{0661}", not_digits),
            ("00", "must be a whole number without leading zeros, got"),
            ("01", "must be a whole number without leading zeros, got"),
        ];
        for (text, expected) in cases {
            let mut r = row();
            r["tradeType"] = json!(text);
            let err = validate_material(0, &r).unwrap_err();
            assert_eq!(
                err,
                format!("materials[0].tradeType {expected} {:?}", text),
                "{text:?}"
            );
        }
        for (text, value) in [("0", 0), ("1", 1)] {
            let mut r = row();
            r["tradeType"] = json!(text);
            r["serviceDetail"] = json!("consulting");
            assert_eq!(validate_material(0, &r).map(|m| m.trade_type), Ok(value));
        }
        let mut r = row();
        r["tradeCount"] = json!("10");
        assert_eq!(validate_material(0, &r).map(|m| m.trade_count), Ok(10));
    }

    #[test]
    fn a_whole_number_out_of_range_names_the_limit_and_no_rewritten_number() {
        let cases = [
            (
                "100000000000000000000",
                "is too large: at most 9223372036854775807",
            ),
            (
                "18446744073709551615",
                "is too large: at most 9223372036854775807",
            ),
            (
                "\"99999999999999999999\"",
                "is too large: at most 9223372036854775807",
            ),
            (
                "-100000000000000000000",
                "is too small: at least -9223372036854775808",
            ),
            (
                "1e3",
                "must be a whole number written without a decimal point or exponent",
            ),
            ("2.50", "must be a whole number, not a fraction"),
            (
                "\"two\"",
                "must be a whole number in digits 0-9 (no sign or spaces), got \"two\"",
            ),
        ];
        for (raw, expected) in cases {
            let mut r = row();
            r["tradeCount"] = serde_json::from_str(raw).unwrap();
            let err = validate_material(0, &r).unwrap_err();
            assert_eq!(err, format!("materials[0].tradeCount {expected}"), "{raw}");
        }
        let mut r = row();
        r["tradeCount"] = serde_json::from_str("9223372036854775807").unwrap();
        assert_eq!(
            validate_material(0, &r).map(|m| m.trade_count),
            Ok(i64::MAX)
        );
    }
}
