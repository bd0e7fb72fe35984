//! `whalet-sim call <operation> --data JSON|@file [--surface whalet|platform|infinia|pockyt]`:
//! one request as the partner would send it, in the surface's own scheme (the Whalet envelope,
//! Infinia's RSA blocks, Pockyt's `verifySign`), with the reply opened and verified. Works
//! unchanged against the real test environment: only `--url` and the keys differ. The exit code
//! says how it ended (`super::exit`).

use std::process::ExitCode;

use super::exit;
use crate::partner::surfaces::{
    infinia_path, pockyt_path, signature_hash_arg, InfiniaMerchant, PockytMerchant,
};
use crate::partner::{is_success, Answered, CallError, WhaletClient};
use crate::wire::crypto::SignatureHash;
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

impl Surface {
    /// The surface as `--surface` names it (and the control plane's listing).
    pub fn name(self) -> &'static str {
        match self {
            Surface::Whalet => "whalet",
            Surface::Platform => "platform",
            Surface::Infinia => "infinia",
            Surface::Pockyt => "pockyt",
        }
    }
}

/// The operation `text` names on `surface`, as `GET /__sim/operations` names it and as a request
/// carries it: a Whalet apiCode as given (it travels in the sealed head, and may be anything a
/// partner wants to try); a path (platform, Infinia, Pockyt) without the surface's own prefix
/// when given whole (`/v1/platform/…`, `/api/v1/…`) and without the slashes at its ends. One
/// reading for sending and for `--example`, so that both take the same texts alike
/// (`/account-balance/query/` is `account-balance/query` for both).
fn operation_name(surface: Surface, text: &str) -> &str {
    let prefix = match surface {
        Surface::Whalet => return text,
        Surface::Platform => "v1/platform/",
        Surface::Infinia => "api/v1/",
        Surface::Pockyt => "",
    };
    let bare = text.trim_matches('/');
    if !prefix.is_empty() && bare == prefix.trim_end_matches('/') {
        return ""; // the prefix alone names no operation
    }
    bare.strip_prefix(prefix).unwrap_or(bare).trim_matches('/')
}

/// The flags of `call` and `listen` that some surfaces only use, by clap id, with those
/// surfaces. Pockyt signs with `--token` alone; the RSA keys are the other surfaces'.
const SURFACE_FLAGS: &[(&str, &[Surface])] = &[
    ("key", RSA_KEYED),
    ("platform_key", RSA_KEYED),
    ("infinia_alg", &[Surface::Infinia]),
    ("app_id", &[Surface::Infinia]),
    ("unsigned", &[Surface::Infinia]),
    ("token", &[Surface::Pockyt]),
    ("merchant_no", &[Surface::Pockyt]),
    ("store_no", &[Surface::Pockyt]),
    ("partner_id", &[Surface::Whalet, Surface::Platform]),
    ("request_no", &[Surface::Whalet, Surface::Platform]),
];

/// The surfaces that sign and seal with RSA keys (`--key`, `--platform-key`).
const RSA_KEYED: &[Surface] = &[Surface::Whalet, Surface::Platform, Surface::Infinia];

/// A flag typed on the command line (`typed`: the clap ids given there, not by a variable or a
/// default) that `surface` does not use is a usage error of `command` naming it and the surfaces
/// that use it, rather than silently ignored: it is most often the sign of the wrong surface
/// (`--infinia-alg sha1` on a Whalet call). One check for `call` and `listen`, so both refuse
/// the same flags the same way. A variable (`WHALET_SIM_POCKYT_TOKEN`) set for one surface is not
/// refused on another; a surface set by `WHALET_SIM_SURFACE` is named by it.
pub(super) fn check_surface_flags(
    command: &str,
    surface: Surface,
    typed: &[String],
) -> Result<(), clap::Error> {
    let unused = SURFACE_FLAGS
        .iter()
        .find(|(id, users)| typed.iter().any(|t| t == id) && !users.contains(&surface));
    let Some((id, users)) = unused else {
        return Ok(());
    };
    let names: Vec<&str> = users.iter().map(|s| s.name()).collect();
    Err(super::usage_error(
        command,
        clap::error::ErrorKind::ArgumentConflict,
        format!(
            "--{} is not used by {} (only by --surface {})",
            id.replace('_', "-"),
            super::arg_name(command, "surface", typed).with_value(surface.name()),
            names.join(", ")
        ),
    ))
}

