//! `whalet-sim call <operation> --data JSON|@file [--surface whalet|platform|infinia|pockyt]`:
//! one request as the partner would send it, in the surface's own scheme (the Whalet envelope,
//! Infinia's RSA blocks, Pockyt's `verifySign`), with the reply opened and verified. Works
//! unchanged against the real test environment: only `--url` and the keys differ. The exit code
//! says how it ended (`super::exit`).

use std::process::ExitCode;

use super::exit;
use crate::partner::surfaces::{
    infinia_path, pockyt_path, signature_hash, InfiniaMerchant, PockytMerchant,
};
use crate::partner::{is_success, Answered, CallError, WhaletClient};
use crate::wire::keys::{demo, PrivateKey, PublicKey};

/// The API a command speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Surface {
    /// The Whalet Open API: `POST /api`, the operation is `head.apiCode`.
    Whalet,
    /// whalet-platform: `POST /v1/platform/<operation>`, the Whalet envelope.
    Platform,
    /// Infinia Pay: `POST /api/v1/<operation>` (e.g. `account-balance/query`).
    Infinia,
    /// Pockyt: `POST /<operation>` (e.g. `v3/payouts/balance`), signed with `verifySign`.
    Pockyt,
}

#[derive(clap::Args)]
#[command(after_help = exit::EXIT_CODES)]
pub struct CallArgs {
    /// The operation: a Whalet or platform apiCode (e.g. connectivity, balanceQuery), an Infinia
    /// path after /api/v1/ (e.g. account-balance/query) or a Pockyt path (e.g.
    /// v3/payouts/balance).
    api_code: String,
    /// The business body as JSON, or @file, sent as written (a number arrives as its own
    /// characters: `1e2` stays `1e2`). Pockyt: the parameters as a JSON object; merchantNo,
    /// storeNo and timestamp are added where missing, and verifySign.
    #[arg(long, default_value = "{}")]
    data: String,
    /// Which API the operation belongs to.
    #[arg(long, value_enum, default_value_t = Surface::Whalet, env = "WHALET_SIM_SURFACE")]
    surface: Surface,
    /// The simulator's base URL (Whalet requests go to its `/api`) or, for the Whalet surface, a
    /// full endpoint URL (the real test environment is https://test-open.whalet.com/api).
    #[arg(long, env = "WHALET_SIM_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Whalet and platform partnerId.
    #[arg(long, default_value = crate::api::whalet::partners::DEMO_PARTNER_ID)]
    partner_id: String,
    /// The caller's private key: the partner's, or the Infinia merchant's; a file path, @path,
    /// or the key itself (PEM or bare Base64 DER); default: the demo one.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    key: Option<String>,
    /// The provider's public key: Whalet's or Infinia's; a file path, @path, or the key itself
    /// (PEM or bare Base64 DER); default: the simulator's demo key.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    platform_key: Option<String>,
    /// Use this requestNo instead of a fresh one (Whalet and platform).
    #[arg(long)]
    request_no: Option<String>,
    /// Infinia appId.
    #[arg(long, default_value = crate::api::infinia::apps::DEMO_APP_ID)]
    app_id: String,
    /// Infinia signature hash of the app: sha256 or sha1.
    #[arg(long, default_value = "sha256")]
    infinia_alg: String,
    /// Pockyt merchantNo.
    #[arg(long, default_value = crate::config::pockyt::DEMO_MERCHANT_NO)]
    merchant_no: String,
    /// Pockyt storeNo.
    #[arg(long, default_value = crate::config::pockyt::DEMO_STORE_NO)]
    store_no: String,
    /// Print only this field of the reply (a dot path: `body.userId`, `data.accountBalances.0`,
    /// `ret_code`), a string without quotes, for `VAR=$(whalet-sim call ...)`.
    #[arg(long, value_name = "PATH")]
    get: Option<String>,
    /// Send nothing: print an example body of the operation, its fields (required or optional,
    /// kind, allowed values) and the operations that must come before it.
    #[arg(long)]
    example: bool,
    /// With --example: print it as JSON (the entry of `GET /__sim/operations`).
    #[arg(long, requires = "example")]
    json: bool,
    /// Pockyt API token (signs `verifySign`).
    #[arg(long, env = "WHALET_SIM_POCKYT_TOKEN", default_value = crate::config::pockyt::DEMO_TOKEN)]
    token: String,
}

