//! `--config FILE` (TOML): tenants, keys, notify URLs, apiCode names and policies. Unknown keys
//! are errors naming the key (serde `deny_unknown_fields` everywhere). Every section is optional;
//! with no file the embedded demo tenants are used (README, "Demo tenants").

pub mod contract;
pub mod infinia;
pub mod key_flags;
pub mod platform;
pub mod pockyt;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::clock::ClockMode;
use crate::wire::HexCase;

/// The embedded demo Whalet partner's id (README, "Demo tenants"), which `[whalet] demo_partner`
/// keeps.
pub const DEMO_PARTNER_ID: &str = "202400000000001";

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub clock: ClockConfig,
    #[serde(default)]
    pub notify: NotifyConfig,
    #[serde(default)]
    pub whalet: WhaletConfig,
    #[serde(default)]
    pub platform: platform::PlatformConfig,
    #[serde(default)]
    pub infinia: infinia::InfiniaConfig,
    #[serde(default)]
    pub pockyt: pockyt::PockytConfig,
    #[serde(default)]
    pub journal: JournalConfig,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub scenarios: ScenariosConfig,
    #[serde(default)]
    pub contract: contract::ContractConfig,
    /// The file this configuration was read from ([`Config::load`]), which refusals name
    /// ([`Config::refusal`]); none for the embedded defaults or a parsed text.
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

/// A refusal of the configuration, in the one form every refusal of a setting takes:
/// `config FILE: MESSAGE` when the configuration came from a file, else `MESSAGE`; MESSAGE starts
/// with the setting, `[section] key = value: why` (or, for an entry of a list of tables,
/// `[[section]] id_key = "id": key …`).
pub fn refusal(file: Option<&Path>, message: impl std::fmt::Display) -> anyhow::Error {
    match file {
        Some(path) => anyhow::anyhow!("config {}: {message}", path.display()),
        None => anyhow::anyhow!("{message}"),
    }
}

/// `[store]`: where state is kept (docs/PERSISTENCE.md).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Keep all state in an SQLite database in this directory (created if missing) and resume
    /// from it on start; `serve --data-dir` overrides it. Default: none (in memory only).
    pub data_dir: Option<std::path::PathBuf>,
}

impl StoreConfig {
    /// An empty `data_dir` names no directory (it would fail later as a file named "").
    fn check(&self) -> anyhow::Result<()> {
        if self
            .data_dir
            .as_ref()
            .is_some_and(|d| d.as_os_str().is_empty())
        {
            anyhow::bail!(
                "[store] data_dir = \"\": empty; name a directory, or remove the key to keep \
                 state in memory"
            );
        }
        Ok(())
    }
}

/// `[server]`: limits of the HTTP edge (docs/RELIABILITY.md lists every limit).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Time a client has to send a request's headers, and the longest a keep-alive connection
    /// may sit idle between requests.
    pub header_read_timeout_ms: u64,
    /// Time a client has to send a request's body once its headers are in (408 and close).
    pub body_read_timeout_ms: u64,
    /// Time after its head from which a body still arriving may have its room in the budget of
    /// bodies in flight reclaimed (408 and close) when another request needs it and the budget
    /// is spent: bodies that stall lock others out for at most this long.
    pub body_reclaim_after_ms: u64,
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Bytes of request bodies held in memory at once, over all connections; at least every
    /// configured body limit and the file upload's fixed 11 MiB (a larger body could never be
    /// held).
    pub max_body_bytes_in_flight: usize,
    /// Time a response write may wait on a client that takes none of it; then the connection
    /// is closed (a client that stops reading cannot hold its slot).
    pub write_stall_timeout_ms: u64,
    /// Header fields a request may carry (431 beyond).
    pub max_header_fields: usize,
    /// Bytes of a request's head, request line and header fields together (431 beyond).
    pub max_header_bytes: usize,
    /// Largest body of a `/__sim/` request (scenario files, triggers, ...).
    pub control_body_limit_bytes: usize,
    /// Largest body of any other path that no surface owns (pages, unknown paths).
    pub other_body_limit_bytes: usize,
    /// Host names (besides loopback names and the bound address) by which the control plane
    /// and the dashboard may be reached, e.g. a container's service name; `"*"` allows any.
    pub allowed_hosts: Vec<String>,
    /// Request stages doing RSA work (opening, sealing) that run at once; `0` means one per
    /// core. The rest wait their turn, so the control plane always has a thread.
    pub cpu_parallelism: usize,
    /// A request whose body is at most this many bytes does its RSA stage on the async worker
    /// instead of handing the worker off (`src/core/cpu.rs`); larger ones are handed off.
    pub cpu_inline_bytes: usize,
    /// When set (and not empty), every `/__sim/` request except `GET /__sim/health` must carry
    /// it (`Authorization: Bearer …`, or the dashboard's cookie); `serve --admin-token` and
    /// `WHALET_SIM_ADMIN_TOKEN` override it. Default: none.
    pub admin_token: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let edge = crate::http::Limits::default();
        Self {
            header_read_timeout_ms: edge.header_read_timeout.as_millis() as u64,
            body_read_timeout_ms: edge.body_read_timeout.as_millis() as u64,
            body_reclaim_after_ms: edge.body_reclaim_after.as_millis() as u64,
            max_connections: edge.max_connections,
            max_body_bytes_in_flight: edge.max_body_bytes_in_flight,
            write_stall_timeout_ms: edge.write_stall_timeout.as_millis() as u64,
            max_header_fields: edge.max_header_fields,
            max_header_bytes: edge.max_header_bytes,
            control_body_limit_bytes: 1024 * 1024,
            other_body_limit_bytes: 64 * 1024,
            allowed_hosts: Vec::new(),
            cpu_parallelism: 0,
            cpu_inline_bytes: 4096,
            admin_token: None,
        }
    }
}