#[derive(clap::Args)]
#[command(after_help = exit::EXIT_CODES)]
pub struct CallArgs {
    /// The operation: a Whalet or platform apiCode (e.g. connectivity, balanceQuery), an Infinia
    /// path after /api/v1/ (e.g. account-balance/query) or a Pockyt path (e.g.
    /// v3/payouts/balance).
    api_code: String,
    /// The business body as JSON, or @file, or @- for standard input (at most 16 MiB), sent as
    /// written (a number arrives as its own characters: `1e2` stays `1e2`). Pockyt: the parameters as a JSON object; merchantNo,
    /// storeNo and timestamp are added where missing, and verifySign.
    #[arg(long, default_value = "{}")]
    data: String,
    /// Which API the operation belongs to.
    #[arg(long, value_enum, default_value_t = Surface::Whalet, env = "WHALET_SIM_SURFACE")]
    surface: Surface,
    /// The simulator's base URL (Whalet requests go to its `/api`) or, for the Whalet surface, a
    /// full endpoint URL (the real test environment is https://test-open.whalet.com/api);
    /// --example finds the simulator from any URL a request goes to.
    #[arg(long, env = "WHALET_SIM_URL", default_value = "http://127.0.0.1:8080", value_parser = super::base_url)]
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
    #[arg(long, default_value = "sha256", value_parser = signature_hash_arg)]
    infinia_alg: SignatureHash,
    /// Pockyt merchantNo.
    #[arg(long, default_value = crate::config::pockyt::DEMO_MERCHANT_NO)]
    merchant_no: String,
    /// Pockyt storeNo.
    #[arg(long, default_value = crate::config::pockyt::DEMO_STORE_NO)]
    store_no: String,
    /// Print only this field of the reply (a dot path: `body.userId`, `data.accountBalances.0`,
    /// `ret_code`), a string without quotes, for `VAR=$(whalet-sim call ...)`.
    #[arg(long, value_name = "PATH", value_parser = super::dot_path, conflicts_with = "example")]
    get: Option<String>,
    /// Send nothing: print an example body of the operation, its fields (required or optional,
    /// kind, allowed values) and the operations that must come before it.
    #[arg(long)]
    example: bool,
    /// With --example: print it as JSON (the entry of `GET /__sim/operations`).
    #[arg(long, requires = "example")]
    json: bool,
    /// With --example: the simulator's admin token, if it was started with one (sent only to
    /// its control plane, `GET /__sim/operations`; never with the request itself).
    #[arg(long, env = "WHALET_SIM_ADMIN_TOKEN", hide_env_values = true, value_parser = crate::cli::admin_token)]
    admin_token: Option<String>,
    /// Pockyt API token (signs `verifySign`).
    #[arg(long, env = "WHALET_SIM_POCKYT_TOKEN", default_value = crate::config::pockyt::DEMO_TOKEN)]
    token: String,
}

/// The Open API endpoint of `url`: a URL without a path (`http://127.0.0.1:8080`, as
/// `WHALET_SIM_URL` holds it) means the simulator's `/api`; any other is used as given.
pub fn endpoint(url: &str) -> String {
    let url = url.trim_end_matches('/');
    if url_path(url).is_some() {
        url.to_owned()
    } else {
        format!("{url}/api")
    }
}

/// The surface a request of `args` reaches: `--surface`, except that the Whalet surface, which
/// sends to a URL with a path as given, reaches whalet-platform (the same envelope) at the
/// platform's endpoint URL (`…/v1/platform/shopAccountBind`, README's platform demo).
fn url_surface(args: &CallArgs) -> Surface {
    let root = super::simulator_root(&args.url);
    let path = args
        .url
        .trim_end_matches('/')
        .get(root.len()..)
        .unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match (args.surface, segments.as_slice()) {
        (Surface::Whalet, ["v1", "platform", ..]) => Surface::Platform,
        (surface, _) => surface,
    }
}

/// The path of `url` after its host (`/api` of `http://127.0.0.1:8080/api/`), if it has one.
fn url_path(url: &str) -> Option<&str> {
    let url = url.trim_end_matches('/');
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme.find('/').map(|at| &after_scheme[at..])
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

/// What to check when a reply's signature did not verify: the key it was checked with, most
/// often (docs/CLI.md, exit code 4).
fn key_hint(e: &CallError) -> &'static str {
    match e {
        CallError::Reply(why) if why.contains("signature") => {
            "; check --platform-key: it must be the provider's public key (the demo one unless \
             the simulator was given another)"
        }
        _ => "",
    }
}

/// The exit code of a call that got no verified reply.
fn error_exit(e: &CallError) -> u8 {
    match e {
        CallError::Transport(_) | CallError::Http { .. } => exit::TRANSPORT,
        CallError::Reply(_) => exit::WIRE,
        CallError::Seal(_) | CallError::TooLong(_) => exit::ERROR,
    }
}

pub async fn run(args: CallArgs) -> anyhow::Result<ExitCode> {
    if args.example {
        // Sending reaches the surface of the URL's path: describe that surface's operation.
        let surface = url_surface(&args);
        if surface != args.surface {
            say!(
                "note: {} is a whalet-platform endpoint URL, where the Whalet envelope reaches \
                 the platform's operation: described as with --surface platform",
                args.url
            );
        }
        return example(&CallArgs { surface, ..args }).await;
    }
    // Another surface's whole path is refused before anything is sent, as `--example` does.
    if let Some(why) = elsewhere_refusal(&args)? {
        say!("error: {why}");
        return Ok(exit::code(exit::USAGE));
    }
    let body_text = match args.data.strip_prefix('@') {
        Some(path) => data_file(path)?,
        None => args.data.clone(),
    };
    // Checked, not rewritten: the body is sent as its own characters (`business_body`).
    let body = business_body(&body_text, args.surface)?;
    // A URL with a path on a surface that appends its own was refused before (`check_flags`).
    let base = args.url.trim_end_matches('/').to_owned();
    let operation = wanted_name(&args);
    let (target, answered) = match args.surface {
        Surface::Whalet => {
            let url = endpoint(&args.url);
            let answered = whalet(&args, &url, body).await?;
            (url, answered)
        }
        Surface::Platform => {
            let url = format!("{base}/v1/platform/{operation}");
            let answered = whalet(&args, &url, body).await?;
            (url, answered)
        }
        Surface::Infinia => {
            let key = own_key(&args, demo::INFINIA_MERCHANT_PRIVATE)?;
            let infinia_public = provider_key(&args, demo::INFINIA_PUBLIC)?;
            let url = format!("{base}{}", infinia_path(operation));
            let merchant = InfiniaMerchant {
                base_url: base,
                app_id: args.app_id.clone(),
                version: "1.0".into(),
                key,
                infinia_public,
                alg: args.infinia_alg,
            };
            (url, merchant.call(operation, body).await)
        }
        Surface::Pockyt => {
            let url = format!("{base}{}", pockyt_path(operation));
            let merchant = PockytMerchant {
                base_url: base,
                merchant_no: args.merchant_no.clone(),
                store_no: args.store_no.clone(),
                token: args.token.clone(),
            };
            (url, merchant.call(operation, body).await)
        }
    };
    match answered {
        Ok(answered) => finish(&answered, &target, &args),
        Err(e) => {
            say!("error: {e} ({target}){}", key_hint(&e));
            Ok(exit::code(error_exit(&e)))
        }
    }
}