/// The Open API endpoint of `url`: a URL without a path (`http://127.0.0.1:8080`, as
/// `WHALET_SIM_URL` holds it) means the simulator's `/api`; any other is used as given.
pub fn endpoint(url: &str) -> String {
    let url = url.trim_end_matches('/');
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    if after_scheme.contains('/') {
        url.to_owned()
    } else {
        format!("{url}/api")
    }
}

/// The exit code for a reply code: `SUCCESS` and `PROCESSING` are successes, any other code is
/// the provider's refusal.
pub fn reply_exit(code: &str) -> u8 {
    match code {
        "SUCCESS" | "PROCESSING" => exit::SUCCESS,
        _ => exit::REFUSED,
    }
}

/// The exit code for another surface's result code: Infinia `SUC-200` and Pockyt `000100` are
/// successes.
pub fn code_exit(code: &str) -> u8 {
    match code {
        "SUC-200" | "000100" => exit::SUCCESS,
        _ => reply_exit(code),
    }
}

/// The exit code of a verified reply: its code decides (a refusal is 5 whatever the HTTP
/// status), except that a success code under a status other than 2xx is not taken as a success:
/// the providers answer 2xx, so that status is a transport failure (a gateway's 503 in front of
/// a reply, a scenario's `http_status`).
fn answer_exit(answered: &Answered) -> u8 {
    match code_exit(&answered.code) {
        exit::SUCCESS if !is_success(answered.status) => exit::TRANSPORT,
        by_code => by_code,
    }
}

/// The exit code of a call that got no verified reply.
fn error_exit(e: &CallError) -> u8 {
    match e {
        CallError::Transport(_) | CallError::Http { .. } => exit::TRANSPORT,
        CallError::Reply(_) => exit::WIRE,
        CallError::Seal(_) => exit::ERROR,
    }
}

pub async fn run(args: CallArgs) -> anyhow::Result<ExitCode> {
    if args.example {
        return example(&args).await;
    }
    let body_text = match args.data.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {path}: {e}"))?
        }
        None => args.data.clone(),
    };
    // Checked, not rewritten: the body is sent as its own characters (`business_body`).
    let body = business_body(&body_text, args.surface)?;
    let base = args.url.trim_end_matches('/').to_owned();
    let (target, answered) = match args.surface {
        Surface::Whalet => {
            let url = endpoint(&args.url);
            let answered = whalet(&args, &url, body).await?;
            (url, answered)
        }
        Surface::Platform => {
            let url = format!("{base}/v1/platform/{}", args.api_code);
            let answered = whalet(&args, &url, body).await?;
            (url, answered)
        }
        Surface::Infinia => {
            let key = own_key(&args, demo::INFINIA_MERCHANT_PRIVATE)?;
            let infinia_public = provider_key(&args, demo::INFINIA_PUBLIC)?;
            let url = format!("{base}{}", infinia_path(&args.api_code));
            let merchant = InfiniaMerchant {
                base_url: base,
                app_id: args.app_id.clone(),
                version: "1.0".into(),
                key,
                infinia_public,
                alg: signature_hash(&args.infinia_alg).map_err(anyhow::Error::msg)?,
            };
            (url, merchant.call(&args.api_code, body).await)
        }
        Surface::Pockyt => {
            let url = format!("{base}{}", pockyt_path(&args.api_code));
            let merchant = PockytMerchant {
                base_url: base,
                merchant_no: args.merchant_no.clone(),
                store_no: args.store_no.clone(),
                token: args.token.clone(),
            };
            (url, merchant.call(&args.api_code, body).await)
        }
    };
    match answered {
        Ok(answered) => finish(&answered, &target, args.get.as_deref()),
        Err(e) => {
            eprintln!("error: {e} ({target})");
            Ok(exit::code(error_exit(&e)))
        }
    }
}

