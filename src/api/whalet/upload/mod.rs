//! File upload (文件上传, seed 001 §3): `POST /file/upload` (multipart/form-data with the text
//! fields `partnerId`, `timestamp`, `token` — also accepted as headers — and the file part
//! `file`), answering `{code, detail, info}`; and `GET /file/{partnerId}/{fileId}/{name}`, which
//! serves an uploaded file back from memory. The text fields are taken as sent, once each; the
//! `fileUrl`'s base is every handed-out link's (`crate::api::base_url`). The token is the
//! partner's hex SHA1withRSA over `partnerId|timestamp`, valid for 30 minutes of virtual time.
//! Files are kept per partner, at most [`MAX_STORED_BYTES`] in all; the fileIds are what other
//! operations reference.
//!
//! A file is served only to whoever holds the `fileUrl` its upload returned: the URL carries a
//! random per-file key (`?key=`, 128 bits from the OS CSPRNG), kept in the stored URL. A wrong or
//! missing key, another partner's id and an unknown fileId all get the same `404`, so neither
//! fileIds nor keys can be probed.

use std::borrow::Cow;

use bytes::Bytes;
use serde_json::{json, Value};

use crate::api::pipeline::{self, Answer, Opened, Refusal, Refused, Scheme, Trace};
use crate::api::whalet::common::fields::MAX_TEXT;
use crate::api::whalet::common::mint_file_id;
use crate::core::{Core, TenantMissing};
use crate::http::{SimRequest, SimResponse};
use crate::store::whalet_trade::StoredFile;
use crate::tenant::{Provider, TenantId};

/// The documented per-file limit (10 MB).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The upload's operation name (journal, scenario rules, coverage).
pub const OPERATION: &str = "/file/upload";
/// What one partner may keep in memory in all.
pub const MAX_STORED_BYTES: usize = 256 * 1024 * 1024;
/// The documented file types, by extension.
pub const FILE_TYPES: &[(&str, &str)] = &[
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("bmp", "image/bmp"),
    ("pdf", "application/pdf"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("csv", "text/csv"),
    ("txt", "text/plain"),
    ("zip", "application/zip"),
    ("rar", "application/vnd.rar"),
];

/// The refusal of a file part without a plain `filename`: its type is read from the name's
/// extension. RFC 7578 §4.2 says a form must not use the RFC 5987 `filename*`, so it is not read.
const NO_FILE_NAME: &str = "the part \"file\" names no file: its Content-Disposition needs \
     filename=\"<name>.<ext>\" (filename* is not read: RFC 7578 forbids it in a form)";

/// Why a file cannot keep `name`: one the file references (`attaches[]`, `tradeCredential[]`,
/// `{fileId, fileName, fileUrl}`) refuse as their `fileName`, longer than [`MAX_TEXT`]
/// characters, so the `info` the upload answers could never be passed back as it is.
fn refused_name(name: &str) -> Option<String> {
    let chars = name.chars().count();
    (chars > MAX_TEXT).then(|| {
        format!(
            "the file name {} is {chars} characters long; a file name has at most {MAX_TEXT} \
             (the most a file reference's fileName takes, in attaches[] or tradeCredential[]): \
             give the file a shorter name",
            crate::text::echo(name)
        )
    })
}

/// A refusal: `{code, detail, info: null}`.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct UploadError {
    code: String,
    detail: String,
}

fn refuse(code: &str, detail: impl Into<String>) -> UploadError {
    UploadError {
        code: code.to_owned(),
        detail: detail.into(),
    }
}

/// The pipeline's refusals in the upload's `{code, detail}`.
impl pipeline::WireError for UploadError {
    fn refused(refused: Refused) -> Self {
        match refused {
            // The request body's limit: the file's own (10 MB) is checked once it is read.
            Refused::TooLarge { limit } => refuse(
                "PARAMETER_ERROR",
                format!(
                    "the request body exceeds the limit of {limit} bytes (a file of at most \
                     {MAX_FILE_BYTES} bytes (10 MB) plus the multipart framing)"
                ),
            ),
            Refused::DuplicateRequestNo { request_no, .. } => refuse(
                "REQUEST_NO_NOT_UNIQUE",
                format!("{request_no:?} was already used"),
            ),
            Refused::Forced { code, detail } => {
                let detail = detail.unwrap_or_else(|| format!("{code} (scenario rule)"));
                refuse(&code, detail)
            }
            Refused::Internal => refuse("INTERNAL_ERROR", "internal error; see the simulator log"),
        }
    }