impl ServerConfig {
    /// The admin token, if one is set (an empty one counts as none).
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref().filter(|t| !t.is_empty())
    }

    /// The edge's limits.
    pub fn limits(&self) -> crate::http::Limits {
        crate::http::Limits {
            header_read_timeout: std::time::Duration::from_millis(self.header_read_timeout_ms),
            body_read_timeout: std::time::Duration::from_millis(self.body_read_timeout_ms),
            body_reclaim_after: std::time::Duration::from_millis(self.body_reclaim_after_ms),
            max_connections: self.max_connections,
            max_body_bytes_in_flight: self.max_body_bytes_in_flight,
            write_stall_timeout: std::time::Duration::from_millis(self.write_stall_timeout_ms),
            max_header_fields: self.max_header_fields,
            max_header_bytes: self.max_header_bytes,
        }
    }

    /// The smallest `max_header_bytes`: a request line and a few header fields.
    pub const MIN_HEADER_BYTES: usize = 1024;

    /// The largest `max_header_fields`: hyper reserves room for that many fields per request.
    pub const MAX_HEADER_FIELDS: usize = 10_000;

    /// Refuses an admin token no client could send (the edge's numeric limits are
    /// [`Config::bounds`]).
    fn check(&self) -> anyhow::Result<()> {
        if let Some(token) = &self.admin_token {
            check_admin_token(token)
                .map_err(|why| anyhow::anyhow!("[server] admin_token: {why}"))?;
        }
        Ok(())
    }

    /// Refuses a body limit that the budget of bodies in flight could never hold: such a body
    /// would always be answered 503 "retry later". `limits` are the configured (key, bytes)
    /// pairs; the file upload's fixed limit ([`crate::http::MAX_BODY`]) must fit too.
    fn check_body_limits(&self, limits: &[(&str, usize)]) -> anyhow::Result<()> {
        let budget = self.max_body_bytes_in_flight;
        if let Some((key, bytes)) = limits.iter().find(|(_, bytes)| *bytes > budget) {
            anyhow::bail!(
                "{key} = {bytes} is above [server] max_body_bytes_in_flight = {budget}: a body \
                 that large could never be held; raise max_body_bytes_in_flight or lower {key}"
            );
        }
        let upload = crate::http::MAX_BODY;
        if budget < upload {
            anyhow::bail!(
                "[server] max_body_bytes_in_flight = {budget} is below the fixed body limit of \
                 POST /file/upload, {upload} bytes (its 10 MB file plus the multipart framing): \
                 a larger upload could never be held and would be answered 503 forever; \
                 raise max_body_bytes_in_flight to at least {upload}"
            );
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    /// `real` (default), `scaled` or `manual`.
    pub mode: Option<String>,
    /// Virtual seconds per wall second is 1/scale: 0.01 runs 100x faster.
    pub scale: Option<f64>,
    /// Virtual start time, RFC 3339 (e.g. `2025-01-01T00:00:00Z`); default: the system time.
    pub start: Option<String>,
}

impl ClockConfig {
    /// Refuses a scale out of the clock's bounds, and every other bad `[clock]` key
    /// ([`ClockConfig::settings`]), whether or not a clock flag overrides it.
    pub fn check(&self) -> anyhow::Result<()> {
        if let Some(scale) = self.scale {
            let (min, max) = (crate::clock::MIN_SCALE, crate::clock::MAX_SCALE);
            if !(min..=max).contains(&scale) {
                anyhow::bail!(
                    "[clock] scale must be a number from {min} to {max} (wall seconds per \
                     virtual second; 0.01 runs 100x faster), not {scale}"
                );
            }
        }
        self.settings().map(|_| ())
    }

    /// The clock the configuration's `[clock]` keys ask for, its mode and its start, every key
    /// checked, whether or not a clock flag (or its variable) will override it: a bad key is refused
    /// at every start. A scale goes with `mode = "scaled"` (or no mode): a real clock runs at wall
    /// speed and a frozen one has none, so a scale with either would be silently ignored. Errors
    /// name the key as the configuration's own refusals do (`[clock] start = "…": why`);
    /// `Config::load` and `App::new` name the file before them ([`Config::refusal`]).
    pub fn settings(&self) -> anyhow::Result<(ClockMode, Option<i64>)> {
        let ignored_scale = |mode: &str, why: &str| {
            anyhow::anyhow!(
                "[clock] mode = \"{mode}\" cannot be used with [clock] scale: {why} (remove scale, \
                 or set mode = \"scaled\")"
            )
        };
        let mode = match (self.mode.as_deref(), self.scale) {
            (None, Some(scale)) | (Some("scaled"), Some(scale)) => ClockMode::Scaled { scale },
            (Some("scaled"), None) => ClockMode::Scaled { scale: 1.0 },
            (None, None) | (Some("real"), None) => ClockMode::Real,
            (Some("real"), Some(_)) => {
                return Err(ignored_scale("real", "a real clock runs at wall speed"))
            }
            (Some("manual"), None) => ClockMode::Manual,
            (Some("manual"), Some(_)) => {
                return Err(ignored_scale("manual", "a frozen clock has no speed"))
            }
            (Some(other), _) => anyhow::bail!(
                "[clock] mode = {}: no clock mode; use \"real\", \"scaled\" or \"manual\"",
                crate::text::echo(other)
            ),
        };
        let mode = mode
            .validate()
            .map_err(|e| anyhow::anyhow!("[clock] {e}"))?;
        let start = match self.start.as_deref() {
            Some(text) => Some(start_setting(text)?),
            None => None,
        };
        Ok((mode, start))
    }
}

/// `[clock] start`: an RFC 3339 time within the virtual time the simulator keeps, in
/// milliseconds; refused naming the key and the value as written.
fn start_setting(text: &str) -> anyhow::Result<i64> {
    let key = format!("[clock] start = {}", crate::text::echo(text));
    let dt = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| {
            anyhow::anyhow!("{key}: not an RFC 3339 time such as 2025-01-01T00:00:00Z ({e})")
        })?;
    let ms = (dt.unix_timestamp_nanos() / 1_000_000) as i64;
    crate::clock::check_time(ms, "").map_err(|_| {
        anyhow::anyhow!(
            "{key}: outside the virtual time the simulator keeps, 1970-01-01 to 9999-12-30 \
             00:00:00 UTC"
        )
    })
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Wall-clock time an attempt may take before it counts as failed; at least
    /// [`NotifyConfig::MIN_TIMEOUT_MS`] (no answer arrives in no time).
    pub timeout_ms: u64,
    /// Finished notifications kept in the delivery ledger (the one that finished first is
    /// dropped first); unfinished ones are always kept and do not count.
    pub ledger_capacity: usize,
    /// The 6-digit run tag in minted notification requestNos, 0 to
    /// [`NotifyConfig::MAX_RUN_TAG`]; default random per process (so requestNos never repeat
    /// across runs). Fix it to make transcripts byte-identical.
    pub run_tag: Option<u32>,
    /// Attempts open at once to one destination (scheme, host and port); further attempts wait
    /// their turn, so a slow or hung receiver holds only its own share.
    pub concurrency_per_destination: usize,
    /// Host-name lookups of receivers' addresses running at once, each on a thread of its own
    /// (never the runtime's shared blocking pool: a lookup whose DNS server does not answer
    /// cannot be cancelled; `http::resolve`); further lookups wait, within their attempt's
    /// timeout.
    pub dns_lookups: usize,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            timeout_ms: 5_000,
            ledger_capacity: 10_000,
            run_tag: None,
            concurrency_per_destination: crate::notify::DEFAULT_CONCURRENCY,
            dns_lookups: crate::http::resolve::DEFAULT_LOOKUPS,
        }
    }
}

impl NotifyConfig {
    /// The shortest attempt timeout: 0 would fail every attempt before it is sent. Any longer
    /// one can deliver (a real receiver needs more; the default is 5 s).
    pub const MIN_TIMEOUT_MS: u64 = 1;

    /// The largest run tag: a Whalet requestNo writes the tag as 6 digits, so a larger one
    /// would be cut and two tags would give the same requestNos.
    pub const MAX_RUN_TAG: u32 = 999_999;

    /// The most lookup threads `[notify] dns_lookups` may ask for (each one a thread of the
    /// process while its lookup runs).
    pub const MAX_DNS_LOOKUPS: usize = 1_024;
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalConfig {
    /// Requests kept in the journal (oldest dropped first).
    pub capacity: usize,
    /// Bytes one field of an entry may take (a text's bytes; a request or reply body's bytes as
    /// JSON); a longer field is cut and ends with `… N more bytes`.
    pub max_field_bytes: usize,
    /// Bytes the whole journal may take, as `GET /__sim/requests` returns it (JSON); the oldest
    /// entries are dropped to stay under it. At least
    /// [`JournalConfig::FIELDS_PER_ENTRY`] × `max_field_bytes` + [`JournalConfig::ENTRY_OVERHEAD`].
    pub max_bytes: usize,
}

impl JournalConfig {
    /// How many `max_field_bytes` one entry can take as JSON at worst: eight fields (six texts,
    /// the request and the reply), each up to six times longer as JSON (a control character is
    /// written `\u0001`).
    pub const FIELDS_PER_ENTRY: usize = 8 * 6;
    /// An entry's JSON besides its fields (key names, numbers), and the listing's wrapper.
    pub const ENTRY_OVERHEAD: usize = 1024;

    /// The smallest `max_bytes` that holds one entry of `max_field_bytes` fields.
    pub fn min_max_bytes(max_field_bytes: usize) -> usize {
        max_field_bytes
            .saturating_mul(Self::FIELDS_PER_ENTRY)
            .saturating_add(Self::ENTRY_OVERHEAD)
    }

    /// Refuses a `max_bytes` that could not keep one entry of `max_field_bytes` fields (each
    /// key's own range is in `Config::bounds`).
    pub fn check(&self) -> anyhow::Result<()> {
        let min = Self::min_max_bytes(self.max_field_bytes);
        if self.max_bytes < min {
            anyhow::bail!(
                "[journal] max_bytes = {} cannot hold one entry of max_field_bytes = {} \
                 (at least {min} = {} x max_field_bytes + {})",
                self.max_bytes,
                self.max_field_bytes,
                Self::FIELDS_PER_ENTRY,
                Self::ENTRY_OVERHEAD
            );
        }
        Ok(())
    }
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            capacity: 2_000,
            max_field_bytes: 64 * 1024,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// `[scenarios]`: bounds of what the loaded scenarios may hold together (docs/SCENARIOS.md,
/// docs/RELIABILITY.md). A load (`POST /__sim/scenarios`, `serve --scenario`) that would pass
/// one is refused; a replacement counts its new content instead of the old.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScenariosConfig {
    /// Scenarios loaded at once (every tenant's and the global ones together).
    pub max_loaded: usize,
    /// Rules of all loaded scenarios together (every request is decided against them).
    pub max_rules_loaded: usize,
}

impl Default for ScenariosConfig {
    fn default() -> Self {
        Self {
            max_loaded: 1_000,
            max_rules_loaded: 10_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhaletConfig {
    /// Letter case of hex the simulator writes (`lower` by default; input accepts both).
    pub hex_case: HexCase,
    /// Largest request body accepted on `/api`, in bytes.
    pub body_limit_bytes: usize,
    /// Keep the embedded demo partner (202400000000001) besides configured ones.
    pub demo_partner: bool,
    /// RequestNos remembered per partner for `REQUEST_NO_NOT_UNIQUE`; beyond it the oldest is
    /// forgotten (memory: about 110 bytes each).
    pub request_no_memory: usize,
    /// The simulator's own (platform) private key; default: the embedded demo key.
    pub platform_private_key: Option<String>,
    /// Renames: canonical apiCode (as listed in docs/FIDELITY.md) → the name on the wire.
    pub api_codes: BTreeMap<String, String>,
    /// Longest reply `detail` on the wire, in characters (documented: 256; 0 = no limit). A
    /// longer diagnostic is cut; the whole text is in the journal and a response header.
    pub detail_max_chars: usize,
    /// Longest `X-Whalet-Sim-Diagnostic` header value, in bytes (percent-encoded text).
    pub diagnostic_header_max_bytes: usize,
    /// The `keyEnc` plaintext the simulator writes: `base64` (the documents' decryption steps)
    /// or `hex_base64` (their encryption steps). Both are accepted on input.
    pub key_enc_form: crate::wire::whalet::KeyEncForm,
    /// `queryCurrencyBalance` reply: `array` (the documented example) or `records`.
    pub currency_balance_shape: CurrencyBalanceShape,
    /// Notification acks are checked as documented (complete, echoing head; signature verified
    /// when present). `false`: any HTTP 2xx with `head.code = SUCCESS`. Per partner overridable.
    pub strict_ack: bool,
    pub partners: Vec<PartnerConfig>,
}

/// The two shapes the documents give `queryCurrencyBalance`'s reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CurrencyBalanceShape {
    /// The example: a bare JSON array of balances with Money objects.
    #[default]
    Array,
    /// The schema: `{"records": [...]}` with `balance` as a number.
    Records,
}

impl Default for WhaletConfig {
    fn default() -> Self {
        Self {
            hex_case: HexCase::default(),
            body_limit_bytes: 1024 * 1024,
            demo_partner: true,
            request_no_memory: crate::store::request_nos::RequestNos::DEFAULT_CAPACITY,
            platform_private_key: None,
            api_codes: BTreeMap::new(),
            detail_max_chars: crate::wire::whalet::DETAIL_MAX_CHARS,
            diagnostic_header_max_bytes: 4096,
            key_enc_form: Default::default(),
            currency_balance_shape: CurrencyBalanceShape::default(),
            strict_ack: true,
            partners: Vec::new(),
        }
    }
}

/// One Whalet partner.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerConfig {
    pub partner_id: String,
    /// The partner's public key: PEM, bare Base64 DER, or `@path/to/file` (a bare path is not
    /// read: the error hints at the `@`); RSA of 1024 to 8192 bits.
    pub public_key: String,
    /// Platform key pair used for this partner (Whalet issues one per partner); default: the
    /// simulator-wide platform key.
    pub platform_private_key: Option<String>,
    /// Where this partner's notifications go (default `--notify-url`); one no notification could
    /// reach stops `serve` at start.
    pub notify_url: Option<String>,
    /// Enabled operations by canonical name (Open API apiCodes and whalet-platform operations,
    /// not the wire names of `[whalet.api_codes]`; `"*"` = all); default all.
    /// `INTERFACE_UNAUTHORIZED` otherwise. A name that is no operation is refused at start.
    pub api_codes: Option<Vec<String>>,
    /// Requests per second before TOO_MANY_REQUESTS (at least 1); default unlimited.
    pub rate_limit: Option<u32>,
    /// Check notification acknowledgements as documented; default `[whalet] strict_ack`.
    pub strict_ack: Option<bool>,
    /// With the strict check, also require the ack to be signed (the documents make the
    /// reply's `sign` optional). Only with the strict check: refused at start with
    /// `strict_ack = false` (the lenient check looks at no signature).
    #[serde(default)]
    pub ack_sign_required: bool,
}

impl Config {
    /// Reads and validates a TOML file; errors name the file, the line and the key. Besides
    /// [`Config::parse`]'s checks, the rosters are built from it ([`Config::check_rosters`]), so
    /// that their refusals (a key file, a token, a fee) name the file too.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = read_limited_text(path, FileKind::CONFIG)
            .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
        let mut config = Self::parse(&text)
            .and_then(|config| config.check_rosters().map(|()| config))
            .map_err(|e| refusal(Some(path), e))?;
        config.file = Some(path.to_owned());
        Ok(config)
    }