/// `--data` checked to be JSON (for Pockyt, a JSON object of parameters), returned as written:
/// it is sealed and signed as these characters, never parsed and printed again, which would
/// send numbers the user did not write (`1e2` as `100.0`, `1.0000000000000001` as `1.0`).
fn business_body(text: &str, surface: Surface) -> anyhow::Result<&str> {
    let body: serde_json::Value =
        serde_json::from_str(text).map_err(|e| anyhow::anyhow!("--data is not JSON: {e}"))?;
    if surface == Surface::Pockyt && !body.is_object() {
        anyhow::bail!("--data for Pockyt is a JSON object of parameters");
    }
    Ok(text)
}

/// Prints a verified reply and exits by it (`answer_exit`). A status other than 2xx is named on
/// stderr, whatever the reply says. With `--get`, a reply that is not a success is printed whole
/// on stderr (the field asked for is not there): a script sees an empty capture and the code.
fn finish(answered: &Answered, target: &str, get: Option<&str>) -> anyhow::Result<ExitCode> {
    let code = answer_exit(answered);
    if !is_success(answered.status) {
        let verdict = match code {
            exit::TRANSPORT => "the provider answers 2xx, so this is a transport failure",
            _ => "the provider's refusal",
        };
        eprintln!(
            "error: HTTP {} with the reply code {} ({target}): {verdict}",
            answered.status, answered.code
        );
    }
    if code != exit::SUCCESS && get.is_some() {
        eprintln!("{}", serde_json::to_string_pretty(&answered.json)?);
    } else {
        super::print_answer(&answered.json, get)?;
    }
    Ok(exit::code(code))
}

/// `--example`: the operation as the simulator at `--url` describes it (`GET
/// /__sim/operations`, so its configured names and contract overlay apply); when no simulator
/// answers there, as a simulator built here with the default configuration describes it
/// (`crate::api::describe`). Nothing is sent.
async fn example(args: &CallArgs) -> anyhow::Result<ExitCode> {
    let surface = match args.surface {
        Surface::Whalet => "whalet",
        Surface::Platform => "platform",
        Surface::Infinia => "infinia",
        Surface::Pockyt => "pockyt",
    };
    let wanted = args.api_code.trim_matches('/');
    let named = |op: &serde_json::Value| {
        op["surface"] == surface && op["name"].as_str().map(|n| n.trim_matches('/')) == Some(wanted)
    };
    // The partner this call acts as: the listing is in the names of its contract overlay.
    let tenant = match args.surface {
        Surface::Whalet | Surface::Platform => format!("whalet:{}", args.partner_id),
        Surface::Infinia => format!("infinia:{}", args.app_id),
        Surface::Pockyt => format!("pockyt:{}", args.merchant_no),
    };
    let op = match remote_operations(&args.url, surface, Some(&tenant)).await {
        Some(listed) => listed.into_iter().find(named),
        None => {
            eprintln!(
                "note: no simulator answered at {}; the example is the default configuration's",
                args.url
            );
            let app = crate::app::App::new(
                crate::config::Config::default(),
                crate::app::Options::default(),
            )?;
            let all = crate::api::catalog::operations(app.core());
            let listed = serde_json::to_value(&all)?;
            let found = listed.as_array().into_iter().flatten().find(|op| named(op));
            let Some(op) = found.cloned() else {
                // Pockyt names are paths: compared with their leading slash, as the server does.
                let given = match args.surface {
                    Surface::Pockyt => format!("/{wanted}"),
                    _ => args.api_code.clone(),
                };
                eprintln!(
                    "error: {} is not a {} operation: {}",
                    args.api_code,
                    crate::api::catalog::surface_title(surface),
                    crate::api::catalog::unknown(app.core(), surface, &given)
                );
                return Ok(exit::code(exit::USAGE));
            };
            Some(op)
        }
    };
    let Some(op) = op else {
        // Only a listing from the simulator at --url gets here: name its nearest operation.
        let listed = remote_operations(&args.url, surface, Some(&tenant))
            .await
            .unwrap_or_default();
        let names: Vec<&str> = listed.iter().filter_map(|op| op["name"].as_str()).collect();
        let given = match args.surface {
            Surface::Pockyt => format!("/{wanted}"),
            _ => args.api_code.clone(),
        };
        let hint = crate::text::nearest(&given, &names)
            .map(|near| format!("did you mean `{near}`? "))
            .unwrap_or_default();
        eprintln!(
            "error: {} is not a {} operation of the simulator at {}: {hint}GET /__sim/operations lists them",
            args.api_code,
            crate::api::catalog::surface_title(surface),
            args.url
        );
        return Ok(exit::code(exit::USAGE));
    };
    if args.json {
        super::out(serde_json::to_string_pretty(&op)?);
    } else {
        super::out(example_text(&op)?);
    }
    Ok(exit::code(exit::SUCCESS))
}