    fn is_internal(&self) -> bool {
        self.code == "INTERNAL_ERROR"
    }
}

impl From<TenantMissing> for UploadError {
    fn from(e: TenantMissing) -> Self {
        refuse("INTERNAL_ERROR", e.to_string())
    }
}

#[derive(Default)]
struct Form {
    partner_id: Option<String>,
    timestamp: Option<String>,
    token: Option<String>,
    /// The file part: the name its `Content-Disposition` gives (`filename`), and its bytes.
    file: Option<(Option<String>, Bytes)>,
    files: usize,
}

/// Reads the form into `form`: what was read before a refusal stays there, for the journal.
async fn read_form(req: &SimRequest, form: &mut Form) -> Result<(), UploadError> {
    let content_type = req.header("content-type").unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        refuse("PARAMETER_ERROR", format!("the request must be multipart/form-data with a boundary, got content-type {content_type:?}"))
    })?;
    let body = req.body.clone();
    let stream =
        futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                return Err(refuse(
                    "PARAMETER_ERROR",
                    format!("the multipart body cannot be read: {e}"),
                ))
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let data = field.bytes().await.map_err(|e| {
            refuse(
                "PARAMETER_ERROR",
                format!("part {name:?} cannot be read: {e}"),
            )
        })?;
        match name.as_str() {
            "file" => {
                form.files += 1;
                form.file = Some((file_name, data));
            }
            "partnerId" => set_once(&mut form.partner_id, &name, &data)?,
            "timestamp" => set_once(&mut form.timestamp, &name, &data)?,
            "token" => set_once(&mut form.token, &name, &data)?,
            _ => {}
        }
    }
    // A header's surrounding whitespace is not part of its value (RFC 9110 §5.5).
    let header = |n: &str| req.header(n).map(|v| v.trim().to_owned());
    form.partner_id = form.partner_id.take().or_else(|| header("partnerId"));
    form.timestamp = form.timestamp.take().or_else(|| header("timestamp"));
    form.token = form.token.take().or_else(|| header("token"));
    Ok(())
}

/// The journal's copy of a form as far as it was read: its `partnerId`, `timestamp`, the file's
/// `fileName` and `size`, each when it was sent (the shape of an accepted upload's). Never the
/// file's bytes, nor the token, a credential the upload's refusal describes instead (as the
/// Open API's journal keeps no `sign`). None when nothing was read.
fn journal_form(form: &Form) -> Option<Value> {
    let mut fields = serde_json::Map::new();
    let texts = [
        ("partnerId", &form.partner_id),
        ("timestamp", &form.timestamp),
    ];
    for (name, value) in texts {
        if let Some(value) = value {
            fields.insert(name.into(), json!(value));
        }
    }
    if let Some((name, data)) = &form.file {
        if let Some(name) = name {
            fields.insert("fileName".into(), json!(name));
        }
        fields.insert("size".into(), json!(data.len()));
    }
    (!fields.is_empty()).then_some(Value::Object(fields))
}