    /// A refusal of one of this configuration's settings ([`refusal`]): names the file it was
    /// read from, if any. `message` starts with the setting: `[clock] start = "x": why`.
    pub fn refusal(&self, message: impl std::fmt::Display) -> anyhow::Error {
        refusal(self.file.as_deref(), message)
    }

    /// Builds, and drops, every surface's roster of callers as the server builds them at start
    /// (Whalet partners and apiCode renames, Pockyt merchants, Infinia apps and paths): their
    /// refusals (a key file, a token, a balance, a fee) then come while the file is being
    /// loaded, named with it. The `--notify-url` flag plays no part in them.
    pub fn check_rosters(&self) -> anyhow::Result<()> {
        use crate::api;
        api::whalet::partners::Partners::from_config(&self.whalet, None)?;
        api::whalet::Dispatch::new(&self.whalet.api_codes)?;
        api::pockyt::Merchants::from_config(&self.pockyt, None)?;
        let apps = api::infinia::apps::Apps::from_config(&self.infinia, None)?;
        api::infinia::Infinia::new(std::sync::Arc::new(apps))?;
        Ok(())
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        config.check_bounds()?;
        config.journal.check()?;
        config.clock.check()?;
        config.server.check()?;
        config.server.check_body_limits(&config.body_limits())?;
        config.check_notify_urls()?;
        config.check_roster_ids()?;
        config.check_ack_settings()?;
        config.check_partner_maps()?;
        config.check_api_code_renames()?;
        config.infinia.check()?;
        config.store.check()?;
        Ok(config)
    }

    /// Refuses, at start, a partner asking for signed acks under the lenient check: the
    /// lenient check (`strict_ack = false`) accepts any SUCCESS head and verifies no signature,
    /// so `ack_sign_required = true` would be silently ignored.
    fn check_ack_settings(&self) -> anyhow::Result<()> {
        let lenient = self
            .whalet
            .partners
            .iter()
            .find(|p| p.ack_sign_required && !p.strict_ack.unwrap_or(self.whalet.strict_ack));
        let Some(p) = lenient else {
            return Ok(());
        };
        let why = match p.strict_ack {
            Some(_) => "its strict_ack = false",
            None => "[whalet] strict_ack = false applies to it",
        };
        anyhow::bail!(
            "[[whalet.partners]] partner_id = {}: ack_sign_required = true needs the strict \
             ack check, but {why} (the lenient check verifies no signature): set strict_ack = \
             true in this partner's entry, or remove ack_sign_required",
            crate::text::echo(&p.partner_id)
        )
    }

    /// Refuses, at start, an entry of `[platform.partner_names]` or `[platform.sftp_passwords]`
    /// keyed by a partner that is not configured (a typo, or a partner removed): it would
    /// silently apply to no one.
    fn check_partner_maps(&self) -> anyhow::Result<()> {
        let mut ids: Vec<&str> = self
            .whalet
            .partners
            .iter()
            .map(|p| p.partner_id.as_str())
            .collect();
        if self.whalet.demo_partner {
            ids.push(DEMO_PARTNER_ID);
        }
        let maps = [
            ("[platform.partner_names]", &self.platform.partner_names),
            ("[platform.sftp_passwords]", &self.platform.sftp_passwords),
        ];
        for (section, map) in maps {
            if let Some(id) = map.keys().find(|id| !ids.contains(&id.as_str())) {
                let hint = crate::text::nearest(id, &ids)
                    .map(|near| format!(" (did you mean {near:?}?)"))
                    .unwrap_or_default();
                anyhow::bail!(
                    "{section} names partner {} that is not configured{hint}: its entry would \
                     apply to no one; configure the partner in [[whalet.partners]] or remove \
                     the entry",
                    crate::text::echo(id)
                );
            }
        }
        Ok(())
    }

    /// Refuses, at start, a `[whalet.api_codes]` key that is no apiCode, naming the nearest one
    /// (the rename would apply to nothing); the rest of the table is checked where the dispatch
    /// table is built ([`crate::api::whalet::Dispatch::new`]).
    fn check_api_code_renames(&self) -> anyhow::Result<()> {
        let renames = &self.whalet.api_codes;
        if renames.is_empty() {
            return Ok(());
        }
        let table = crate::api::whalet::Dispatch::new(&BTreeMap::new())?;
        let known: Vec<&str> = table.names().keys().map(String::as_str).collect();
        let Some((name, wire)) = renames.iter().find(|(c, _)| !known.contains(&c.as_str())) else {
            return Ok(());
        };
        let hint = crate::text::nearest(name, &known)
            .map(|near| format!(" (did you mean {near:?}?)"))
            .unwrap_or_default();
        anyhow::bail!(
            "[whalet.api_codes] {} = {}: {} is not an apiCode{hint}; the keys are canonical \
             apiCodes (docs/FIDELITY.md), the values their names on the wire",
            crate::text::echo_bare(name),
            crate::text::echo(wire),
            crate::text::echo(name)
        )
    }

    /// Refuses, at start, any numeric limit, timeout or quota out of its range, naming the key,
    /// the value and the range: one rule for every such key ([`Config::bounds`]).
    fn check_bounds(&self) -> anyhow::Result<()> {
        self.bounds().iter().try_for_each(Bound::check)
    }