/// The most bytes `--data @file` and `--data @-` (standard input) read: 16 MiB, far above the
/// largest body a surface accepts by default (1 MiB, docs/RELIABILITY.md), so that a body any
/// simulator could take is read whole while `@/dev/zero`, or a wrong file, is refused rather
/// than read until memory runs out.
pub const MAX_DATA_BYTES: usize = 16 * 1024 * 1024;

/// The text of `--data @path` (`@-`: standard input), at most [`MAX_DATA_BYTES`]. A file that
/// starts with a UTF-8 byte order mark is refused, naming the mark (`call` sends the body as its
/// own characters, and JSON sent over the network has none: RFC 8259, 8.1), rather than sent
/// for the provider to refuse or reported as JSON broken at its first character.
fn data_file(path: &str) -> anyhow::Result<String> {
    let (named, read) = if path == "-" {
        (
            "--data @- (standard input)".to_owned(),
            read_at_most(std::io::stdin().lock(), MAX_DATA_BYTES),
        )
    } else {
        let named = format!("--data @{path}");
        let file = std::fs::File::open(path)
            .map_err(|e| anyhow::anyhow!("{named}: cannot read it: {e}"))?;
        (named, read_at_most(file, MAX_DATA_BYTES))
    };
    let bytes = read
        .map_err(|e| anyhow::anyhow!("{named}: cannot read it: {e}"))?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{named}: it is longer than {MAX_DATA_BYTES} bytes ({} MiB), the most `call` \
                 reads of a body (a surface takes 1 MiB by default); give the file that holds \
                 the request's JSON",
                MAX_DATA_BYTES / (1024 * 1024)
            )
        })?;
    if bytes.starts_with(crate::wire::BYTE_ORDER_MARK.as_bytes()) {
        anyhow::bail!(
            "{named}: {}, which JSON sent over the network must not have (`call` sends the body \
             as its own characters); save the file without it",
            crate::wire::byte_order_mark()
        );
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{named}: it is not UTF-8 text (the first byte that is not is at offset {}); JSON \
             is UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}

/// All of `reader` if it holds at most `limit` bytes, else None (no more than one byte past
/// `limit` is read).
fn read_at_most(reader: impl std::io::Read, limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    let most = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    std::io::Read::read_to_end(&mut std::io::Read::take(reader, most), &mut bytes)?;
    Ok((bytes.len() <= limit).then_some(bytes))
}

/// `--data` checked to be JSON (for Pockyt, a JSON object of parameters), returned as written:
/// it is sealed and signed as these characters, never parsed and printed again, which would
/// send numbers the user did not write (`1e2` as `100.0`, `1.0000000000000001` as `1.0`).
fn business_body(text: &str, surface: Surface) -> anyhow::Result<&str> {
    let body: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        anyhow::anyhow!(
            "--data is not JSON: {}",
            crate::wire::not_json(text.as_bytes(), &e)
        )
    })?;
    if surface == Surface::Pockyt && !body.is_object() {
        anyhow::bail!("--data for Pockyt is a JSON object of parameters");
    }
    Ok(text)
}

/// Prints a verified reply and exits by it (`answer_exit`). A status other than 2xx is named on
/// stderr, whatever the reply says. With `--get`, a reply that is not a success is printed whole
/// on stderr (the field asked for is not there): a script sees an empty capture and the code.
fn finish(answered: &Answered, target: &str, args: &CallArgs) -> anyhow::Result<ExitCode> {
    let get = args.get.as_deref();
    let code = answer_exit(answered);
    if !is_success(answered.status) {
        let verdict = match code {
            exit::TRANSPORT => "the provider answers 2xx, so this is a transport failure",
            _ => "the provider's refusal",
        };
        say!(
            "error: HTTP {} with the reply code {} ({target}): {verdict}",
            answered.status,
            answered.code
        );
    }
    if let Some(whole) = &answered.diagnostic {
        // The reply's `detail` was cut to its documented width; the whole text came aside.
        say!("diagnostic: {whole}");
    }
    if let Some(note) = plain_mode_note(answered, target, args) {
        say!("{note}");
    }
    if code != exit::SUCCESS && get.is_some() {
        say!("{}", serde_json::to_string_pretty(&answered.json)?);
    } else {
        super::print_answer(&answered.json, get)?;
    }
    Ok(exit::code(code))
}