/// The operations of `surface` that the simulator at `url` lists, in the names of `tenant`'s
/// contract overlay (the default overlay's when that tenant is not configured there), or None
/// when nothing there answers as a simulator does (within 2 s).
async fn remote_operations(
    url: &str,
    surface: &str,
    tenant: Option<&str>,
) -> Option<Vec<serde_json::Value>> {
    let base = url.trim_end_matches('/').trim_end_matches("/api");
    let url = format!("{base}/__sim/operations?surface={surface}");
    let client = crate::http::client::HttpClient::new();
    let get = |url: String| {
        let client = &client;
        async move {
            client
                .get(&url, std::time::Duration::from_secs(2))
                .await
                .ok()
        }
    };
    let mut response = match tenant {
        Some(t) => get(format!("{url}&tenant={t}")).await?,
        None => get(url.clone()).await?,
    };
    if response.status == 404 && tenant.is_some() {
        response = get(url).await?;
    }
    if response.status != 200 {
        return None;
    }
    let mut listing: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
    match listing.get_mut("operations")?.take() {
        serde_json::Value::Array(ops) => Some(ops),
        _ => None,
    }
}

/// The human form of `--example` (from the JSON form, an entry of `GET /__sim/operations`): the
/// request, the body, a table of the fields, what it needs.
pub fn example_text(op: &serde_json::Value) -> anyhow::Result<String> {
    let text_of = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let fields: Vec<[String; 4]> = op["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let presence = match (f["or"].as_str(), f["required"].as_bool()) {
                (Some(other), _) => format!("this or {other}"),
                (None, Some(true)) => match f["when"].as_str() {
                    Some(condition) => format!("required if {condition}"),
                    None => "required".to_owned(),
                },
                (None, _) => "optional".to_owned(),
            };
            let allowed: Vec<String> = f["allowed"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text_of)
                .collect();
            [
                text_of(&f["name"]),
                presence,
                text_of(&f["kind"]),
                allowed.join(", "),
            ]
        })
        .collect();
    let mut text = format!("{}\n", text_of(&op["request"]));
    text.push_str(&serde_json::to_string_pretty(&op["example"])?);
    text.push_str("\n\n");
    let width = |i: usize, least: usize| {
        fields
            .iter()
            .map(|f| f[i].chars().count())
            .max()
            .unwrap_or(least)
            .max(least)
    };
    let (name_w, presence_w) = (width(0, 5), width(1, 8));
    text.push_str(&format!(
        "{:<name_w$}  {:<presence_w$}  {:<9}  allowed\n",
        "field", "presence", "kind"
    ));
    for [name, presence, kind, allowed] in &fields {
        let line = format!("{name:<name_w$}  {presence:<presence_w$}  {kind:<9}  {allowed}");
        text.push_str(line.trim_end());
        text.push('\n');
    }
    let needs: Vec<String> = op["needs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text_of)
        .collect();
    if needs.is_empty() {
        text.push_str("needs: nothing before it");
    } else {
        text.push_str(&format!("needs: {}", needs.join("; ")));
    }
    Ok(text)
}