/// Takes a credential form field as sent: a second part of the same name is refused (which one
/// would count?), as a second file part is, and so is whitespace around the value, which is
/// not signed by the token and would otherwise be dropped silently.
fn set_once(slot: &mut Option<String>, name: &str, data: &[u8]) -> Result<(), UploadError> {
    if slot.is_some() {
        return Err(refuse(
            "PARAMETER_ERROR",
            format!("the form field {name:?} is sent more than once; send it exactly once"),
        ));
    }
    let value = String::from_utf8_lossy(data).into_owned();
    if value.trim() != value {
        return Err(refuse(
            "PARAMETER_ERROR",
            format!(
                "the form field {name:?} has whitespace around its value {}; send the value alone",
                crate::text::echo(&value)
            ),
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// The extension of a file name, lowercased, if it is a documented type.
fn file_type(name: &str) -> Option<(&'static str, &'static str)> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    FILE_TYPES.iter().copied().find(|(e, _)| *e == ext)
}

/// A file name safe to put in a URL path.
fn url_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What an upload carries to its handler once authenticated.
pub struct Session {
    partner_id: String,
    name: String,
    content_type: &'static str,
    data: Bytes,
    /// The base of the `fileUrl` (`crate::api::base_url`, the rule of every link handed out).
    base: String,
}

/// How much of an upload's body [`claimed_form_field`] looks at: the form fields that precede
/// the file part, not the file.
const CLAIM_SCAN: usize = 16 * 1024;

/// The value of the multipart form field `name` as a scan of the first [`CLAIM_SCAN`] bytes of
/// `body` finds it: the first part whose disposition names it (`name="…"`), up to the end of
/// its value's line. A claim, not a parse ([`FileUpload::claimed_tenant`]): None when the part
/// is not found as written there (a field sent after a large file part is not looked for) or
/// its value is not short UTF-8.
fn claimed_form_field<'r>(body: &'r [u8], name: &str) -> Option<Cow<'r, str>> {
    let body = &body[..body.len().min(CLAIM_SCAN)];
    let marker = format!("name=\"{name}\"");
    let at = body
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())?;
    let rest = &body[at + marker.len()..];
    let start = rest.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let value = &rest[start..];
    let end = value.windows(2).position(|w| w == b"\r\n")?;
    if end > 64 {
        return None;
    }
    std::str::from_utf8(&value[..end])
        .ok()
        .map(|v| Cow::Borrowed(v.trim()))
}

/// `POST /file/upload`.
pub async fn upload(core: &Core, req: SimRequest) -> SimResponse {
    pipeline::handle(&FileUpload, core, req, "/file/upload").await
}

/// The upload's scheme: a multipart form authenticated by the upload token.
pub struct FileUpload;

impl Scheme for FileUpload {
    const SURFACE: &'static str = "file";
    const RULE_SURFACE: &'static str = "whalet";
    type Echo = ();
    type Session = Session;
    type Error = UploadError;
    type Reply = Value;

    fn body_limit(&self, _core: &Core) -> usize {
        crate::http::MAX_BODY
    }