/// What to say of a platform refusal in plain JSON (`{"code", "detail"}`, no `head`:
/// `partner::plain_refusal`): the platform there runs in plain-JSON mode (the simulator's
/// `[platform] auth = "none"`), which takes the operation's fields as the body and the
/// partnerId in a header, while `call` sends the Whalet envelope; so the request is for curl.
/// None for any other answer.
fn plain_mode_note(answered: &Answered, target: &str, args: &CallArgs) -> Option<String> {
    if args.surface != Surface::Platform || answered.json.get("head").is_some() {
        return None;
    }
    Some(format!(
        "note: the platform at {target} runs in plain-JSON mode (the simulator's [platform] auth \
         = \"none\"): it takes the operation's fields as the JSON body, with the partnerId (and \
         a requestNo, else one is made up) in headers, not the Whalet envelope that `call` \
         sends; send them with curl, e.g. curl -sS {target} -H 'content-type: \
         application/json' -H 'partnerId: {}' --data @body.json",
        crate::text::echo_bare(&args.partner_id)
    ))
}

/// `--example`: the operation as the simulator at `--url` describes it (`GET
/// /__sim/operations`, sent with `--admin-token`, so its configured names and contract overlay
/// apply); when no simulator answers there, as a simulator built here with the default
/// configuration describes it (`crate::api::describe`). Nothing is sent. A simulator that
/// answers but will not describe its operations (no or a wrong admin token, a Host it does not
/// answer to) ends the command (exit 1): the default description could name what it refuses.
/// A server that answers but is no simulator (another service at `--url`) ends it too (exit 4,
/// as `trigger` and `coverage` do).
async fn example(args: &CallArgs) -> anyhow::Result<ExitCode> {
    let surface = args.surface.name();
    // The partner this call acts as: the listing is in the names of its contract overlay.
    let tenant = match args.surface {
        Surface::Whalet | Surface::Platform => format!("whalet:{}", args.partner_id),
        Surface::Infinia => format!("infinia:{}", args.app_id),
        Surface::Pockyt => format!("pockyt:{}", args.merchant_no),
    };
    let token = args.admin_token.as_deref().filter(|t| !t.is_empty());
    let op = match remote_operations(&args.url, token, &tenant).await {
        Listing::Listed(listed) => listed_operation(args, surface, &listed),
        Listing::Refused(why) => {
            say!("error: {why}");
            return Ok(exit::code(exit::ERROR));
        }
        Listing::NotSimulator(why) => {
            say!(
                "error: {why}: the server at {} is not a whalet-sim (check --url / \
                 WHALET_SIM_URL)",
                args.url
            );
            return Ok(exit::code(exit::WIRE));
        }
        Listing::NoRoute(request) => {
            say!("{}", super::no_route_error(&request, &args.url));
            return Ok(exit::code(exit::TRANSPORT));
        }
        Listing::NoSimulator(why) => {
            say!(
                "note: no simulator answered at {} ({why}); the example is the default \
                 configuration's",
                args.url
            );
            default_operation(args, surface)?
        }
    };
    let Some(op) = op else {
        return Ok(exit::code(exit::USAGE));
    };
    if let Some(note) = alias_note(args, &op) {
        say!("{note}");
    }
    if op["surface"] == "file" {
        say!(
            "note: {} is the Whalet file upload, a multipart/form-data request that `call` does \
             not send (curl -F works): its form parts are described here",
            args.api_code
        );
    }
    if args.json {
        super::out(serde_json::to_string_pretty(&op)?);
    } else {
        super::out(example_text(&op)?);
    }
    Ok(exit::code(exit::SUCCESS))
}

/// The operation `args` names on its `--surface` ([`operation_name`]): what is sent, and what
/// `--example` looks up.
fn wanted_name(args: &CallArgs) -> &str {
    operation_name(args.surface, &args.api_code)
}

/// Whether `op`, an entry of `GET /__sim/operations`, is the operation `args` names on
/// `surface` (read as that surface reads it, [`operation_name`]): by its `name`, or by one of
/// the `aliases` the surface serves it under too (Pockyt's `/v3/payee/account/create/...`),
/// as sending reaches it.
fn is_named(args: &CallArgs, surface: &str, op: &serde_json::Value) -> bool {
    let wanted = <Surface as clap::ValueEnum>::from_str(surface, false)
        .map_or(args.api_code.trim_matches('/'), |s| {
            operation_name(s, &args.api_code)
        });
    // The Open API's whole path of an operation, `/api/{apiCode}`, names it when given to
    // another surface (the Whalet surface itself refuses it: `check_api_code`).
    let whalet_path = (surface == Surface::Whalet.name() && args.surface != Surface::Whalet)
        .then(|| wanted.trim_matches('/').strip_prefix("api/"))
        .flatten();
    let wanted = whalet_path.unwrap_or(wanted);
    op["surface"] == surface && names_of(op).any(|n| n.trim_matches('/') == wanted)
}