    /// The range of every limit, timeout and quota that has one (docs/RELIABILITY.md). A key
    /// whose 0 has a meaning has no lower end, and its docs line says what 0 means: `[server]
    /// cpu_parallelism` (one per core; here for its upper end only) and `cpu_inline_bytes`
    /// (every stage handed off), `[whalet] detail_max_chars` and `[infinia]
    /// max_request_data_chars` (no limit), `[infinia] sftp_idle_timeout_ms` (never) and
    /// `sftp_max_error_rows` (none listed, only counted). Delays (0: at once) are no limits.
    /// `[server] max_body_bytes_in_flight` and `[journal] max_bytes` depend on other keys:
    /// [`ServerConfig::check_body_limits`], [`JournalConfig::check`]; so does the upper end of
    /// `[infinia] sftp_max_unauthenticated` (`sftp_max_connections`):
    /// [`infinia::InfiniaConfig::check`].
    fn bounds(&self) -> Vec<Bound> {
        let (server, notify, journal) = (&self.server, &self.notify, &self.journal);
        let (whalet, platform, infinia) = (&self.whalet, &self.platform, &self.infinia);
        let edge = ServerConfig::default();
        let notify_default = NotifyConfig::default();
        let journal_default = JournalConfig::default();
        let whalet_default = WhaletConfig::default();
        let platform_default = platform::PlatformConfig::default();
        let infinia_default = infinia::InfiniaConfig::default();
        let pockyt_default = pockyt::PockytConfig::default();
        let scenarios_default = ScenariosConfig::default();
        // Counts of things held at once are semaphore permits (more would panic).
        let permits = tokio::sync::Semaphore::MAX_PERMITS;
        vec![
            Bound::new(
                "[server] header_read_timeout_ms",
                server.header_read_timeout_ms,
                1,
                edge.header_read_timeout_ms,
                "close, unanswered, every connection whose request head does not arrive in one \
                 packet",
            )
            .ms(),
            Bound::new(
                "[server] body_read_timeout_ms",
                server.body_read_timeout_ms,
                1,
                edge.body_read_timeout_ms,
                "answer 408 to every request whose body does not arrive with its head",
            )
            .ms(),
            Bound::new(
                "[server] body_reclaim_after_ms",
                server.body_reclaim_after_ms,
                1,
                edge.body_reclaim_after_ms,
                "let a request that finds the budget of bodies in flight spent cut bodies whose \
                 next bytes are on their way",
            )
            .ms(),
            Bound::new(
                "[server] max_connections",
                server.max_connections,
                1,
                edge.max_connections,
                "serve no connection at all",
            )
            .at_most(permits),
            Bound::new(
                "[server] write_stall_timeout_ms",
                server.write_stall_timeout_ms,
                1,
                edge.write_stall_timeout_ms,
                "close every connection whose answer does not go out at once",
            )
            .ms(),
            Bound::new(
                "[server] max_header_fields",
                server.max_header_fields,
                1,
                edge.max_header_fields,
                "refuse every request carrying a header (HTTP/1.1 needs Host)",
            )
            // hyper reserves room for this many fields per request parsed: a huge value would
            // reserve address space for fields no head of `max_header_bytes` could carry.
            .at_most(ServerConfig::MAX_HEADER_FIELDS),
            Bound::new(
                "[server] max_header_bytes",
                server.max_header_bytes,
                ServerConfig::MIN_HEADER_BYTES,
                edge.max_header_bytes,
                "leave no room for a request line and a few header fields (431 to every request)",
            ),
            Bound::new(
                "[server] control_body_limit_bytes",
                server.control_body_limit_bytes,
                1,
                edge.control_body_limit_bytes,
                "refuse every /__sim/ request with a body (413)",
            ),
            Bound::new(
                "[server] other_body_limit_bytes",
                server.other_body_limit_bytes,
                1,
                edge.other_body_limit_bytes,
                "refuse every form of the seller authorization page (413)",
            ),
            Bound::new(
                "[server] cpu_parallelism",
                server.cpu_parallelism,
                0,
                edge.cpu_parallelism,
                "",
            )
            .at_most(permits),
            Bound::new(
                "[notify] timeout_ms",
                notify.timeout_ms,
                NotifyConfig::MIN_TIMEOUT_MS,
                notify_default.timeout_ms,
                "never deliver: every attempt would time out before its answer came",
            )
            .ms(),
            Bound::new(
                "[notify] ledger_capacity",
                notify.ledger_capacity,
                1,
                notify_default.ledger_capacity,
                "keep no finished notification in the delivery ledger",
            ),
            Bound::new(
                "[notify] concurrency_per_destination",
                notify.concurrency_per_destination,
                1,
                notify_default.concurrency_per_destination,
                "never deliver: no attempt at a time per destination",
            )
            .at_most(permits),
            Bound::new(
                "[notify] dns_lookups",
                notify.dns_lookups,
                1,
                notify_default.dns_lookups,
                "never deliver to a receiver named by its host name: no lookup at a time",
            )
            .at_most(NotifyConfig::MAX_DNS_LOOKUPS),
            Bound::new(
                "[notify] run_tag",
                notify.run_tag.unwrap_or_default(),
                0,
                0,
                "",
            )
            .at_most(NotifyConfig::MAX_RUN_TAG)
            .default_is("a random tag per process"),
            Bound::new(
                "[journal] capacity",
                journal.capacity,
                1,
                journal_default.capacity,
                "keep no request in the journal",
            ),
            Bound::new(
                "[journal] max_field_bytes",
                journal.max_field_bytes,
                crate::text::ECHO_BYTES,
                journal_default.max_field_bytes,
                "cut a field shorter than the client value a diagnostic echoes",
            ),
            Bound::new(
                "[whalet] body_limit_bytes",
                whalet.body_limit_bytes,
                1,
                whalet_default.body_limit_bytes,
                "refuse every request (PARAM_FORMAT_ERROR)",
            ),
            Bound::new(
                "[whalet] request_no_memory",
                whalet.request_no_memory,
                1,
                whalet_default.request_no_memory,
                "remember no requestNo, so no duplicate could be answered REQUEST_NO_NOT_UNIQUE",
            ),
            Bound::new(
                "[whalet] diagnostic_header_max_bytes",
                whalet.diagnostic_header_max_bytes,
                4,
                whalet_default.diagnostic_header_max_bytes,
                "leave no room for a character before the `...` that ends a cut value",
            ),
            Bound::new(
                "[platform] link_ttl_secs",
                platform.link_ttl_secs,
                1,
                platform_default.link_ttl_secs,
                "expire every authorization link the moment it is made",
            ),
            Bound::new(
                "[platform] max_seller_sessions",
                platform.max_seller_sessions,
                1,
                platform_default.max_seller_sessions,
                "keep no seller's login, so no seller could decide on the authorization page",
            )
            .at_most(platform::PlatformConfig::MAX_SELLER_SESSIONS),
            Bound::new(
                "[platform] max_materials",
                platform.max_materials,
                1,
                platform_default.max_materials,
                "refuse every tradeMaterialsUpload and trade-materials file",
            ),
            Bound::new(
                "[infinia] body_limit_bytes",
                infinia.body_limit_bytes,
                1,
                infinia_default.body_limit_bytes,
                "refuse every request (SYS-007)",
            ),
            Bound::new(
                "[infinia] max_request_blocks",
                infinia.max_request_blocks,
                1,
                infinia_default.max_request_blocks,
                "refuse every request (SYS-007)",
            ),
            Bound::new(
                "[infinia] sftp_max_file_bytes",
                infinia.sftp_max_file_bytes,
                1,
                infinia_default.sftp_max_file_bytes,
                "fail every SFTP write",
            ),
            Bound::new(
                "[infinia] sftp_max_bytes",
                infinia.sftp_max_bytes,
                1,
                infinia_default.sftp_max_bytes,
                "fail every SFTP write",
            ),
            Bound::new(
                "[infinia] sftp_max_files",
                infinia.sftp_max_files,
                1,
                infinia_default.sftp_max_files,
                "refuse every SFTP upload (no file could be created)",
            ),
            Bound::new(
                "[infinia] max_trades",
                infinia.max_trades,
                1,
                infinia_default.max_trades,
                "fail every trade-details file that has a good row",
            ),
            Bound::new(
                "[infinia] sftp_max_connections",
                infinia.sftp_max_connections,
                1,
                infinia_default.sftp_max_connections,
                "refuse every SFTP connection (sftp_addr = \"off\" turns SFTP off)",
            ),
            Bound::new(
                "[infinia] sftp_max_unauthenticated",
                infinia.max_unauthenticated(),
                1,
                infinia_default.max_unauthenticated(),
                "close every SFTP connection before it could log in",
            ),
            Bound::new(
                "[infinia] sftp_login_grace_ms",
                infinia.sftp_login_grace_ms,
                1,
                infinia_default.sftp_login_grace_ms,
                "disconnect every SFTP connection before it could log in",
            )
            .ms(),
            Bound::new(
                "[infinia] sftp_max_auth_attempts",
                infinia.sftp_max_auth_attempts,
                1,
                infinia_default.sftp_max_auth_attempts,
                "allow no login attempt",
            ),
            Bound::new(
                "[infinia] sftp_max_channels",
                infinia.sftp_max_channels,
                1,
                infinia_default.sftp_max_channels,
                "refuse every SFTP session",
            ),
            Bound::new(
                "[infinia] sftp_max_handles",
                infinia.sftp_max_handles,
                1,
                infinia_default.sftp_max_handles,
                "refuse every SFTP open",
            ),
            Bound::new(
                "[pockyt] body_limit_bytes",
                self.pockyt.body_limit_bytes,
                1,
                pockyt::PockytConfig::default().body_limit_bytes,
                "refuse every request (000023)",
            ),
            // Delays: 0 is at once; a negative one would schedule into the past.
            Bound::new(
                "[platform] payment_delay_secs",
                platform.payment_delay_secs,
                0,
                platform_default.payment_delay_secs,
                "settle a payment before it was made",
            ),
            Bound::new(
                "[pockyt] payee_review_delay_ms",
                self.pockyt.payee_review_delay_ms,
                0,
                pockyt_default.payee_review_delay_ms,
                "activate a payee before it registered",
            )
            .ms(),
            Bound::new(
                "[pockyt] account_review_delay_ms",
                self.pockyt.account_review_delay_ms,
                0,
                pockyt_default.account_review_delay_ms,
                "decide an account before it was created",
            )
            .ms(),
            Bound::new(
                "[pockyt] payout_settle_delay_ms",
                self.pockyt.payout_settle_delay_ms,
                0,
                pockyt_default.payout_settle_delay_ms,
                "settle a payout before it was made",
            )
            .ms(),
            Bound::new(
                "[pockyt] return_after_ms",
                self.pockyt.return_after_ms,
                0,
                pockyt_default.return_after_ms,
                "return a payout before it succeeded",
            )
            .ms(),
            Bound::new(
                "[scenarios] max_loaded",
                self.scenarios.max_loaded,
                1,
                scenarios_default.max_loaded,
                "refuse every scenario",
            ),
            Bound::new(
                "[scenarios] max_rules_loaded",
                self.scenarios.max_rules_loaded,
                1,
                scenarios_default.max_rules_loaded,
                "refuse every scenario with a rule",
            ),
        ]
    }

