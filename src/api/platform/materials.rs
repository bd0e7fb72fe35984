//! Trade Materials Upload: the trade orders behind a seller's payments. The rows are checked by
//! [`check_rows`] (each material by [`validate_material`], then repeated orders), which the API
//! and the SFTP drop (`sftp::materials`, rows of a CSV file in the same JSON shape) both call;
//! errors name the row and the field (`materials[3].tradeTime: ...`). Over the API one bad row
//! refuses the whole upload, leaving the store unchanged; over SFTP the good rows are kept and
//! the bad ones listed in the file's result report. Accepted materials land in the tenant's
//! `MaterialStore` (`store::platform`), tagged with their source.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::fields::{self, FieldError};
use super::{max_len, optional, param, required, Ctx};
use crate::clock::format;
use crate::country::{self, Fault, Form};
use crate::money::Money;
use crate::store::platform::{MaterialSource, TradeMaterial};
use crate::text::echo;
use crate::wire::whalet::WhaletError;

/// Errors reported in one reply at most (the rest are counted).
const MAX_REPORTED: usize = 10;

/// `tradeMaterialsUpload {shopId, materials: [...]}` → `{}`.
pub fn trade_materials_upload(ctx: &Ctx<'_>, body: &Value) -> Result<Value, WhaletError> {
    let shop_id = shop_id(body, "shopId")?;
    crate::api::describe::record("materials", "array", true, &[]);
    let rows = match body.get("materials") {
        Some(Value::Array(rows)) if !rows.is_empty() => rows,
        Some(Value::Array(_)) => return Err(param("materials must not be empty".into())),
        None | Some(Value::Null) => return Err(param("materials is required".into())),
        Some(_) => return Err(param("materials must be an array of objects".into())),
    };
    check_count(rows.len(), ctx.core.config().platform.max_materials)?;
    let materials = validate_batch(rows)?;
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

/// The shop the materials belong to (`path` names it in the message).
pub fn shop_id<'a>(body: &'a Value, path: &str) -> Result<&'a str, FieldError> {
    let shop_id = required(body, "shopId", path)?;
    max_len(shop_id, 64, path)?;
    Ok(shop_id)
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

/// Checks every row of one upload: each `(shop, material)` on its own, then a tradeOrderId
/// given twice for the same shop (the later row is refused). One verdict per row, in order.
pub fn check_rows<'a>(
    rows: impl IntoIterator<Item = (&'a str, &'a Value)>,
) -> Vec<Result<TradeMaterial, String>> {
    let mut seen: HashMap<(&str, String), usize> = HashMap::new();
    let mut verdicts = Vec::new();
    for (i, (shop, row)) in rows.into_iter().enumerate() {
        let verdict = validate_material(i, row).and_then(|m| {
            match seen.insert((shop, m.trade_order_id.clone()), i) {
                Some(first) => Err(format!(
                    "materials[{i}].tradeOrderId: {:?} appears again (first at materials[{first}])",
                    m.trade_order_id
                )),
                None => Ok(m),
            }
        });
        verdicts.push(verdict);
    }
    verdicts
}