/// The names an entry of `GET /__sim/operations` is reached by: its `name`, then its `aliases`.
fn names_of(op: &serde_json::Value) -> impl Iterator<Item = &str> {
    op["name"].as_str().into_iter().chain(
        op["aliases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str),
    )
}

/// When `args` names `op` by an alias it is served under (not by its `name`), the note that
/// says so: the description is the operation's, under its own path, and a request may use either.
fn alias_note(args: &CallArgs, op: &serde_json::Value) -> Option<String> {
    let wanted = wanted_name(args);
    let name = op["name"].as_str()?;
    if name.trim_matches('/') == wanted {
        return None;
    }
    let alias = names_of(op)
        .skip(1)
        .find(|a| a.trim_matches('/') == wanted)?;
    let canonical = op["canonical"].as_str().unwrap_or(name);
    Some(format!(
        "note: {} is an alias path {} serves {name} under too: the same operation, described \
         here under its own path; a request may use either, and the journal, the coverage \
         report and scenario rules name it {canonical}",
        crate::text::echo_bare(alias),
        crate::api::catalog::surface_title(op["surface"].as_str().unwrap_or_default()),
    ))
}

/// The operation as `--api-code` names it to find its nearest name: Pockyt names are paths,
/// compared with their leading slash, as the server does.
fn given_name(args: &CallArgs) -> String {
    match args.surface {
        Surface::Pockyt => format!("/{}", wanted_name(args)),
        _ => wanted_name(args).to_owned(),
    }
}

/// The operation in the listing of the simulator at `--url` (every surface's); None (said on
/// stderr, naming the surface that has it, or its nearest operation) when `surface` has none by
/// that name.
fn listed_operation(
    args: &CallArgs,
    surface: &str,
    listed: &[serde_json::Value],
) -> Option<serde_json::Value> {
    if let Some(op) = find_named(args, surface, listed) {
        return Some(op.clone());
    }
    say!(
        "error: {} is not {} operation of the simulator at {}: {}{}",
        args.api_code,
        a_surface(surface),
        args.url,
        renamed_note(args, surface, listed),
        elsewhere_or_near(args, surface, listed),
    );
    None
}

/// The entry of `listed` that `args` names on `surface` ([`is_named`]); on the Whalet surface,
/// whose partner uploads files, also the file upload (`upload`, `file/upload` or
/// `/file/upload`), which has no `--surface` of its own: `call` sends no multipart form, but
/// `--example` describes it.
fn find_named<'a>(
    args: &CallArgs,
    surface: &str,
    listed: &'a [serde_json::Value],
) -> Option<&'a serde_json::Value> {
    listed
        .iter()
        .find(|op| is_named(args, surface, op))
        .or_else(|| {
            let wanted = args.api_code.trim_matches('/');
            let upload = wanted.strip_prefix("file/").unwrap_or(wanted) == "upload";
            (surface == Surface::Whalet.name() && upload)
                .then(|| listed.iter().find(|op| op["surface"] == "file"))
                .flatten()
        })
}

/// "a Whalet Open API", "an Infinia Pay": the surface's title with its article.
fn a_surface(surface: &str) -> String {
    let title = crate::api::catalog::surface_title(surface);
    let vowel = title
        .chars()
        .next()
        .is_some_and(|c| "AEIOUaeiou".contains(c));
    format!("{} {title}", if vowel { "an" } else { "a" })
}

/// "did you mean `X`? " naming the operation of `surface` in `listed` nearest to the one given,
/// in the form the command line takes it (a Pockyt path without its leading slash, as
/// `v3/payouts/pay` is written); nothing when none is near.
fn did_you_mean(args: &CallArgs, surface: &str, listed: &[serde_json::Value]) -> String {
    let names: Vec<&str> = listed
        .iter()
        .filter(|op| op["surface"] == surface)
        .flat_map(names_of)
        .collect();
    let near = crate::text::nearest(&given_name(args), &names);
    near.map(|near| match args.surface {
        Surface::Pockyt => near.trim_start_matches('/'),
        _ => near,
    })
    .map(|near| format!("did you mean `{near}`? "))
    .unwrap_or_default()
}

/// When the name given is a default name of the surface that the simulator does not list, it
/// serves that operation under the name its configuration gives it (`[whalet.api_codes]`,
/// `[infinia] paths`): the sentence that says so, naming the name it serves (the `name` of the
/// entry of `listed` whose `canonical` is the name given), else nothing.
fn renamed_note(args: &CallArgs, surface: &str, listed: &[serde_json::Value]) -> String {
    let wanted = wanted_name(args);
    let default = crate::api::catalog::build(&crate::config::Config::default());
    let is_default_name = default
        .operations
        .iter()
        .any(|(s, canonical, _)| *s == surface && canonical.trim_matches('/') == wanted);
    let served = listed
        .iter()
        .filter(|op| op["surface"] == surface)
        .find(|op| op["canonical"].as_str().map(|c| c.trim_matches('/')) == Some(wanted))
        .and_then(|op| op["name"].as_str())
        .map(|name| crate::text::echo_bare(name.trim_matches('/')));
    let (renames, what, setting) = match (is_default_name, surface) {
        (true, "whalet") => ("renames", "apiCode", "[whalet.api_codes]"),
        (true, "infinia") => ("moves", "path", "[infinia] paths"),
        _ => return String::new(),
    };
    match served {
        Some(name) => format!(
            "it is a default {what} that this simulator's configuration {renames} to `{name}` \
             ({setting}), and a request must name it so: give `{name}`; "
        ),
        None => format!(
            "it is a default {what} that this simulator's configuration {renames} ({setting}), \
             and a request must use the {what} configured; "
        ),
    }
}