    /// The configured partner the upload names, unproven: its `partnerId` form field, found by a
    /// scan of the body for the part of that name (the form is not parsed), else its header.
    fn claimed_tenant<'r>(&self, core: &Core, req: &'r SimRequest) -> Option<pipeline::Claim<'r>> {
        let id = claimed_form_field(&req.body, "partnerId")
            .or_else(|| req.header("partnerId").map(|v| Cow::Borrowed(v.trim())))?;
        core.partners().get(&id)?;
        Some(pipeline::Claim {
            provider: Provider::Whalet,
            id,
        })
    }

    async fn open(
        &self,
        core: &Core,
        req: &SimRequest,
        _route: &str,
        _echo: &mut (),
        trace: &mut Trace,
    ) -> Result<Opened<Session>, Refusal<UploadError>> {
        trace.request = Some(Value::String(format!("<{} bytes>", req.body.len())));
        let mut form = Form::default();
        let read = read_form(req, &mut form).await;
        if let Some(fields) = journal_form(&form) {
            trace.request = Some(fields);
        }
        read?;
        let partner_id = form.partner_id.filter(|p| !p.is_empty()).ok_or_else(|| {
            refuse(
                "PARAMETER_ERROR",
                "partnerId is required (form field or header)",
            )
        })?;
        let partner = core.partners().get(&partner_id).ok_or_else(|| {
            refuse(
                "PARTNER_NOT_EXIST",
                crate::api::whalet::unknown_partner(core, &partner_id, None),
            )
        })?;
        let tenant = TenantId::new(Provider::Whalet, partner.id.clone());
        trace.tenant = Some(tenant.clone());
        let timestamp = form.timestamp.ok_or_else(|| {
            refuse(
                "PARAMETER_ERROR",
                "timestamp is required (13-digit milliseconds)",
            )
        })?;
        let token = form
            .token
            .ok_or_else(|| refuse("UNAUTHENTICATED_ERROR", "invalid token: token is required"))?;
        crate::wire::upload_token::check(
            &partner.public_key,
            &partner_id,
            &timestamp,
            &token,
            core.clock().now(),
        )
        .map_err(|why| refuse("UNAUTHENTICATED_ERROR", why))?;
        if form.files != 1 {
            return Err(refuse(
                "PARAMETER_ERROR",
                format!(
                    "exactly one part named \"file\" is required, got {}",
                    form.files
                ),
            )
            .into());
        }
        let Some((name, data)) = form.file else {
            return Err(refuse("PARAMETER_ERROR", "the part \"file\" is required").into());
        };
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return Err(refuse("PARAMETER_ERROR", NO_FILE_NAME).into());
        };
        if let Some(why) = refused_name(&name) {
            return Err(refuse("PARAMETER_ERROR", why).into());
        }
        let Some((_, content_type)) = file_type(&name) else {
            let kinds: Vec<&str> = FILE_TYPES.iter().map(|(e, _)| *e).collect();
            return Err(refuse(
                "PARAMETER_ERROR",
                format!(
                    "file type of {name:?} is not supported; supported: {}",
                    kinds.join(", ")
                ),
            )
            .into());
        };
        if data.len() > MAX_FILE_BYTES {
            return Err(refuse(
                "PARAMETER_ERROR",
                format!(
                    "the file is {} bytes; the limit is {MAX_FILE_BYTES} bytes (10 MB)",
                    data.len()
                ),
            )
            .into());
        }
        if data.is_empty() {
            return Err(refuse("PARAMETER_ERROR", "the file is empty").into());
        }
        let body = json!({"partnerId": partner_id, "timestamp": timestamp, "fileName": name, "size": data.len()});
        trace.request = Some(body.clone());
        Ok(Opened {
            tenant,
            operation: OPERATION,
            body,
            request_no: None,
            session: Session {
                partner_id,
                name,
                content_type,
                data,
                base: crate::api::base_url::base_url(
                    req,
                    core.config().platform.public_url.as_deref(),
                ),
            },
        })
    }

    fn run(&self, ctx: &pipeline::Ctx<'_, Session>, _body: &Value) -> Result<Value, UploadError> {
        let Session {
            partner_id,
            name,
            content_type,
            data,
            base,
        } = ctx.session;
        let now = ctx.now();
        ctx.try_with_state(|t| {
            if t.whalet_trade.file_bytes.saturating_add(data.len()) > MAX_STORED_BYTES {
                return Err(refuse("FAILURE", format!("partner {partner_id} already stores {} bytes of files; the simulator keeps at most {MAX_STORED_BYTES} (reset the tenant to free them)", t.whalet_trade.file_bytes)));
            }
            let file_id = mint_file_id(t, now);
            let url = format!(
                "{base}/file/{partner_id}/{file_id}/{}?key={}",
                url_name(name),
                access_key()
            );
            t.whalet_trade.file_bytes += data.len();
            t.whalet_trade.files.insert(
                file_id.clone(),
                StoredFile {
                    file_id: file_id.clone(),
                    file_name: name.clone(),
                    file_url: url.clone(),
                    content_type: (*content_type).to_owned(),
                    size: data.len(),
                    uploaded_at: now,
                    bytes: data.clone(),
                },
            );
            Ok(json!({"fileId": file_id, "fileName": name, "fileUrl": url}))
        })
    }

    fn seal_reply(
        &self,
        _core: &Core,
        _echo: &(),
        _opened: &Opened<Session>,
        info: Value,
        status: u16,
    ) -> Result<Answer, UploadError> {
        let reply = json!({"code": "SUCCESS", "detail": "成功", "info": info});
        Ok(answer(status, reply))
    }

    /// `{code, detail, info: null}`, the `detail` on the wire as wide as the Open API's
    /// ([`crate::api::whalet::with_wire_detail`]); the journal keeps it whole.
    fn seal_refusal(
        &self,
        core: &Core,
        _echo: &(),
        err: UploadError,
        status: Option<u16>,
    ) -> Answer {
        let status = status.unwrap_or(200);
        let response = crate::api::whalet::with_wire_detail(core, &err.detail, |wire_detail| {
            SimResponse::json_value(
                status,
                &json!({"code": err.code, "detail": wire_detail, "info": null}),
            )
        });
        Answer {
            response,
            reply: json!({"code": err.code, "detail": err.detail, "info": null}),
            code: err.code,
            detail: err.detail,
        }
    }
}