/// Validates every row; all the row-precise errors (up to ten) joined by `; `.
pub fn validate_batch(rows: &[Value]) -> Result<Vec<TradeMaterial>, FieldError> {
    let mut errors = Vec::new();
    let mut materials = Vec::with_capacity(rows.len());
    for verdict in check_rows(rows.iter().map(|row| ("", row))) {
        match verdict {
            Ok(m) => materials.push(m),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        return Ok(materials);
    }
    let total = errors.len();
    let mut detail = errors
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

fn time(value: &str, path: &str) -> Result<String, String> {
    format::parse_china(value)
        .map(|_| value.to_owned())
        .ok_or_else(|| format!("{path}: must be a time as yyyy-MM-dd HH:mm:ss, got {value:?}"))
}

/// Validates one material; the error names `materials[{index}].{field}`.
pub fn validate_material(index: usize, row: &Value) -> Result<TradeMaterial, String> {
    let at = |field: &str| format!("materials[{index}].{field}");
    let Value::Object(map) = row else {
        return Err(format!("materials[{index}] must be an object"));
    };
    let req = |field: &str, max: usize| -> Result<String, String> {
        let v = required(row, field, &at(field))?;
        max_len(v, max, &at(field))?;
        Ok(v.to_owned())
    };
    let opt = |field: &str, max: usize| -> Result<Option<String>, String> {
        let v = optional(row, field, &at(field))?;
        if let Some(v) = v {
            max_len(v, max, &at(field))?;
        }
        Ok(v.map(str::to_owned))
    };
    let trade_order_id = req("tradeOrderId", 64)?;
    let trade_order_no = req("tradeOrderNo", 64)?;
    crate::api::describe::record(&at("tradeType"), "integer", true, &["0", "1"]);
    let trade_type = integer(map, "tradeType", &at("tradeType"))?
        .ok_or_else(|| format!("{} is required (0 = goods, 1 = service)", at("tradeType")))?;
    if !matches!(trade_type, 0 | 1) {
        return Err(format!(
            "{} must be 0 (goods) or 1 (service), got {trade_type}",
            at("tradeType")
        ));
    }
    let trade_time = time(&req("tradeTime", 19)?, &at("tradeTime"))?;
    let currency = fields::currency(&req("tradeCurrency", 3)?, &at("tradeCurrency"))?;
    crate::api::describe::record(&at("tradeAmount"), "amount", true, &[]);
    let amount_value = map
        .get("tradeAmount")
        .filter(|v| !v.is_null())
        .ok_or_else(|| format!("{} is required", at("tradeAmount")))?;
    let trade_amount =
        Money::from_json(amount_value, currency).map_err(|e| e.about(&at("tradeAmount")))?;
    if !trade_amount.is_positive() {
        return Err(format!("{} must be greater than zero", at("tradeAmount")));
    }
    let trade_name = req("tradeName", 256)?;
    crate::api::describe::record(&at("tradeCount"), "integer", true, &[]);
    let trade_count = integer(map, "tradeCount", &at("tradeCount"))?
        .ok_or_else(|| format!("{} is required", at("tradeCount")))?;
    if trade_count < 1 {
        return Err(format!(
            "{} must be at least 1, got {trade_count}",
            at("tradeCount")
        ));
    }
    let payer_name = req("payerName", 128)?;
    let payer_country_code = req("payerCountryCode", 2)?;
    match country::check(&payer_country_code, Form::Alpha2) {
        Ok(()) => {}
        Err(Fault::Shape) => {
            return Err(format!(
                "{} must be an ISO 3166 alpha-2 code like RU, got {payer_country_code:?}",
                at("payerCountryCode")
            ))
        }
        Err(Fault::Unassigned) => {
            let field = at("payerCountryCode");
            return Err(country::not_assigned(&field, &payer_country_code, "RU"));
        }
    }
    let service_detail = opt("serviceDetail", 512)?;
    let service_time = match opt("serviceTime", 19)? {
        Some(t) => Some(time(&t, &at("serviceTime"))?),
        None => None,
    };
    if trade_type == 1 && service_detail.is_none() {
        return Err(format!(
            "{} is required for a service trade (tradeType 1)",
            at("serviceDetail")
        ));
    }
    let hs_code = opt("hsCode", 10)?;
    if let Some(code) = &hs_code {
        if code.len() < 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "{} must be 6 to 10 digits, got {code:?}",
                at("hsCode")
            ));
        }
    }
    Ok(TradeMaterial {
        trade_order_id,
        trade_order_no,
        trade_type,
        trade_time,
        trade_amount,
        trade_name,
        trade_count,
        trade_unit: opt("tradeUnit", 32)?,
        payer_name,
        payer_country_code,
        goods_carrier: opt("goodsCarrier", 128)?,
        goods_logistics_no: opt("goodsLogisticsNo", 64)?,
        service_detail,
        service_time,
        hs_code,
        memo: opt("memo", 256)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Value {
        json!({"tradeOrderId": "1", "tradeOrderNo": "OR1", "tradeType": 0,
               "tradeTime": "2024-02-29 23:59:59", "tradeCurrency": "JPY", "tradeAmount": 1200,
               "tradeName": "Lamp", "tradeCount": "3", "payerName": "b", "payerCountryCode": "RU"})
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
                json!("2023-02-29 10:00:00"),
                "materials[7].tradeTime: must be a time",
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
            ("tradeCurrency", json!("XXY"), "materials[7].tradeCurrency:"),
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