/// The operations of every surface as a simulator built here with the default configuration
/// lists them (`GET /__sim/operations`).
fn default_listing() -> anyhow::Result<Vec<serde_json::Value>> {
    let app = crate::app::App::new(
        crate::config::Config::default(),
        crate::app::Options::default(),
    )?;
    match serde_json::to_value(crate::api::catalog::operations(app.core()))? {
        serde_json::Value::Array(listed) => Ok(listed),
        _ => Ok(Vec::new()),
    }
}

/// The operation as a simulator built here with the default configuration describes it; None
/// (said on stderr, naming its nearest operation) when it has none by that name.
fn default_operation(args: &CallArgs, surface: &str) -> anyhow::Result<Option<serde_json::Value>> {
    let listed = default_listing()?;
    let found = find_named(args, surface, &listed);
    if found.is_none() {
        say!(
            "error: {} is not {} operation: {}",
            args.api_code,
            a_surface(surface),
            elsewhere_or_near(args, surface, &listed)
        );
    }
    Ok(found.cloned())
}

/// Why `args` is not sent when its operation is another surface's whole path (`call --surface
/// pockyt /api/v1/account-balance/query`, `--surface platform /v3/payouts/balance`, `call
/// v3/payouts/balance` on the Whalet surface), or the Whalet Open API's endpoint (`/api`) on a
/// surface that posts to the operation's path: the message `--example` gives, naming the surface
/// that has it and the `--surface` to give ([`elsewhere_or_near`]). Such a request would go to
/// another provider's endpoint (Pockyt posts to any path), or name no operation, and its answer
/// would be blamed on the keys (exit 4) or the route (exit 3). Read against the default
/// configuration's operations, and only for a path (a text with a `/`) that is none of the
/// surface's own: a bare name, and every operation of the surface, is sent as before (a
/// simulator's renamed apiCode or moved Infinia path is the provider's to answer).
fn elsewhere_refusal(args: &CallArgs) -> anyhow::Result<Option<String>> {
    let text = args.api_code.trim_matches('/');
    let surface = args.surface.name();
    if text == "api" && matches!(args.surface, Surface::Platform | Surface::Pockyt) {
        return Ok(Some(format!(
            "{} is not {} operation: it is the Whalet Open API's endpoint, where the operation \
             is the apiCode in the sealed head (give --surface whalet and the apiCode alone, \
             e.g. `whalet-sim call connectivity`)",
            args.api_code,
            a_surface(surface)
        )));
    }
    if !maybe_elsewhere(args.surface, text) {
        return Ok(None);
    }
    let listed = default_listing()?;
    if find_named(args, surface, &listed).is_some() {
        return Ok(None);
    }
    let elsewhere = listed.iter().any(|op| {
        op["surface"]
            .as_str()
            .is_some_and(|other| other != surface && is_named(args, other, op))
    });
    Ok(elsewhere.then(|| {
        format!(
            "{} is not {} operation: {}",
            args.api_code,
            a_surface(surface),
            elsewhere_or_near(args, surface, &listed)
        )
    }))
}

/// Whether `text` (the operation given, without the slashes at its ends) may be another
/// surface's whole path on `surface`: a path (it has a `/`) outside the surface's own paths. A
/// cheap reading, so that the operation tables are built only for such a text.
fn maybe_elsewhere(surface: Surface, text: &str) -> bool {
    let first = text.split('/').next().unwrap_or_default();
    match surface {
        // Pockyt's own paths begin `v3/` or `v2/`; any other may be another surface's.
        Surface::Pockyt => !matches!(first, "v3" | "v2"),
        // A platform operation and a Whalet apiCode are one name.
        Surface::Platform => operation_name(surface, text).contains('/'),
        Surface::Whalet => text.contains('/'),
        // An Infinia path (after `/api/v1/`) is any path; the others' own prefixes are not.
        Surface::Infinia => matches!(first, "v1" | "v2" | "v3" | "file"),
    }
}

/// What to say of an operation `listed` (every surface's) has not on `surface`: every other
/// surface that has it (the name read as that surface reads it, [`operation_name`]), with its
/// request line and the `--surface` that reaches it, or else the nearest name of `surface`.
fn elsewhere_or_near(args: &CallArgs, surface: &str, listed: &[serde_json::Value]) -> String {
    let elsewhere: Vec<String> = listed
        .iter()
        .filter_map(|op| {
            let other = op["surface"].as_str().filter(|other| *other != surface)?;
            is_named(args, other, op).then(|| elsewhere_line(other, op))
        })
        .collect();
    if elsewhere.is_empty() {
        return format!(
            "{}GET /__sim/operations lists every operation of every surface",
            did_you_mean(args, surface, listed)
        );
    }
    format!("{} is {}", args.api_code, elsewhere.join("; and "))
}

/// "a whalet-platform operation: POST /v1/platform/x (give --surface platform)": the surface
/// `other` that has the operation `op`, as [`elsewhere_or_near`] lists it.
fn elsewhere_line(other: &str, op: &serde_json::Value) -> String {
    let flag = <Surface as clap::ValueEnum>::from_str(other, false)
        .map(|s| format!(" (give --surface {})", s.name()))
        .unwrap_or_default();
    // The file upload has no --surface: `call upload --example` describes it.
    let flag = match other {
        "file" => " (describe it with `call upload --example`)".to_owned(),
        _ => flag,
    };
    format!(
        "{} operation: {}{flag}",
        a_surface(other),
        op["request"].as_str().unwrap_or_default()
    )
}