fn answer(status: u16, reply: Value) -> Answer {
    Answer {
        response: SimResponse::json_value(status, &reply),
        code: reply["code"].as_str().unwrap_or("").to_owned(),
        detail: reply["detail"].as_str().unwrap_or("").to_owned(),
        reply,
    }
}

/// A file's access key: 128 random bits, hex.
fn access_key() -> String {
    use rand::RngCore;
    let mut key = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut key);
    hex::encode(key)
}

/// The access key in a stored `fileUrl` (what follows the last `?key=`).
fn key_of(url: &str) -> &str {
    url.rsplit_once("?key=").map_or("", |(_, key)| key)
}

/// Equal, in a time that does not depend on where they differ.
fn same_key(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    !a.is_empty() && a.len() == b.len() && std::hint::black_box(diff) == 0
}

/// `GET /file/{partnerId}/{fileId}[/{name}]?key=…`: only with the key of the file's `fileUrl`.
pub fn serve(core: &Core, req: &SimRequest, partner_id: &str, file_id: &str) -> SimResponse {
    let tenant = TenantId::new(Provider::Whalet, partner_id);
    let given = req.query_param("key").unwrap_or_default();
    let found = core
        .with_tenant(&tenant, |t| {
            t.whalet_trade
                .files
                .get(file_id)
                .filter(|f| same_key(key_of(&f.file_url), &given))
                .map(|f| (f.content_type.clone(), f.file_name.clone(), f.bytes.clone()))
        })
        .ok()
        .flatten();
    match found {
        Some((_, name, bytes)) => SimResponse::Reply {
            status: 200,
            content_type: file_type(&name).map_or("application/octet-stream", |(_, ct)| ct),
            headers: vec![
                (
                    "content-disposition".into(),
                    format!("inline; filename=\"{}\"", url_name(&name)),
                ),
                // A partner's file is never run as a page or script of the simulator's origin.
                ("x-content-type-options".into(), "nosniff".into()),
                ("content-security-policy".into(), "sandbox".into()),
            ],
            body: bytes,
        },
        None => SimResponse::json_value(
            404,
            &json!({"code": "FAILURE", "detail": format!("no file {file_id:?} uploaded by partner {partner_id:?} with this key (use the fileUrl the upload returned)"), "info": null}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(name: &str, value: &str) -> String {
        format!("--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    }

    /// The CPU gate's claim of an upload: the `partnerId` part as the form holds it, found by a
    /// scan of the body's start; not found after a large file part, nor when cut or too long.
    #[test]
    fn an_uploads_partner_is_claimed_from_the_forms_start() {
        let fields = part("timestamp", "1") + &part("partnerId", " 202400000000001 ");
        let body = format!("{fields}--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF\r\n--B--\r\n");
        assert_eq!(
            claimed_form_field(body.as_bytes(), "partnerId").as_deref(),
            Some("202400000000001")
        );
        assert_eq!(
            claimed_form_field(body.as_bytes(), "timestamp").as_deref(),
            Some("1")
        );
        assert_eq!(claimed_form_field(body.as_bytes(), "token"), None);
        let late = format!(
            "{}{}",
            part("file", &"x".repeat(CLAIM_SCAN)),
            part("partnerId", "202400000000001")
        );
        assert_eq!(claimed_form_field(late.as_bytes(), "partnerId"), None);
        let cut = "--B\r\nContent-Disposition: form-data; name=\"partnerId\"\r\n\r\n2024";
        assert_eq!(claimed_form_field(cut.as_bytes(), "partnerId"), None);
        let long = part("partnerId", &"9".repeat(65));
        assert_eq!(claimed_form_field(long.as_bytes(), "partnerId"), None);
    }
}