fn own_key(args: &CallArgs, default: &str) -> anyhow::Result<PrivateKey> {
    super::key_flag("key", args.key.as_deref(), default)
}

fn provider_key(args: &CallArgs, default: &str) -> anyhow::Result<PublicKey> {
    super::key_flag("platform-key", args.platform_key.as_deref(), default)
}

/// A Whalet-envelope call (Open API or platform) to `url`; Err when a key cannot be read.
async fn whalet(
    args: &CallArgs,
    url: &str,
    body: &str,
) -> anyhow::Result<Result<Answered, CallError>> {
    let (key, platform) = super::partner_keys(args.key.as_deref(), args.platform_key.as_deref())?;
    let client = WhaletClient::new(url, &args.partner_id, key, platform);
    let request_no = args
        .request_no
        .clone()
        .unwrap_or_else(|| client.next_request_no());
    Ok(client.exchange(&args.api_code, &request_no, body).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_means_the_api_path() {
        assert_eq!(
            endpoint("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/api"
        );
        assert_eq!(
            endpoint("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080/api"
        );
        assert_eq!(
            endpoint("https://test-open.whalet.com/api"),
            "https://test-open.whalet.com/api"
        );
        assert_eq!(
            endpoint("http://h:1/api/connectivity"),
            "http://h:1/api/connectivity"
        );
    }

    #[test]
    fn a_conditionally_required_field_says_when() {
        let op = serde_json::json!({
            "request": "POST /api b2cShopBind",
            "example": {"operationType": "BIND", "shopName": "Shop"},
            "fields": [
                {"name": "operationType", "kind": "enum", "required": true,
                 "allowed": ["BIND", "ADD", "UNBIND"]},
                {"name": "shopName", "kind": "text", "required": true,
                 "when": "operationType is BIND or ADD"},
            ],
        });
        let text = example_text(&op).unwrap();
        let line = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            line("shopName").contains("required if operationType is BIND or ADD"),
            "{text}"
        );
        assert!(line("operationType").contains("required "), "{text}");
    }

    #[test]
    fn a_status_other_than_2xx_turns_only_a_success_into_a_transport_failure() {
        let answered = |status, code: &str| Answered {
            status,
            code: code.to_owned(),
            json: serde_json::Value::Null,
        };
        assert_eq!(answer_exit(&answered(200, "SUC-200")), exit::SUCCESS);
        assert_eq!(answer_exit(&answered(503, "SUC-200")), exit::TRANSPORT);
        assert_eq!(answer_exit(&answered(502, "PROCESSING")), exit::TRANSPORT);
        assert_eq!(answer_exit(&answered(429, "000040")), exit::REFUSED);
        assert_eq!(answer_exit(&answered(500, "INTERNAL_ERROR")), exit::REFUSED);
    }

    #[test]
    fn processing_is_a_success_and_other_codes_are_refusals() {
        assert_eq!(reply_exit("SUCCESS"), exit::SUCCESS);
        assert_eq!(reply_exit("PROCESSING"), exit::SUCCESS);
        assert_eq!(reply_exit("PARAMETER_ERROR"), exit::REFUSED);
        assert_eq!(code_exit("SUC-200"), exit::SUCCESS);
        assert_eq!(code_exit("000100"), exit::SUCCESS);
        assert_eq!(code_exit("PARAM-400"), exit::REFUSED);
        assert_eq!(code_exit("100001"), exit::REFUSED);
    }
}