/// What the simulator at `--url` answered when asked for its operations.
enum Listing {
    /// Its operations, of every surface.
    Listed(Vec<serde_json::Value>),
    /// Nothing there answered as a simulator does (why): the default description stands in.
    NoSimulator(String),
    /// A simulator answered but did not list its operations (why, and what to do).
    Refused(String),
    /// Something answered, but not as a simulator does (another server at `--url`): why.
    NotSimulator(String),
    /// A simulator answered that the request (named) is none of its routes: the path of
    /// `--url` is not its root ([`super::is_no_route`]).
    NoRoute(String),
}

/// The operations of every surface that the simulator at `url` lists (asked with the admin
/// `token`), in the names of `tenant`'s contract overlay (the default overlay's when that
/// tenant is not configured there). Waits at most 2 s for an answer.
async fn remote_operations(url: &str, token: Option<&str>, tenant: &str) -> Listing {
    // Any URL `call` sends to names its simulator (`…/api`, `…/v1/platform/shopAccountBind`).
    let base = super::simulator_root(url);
    // Every surface's, so that a name of another surface can be said to be there.
    let listing_url = format!("{base}/__sim/operations");
    let mut client = crate::partner::reply_client();
    if let Some(token) = token {
        client = client.with_bearer(token);
    }
    let timeout = std::time::Duration::from_secs(2);
    let mut response = match client
        .get(&format!("{listing_url}?tenant={tenant}"), timeout)
        .await
    {
        Ok(response) => response,
        Err(why) => return Listing::NoSimulator(why),
    };
    if response.status == 404 {
        response = match client.get(&listing_url, timeout).await {
            Ok(response) => response,
            Err(why) => return Listing::NoSimulator(why),
        };
    }
    match response.status {
        200 => {}
        404 if super::is_no_route(response.status, &response.body) => {
            return Listing::NoRoute(format!("GET {listing_url}"))
        }
        401 | 403 => return Listing::Refused(refused_listing(url, token, &response)),
        status => return Listing::NotSimulator(format!("GET {listing_url}: HTTP {status}")),
    }
    if response.truncated {
        return Listing::Refused(format!(
            "the simulator at {url} lists its operations in more than {} bytes, the most this \
             command reads",
            client.answer_limit()
        ));
    }
    let ops = |body: &[u8]| {
        let listing: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        match listing.and_then(|mut l| l.get_mut("operations").map(serde_json::Value::take)) {
            Some(serde_json::Value::Array(ops)) => Some(ops),
            _ => None,
        }
    };
    let Some(mut listed) = ops(&response.body) else {
        return Listing::NotSimulator(format!(
            "GET {listing_url}: the answer is not the simulator's list of operations"
        ));
    };
    // A tenant's listing holds only its provider's surfaces; the others (in their default
    // names, which no overlay of this tenant changes) say where a name of another surface is.
    if let Ok(every) = client.get(&listing_url, timeout).await {
        let theirs: std::collections::HashSet<String> = (listed.iter())
            .filter_map(|op| op["surface"].as_str().map(str::to_owned))
            .collect();
        let others = (every.status == 200 && !every.truncated)
            .then(|| ops(&every.body))
            .flatten()
            .unwrap_or_default();
        listed.extend(
            others
                .into_iter()
                .filter(|op| op["surface"].as_str().is_some_and(|s| !theirs.contains(s))),
        );
    }
    Listing::Listed(listed)
}

/// Why the simulator at `url` would not list its operations (HTTP 401 or 403) and what to do:
/// give its admin token (401), or reach it by a name it answers to (403, its own reason).
fn refused_listing(
    url: &str,
    token: Option<&str>,
    response: &crate::http::client::ClientResponse,
) -> String {
    match (response.status, token) {
        (401, None) => format!(
            "the simulator at {url} requires its admin token to describe its operations (HTTP \
             401): give it with --admin-token or WHALET_SIM_ADMIN_TOKEN"
        ),
        (401, Some(_)) => format!(
            "the simulator at {url} refuses the admin token given (--admin-token or \
             WHALET_SIM_ADMIN_TOKEN) to describe its operations (HTTP 401): give its own"
        ),
        (status, _) => {
            let body = serde_json::from_slice::<serde_json::Value>(&response.body).ok();
            let reason = match body.as_ref().and_then(|v| v["error"].as_str()) {
                Some(error) => crate::text::message(error),
                None => crate::text::message(String::from_utf8_lossy(&response.body)),
            };
            format!(
                "the simulator at {url} refused GET /__sim/operations (HTTP {status}): {reason}"
            )
        }
    }
}