    /// Every configured body limit, with its key.
    fn body_limits(&self) -> [(&'static str, usize); 5] {
        [
            ("[whalet] body_limit_bytes", self.whalet.body_limit_bytes),
            ("[infinia] body_limit_bytes", self.infinia.body_limit_bytes),
            ("[pockyt] body_limit_bytes", self.pockyt.body_limit_bytes),
            (
                "[server] control_body_limit_bytes",
                self.server.control_body_limit_bytes,
            ),
            (
                "[server] other_body_limit_bytes",
                self.server.other_body_limit_bytes,
            ),
        ]
    }

    /// Refuses, at start, a notify URL that every delivery would fail on (`notaurl`,
    /// `ftp://x/y`, a port out of range), naming the entry and the key.
    fn check_notify_urls(&self) -> anyhow::Result<()> {
        let partners = self.whalet.partners.iter().map(|p| {
            let entry = format!("[[whalet.partners]] partner_id = {:?}", p.partner_id);
            (entry, &p.notify_url)
        });
        let apps = self.infinia.apps.iter().map(|a| {
            let entry = format!("[[infinia.apps]] app_id = {:?}", a.app_id);
            (entry, &a.notify_url)
        });
        let merchants = self.pockyt.merchants.iter().map(|m| {
            let entry = format!("[[pockyt.merchants]] merchant_no = {:?}", m.merchant_no);
            (entry, &m.notify_url)
        });
        for (entry, url) in partners.chain(apps).chain(merchants) {
            if let Some(url) = url {
                check_notify_url(url).map_err(|e| {
                    anyhow::anyhow!("{entry}: notify_url = {} {e}", crate::text::echo(url))
                })?;
            }
        }
        Ok(())
    }

    /// Refuses, at start, two entries of one roster with the same id (the later one would
    /// silently replace the earlier one), and a Pockyt merchant or an Infinia app taking the id
    /// of the embedded demo one while that is on (the demo's seeded balances would silently go).
    /// A Whalet partner with the demo partner's id replaces it on purpose (the demo partner has
    /// no seeded state; examples/sim.toml sets its strict_ack that way).
    fn check_roster_ids(&self) -> anyhow::Result<()> {
        let partners = self.whalet.partners.iter().map(|p| p.partner_id.as_str());
        unique_ids("[[whalet.partners]]", "partner_id", partners)?;
        let apps = self.infinia.apps.iter().map(|a| a.app_id.as_str());
        unique_ids("[[infinia.apps]]", "app_id", apps.clone())?;
        let merchants = self.pockyt.merchants.iter().map(|m| m.merchant_no.as_str());
        unique_ids("[[pockyt.merchants]]", "merchant_no", merchants.clone())?;
        if self.infinia.demo_app {
            let demo = Demo {
                noun: "app",
                id: infinia::DEMO_APP_ID,
                switch: "[infinia] demo_app",
            };
            demo.not_configured("[[infinia.apps]]", "app_id", apps)?;
        }
        if self.pockyt.demo_merchant {
            let demo = Demo {
                noun: "merchant",
                id: pockyt::DEMO_MERCHANT_NO,
                switch: "[pockyt] demo_merchant",
            };
            demo.not_configured("[[pockyt.merchants]]", "merchant_no", merchants)?;
        }
        Ok(())
    }
}

/// The range of one numeric setting: the shared rule by which every limit, timeout and quota is
/// refused at start, naming the key, the value and the range ([`Config::bounds`]).
struct Bound {
    /// `[section] key`.
    key: &'static str,
    value: i128,
    least: i128,
    /// The largest value, where one is needed.
    most: Option<i128>,
    default: i128,
    /// What a value below `least` would do.
    below: &'static str,
    /// `" ms"` for a timeout.
    unit: &'static str,
    /// What the default is, when it is no number.
    default_note: Option<&'static str>,
}

impl Bound {
    /// `key` = `value` must be at least `least`; below it, it would do `below`.
    fn new(
        key: &'static str,
        value: impl TryInto<i128>,
        least: impl TryInto<i128>,
        default: impl TryInto<i128>,
        below: &'static str,
    ) -> Self {
        // Every setting is an integer of at most 64 bits, which i128 holds.
        let wide = |n: Option<i128>| n.unwrap_or(i128::MAX);
        Self {
            key,
            value: wide(value.try_into().ok()),
            least: wide(least.try_into().ok()),
            most: None,
            default: wide(default.try_into().ok()),
            below,
            unit: "",
            default_note: None,
        }
    }

    /// The default is no number but `note` (a random value).
    fn default_is(self, note: &'static str) -> Self {
        Self {
            default_note: Some(note),
            ..self
        }
    }

    /// The value is in milliseconds.
    fn ms(self) -> Self {
        Self {
            unit: " ms",
            ..self
        }
    }

    /// The value may be at most `most`.
    fn at_most(self, most: impl TryInto<i128>) -> Self {
        Self {
            most: most.try_into().ok(),
            ..self
        }
    }

    /// The allowed values, as a message says them.
    fn range(&self) -> String {
        let (least, unit) = (self.least, self.unit);
        match self.most {
            Some(most) => format!("from {least} to {most}{unit}"),
            None => format!("at least {least}{unit}"),
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        let Self {
            key, value, unit, ..
        } = self;
        let range = self.range();
        let default = match self.default_note {
            Some(note) => note.to_owned(),
            None => format!("{}{unit}", self.default),
        };
        if *value < self.least {
            anyhow::bail!(
                "{key} = {value} would {}: {range} (default {default})",
                self.below
            );
        }
        if self.most.is_some_and(|most| *value > most) {
            anyhow::bail!("{key} = {value} is too large: {range} (default {default})");
        }
        Ok(())
    }
}

/// Refuses two entries of `section` with the same `key`, naming both (counting from 1) and the id.
fn unique_ids<'a>(
    section: &str,
    key: &str,
    ids: impl Iterator<Item = &'a str>,
) -> anyhow::Result<()> {
    let mut first_of = HashMap::new();
    for (n, id) in ids.enumerate() {
        if let Some(first) = first_of.insert(id, n + 1) {
            anyhow::bail!(
                "{section} entries {first} and {} (counting from 1) both have {key} = {}; \
                 each {key} must be unique: remove or rename one",
                n + 1,
                crate::text::echo(id)
            );
        }
    }
    Ok(())
}

/// An embedded demo caller: what it is, its id, and the setting that keeps it.
struct Demo {
    noun: &'static str,
    id: &'static str,
    switch: &'static str,
}

impl Demo {
    /// Refuses an entry of `section` whose `key` is this demo's id (the demo is on).
    fn not_configured<'a>(
        &self,
        section: &str,
        key: &str,
        mut ids: impl Iterator<Item = &'a str>,
    ) -> anyhow::Result<()> {
        let Some(n) = ids.position(|id| id == self.id) else {
            return Ok(());
        };
        let Self { noun, id, switch } = self;
        anyhow::bail!(
            "{section} entry {} (counting from 1) has {key} = {id:?}, the id of the embedded demo \
             {noun}, which {switch} keeps (default true): set {switch} = false to configure \
             that {noun} yourself, or choose another {key}",
            n + 1
        )
    }
}

/// Refuses an admin token that could not travel in an `Authorization: Bearer` header: one rule
/// for `[server] admin_token`, `--admin-token` and `WHALET_SIM_ADMIN_TOKEN`. Visible ASCII only,
/// no spaces or control characters (a token read with its line end, `s3cret\n`, would fail every
/// request as "no answer"). The empty token means none (no token is required).
pub fn check_admin_token(token: &str) -> Result<(), String> {
    if token.bytes().all(|b| b.is_ascii_graphic()) {
        return Ok(());
    }
    Err("an admin token has visible ASCII characters only (no spaces, tabs or line ends)".into())
}

/// Refuses a notification URL that no notification could be delivered to; one check for the
/// configuration and `serve --notify-url`. The error follows the key or flag that gave the URL.
pub fn check_notify_url(url: &str) -> Result<(), String> {
    crate::http::check_web_url(url)
        .map_err(|why| format!("must be an absolute http:// or https:// URL with a host; {why}"))
}

pub use crate::files::{
    read_limited, read_limited_text, FileKind, MAX_KEY_FILE_BYTES, MAX_SETTINGS_FILE_BYTES,
    MAX_SNAPSHOT_FILE_BYTES,
};

/// Reads a setting given inline or as `@path` (a key, a token). The file must be a regular file
/// of at most [`MAX_KEY_FILE_BYTES`]: a named pipe or a device would hang the start. The error
/// says what went wrong with the path; the caller puts the setting's name before it.
pub fn key_text(value: &str) -> anyhow::Result<String> {
    let Some(path) = value.strip_prefix('@') else {
        return Ok(value.to_owned());
    };
    if looks_like_key(path) {
        anyhow::bail!("@ is followed by a key, not a path (give the key without the @)");
    }
    read_limited_text(Path::new(path), FileKind::KEY)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}{}", shown_path(path), relative_to(path)))
}

