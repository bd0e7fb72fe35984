//! Every limit, timeout and quota of the configuration is refused at start below the least value
//! with a meaning (0 for sizes, counts and timeouts), naming the key, the value and the allowed
//! range (docs/RELIABILITY.md); the least value itself is taken.

use whalet_sim::config::Config;

use crate::helpers::{bin, spawn_config};

/// (section, key, least value with a meaning). A key whose 0 has a documented meaning
/// (`cpu_parallelism`, `cpu_inline_bytes`, `detail_max_chars`, `max_request_data_chars`,
/// `sftp_idle_timeout_ms`, `sftp_max_error_rows`) is not here.
const LEAST: &[(&str, &str, u64)] = &[
    ("server", "header_read_timeout_ms", 1),
    ("server", "body_read_timeout_ms", 1),
    ("server", "body_reclaim_after_ms", 1),
    ("server", "max_connections", 1),
    ("server", "write_stall_timeout_ms", 1),
    ("server", "max_header_fields", 1),
    ("server", "max_header_bytes", 1024),
    ("server", "control_body_limit_bytes", 1),
    ("server", "other_body_limit_bytes", 1),
    ("notify", "timeout_ms", 1),
    ("notify", "ledger_capacity", 1),
    ("notify", "concurrency_per_destination", 1),
    ("notify", "dns_lookups", 1),
    ("journal", "capacity", 1),
    ("journal", "max_field_bytes", 256),
    ("whalet", "body_limit_bytes", 1),
    ("whalet", "request_no_memory", 1),
    ("whalet", "diagnostic_header_max_bytes", 4),
    ("platform", "link_ttl_secs", 1),
    ("platform", "max_materials", 1),
    ("infinia", "body_limit_bytes", 1),
    ("infinia", "max_request_blocks", 1),
    ("infinia", "sftp_max_file_bytes", 1),
    ("infinia", "sftp_max_bytes", 1),
    ("infinia", "sftp_max_files", 1),
    ("infinia", "sftp_max_connections", 1),
    ("infinia", "sftp_max_unauthenticated", 1),
    ("infinia", "sftp_login_grace_ms", 1),
    ("infinia", "sftp_max_auth_attempts", 1),
    ("infinia", "sftp_max_channels", 1),
    ("infinia", "sftp_max_handles", 1),
    ("pockyt", "body_limit_bytes", 1),
    ("scenarios", "max_loaded", 1),
    ("scenarios", "max_rules_loaded", 1),
];

/// `whalet-sim serve --config` with `toml`: whether it started (still running after 10 s; it is
/// then stopped) or exited with success, and its standard error.
fn serve(toml: &str) -> (bool, String) {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("limits.toml");
    std::fs::write(&path, toml).unwrap();
    let mut child = bin()
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--sftp-addr",
            "off",
            "--config",
        ])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let started = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.success();
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            break true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stderr = String::new();
    let mut pipe = child.stderr.take().unwrap();
    pipe.read_to_string(&mut stderr).unwrap();
    (started, stderr)
}

/// Regression: `header_read_timeout_ms = 0` closed every head arriving in two packets unanswered,
/// `max_connections = 0` was taken as 1, `control_body_limit_bytes = 0` answered 413 to every
/// control-plane body, and more such keys started without complaint, while their siblings
/// (`write_stall_timeout_ms = 0`) were refused.
#[test]
fn every_limit_below_its_least_value_is_refused_at_start_naming_key_value_and_range() {
    for &(section, key, least) in LEAST {
        let below = least - 1;
        let (started, stderr) = serve(&format!("[{section}]\n{key} = {below}\n"));
        assert!(!started, "[{section}] {key} = {below} started");
        let named = format!("[{section}] {key} = {below} would ");
        assert!(stderr.contains(&named), "{named:?} not in {stderr}");
        let range = [format!("at least {least}"), format!("from {least} to ")];
        assert!(
            range.iter().any(|r| stderr.contains(r.as_str())),
            "no range in {stderr}"
        );
        assert!(stderr.contains("(default "), "{stderr}");
        let at_least = format!("[{section}]\n{key} = {least}\n");
        if let Err(e) = Config::parse(&at_least) {
            panic!("[{section}] {key} = {least} was refused: {e}");
        }
    }
}

/// A key whose 0 has a documented meaning (docs/RELIABILITY.md) takes 0.
#[test]
fn a_key_whose_zero_has_a_documented_meaning_takes_it() {
    for (section, key) in [
        ("server", "cpu_parallelism"),
        ("server", "cpu_inline_bytes"),
        ("whalet", "detail_max_chars"),
        ("infinia", "max_request_data_chars"),
        ("infinia", "sftp_idle_timeout_ms"),
        ("infinia", "sftp_max_error_rows"),
    ] {
        if let Err(e) = Config::parse(&format!("[{section}]\n{key} = 0\n")) {
            panic!("[{section}] {key} = 0 was refused: {e}");
        }
    }
}

/// Counts held at once (semaphore permits) have an upper end too: a larger value used to panic
/// when the server started.
#[test]
fn a_count_held_at_once_above_its_range_is_refused_naming_the_range() {
    for (section, key) in [
        ("server", "max_connections"),
        ("server", "cpu_parallelism"),
        ("notify", "concurrency_per_destination"),
        ("notify", "dns_lookups"),
    ] {
        let (started, stderr) = serve(&format!("[{section}]\n{key} = {}\n", i64::MAX));
        assert!(!started, "[{section}] {key} = {} started", i64::MAX);
        let named = format!("[{section}] {key} = {} is too large: from ", i64::MAX);
        assert!(stderr.contains(&named), "{named:?} not in {stderr}");
    }
}

/// The least value of every key starts and serves (the edge's timeouts and header fields kept
/// at values an HTTP client's request fits in).
#[tokio::test]
async fn the_least_value_of_every_limit_starts_and_serves() {
    let roomy = [
        "header_read_timeout_ms",
        "body_read_timeout_ms",
        "write_stall_timeout_ms",
        "max_header_fields",
    ];
    let mut toml = String::new();
    for section in [
        "server",
        "notify",
        "journal",
        "whalet",
        "platform",
        "infinia",
        "pockyt",
        "scenarios",
    ] {
        toml.push_str(&format!("[{section}]\n"));
        for &(s, key, least) in LEAST.iter().filter(|(s, ..)| *s == section) {
            let value = if s == "server" && roomy.contains(&key) {
                1000
            } else {
                least
            };
            toml.push_str(&format!("{key} = {value}\n"));
        }
    }
    let app = spawn_config(&toml).await;
    let (status, body) = app.get_text("/__sim/health").await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}