/// The other fields of the either-or choice the field `name` of `op` (an entry of `GET
/// /__sim/operations`) is in: each field's `or` names one other, and fields linked that way,
/// either way round, are one choice (Pockyt's retrieve links customerCode and email each to
/// customerNo: any one of the three names the payee). In table order.
fn choice_of(op: &serde_json::Value, name: String) -> Vec<String> {
    let links: Vec<(&str, &str)> = op["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| Some((f["name"].as_str()?, f["or"].as_str()?)))
        .collect();
    let mut group = vec![name.clone()];
    let mut grew = true;
    while grew {
        grew = false;
        for (a, b) in &links {
            for (from, to) in [(a, b), (b, a)] {
                if group.iter().any(|g| g == from) && !group.iter().any(|g| g == to) {
                    group.push((*to).to_owned());
                    grew = true;
                }
            }
        }
    }
    let order: Vec<&str> = links.iter().map(|(a, _)| *a).collect();
    group.sort_by_key(|g| order.iter().position(|o| o == g).unwrap_or(usize::MAX));
    group.retain(|g| *g != name);
    group
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
                _ if f["addedBy"].is_string() => {
                    format!("added by {}", text_of(&f["addedBy"]))
                }
                (Some(other), _) => match choice_of(op, text_of(&f["name"])) {
                    // One of three or more (Pockyt's retrieve: customerNo, customerCode, email).
                    others if others.len() > 1 => format!("this or {}", others.join(" or ")),
                    _ => format!("this or {other}"),
                },
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
    match &op["example"] {
        // A file's text (Infinia's trade-details CSV put over SFTP): as the file holds it.
        serde_json::Value::String(file) => text.push_str(file.trim_end()),
        example => text.push_str(&serde_json::to_string_pretty(example)?),
    }
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
    Ok(client.exchange(wanted_name(args), &request_no, body).await)
}

impl CallArgs {
    /// A surface's flag typed for another surface ([`check_surface_flags`]), and a URL with a
    /// path on a surface that appends its own ([`Self::check_url`]).
    pub(super) fn check_flags(&self, typed: &[String]) -> Result<(), clap::Error> {
        check_surface_flags("call", self.surface, typed)?;
        self.check_url(typed)
    }

    /// `--surface platform`, `infinia` and `pockyt` put the operation's own path after the base
    /// URL, so a URL with a path (`…/api`, which the Whalet surface takes whole) is a usage
    /// error before anything is sent, naming the flag or the variable (`WHALET_SIM_URL`,
    /// `WHALET_SIM_SURFACE`) each value came from (`typed`: the ids given on the command line;
    /// [`super::arg_name`]). `--example` sends nothing there and is not refused.
    fn check_url(&self, typed: &[String]) -> Result<(), clap::Error> {
        let base = self.url.trim_end_matches('/');
        let path = match url_path(base) {
            Some(path) if self.surface != Surface::Whalet && !self.example => path,
            _ => return Ok(()),
        };
        Err(super::usage_error(
            "call",
            clap::error::ErrorKind::InvalidValue,
            format!(
                "{}: {} puts the operation's own path after the simulator's base URL, so give \
                 that URL without a path (not {}); only the Whalet surface takes a whole \
                 endpoint URL",
                super::arg_name("call", "url", typed),
                super::arg_name("call", "surface", typed).with_value(self.surface.name()),
                crate::text::bound(path, 200)
            ),
        ))
    }

    /// An operation that goes into the URL's path (platform, Infinia, Pockyt) is letters,
    /// digits, `.`, `_`, `-` and `/`, with no `.` or `..` segment, so `../../__sim/reset` cannot
    /// reach another endpoint (a usage error). A Whalet apiCode travels in the sealed head and
    /// may be anything the partner wants to try.
    pub(super) fn check_operation(&self) -> Result<(), clap::Error> {
        if matches!(self.surface, Surface::Whalet) {
            return self.check_api_code();
        }
        let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/');
        let text = &self.api_code;
        let dots = text
            .split('/')
            .any(|segment| segment == "." || segment == "..");
        // What is sent: `/`, `/api/v1/` or `/v1/platform/` alone name no operation.
        let named = !operation_name(self.surface, text).is_empty();
        if named && text.chars().all(fine) && !dots {
            return Ok(());
        }
        Err(super::usage_error(
            "call",
            clap::error::ErrorKind::InvalidValue,
            format!(
                "operation {} would leave its path: an operation is an apiCode or a path of \
                 letters, digits, '.', '_', '-' and '/', without '.' or '..' segments",
                crate::text::echo(text)
            ),
        ))
    }
}

impl CallArgs {
    /// A Whalet apiCode given as the path of the Open API (`/api/connectivity`, `api/…`) is a
    /// usage error with the apiCode to give: it would travel as the apiCode `/api/connectivity`
    /// in the sealed head, which no operation is. `/api/v1/…`, Infinia's path, is left to say
    /// which surface has it (`--example` does, and sending refuses it saying so:
    /// [`elsewhere_refusal`]). Any other text is sent as given, to try what the provider makes
    /// of it.
    fn check_api_code(&self) -> Result<(), clap::Error> {
        let text = &self.api_code;
        let Some(rest) = text.trim_start_matches('/').strip_prefix("api/") else {
            return Ok(());
        };
        let rest = rest.trim_matches('/');
        if rest == "v1" || rest.starts_with("v1/") {
            return Ok(()); // Infinia's path: `elsewhere_refusal` names the surface that has it
        }
        let hint = match rest {
            "" => "give the apiCode alone, e.g. `whalet-sim call connectivity`".to_owned(),
            apicode => format!(
                "did you mean `whalet-sim call {}`?",
                crate::text::echo_bare(apicode)
            ),
        };
        Err(super::usage_error(
            "call",
            clap::error::ErrorKind::InvalidValue,
            format!(
                "operation {} is a path, but the Whalet surface names an operation by its \
                 apiCode, sent in the sealed head to POST /api: {hint}",
                crate::text::echo(text)
            ),
        ))
    }
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
            diagnostic: None,
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