/// For a relative `path` that names nothing: what it was read relative to (the working
/// directory, not the configuration file's), since that is the usual reason it is not found.
fn relative_to(path: &str) -> String {
    let path = Path::new(path);
    if path.is_absolute() || path.exists() {
        return String::new();
    }
    match std::env::current_dir() {
        Ok(dir) => format!(
            " (an @path is read relative to the working directory, {}, not to the \
             configuration file: run from the directory it is relative to, or give an \
             absolute path)",
            dir.display()
        ),
        Err(_) => String::new(),
    }
}

/// Whether text given as a path is a key instead: a PEM block, or Base64 long enough to be a
/// DER key (a 1024-bit public key is over 200 characters; a path this long of only Base64
/// characters is no real path). One rule for the configuration and the CLI's key flags.
pub fn looks_like_key(value: &str) -> bool {
    let text = value.trim();
    text.starts_with("-----BEGIN")
        || (text.len() >= 128
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c) || c.is_whitespace()))
}

/// A path as an error shows it: quoted, at most 40 characters (a mistake there is not echoed
/// whole).
fn shown_path(path: &str) -> String {
    match path.char_indices().nth(40) {
        None => format!("{path:?}"),
        Some((end, _)) => format!("{:?}…", &path[..end]),
    }
}

/// The hint for a setting that failed to read as a key but names a file: the configuration
/// reads a file only after `@` (`public_key = "@keys/public.pem"`).
pub fn key_path_hint(value: &str) -> Option<String> {
    let single_line = !value.contains('\n') && !value.starts_with('@');
    let pathlike = value.contains('/') || value.contains('.') || Path::new(value).exists();
    (single_line && pathlike && !looks_like_key(value)).then(|| {
        format!(
            " (a file? write \"@{}\")",
            value.chars().take(200).collect::<String>()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `toml` is refused with a message naming every one of `names`.
    fn refused(toml: &str, names: &[&str]) {
        let err = Config::parse(toml).unwrap_err().to_string();
        for name in names {
            assert!(err.contains(name), "{name:?} not in {err}");
        }
    }

    /// A frozen clock given a speed is refused naming both keys, as `serve` refuses the same
    /// pair of flags; a scaled clock takes its scale, a frozen one without it loads.
    #[test]
    fn a_manual_clock_with_a_scale_is_refused() {
        refused(
            "[clock]\nmode = \"manual\"\nscale = 2.0\n",
            &["mode = \"manual\"", "[clock] scale", "no speed"],
        );
        Config::parse("[clock]\nmode = \"manual\"\n").unwrap();
        Config::parse("[clock]\nmode = \"scaled\"\nscale = 2.0\n").unwrap();
    }

    /// Regression: `[server] admin_token` skipped the check `--admin-token` applies, so a token
    /// with spaces (or only spaces, which counted as a token) started a server no client could
    /// reach. The empty token still means none.
    #[test]
    fn the_admin_token_takes_visible_ascii_only() {
        for bad in ["a b", "   ", "t\u{e9}", "s3cret\\n"] {
            refused(
                &format!("[server]\nadmin_token = \"{bad}\"\n"),
                &["[server] admin_token", "visible ASCII characters only"],
            );
        }
        let ok = Config::parse("[server]\nadmin_token = \"s3cret\"\n").unwrap();
        assert_eq!(ok.server.admin_token(), Some("s3cret"));
        let none = Config::parse("[server]\nadmin_token = \"\"\n").unwrap();
        assert_eq!(none.server.admin_token(), None);
    }

    /// Regression: a scale out of the clock's bounds was refused only when no clock flag was
    /// given, and without naming the file; it is refused at parse now.
    #[test]
    fn a_clock_scale_out_of_bounds_is_refused_at_parse() {
        for bad in ["-5.0", "0.0", "1e7", "nan"] {
            refused(
                &format!("[clock]\nscale = {bad}\n"),
                &[
                    "[clock] scale must be a number from 0.000001 to 1000000",
                    "not ",
                ],
            );
        }
        let ok = Config::parse("[clock]\nmode = \"scaled\"\nscale = 0.01\n").unwrap();
        assert_eq!(ok.clock.scale, Some(0.01));
    }

    /// Regression: `[platform.partner_names]` and `[platform.sftp_passwords]` keyed by a partner
    /// that is not configured were accepted and applied to no one.
    #[test]
    fn partner_maps_name_configured_partners_only() {
        let partner = "[[whalet.partners]]\npartner_id = \"acme01\"\npublic_key = \"k\"\n";
        for section in ["partner_names", "sftp_passwords"] {
            let map = |id: &str| format!("[platform.{section}]\n\"{id}\" = \"x\"\n");
            assert!(Config::parse(&format!("{}{partner}", map("acme01"))).is_ok());
            assert!(Config::parse(&map(DEMO_PARTNER_ID)).is_ok());
            refused(
                &format!("{}{partner}", map("acme02")),
                &[
                    &format!("[platform.{section}]"),
                    "\"acme02\"",
                    "not configured",
                    "\"acme01\"?",
                ],
            );
            let no_demo = format!("[whalet]\ndemo_partner = false\n{}", map(DEMO_PARTNER_ID));
            refused(&no_demo, &[DEMO_PARTNER_ID, "not configured"]);
        }
    }

    /// Regression: `--config`, `--contract`, `--scenario` and `--snapshot` files were read whole,
    /// so `/dev/zero` filled memory. Each kind is read up to its limit: a device is refused
    /// unread, a file over the limit by the limit and what the file is; a pipe is read (a
    /// process substitution, `--config <(…)`), a key's `@path` still is not.
    #[cfg(unix)]
    #[test]
    fn files_a_setting_names_are_read_up_to_their_kinds_limit() {
        let dir = tempfile::tempdir().unwrap();
        for kind in [
            FileKind::CONFIG,
            FileKind::CONTRACT,
            FileKind::SCENARIO,
            FileKind::SNAPSHOT,
        ] {
            let why = read_limited(Path::new("/dev/zero"), kind).unwrap_err();
            assert!(
                why.to_string().starts_with("not a regular file or a pipe"),
                "{why}"
            );
            let why = read_limited(dir.path(), kind).unwrap_err();
            assert!(why.to_string().starts_with("not a regular file"), "{why}");
        }
        let small = FileKind {
            what: "a test file",
            limit: 10,
            pipe: true,
        };
        let file = dir.path().join("f.toml");
        std::fs::write(&file, "0123456789").unwrap();
        assert_eq!(read_limited_text(&file, small).unwrap(), "0123456789");
        std::fs::write(&file, "0123456789A").unwrap();
        let why = read_limited(&file, small).unwrap_err().to_string();
        assert_eq!(why, "larger than 10 bytes, too large for a test file");
        std::fs::write(&file, [0xff, 0xfe]).unwrap();
        assert!(read_limited_text(&file, small).is_err());

        let fifo = dir.path().join("pipe.toml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, "[server]\n"))
        };
        let text = read_limited_text(&fifo, FileKind::CONFIG).unwrap();
        writer.join().unwrap().unwrap();
        assert_eq!(text, "[server]\n");
        let why = read_limited(&fifo, FileKind::KEY).unwrap_err().to_string();
        assert!(
            why.contains("a directory, pipe or device is not read"),
            "{why}"
        );

        let why = Config::load(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(
            why.starts_with("cannot read config /dev/zero: not a regular file"),
            "{why}"
        );
    }

    /// The snapshot file's limit is the largest control-plane body the default budget allows
    /// (docs/CLI.md says so); the other settings files' is 4 MiB.
    #[test]
    fn the_file_limits_are_the_documented_ones() {
        let budget = crate::http::Limits::default().max_body_bytes_in_flight as u64;
        assert_eq!(FileKind::SNAPSHOT.limit, budget);
        assert_eq!(FileKind::CONFIG.limit, 4 * 1024 * 1024);
        let docs = include_str!("../../docs/CLI.md");
        for (kind, size) in [
            (FileKind::CONFIG, "4 MiB"),
            (FileKind::SNAPSHOT, "256 MiB"),
            (FileKind::KEY, "64 KiB"),
        ] {
            let row = format!("| {} | {size}", kind.what);
            assert!(docs.contains(&row), "docs/CLI.md has no row {row:?}");
        }
    }

    /// A key file is read only when it is a regular file of at most MAX_KEY_FILE_BYTES; a named
    /// pipe used to hang the start. Errors name the path, never a key pasted after the `@`.
    #[cfg(unix)]
    #[test]
    fn key_files_are_small_regular_files() {
        let dir = std::env::temp_dir().join(format!("key-text-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("pipe.pem");
        let _ = std::fs::remove_file(&fifo);
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let why = key_text(&format!("@{}", fifo.display()))
            .unwrap_err()
            .to_string();
        assert!(why.contains("not a regular file"), "{why}");
        let why = key_text("@/dev/zero").unwrap_err().to_string();
        assert!(
            why.contains("cannot read \"/dev/zero\": not a regular file"),
            "{why}"
        );
        let big = dir.join("big.pem");
        std::fs::write(&big, vec![b'A'; MAX_KEY_FILE_BYTES as usize + 1]).unwrap();
        let why = key_text(&format!("@{}", big.display()))
            .unwrap_err()
            .to_string();
        assert!(why.contains("larger than 65536 bytes"), "{why}");
        let why = key_text("@keys/nope.pem").unwrap_err().to_string();
        assert!(why.starts_with("cannot read \"keys/nope.pem\": "), "{why}");
        assert!(!why.contains("key file"), "{why}");
        // A relative path that names nothing says what it was read relative to (t54a F14).
        let cwd = std::env::current_dir().unwrap();
        assert!(
            why.ends_with(&format!(
                "(an @path is read relative to the working directory, {}, not to the \
                 configuration file: run from the directory it is relative to, or give an \
                 absolute path)",
                cwd.display()
            )),
            "{why}"
        );
        let why = key_text("@/no/such/dir/key.pem").unwrap_err().to_string();
        assert!(!why.contains("relative to"), "{why}");
        let pasted = format!("@{}", crate::wire::keys::demo::PARTNER_PUBLIC);
        let why = key_text(&pasted).unwrap_err().to_string();
        assert!(why.contains("@ is followed by a key, not a path"), "{why}");
        assert!(!why.contains("BEGIN"), "{why}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Regression: `[notify] run_tag` over 999,999 was reduced modulo 1,000,000, so 1000123
    /// gave the requestNos of 123. It is refused naming the key and the range.
    #[test]
    fn an_empty_data_dir_is_refused_naming_the_key() {
        let why = Config::parse("[store]\ndata_dir = \"\"\n")
            .unwrap_err()
            .to_string();
        assert!(why.starts_with("[store] data_dir = \"\": empty"), "{why}");
        assert!(Config::parse("[store]\ndata_dir = \"d\"\n").is_ok());
    }

    #[test]
    fn a_run_tag_has_six_digits_at_most() {
        let most = format!("[notify]\nrun_tag = {}\n", NotifyConfig::MAX_RUN_TAG);
        assert_eq!(
            Config::parse(&most).unwrap().notify.run_tag,
            Some(NotifyConfig::MAX_RUN_TAG)
        );
        assert!(Config::parse("[notify]\nrun_tag = 0\n").is_ok());
        refused(
            "[notify]\nrun_tag = 1000123\n",
            &[
                "[notify] run_tag = 1000123 is too large",
                "from 0 to 999999",
            ],
        );
    }

    /// Regression: a `[whalet.api_codes]` key that is no apiCode was refused as
    /// `whalet.api_codes: "connectivty" is not a known apiCode`, without the nearest name.
    #[test]
    fn an_api_code_rename_of_no_api_code_names_the_nearest() {
        assert!(Config::parse("[whalet.api_codes]\nconnectivity = \"ping\"\n").is_ok());
        refused(
            "[whalet.api_codes]\nconnectivty = \"x\"\n",
            &[
                "[whalet.api_codes] connectivty = \"x\": \"connectivty\" is not an apiCode",
                "(did you mean \"connectivity\"?)",
            ],
        );
    }

    /// Regression: refusals made while the rosters were built (a key file, an app id, a fee)
    /// did not name the configuration file; `load` builds them, so they do, in the one form
    /// of [`refusal`], and the loaded configuration remembers its file for later refusals.
    #[test]
    fn load_names_the_file_in_roster_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.toml");
        let load = |toml: &str| {
            std::fs::write(&path, toml).unwrap();
            Config::load(&path)
        };
        let why = load("[[infinia.apps]]\napp_id = \"\"\nmerchant_public_key = \"k\"\n")
            .unwrap_err()
            .to_string();
        let head = format!(
            "config {}: [[infinia.apps]] app_id = \"\": app_id",
            path.display()
        );
        assert!(why.starts_with(&head), "{why}");
        let why = load("[pockyt.fee]\nfixed = \"-1\"\n")
            .unwrap_err()
            .to_string();
        let head = format!("config {}: [pockyt.fee] fixed = \"-1\"", path.display());
        assert!(why.starts_with(&head), "{why}");
        let config = load("").unwrap();
        assert_eq!(config.file.as_deref(), Some(path.as_path()));
        let why = config.refusal("[clock] start = \"x\": why").to_string();
        assert_eq!(
            why,
            format!("config {}: [clock] start = \"x\": why", path.display())
        );
        let why = Config::default().refusal("[clock] start = \"x\": why");
        assert_eq!(why.to_string(), "[clock] start = \"x\": why");
    }

    #[test]
    fn unknown_keys_are_named() {
        refused("[whalet]\nhex_kase = \"upper\"\n", &["hex_kase", "line 2"]);
    }

    /// A section's keys default one by one: an empty section, or one giving a single key, reads
    /// as the section's `Default` (with that key).
    #[test]
    fn an_empty_section_reads_as_the_defaults() {
        let sections = "[notify]\n[journal]\n[whalet]\n[platform]\n[infinia]\n[pockyt]\n\
                        [pockyt.fee]\n[server]\n[store]\n[contract]\n";
        let empty = Config::parse(sections).unwrap();
        assert_eq!(format!("{empty:?}"), format!("{:?}", Config::default()));

        let one =
            Config::parse("[infinia]\nsftp_max_files = 5\n[pockyt.fee]\nfixed = \"2\"\n").unwrap();
        let mut expected = Config::default();
        expected.infinia.sftp_max_files = 5;
        expected.pockyt.fee.fixed = "2".into();
        assert_eq!(format!("{one:?}"), format!("{expected:?}"));
    }

    #[test]
    fn a_destination_needs_at_least_one_attempt_at_a_time() {
        let two = Config::parse("[notify]\nconcurrency_per_destination = 2\n").unwrap();
        assert_eq!(two.notify.concurrency_per_destination, 2);
        refused(
            "[notify]\nconcurrency_per_destination = 0\n",
            &["concurrency_per_destination = 0", "from 1 to"],
        );
    }

    /// Regression: `timeout_ms = 0` was accepted, and then every attempt timed out at once.
    #[test]
    fn an_attempt_needs_at_least_a_millisecond() {
        let one = Config::parse("[notify]\ntimeout_ms = 1\n").unwrap();
        assert_eq!(one.notify.timeout_ms, 1);
        refused(
            "[notify]\ntimeout_ms = 0\n",
            &["[notify] timeout_ms = 0", "never deliver", "at least 1 ms"],
        );
    }

    /// Regression: `ack_sign_required = true` was silently ignored under the lenient check.
    /// It is refused at start, naming both keys, whichever of them makes the check lenient.
    #[test]
    fn signed_acks_need_the_strict_check() {
        let partner = "[[whalet.partners]]\npartner_id = \"p1\"\npublic_key = \"k\"\n\
                       ack_sign_required = true\n";
        assert!(Config::parse(partner).is_ok(), "strict by default");
        let strict_here = format!("[whalet]\nstrict_ack = false\n{partner}strict_ack = true\n");
        assert!(
            Config::parse(&strict_here).is_ok(),
            "the partner's own key wins"
        );
        refused(
            &format!("{partner}strict_ack = false\n"),
            &[
                "partner_id = \"p1\"",
                "ack_sign_required = true",
                "its strict_ack = false",
                "set strict_ack = true in this partner's entry",
            ],
        );
        refused(
            &format!("[whalet]\nstrict_ack = false\n{partner}"),
            &[
                "partner_id = \"p1\"",
                "ack_sign_required",
                "[whalet] strict_ack = false",
            ],
        );
        let unsigned = format!(
            "[whalet]\nstrict_ack = false\n{}",
            partner.replace("true", "false")
        );
        assert!(Config::parse(&unsigned).is_ok());
    }

    /// A notify URL every delivery would fail on is refused at start, naming the entry, the key
    /// and what is wrong, in each section that takes one.
    #[test]
    fn notify_urls_are_checked_where_they_are_given() {
        let sections = [
            (
                "[[whalet.partners]]\npartner_id = \"p1\"\npublic_key = \"k\"\n",
                "partner_id = \"p1\"",
            ),
            (
                "[[infinia.apps]]\napp_id = \"a1\"\nmerchant_public_key = \"k\"\n",
                "app_id = \"a1\"",
            ),
            (
                "[[pockyt.merchants]]\nmerchant_no = \"m1\"\nstore_no = \"s\"\ntoken = \"t\"\n",
                "merchant_no = \"m1\"",
            ),
        ];
        for (entry, named) in sections {
            let good = format!("{entry}notify_url = \"http://127.0.0.1:9000/notify\"\n");
            assert!(Config::parse(&good).is_ok(), "{good}");
            for (url, why) in [
                ("notaurl", "does not start with http:// or https://"),
                ("ftp://x/y", "scheme is \"ftp\""),
                ("http://127.0.0.1:99999/x", "invalid port number"),
            ] {
                let toml = format!("{entry}notify_url = \"{url}\"\n");
                refused(
                    &toml,
                    &[named, "notify_url = ", url, "must be an absolute", why],
                );
            }
        }
    }

    /// Two entries of one roster with the same id are refused at start, naming both entries
    /// and the id (the later one used to replace the earlier one silently).
    #[test]
    fn a_roster_id_given_twice_is_refused() {
        let partner = |key: &str| {
            format!("[[whalet.partners]]\npartner_id = \"p\"\npublic_key = \"{key}\"\n")
        };
        let app = |key: &str| {
            format!("[[infinia.apps]]\napp_id = \"a\"\nmerchant_public_key = \"{key}\"\n")
        };
        let merchant = |store: &str| {
            format!("[[pockyt.merchants]]\nmerchant_no = \"7\"\nstore_no = \"{store}\"\ntoken = \"t\"\n")
        };
        for (one, other, key) in [
            (partner("k1"), partner("k2"), "partner_id = \"p\""),
            (app("k1"), app("k2"), "app_id = \"a\""),
            (merchant("1"), merchant("2"), "merchant_no = \"7\""),
        ] {
            assert!(Config::parse(&one).is_ok(), "{one}");
            let twice = format!("{one}{other}");
            refused(&twice, &["entries 1 and 2", key, "must be unique"]);
        }
        // Different ids are fine.
        let two = format!(
            "{}{}",
            merchant("1"),
            merchant("2").replace("\"7\"", "\"8\"")
        );
        assert_eq!(Config::parse(&two).unwrap().pockyt.merchants.len(), 2);
    }

    /// A configured Pockyt merchant or Infinia app with the demo one's id is refused while the
    /// demo is on (its seeded balances would silently go), and accepted with the demo off; a
    /// Whalet partner with the demo partner's id replaces it on purpose.
    #[test]
    fn a_configured_entry_may_not_take_the_id_of_the_demo_one() {
        let merchant =
            "[[pockyt.merchants]]\nmerchant_no = \"202333\"\nstore_no = \"1\"\ntoken = \"t\"\n";
        refused(
            merchant,
            &[
                "entry 1",
                "merchant_no = \"202333\"",
                "demo merchant",
                "[pockyt] demo_merchant = false",
            ],
        );
        assert!(Config::parse(&format!("[pockyt]\ndemo_merchant = false\n{merchant}")).is_ok());
        let app = "[[infinia.apps]]\napp_id = \"demo-app\"\nmerchant_public_key = \"k\"\n";
        refused(
            app,
            &[
                "entry 1",
                "app_id = \"demo-app\"",
                "demo app",
                "[infinia] demo_app = false",
            ],
        );
        assert!(Config::parse(&format!("[infinia]\ndemo_app = false\n{app}")).is_ok());
        let partner = "[[whalet.partners]]\npartner_id = \"202400000000001\"\npublic_key = \"k\"\n";
        assert!(Config::parse(partner).is_ok());
    }

    #[test]
    fn partners_parse() {
        let cfg = Config::parse(
            "[whalet]\nhex_case = \"upper\"\n[[whalet.partners]]\npartner_id = \"p1\"\npublic_key = \"@keys/demo-partner/public.pem\"\nrate_limit = 5\n",
        )
        .unwrap();
        assert_eq!(cfg.whalet.hex_case, HexCase::Upper);
        assert_eq!(cfg.whalet.partners[0].rate_limit, Some(5));
    }

    #[test]
    fn journal_bounds_have_defaults_and_minimums() {
        let cfg = Config::parse("").unwrap();
        assert_eq!(cfg.journal.max_field_bytes, 64 * 1024);
        assert_eq!(cfg.journal.max_bytes, 64 * 1024 * 1024);
        let cfg = Config::parse("[journal]\nmax_field_bytes = 1024\nmax_bytes = 65536\n").unwrap();
        assert_eq!(
            (cfg.journal.max_field_bytes, cfg.journal.max_bytes),
            (1024, 65536)
        );
        refused("[journal]\nmax_bytes = 1000000\n", &["max_bytes = 1000000"]);
        refused("[journal]\nmax_field_bytes = 10\n", &["max_field_bytes"]);
    }

    /// Every key of the shared range check has its range next to it in the docs (the limits
    /// table of docs/RELIABILITY.md; the link lifetime's row of docs/FIDELITY.md), so the docs
    /// and the check cannot part.
    #[test]
    fn every_bounded_key_has_its_range_in_the_docs() {
        let docs = [
            include_str!("../../docs/RELIABILITY.md"),
            include_str!("../../docs/FIDELITY.md"),
        ]
        .concat();
        let grouped = |n: i128| {
            let digits = n.to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            out
        };
        for bound in Config::default().bounds() {
            let least = grouped(bound.least);
            let range = match (bound.least, bound.most) {
                (0, _) => "`0` = ".to_owned(),
                (_, Some(most)) => format!("{least} to {}", grouped(most)),
                (_, None) => format!("at least {least}"),
            };
            let key = format!("`{}`", bound.key);
            let documented = docs.match_indices(&key).any(|(at, _)| {
                let after = &docs[at + key.len()..];
                after.get(..2).is_some_and(|s| s == " (" || s == ", ")
                    && after.split('|').next().unwrap_or("").contains(&range)
            });
            assert!(documented, "{key} is not followed by {range:?} in the docs");
        }
    }

    /// Edge limits under which no request could be served are refused at start, naming the key.
    #[test]
    fn server_limits_have_minimums() {
        let cfg = Config::parse(
            "[server]\nmax_header_fields = 5\nmax_header_bytes = 2048\n\
                                 write_stall_timeout_ms = 300\n",
        )
        .unwrap();
        let limits = cfg.server.limits();
        assert_eq!(
            (limits.max_header_fields, limits.max_header_bytes),
            (5, 2048)
        );
        assert_eq!(limits.write_stall_timeout.as_millis(), 300);
        refused(
            "[server]\nmax_header_fields = 0\n",
            &["max_header_fields = 0", "from 1 to 10000"],
        );
        refused(
            "[server]\nmax_header_fields = 1000000000\n",
            &[
                "max_header_fields = 1000000000",
                "too large",
                "from 1 to 10000",
            ],
        );
        refused(
            "[server]\nmax_header_bytes = 100\n",
            &["max_header_bytes = 100", "1024"],
        );
        refused(
            "[server]\nwrite_stall_timeout_ms = 0\n",
            &["write_stall_timeout_ms = 0"],
        );
    }

    /// A body limit no budget of bodies in flight could hold is refused, naming both keys.
    #[test]
    fn a_body_limit_must_fit_the_bodies_in_flight_budget() {
        let big =
            "[server]\nmax_body_bytes_in_flight = 2097152\n[whalet]\nbody_limit_bytes = 20971520\n";
        refused(
            big,
            &[
                "[whalet] body_limit_bytes = 20971520",
                "[server] max_body_bytes_in_flight = 2097152",
            ],
        );
        let fits = "[server]\ncontrol_body_limit_bytes = 20971520\n[whalet]\nbody_limit_bytes = 20971520\n";
        assert!(Config::parse(fits).is_ok());
    }

    /// A budget below the file upload's fixed body limit is refused, naming both numbers: every
    /// upload over it would be answered 503 "retry later" forever.
    #[test]
    fn the_bodies_in_flight_budget_must_hold_an_upload() {
        refused(
            "[server]\nmax_body_bytes_in_flight = 2097152\n",
            &[
                "[server] max_body_bytes_in_flight = 2097152",
                "POST /file/upload, 11534336 bytes",
                "at least 11534336",
            ],
        );
        assert!(Config::parse("[server]\nmax_body_bytes_in_flight = 11534336\n").is_ok());
    }

    fn clock(toml: &str) -> ClockConfig {
        toml::from_str::<Config>(toml).unwrap().clock
    }

    /// The refusal of `toml`'s `[clock]` keys.
    fn refusal(toml: &str) -> String {
        match clock(toml).settings() {
            Ok(settings) => panic!("{toml:?} accepted: {settings:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// A scale goes with a scaled clock (asked for, or by the scale alone); a real clock runs
    /// at wall speed and a frozen one has none, so either with a scale is refused naming both
    /// keys and the way out.
    #[test]
    fn a_clock_scale_goes_only_with_a_scaled_clock() {
        for mode in ["real", "manual"] {
            let e = refusal(&format!("[clock]\nmode = \"{mode}\"\nscale = 2.0\n"));
            assert!(e.starts_with(&format!("[clock] mode = \"{mode}\"")), "{e}");
            assert!(e.contains("[clock] scale"), "{e}");
            assert!(e.contains("set mode = \"scaled\""), "{e}");
        }
        for toml in [
            "[clock]\nmode = \"scaled\"\nscale = 2.0\n",
            "[clock]\nscale = 2.0\n",
        ] {
            let (mode, _) = clock(toml).settings().unwrap();
            assert!(
                matches!(mode, ClockMode::Scaled { scale } if scale == 2.0),
                "{toml}"
            );
        }
        for (toml, want) in [
            ("[clock]\nmode = \"real\"\n", ClockMode::Real),
            ("", ClockMode::Real),
            ("[clock]\nmode = \"manual\"\n", ClockMode::Manual),
        ] {
            let (mode, _) = clock(toml).settings().unwrap();
            assert_eq!(
                std::mem::discriminant(&mode),
                std::mem::discriminant(&want),
                "{toml}"
            );
        }
    }

    /// Each bad `[clock]` key is refused in the form of the configuration's other refusals:
    /// the key and its value as written, then why.
    #[test]
    fn clock_key_refusals_name_the_key_and_the_value() {
        let e = refusal("[clock]\nmode = \"banana\"\n");
        assert!(e.starts_with("[clock] mode = \"banana\": "), "{e}");
        assert!(e.contains("\"real\", \"scaled\" or \"manual\""), "{e}");
        let e = refusal("[clock]\nstart = \"yesterday\"\n");
        assert!(e.starts_with("[clock] start = \"yesterday\": "), "{e}");
        assert!(e.contains("RFC 3339"), "{e}");
        let e = refusal("[clock]\nstart = \"1960-01-01T00:00:00Z\"\n");
        assert!(
            e.starts_with("[clock] start = \"1960-01-01T00:00:00Z\": "),
            "{e}"
        );
        assert!(e.contains("1970-01-01"), "{e}");
        let (_, start) = clock("[clock]\nstart = \"1970-01-01T00:00:01Z\"\n")
            .settings()
            .unwrap();
        assert_eq!(start, Some(1000));
    }
}
