//! The SFTP listener's limits (docs/RELIABILITY.md), with an SSH client in the test process so
//! that it can do what OpenSSH would not: keep guessing passwords, idle mid-login, hold
//! connections open. Idle timeouts and grace times are configured short; the waits are wall
//! time, bounded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::client;
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::{OpenFlags, StatusCode};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use whalet_sim::store::infinia::UploadStatus;
use whalet_sim::store::{Provider, TenantId};

use super::support::{
    eventually, sftp_port, sftp_session as sftp, spawn_infinia, ssh_connect as connect,
    ssh_login as login, Merchant,
};
use crate::helpers::TestApp;

/// Creates (or truncates) `path` and writes `data` in `chunk`-byte writes; the first refusal.
async fn put(sftp: &SftpSession, path: &str, data: &[u8], chunk: usize) -> Result<(), String> {
    let mut file = sftp.create(path).await.map_err(|e| e.to_string())?;
    for part in data.chunks(chunk) {
        file.write_all(part).await.map_err(|e| e.to_string())?;
        // One write at a time, so each is answered before the next (the allocation test
        // counts on the order).
        file.flush().await.map_err(|e| e.to_string())?;
    }
    file.shutdown().await.map_err(|e| e.to_string())
}

fn demo_tenant() -> TenantId {
    TenantId::new(Provider::Infinia, "demo-app")
}

/// Bytes allocated for the demo app's files, as the quota counts them.
fn held(app: &TestApp) -> usize {
    app.app()
        .store()
        .with_tenant(&demo_tenant(), |t| {
            whalet_sim::sftp::fs::bytes_held(&t.infinia.files)
        })
        .unwrap()
}

fn file_count(app: &TestApp) -> usize {
    app.app()
        .store()
        .with_tenant(&demo_tenant(), |t| t.infinia.files.len())
        .unwrap()
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let app = spawn_infinia("sftp_idle_timeout_ms = 500\n").await;
    // Logged in, the subsystem running, then silence.
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    assert!(files.metadata("/upload").await.unwrap().is_dir());
    let quiet_since = Instant::now();
    // And one that never logs in (the login grace time is the default minute).
    let anonymous = connect(&app).await.unwrap();
    assert!(
        eventually(|| ssh.is_closed() && anonymous.is_closed()).await,
        "idle connections still open after {:?}",
        quiet_since.elapsed()
    );
    assert!(quiet_since.elapsed() >= Duration::from_millis(400));
    // The server still serves others.
    let again = login(&app).await;
    assert!(sftp(&again).await.metadata("/upload").await.is_ok());
    app.shutdown().await;
}

#[tokio::test]
async fn a_connection_that_does_not_log_in_within_the_grace_time_is_closed() {
    let app = spawn_infinia("sftp_login_grace_ms = 500\n").await;
    // A client that sends its version and then stalls the key exchange.
    let mut raw = tokio::net::TcpStream::connect(("127.0.0.1", sftp_port(&app)))
        .await
        .unwrap();
    raw.write_all(b"SSH-2.0-stalling\r\n").await.unwrap();
    let drained = tokio::time::timeout(Duration::from_secs(8), async {
        let mut sink = Vec::new();
        raw.read_to_end(&mut sink).await.map(|_| sink)
    })
    .await;
    // End of file (or a reset): either way the server closed it.
    let _closed = drained.expect("the stalled connection was not closed");
    // A client past the key exchange that never authenticates.
    let waiting = connect(&app).await.unwrap();
    // A client that logged in in time outlives the grace time.
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    assert!(eventually(|| waiting.is_closed()).await);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!ssh.is_closed());
    assert!(files.metadata("/upload").await.unwrap().is_dir());
    app.shutdown().await;
}

#[tokio::test]
async fn a_client_that_keeps_guessing_passwords_is_disconnected() {
    let app = spawn_infinia("sftp_max_auth_attempts = 3\n").await;
    let mut ssh = connect(&app).await.unwrap();
    let mut answers = Vec::new();
    for attempt in 1..=3 {
        let answer = ssh
            .authenticate_password("demo-app", format!("guess-{attempt}"))
            .await
            .unwrap();
        answers.push(answer);
    }
    assert!(answers.iter().all(|a| !a.success()));
    // The last allowed refusal leaves no method to try ...
    match &answers[2] {
        russh::client::AuthResult::Failure {
            remaining_methods, ..
        } => assert_eq!(
            remaining_methods.to_vec(),
            [russh::MethodKind::None],
            "{remaining_methods:?}"
        ),
        other => panic!("{other:?}"),
    }
    // ... even the right password is not looked at any more, and the server hangs up.
    let late = ssh.authenticate_password("demo-app", "demo-password").await;
    assert!(!late.is_ok_and(|a| a.success()));
    assert!(eventually(|| ssh.is_closed()).await, "still connected");
    // The count is per connection: a new one logs in.
    let fresh = login(&app).await;
    assert!(!fresh.is_closed());
    app.shutdown().await;
}

/// The methods a refusal lets the client go on with (sorted), or None for a success.
fn remaining(answer: &client::AuthResult) -> Option<Vec<russh::MethodKind>> {
    match answer {
        client::AuthResult::Failure {
            remaining_methods, ..
        } => {
            let mut methods = remaining_methods.to_vec();
            methods.sort_by_key(|m| <&str>::from(m));
            Some(methods)
        }
        client::AuthResult::Success => None,
    }
}

/// A key `demo-app` does not accept (the simulator's host key).
fn stranger_key() -> russh::keys::PrivateKeyWithHashAlg {
    let key = russh::keys::load_secret_key(
        crate::helpers::repo_path("keys/infinia/sftp_host_ed25519"),
        None,
    )
    .unwrap();
    russh::keys::PrivateKeyWithHashAlg::new(Arc::new(key), None)
}

/// Regression: a refused password was withdrawn from the methods offered (russh's default
/// refusal), so OpenSSH gave up after one of its password prompts; and the server advertised
/// `hostbased` and `keyboard-interactive`, which it does not serve.
#[tokio::test]
async fn a_mistyped_password_can_be_retried_on_the_same_connection() {
    use russh::MethodKind::{Password, PublicKey};
    let app = spawn_infinia("").await;
    let mut ssh = connect(&app).await.unwrap();
    // What the server advertises: the `none` probe's refusal.
    let probe = ssh.authenticate_none("demo-app").await.unwrap();
    assert_eq!(remaining(&probe), Some(vec![Password, PublicKey]));
    let wrong = ssh
        .authenticate_password("demo-app", "demo-passwrod")
        .await
        .unwrap();
    assert_eq!(remaining(&wrong), Some(vec![Password, PublicKey]));
    // A refused key leaves both methods too.
    let key = ssh
        .authenticate_publickey("demo-app", stranger_key())
        .await
        .unwrap();
    assert_eq!(remaining(&key), Some(vec![Password, PublicKey]));
    let right = ssh
        .authenticate_password("demo-app", "demo-password")
        .await
        .unwrap();
    assert!(right.success(), "{right:?}");
    assert!(sftp(&ssh).await.metadata("/upload").await.unwrap().is_dir());
    app.shutdown().await;
}

#[tokio::test]
async fn six_refused_logins_are_allowed_per_connection_and_a_seventh_attempt_is_not() {
    let app = spawn_infinia("").await;
    let mut ssh = connect(&app).await.unwrap();
    for attempt in 1..=6 {
        let answer = if attempt % 2 == 0 {
            ssh.authenticate_publickey("demo-app", stranger_key()).await
        } else {
            ssh.authenticate_password("demo-app", format!("guess-{attempt}"))
                .await
        };
        let left = remaining(&answer.unwrap()).expect("a wrong login was accepted");
        // Both methods until the sixth refusal, which leaves only `none` (no way to log in).
        let expected = match attempt {
            6 => vec![russh::MethodKind::None],
            _ => vec![russh::MethodKind::Password, russh::MethodKind::PublicKey],
        };
        assert_eq!(left, expected, "attempt {attempt}");
    }
    let seventh = ssh.authenticate_password("demo-app", "demo-password").await;
    assert!(
        !seventh.is_ok_and(|a| a.success()),
        "the 7th attempt was let in"
    );
    assert!(eventually(|| ssh.is_closed()).await, "still connected");
    app.shutdown().await;
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_and_the_others_keep_working() {
    let app = spawn_infinia("sftp_max_connections = 2\n").await;
    let (first, second) = (login(&app).await, login(&app).await);
    let refused_at = Instant::now();
    let third = connect(&app).await;
    assert!(third.is_err(), "a third connection was served");
    assert!(refused_at.elapsed() < Duration::from_secs(5));
    // The two keep working.
    let (a, b) = (sftp(&first).await, sftp(&second).await);
    put(&a, "/upload/a.csv.part", b"one", 1024).await.unwrap();
    put(&b, "/upload/b.csv.part", b"two", 1024).await.unwrap();
    assert_eq!(a.read("/upload/b.csv.part").await.unwrap(), b"two");
    // A slot is freed when a connection ends.
    drop(b);
    second
        .disconnect(russh::Disconnect::ByApplication, "bye", "en")
        .await
        .unwrap();
    let mut later = None;
    for _ in 0..100 {
        if let Ok(ssh) = connect(&app).await {
            later = Some(ssh);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut later = later.expect("the freed slot was never given to a new connection");
    let auth = later
        .authenticate_password("demo-app", "demo-password")
        .await
        .unwrap();
    assert!(auth.success());
    app.shutdown().await;
}

/// Regression: a connection over the cap was closed with the client's version line unread, so
/// the client got a reset and lost the reason. The refusal reads that line first: the client
/// reads the reason, then the end of the stream.
#[tokio::test]
async fn a_refused_ssh_client_reads_the_reason_not_a_reset() {
    let app = spawn_infinia("sftp_max_connections = 1\n").await;
    let _first = login(&app).await;
    let mut refused = tokio::net::TcpStream::connect(("127.0.0.1", sftp_port(&app)))
        .await
        .unwrap();
    refused.write_all(b"SSH-2.0-test_client\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), refused.read_to_end(&mut got))
        .await
        .expect("closed within 5 s");
    assert!(
        read.is_ok(),
        "{read:?} after {:?}",
        String::from_utf8_lossy(&got)
    );
    // The text line, then an SSH disconnect carrying it (src/sftp/mod.rs `refusal`): after the
    // version line, SSH_MSG_DISCONNECT (1), reason 12 (too many connections), the same text.
    let reason = b"too many SFTP connections; try again later";
    assert!(
        got.starts_with(reason),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    let version_end = got
        .windows(2)
        .skip(reason.len() + 2)
        .position(|w| w == b"\r\n");
    let packet = &got[reason.len() + 2 + version_end.expect("a version line") + 2..];
    assert!(got[reason.len() + 2..].starts_with(b"SSH-2.0-"));
    let mut disconnect = vec![1, 0, 0, 0, 12, 0, 0, 0, reason.len() as u8];
    disconnect.extend_from_slice(reason);
    assert!(
        packet.len() > 5 && packet[5..].starts_with(&disconnect),
        "no SSH disconnect after the version: {packet:?}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn one_file_more_than_the_apps_file_quota_is_refused() {
    let app = spawn_infinia("sftp_max_files = 3\n").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    for n in 1..=3 {
        put(&files, &format!("/upload/f{n}.csv.part"), b"kept", 1024)
            .await
            .unwrap();
    }
    let refused = files.create("/upload/f4.csv.part").await.map(|_| ());
    match refused {
        Err(russh_sftp::client::error::Error::Status(status)) => {
            assert_eq!(status.status_code, StatusCode::Failure);
            assert!(
                status.error_message.contains("sftp_max_files"),
                "{}",
                status.error_message
            );
        }
        other => panic!("a fourth file: {other:?}"),
    }
    assert_eq!(file_count(&app), 3);
    // The existing files are untouched and can still be rewritten.
    assert_eq!(files.read("/upload/f1.csv.part").await.unwrap(), b"kept");
    put(&files, "/upload/f2.csv.part", b"rewritten", 1024)
        .await
        .unwrap();
    assert_eq!(
        files.read("/upload/f2.csv.part").await.unwrap(),
        b"rewritten"
    );
    // Removing one makes room for one.
    files.remove_file("/upload/f3.csv.part").await.unwrap();
    put(&files, "/upload/f4.csv.part", b"new", 1024)
        .await
        .unwrap();
    assert_eq!(file_count(&app), 3);
    app.shutdown().await;
}

/// Regression: error files were written past the quotas, so renaming a processed upload again
/// and again (each name is processed once complete) piled up error files without bound.
#[tokio::test]
async fn an_error_file_that_does_not_fit_the_file_quota_is_not_kept() {
    let app = spawn_infinia("sftp_max_files = 2\n").await;
    let m = Merchant::demo();
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    let bad = "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount\n\
               B1,SALE,O1,S1,,yesterday,USD,10.00\n";
    put(&files, "/upload/bad.csv", bad.as_bytes(), 1024)
        .await
        .unwrap();
    app.advance(5.0).await;
    let first = m
        .ok(
            &app,
            "trade-details/query",
            &serde_json::json!({"fileName": "bad.csv"}),
        )
        .await;
    assert_eq!(first["errorFile"], "/error/bad_error_file.csv", "{first}");
    assert_eq!(file_count(&app), 2);
    files
        .rename("/upload/bad.csv", "/upload/again.csv")
        .await
        .unwrap();
    app.advance(5.0).await;
    let second = m
        .ok(
            &app,
            "trade-details/query",
            &serde_json::json!({"fileName": "again.csv"}),
        )
        .await;
    assert_eq!(second["status"], "FAILED", "{second}");
    assert_eq!(second["errorFile"], "", "{second}");
    assert!(
        second["reason"]
            .as_str()
            .is_some_and(|r| r.contains("error file was not kept") && r.contains("sftp_max_files")),
        "{second}"
    );
    assert_eq!(file_count(&app), 2);
    app.shutdown().await;
}

/// Regression: truncating a file kept its allocation (`Vec::clear`) while the quota counted
/// sizes, so rewriting files held memory the quota no longer saw; a file grown by small writes
/// kept the spare capacity of its last doubling.
#[tokio::test]
async fn the_quota_counts_allocated_bytes_and_a_truncated_file_gives_them_back() {
    let app = spawn_infinia("sftp_max_bytes = 4096\nsftp_max_file_bytes = 4096\n").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    put(&files, "/upload/a.csv.part", &[b'a'; 4096], 4096)
        .await
        .unwrap();
    assert_eq!(held(&app), 4096);
    // Truncate `a` (open it for writing again and close it without writing).
    put(&files, "/upload/a.csv.part", b"", 4096).await.unwrap();
    assert_eq!(held(&app), 0);
    put(&files, "/upload/b.csv.part", &[b'b'; 4096], 4096)
        .await
        .unwrap();
    assert_eq!(held(&app), 4096, "memory held beyond the quota");
    files.remove_file("/upload/b.csv.part").await.unwrap();
    // 3000 bytes in 100-byte writes: trimmed to its size when closed.
    put(&files, "/upload/c.csv.part", &[b'c'; 3000], 100)
        .await
        .unwrap();
    assert_eq!(held(&app), 3000);
    app.shutdown().await;
}

#[tokio::test]
async fn a_reset_releases_the_apps_sftp_bytes() {
    let app = spawn_infinia("sftp_max_bytes = 4096\nsftp_max_file_bytes = 4096\n").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    let full = [b'x'; 4096];
    for reset in [
        serde_json::json!({}),
        serde_json::json!({"tenant": "infinia:demo-app"}),
    ] {
        put(&files, "/upload/full.csv.part", &full, 4096)
            .await
            .unwrap();
        assert_eq!(held(&app), 4096);
        let over = put(&files, "/upload/more.csv.part", b"y", 1024).await;
        assert!(over.is_err_and(|e| e.contains("sftp_max_bytes")));
        let (status, body) = app.post("/__sim/reset", &reset).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!((held(&app), file_count(&app)), (0, 0), "after {reset}");
        // The whole quota is available again, to a new file name too.
        put(&files, "/upload/after.csv.part", &full, 4096)
            .await
            .unwrap();
        let (status, body) = app.post("/__sim/reset", &reset).await;
        assert_eq!(status, 200, "{body}");
    }
    app.shutdown().await;
}

/// The status code of a refused SFTP request, with its message.
fn refusal<T: std::fmt::Debug>(
    answer: Result<T, russh_sftp::client::error::Error>,
) -> (StatusCode, String) {
    match answer {
        Err(russh_sftp::client::error::Error::Status(status)) => {
            (status.status_code, status.error_message)
        }
        other => panic!("not a refusal: {other:?}"),
    }
}

fn size_only(size: u64) -> russh_sftp::protocol::FileAttributes {
    russh_sftp::protocol::FileAttributes {
        size: Some(size),
        ..russh_sftp::protocol::FileAttributes::empty()
    }
}

fn upload_generation(app: &TestApp, name: &str) -> Option<u64> {
    app.app()
        .store()
        .with_tenant(&demo_tenant(), |t| {
            t.infinia.uploads.get(name).map(|u| u.generation)
        })
        .unwrap()
}

/// Regression: SETSTAT and FSETSTAT answered OK and did nothing (a truncate left the size as it
/// was, on any path).
#[tokio::test]
async fn setstat_changes_the_size_of_an_upload_within_the_limits() {
    let app = spawn_infinia("sftp_max_file_bytes = 64\nsftp_max_bytes = 100\n").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    let path = "/upload/mid.csv.part";
    put(&files, path, b"0123456789abcdefgh", 1024)
        .await
        .unwrap();
    files.set_metadata(path, size_only(5)).await.unwrap();
    assert_eq!(files.metadata(path).await.unwrap().size, Some(5));
    assert_eq!(files.read(path).await.unwrap(), b"01234");
    // Extended with zero bytes, the allocation trimmed to the size.
    files.set_metadata(path, size_only(8)).await.unwrap();
    assert_eq!(files.read(path).await.unwrap(), b"01234\0\0\0");
    assert_eq!(held(&app), 8);
    // Not past the file limit: refused, the file unchanged.
    let (code, why) = refusal(files.set_metadata(path, size_only(65)).await);
    assert_eq!(code, StatusCode::Failure);
    assert!(why.contains("sftp_max_file_bytes"), "{why}");
    assert_eq!(files.metadata(path).await.unwrap().size, Some(8));
    // Permissions and times are accepted and leave the file as it is.
    let mut stamp = russh_sftp::protocol::FileAttributes::empty();
    stamp.permissions = Some(0o600);
    stamp.atime = Some(1_700_000_000);
    stamp.mtime = Some(1_700_000_000);
    files.set_metadata(path, stamp).await.unwrap();
    assert_eq!(files.read(path).await.unwrap(), b"01234\0\0\0");
    // Through a handle open for writing (FSETSTAT): applied too.
    let file = files
        .open_with_flags(path, russh_sftp::protocol::OpenFlags::WRITE)
        .await
        .unwrap();
    file.set_metadata(size_only(2)).await.unwrap();
    assert_eq!(file.metadata().await.unwrap().size, Some(2));
    drop(file);
    assert!(eventually(|| held(&app) == 2).await, "held {}", held(&app));
    // Nor past the app's quota.
    put(&files, "/upload/big.csv.part", &[b'b'; 60], 1024)
        .await
        .unwrap();
    let (code, why) = refusal(files.set_metadata(path, size_only(50)).await);
    assert_eq!(code, StatusCode::Failure);
    assert!(why.contains("sftp_max_bytes"), "{why}");
    assert_eq!(held(&app), 62);
    app.shutdown().await;
}

#[tokio::test]
async fn a_complete_upload_whose_size_changes_is_processed_again() {
    let app = spawn_infinia("").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    put(&files, "/upload/mid.csv", b"0123456789abcdefgh", 1024)
        .await
        .unwrap();
    let first = upload_generation(&app, "mid.csv").expect("the upload was not processed");
    // The same size: nothing changed, nothing processed.
    files
        .set_metadata("/upload/mid.csv", size_only(18))
        .await
        .unwrap();
    assert_eq!(upload_generation(&app, "mid.csv"), Some(first));
    files
        .set_metadata("/upload/mid.csv", size_only(5))
        .await
        .unwrap();
    let again = upload_generation(&app, "mid.csv");
    assert!(again.is_some_and(|g| g > first), "{again:?} after {first}");
    app.shutdown().await;
}

#[tokio::test]
async fn setstat_refuses_what_cannot_change() {
    let app = spawn_infinia("").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    let times = || {
        let mut attrs = russh_sftp::protocol::FileAttributes::empty();
        attrs.mtime = Some(1_700_000_000);
        attrs.atime = Some(1_700_000_000);
        attrs
    };
    for attrs in [size_only(5), times()] {
        let (code, why) = refusal(files.set_metadata("/upload/nope.csv", attrs.clone()).await);
        assert_eq!(code, StatusCode::NoSuchFile, "{why}");
        assert!(why.contains("/upload/nope.csv"), "{why}");
        for path in ["/error/mid.csv", "/error", "/upload", "/", "/etc/passwd"] {
            let (code, why) = refusal(files.set_metadata(path, attrs.clone()).await);
            assert_eq!(code, StatusCode::PermissionDenied, "{path}: {why}");
        }
    }
    app.shutdown().await;
}

const HEADER: &str =
    "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount\n";

/// A trade-details file of one sale dated `time`.
fn one_sale(time: &str) -> String {
    format!("{HEADER}R1,SALE,O1,S1,,{time},USD,1.00\n")
}

fn upload_status(app: &TestApp, name: &str) -> Option<UploadStatus> {
    app.app()
        .store()
        .with_tenant(&demo_tenant(), |t| {
            t.infinia.uploads.get(name).map(|u| u.status)
        })
        .unwrap()
}

/// Writes `data` through an open handle and waits for the answer.
async fn write(file: &mut russh_sftp::client::fs::File, data: &[u8]) -> std::io::Result<()> {
    file.write_all(data).await?;
    file.flush().await
}

/// Regression: handles were keyed by path, so an upload renamed by another session while it was
/// open was never processed (its writer's close looked for the old name) and could never be
/// removed; and a session's close completed a file another session was still writing.
#[tokio::test]
async fn a_file_is_complete_when_its_last_writer_closes_whichever_session_renamed_it() {
    let app = spawn_infinia("").await;
    let (ssh_a, ssh_b) = (login(&app).await, login(&app).await);
    let (a, b) = (sftp(&ssh_a).await, sftp(&ssh_b).await);
    let good = one_sale("2025-01-01 10:00:00");
    let mut writer = a.create("/upload/r.csv.part").await.unwrap();
    write(&mut writer, good.as_bytes()).await.unwrap();
    b.rename("/upload/r.csv.part", "/upload/r.csv")
        .await
        .unwrap();
    assert_eq!(upload_status(&app, "r.csv"), None, "A still writes it");
    writer.shutdown().await.unwrap();
    assert_eq!(upload_status(&app, "r.csv"), Some(UploadStatus::Processing));
    app.advance(5.0).await;
    assert_eq!(upload_status(&app, "r.csv"), Some(UploadStatus::Success));
    b.remove_file("/upload/r.csv").await.unwrap();

    // Two sessions write one file: it is complete when the second lets go, not before.
    let mut first = a.create("/upload/two.csv").await.unwrap();
    let mut second = b
        .open_with_flags("/upload/two.csv", OpenFlags::WRITE)
        .await
        .unwrap();
    write(&mut first, good.as_bytes()).await.unwrap();
    first.shutdown().await.unwrap();
    assert_eq!(upload_status(&app, "two.csv"), None, "B still writes it");
    let (code, message) = refusal(a.remove_file("/upload/two.csv").await);
    assert_eq!(code, StatusCode::PermissionDenied, "{message}");
    second.shutdown().await.unwrap();
    assert_eq!(
        upload_status(&app, "two.csv"),
        Some(UploadStatus::Processing)
    );
    app.shutdown().await;
}

/// Regression: a handle opened before `POST /__sim/reset` wrote into the file another session
/// created under the same name after the reset.
#[tokio::test]
async fn a_handle_opened_before_a_reset_does_not_reach_the_file_created_after_it() {
    let app = spawn_infinia("").await;
    let (ssh_a, ssh_b) = (login(&app).await, login(&app).await);
    let (a, b) = (sftp(&ssh_a).await, sftp(&ssh_b).await);
    let mut old = a.create("/upload/rs.csv").await.unwrap();
    write(&mut old, HEADER.as_bytes()).await.unwrap();
    let (status, body) = app.post("/__sim/reset", &serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    let good = one_sale("2025-01-01 10:00:00");
    put(&b, "/upload/rs.csv", good.as_bytes(), 1024)
        .await
        .unwrap();
    let late = write(&mut old, b"RSX,SALE,O9,S1,,2025-01-01 10:00:00,USD,9.00\n").await;
    assert!(late.is_err(), "the old handle wrote into the new file");
    let _closed = old.shutdown().await;
    drop(a);
    drop(ssh_a);
    assert_eq!(b.read("/upload/rs.csv").await.unwrap(), good.as_bytes());
    assert_eq!(
        upload_status(&app, "rs.csv"),
        Some(UploadStatus::Processing)
    );
    app.shutdown().await;
}

/// Regression: a close was acknowledged before it was committed to the data directory, so a
/// `kill -9` right after an upload lost it; an upload reopened for writing at once stayed out of
/// the data directory while its record (PROCESSING) was in, and failed after a restart.
#[tokio::test]
async fn a_closed_upload_is_in_the_data_dir_before_the_close_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[store]\ndata_dir = {:?}\n",
        dir.path().display().to_string()
    );
    let app = spawn_infinia(&config).await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    let db = dir.path().join("whalet-sim.db");
    let stored = || -> Vec<i64> {
        rusqlite::Connection::open(&db)
            .unwrap()
            .prepare("SELECT size FROM files WHERE kind = 'infinia.files' AND id = '/upload/a.csv'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let good = one_sale("2025-01-01 10:00:00");
    let size = i64::try_from(good.len()).unwrap();
    put(&files, "/upload/a.csv", good.as_bytes(), 1024)
        .await
        .unwrap();
    assert_eq!(stored(), [size], "stored when the close is acknowledged");
    // Rewritten at once: what was closed stays stored while the new content is written.
    let mut again = files.create("/upload/a.csv").await.unwrap();
    write(&mut again, HEADER.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stored(), [size]);
    app.shutdown().await;
}

/// Regression: an SFTP close whose changes the data directory could not commit was answered OK
/// (the HTTP routes answer 503): it is a FAILURE naming why, so the client does not take the
/// upload for saved.
#[tokio::test]
async fn a_close_the_data_dir_cannot_commit_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[store]\ndata_dir = {:?}\n",
        dir.path().display().to_string()
    );
    let app = spawn_infinia(&config).await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    std::fs::write(dir.path().join("files"), b"not a folder").unwrap();
    let good = one_sale("2025-01-01 10:00:00");
    let failed = put(&files, "/upload/nd.csv", good.as_bytes(), 1024)
        .await
        .unwrap_err();
    assert!(
        failed.contains("the data dir could not be written") && failed.contains("cannot create"),
        "{failed}"
    );
    app.shutdown().await;
}

/// Regression: a name uploaded again without errors kept the error file of its earlier upload
/// (the upload said SUCCESS with no error file, `/error` still listed the old error).
#[tokio::test]
async fn a_corrected_upload_drops_the_error_file_of_the_earlier_one() {
    let app = spawn_infinia("").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    put(
        &files,
        "/upload/ru.csv",
        one_sale("bad-time").as_bytes(),
        1024,
    )
    .await
    .unwrap();
    app.advance(5.0).await;
    assert_eq!(
        upload_status(&app, "ru.csv"),
        Some(UploadStatus::Failed),
        "the bad file"
    );
    assert!(files.metadata("/error/ru_error_file.csv").await.is_ok());
    let good = one_sale("2025-01-01 10:00:00");
    put(&files, "/upload/ru.csv", good.as_bytes(), 1024)
        .await
        .unwrap();
    app.advance(5.0).await;
    assert_eq!(upload_status(&app, "ru.csv"), Some(UploadStatus::Success));
    let (code, message) = refusal(files.metadata("/error/ru_error_file.csv").await);
    assert_eq!(code, StatusCode::NoSuchFile, "{message}");
    app.shutdown().await;
}

/// The error files in `/error` can be downloaded and removed (to make room under the quotas),
/// not written: a removed one is no longer named by its upload's `errorFile`.
#[tokio::test]
async fn an_error_file_can_be_removed_and_its_upload_no_longer_names_it() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    put(
        &files,
        "/upload/e.csv",
        one_sale("bad-time").as_bytes(),
        1024,
    )
    .await
    .unwrap();
    app.advance(5.0).await;
    let query = serde_json::json!({"fileName": "e.csv"});
    let before = m.ok(&app, "trade-details/query", &query).await;
    assert_eq!(before["errorFile"], "/error/e_error_file.csv", "{before}");
    let (code, _) = refusal(files.create("/error/e_error_file.csv").await.map(|_| ()));
    assert_eq!(code, StatusCode::PermissionDenied);
    files.remove_file("/error/e_error_file.csv").await.unwrap();
    let after = m.ok(&app, "trade-details/query", &query).await;
    assert_eq!(after["errorFile"], "", "{after}");
    assert_eq!(after["status"], "FAILED", "{after}");
    app.shutdown().await;
}

/// Regression: a session that ended while another session still wrote the same file recorded it
/// INCOMPLETE at once (`upload it again`), and the other session's close then processed it
/// anyway. The file is complete when its last writer, of any session, is closed; a session
/// ending with its handle open leaves INCOMPLETE only a file nobody else still writes.
#[tokio::test]
async fn a_session_ending_while_another_still_writes_the_file_leaves_it_to_that_session() {
    let app = spawn_infinia("").await;
    let (ssh_a, ssh_b) = (login(&app).await, login(&app).await);
    let (a, b) = (sftp(&ssh_a).await, sftp(&ssh_b).await);
    let good = one_sale("2025-01-01 10:00:00");
    let mut shared = a.create("/upload/shared.csv").await.unwrap();
    write(&mut shared, HEADER.as_bytes()).await.unwrap();
    let mut alone = a.create("/upload/alone.csv").await.unwrap();
    write(&mut alone, HEADER.as_bytes()).await.unwrap();
    let mut other = b
        .open_with_flags("/upload/shared.csv", OpenFlags::WRITE)
        .await
        .unwrap();
    // A's connection ends with both handles open (dropping a handle would close it): the
    // file only A wrote is INCOMPLETE...
    ssh_a
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await
        .unwrap();
    let noticed =
        eventually(|| upload_status(&app, "alone.csv") == Some(UploadStatus::Incomplete)).await;
    assert!(noticed, "the server never noticed A's session ended");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // ... the one B still writes is not.
    assert_eq!(upload_status(&app, "shared.csv"), None, "B still writes it");
    write(&mut other, good.as_bytes()).await.unwrap();
    other.shutdown().await.unwrap();
    assert_eq!(
        upload_status(&app, "shared.csv"),
        Some(UploadStatus::Processing)
    );
    app.advance(5.0).await;
    assert_eq!(
        upload_status(&app, "shared.csv"),
        Some(UploadStatus::Success)
    );
    drop((shared, alone, a));
    app.shutdown().await;
}

/// The demo app's accepted trades: tradeNo → amount in minor units.
fn trades(app: &TestApp) -> Vec<(String, i64)> {
    app.app()
        .store()
        .with_tenant(&demo_tenant(), |t| {
            t.infinia
                .trades
                .iter()
                .map(|(no, trade)| (no.clone(), trade.amount.minor))
                .collect()
        })
        .unwrap()
}

/// Regression: an upload reopened for writing while PROCESSING was processed from the
/// half-written file when its timer fired (USD 1.00 booked from `...,USD,1` meant to become
/// `100.00`), and the complete file, processed after the close, then FAILED (`B1 was already
/// accepted`).
#[tokio::test]
async fn an_upload_open_for_writing_again_is_not_processed_until_it_is_closed() {
    let app = spawn_infinia("").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    let row = "B1,SALE,O1,S1,,2025-01-01 10:00:00,USD,100.00\n";
    put(
        &files,
        "/upload/b.csv",
        format!("{HEADER}{row}").as_bytes(),
        1024,
    )
    .await
    .unwrap();
    assert_eq!(upload_status(&app, "b.csv"), Some(UploadStatus::Processing));
    let mut again = files
        .open_with_flags(
            "/upload/b.csv",
            OpenFlags::WRITE | OpenFlags::TRUNCATE | OpenFlags::CREATE,
        )
        .await
        .unwrap();
    let (head, rest) = row.split_at(row.len() - 6);
    write(&mut again, format!("{HEADER}{head}").as_bytes())
        .await
        .unwrap();
    app.advance(6.0).await;
    assert_eq!(trades(&app), [], "the half-written file was processed");
    assert_eq!(upload_status(&app, "b.csv"), Some(UploadStatus::Processing));
    write(&mut again, rest.as_bytes()).await.unwrap();
    again.shutdown().await.unwrap();
    app.advance(5.0).await;
    assert_eq!(upload_status(&app, "b.csv"), Some(UploadStatus::Success));
    assert_eq!(trades(&app), [("B1".to_owned(), 10_000)]);

    // Renamed away while open again: its upload fails at once (not PROCESSING for good), the
    // file is processed under its new name once closed.
    put(
        &files,
        "/upload/r.csv",
        one_sale("bad-time").as_bytes(),
        1024,
    )
    .await
    .unwrap();
    let mut open = files
        .open_with_flags("/upload/r.csv", OpenFlags::WRITE | OpenFlags::TRUNCATE)
        .await
        .unwrap();
    app.advance(6.0).await;
    assert_eq!(upload_status(&app, "r.csv"), Some(UploadStatus::Processing));
    files
        .rename("/upload/r.csv", "/upload/s.csv")
        .await
        .unwrap();
    assert_eq!(upload_status(&app, "r.csv"), Some(UploadStatus::Failed));
    write(&mut open, one_sale("2025-01-01 10:00:00").as_bytes())
        .await
        .unwrap();
    open.shutdown().await.unwrap();
    app.advance(5.0).await;
    assert_eq!(upload_status(&app, "s.csv"), Some(UploadStatus::Success));
    app.shutdown().await;
}

/// Regression: `c.csv`, `c.CSV` and `c` all reported to `/error/c_error_file.csv`: processing
/// one replaced (or dropped) the error file another upload's record still named.
#[tokio::test]
async fn uploads_whose_names_differ_only_by_the_csv_ending_keep_their_own_error_files() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    let names = [
        ("c.csv", "/error/c_error_file.csv"),
        ("c.CSV", "/error/c_error_file.CSV"),
        ("c", "/error/c.error_file.csv"),
    ];
    for (name, _) in names {
        let bad = format!("{HEADER}{name},SALE,O1,S1,,bad-time,USD,1.00\n");
        put(&files, &format!("/upload/{name}"), bad.as_bytes(), 1024)
            .await
            .unwrap();
        app.advance(5.0).await;
    }
    // Processing `c.csv` again without errors drops its own error file only.
    put(
        &files,
        "/upload/c.csv",
        one_sale("2025-01-01 10:00:00").as_bytes(),
        1024,
    )
    .await
    .unwrap();
    app.advance(5.0).await;
    for (name, report) in names {
        let s = m
            .ok(
                &app,
                "trade-details/query",
                &serde_json::json!({"fileName": name}),
            )
            .await;
        if name == "c.csv" {
            assert_eq!(s["errorFile"], "", "{s}");
            assert!(files.metadata(report).await.is_err(), "{report} kept");
            continue;
        }
        assert_eq!(s["errorFile"], report, "{s}");
        let text = String::from_utf8(files.read(report).await.unwrap()).unwrap();
        assert!(
            text.contains(&format!("{name},tradeTime")),
            "{report}: {text}"
        );
    }
    app.shutdown().await;
}

/// Regression: SSH_FXF_APPEND was ignored, so a write at offset 0 through a handle opened to
/// append overwrote the start of the file.
#[tokio::test]
async fn a_handle_opened_to_append_writes_at_the_end() {
    let app = spawn_infinia("").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    put(&files, "/upload/ap.csv.part", b"AAAA", 1024)
        .await
        .unwrap();
    let mut appending = files
        .open_with_flags("/upload/ap.csv.part", OpenFlags::WRITE | OpenFlags::APPEND)
        .await
        .unwrap();
    appending.seek(std::io::SeekFrom::Start(0)).await.unwrap();
    write(&mut appending, b"BB").await.unwrap();
    appending.shutdown().await.unwrap();
    assert_eq!(files.read("/upload/ap.csv.part").await.unwrap(), b"AAAABB");
    app.shutdown().await;
}

/// Regression: an upload a scenario rule decided showed `rule: null` in the journal, and a rule
/// forcing a `code` on `trade-details/upload` loaded and did nothing. The code now fails the
/// file (with the rule's `detail`), as an API operation answers with it and does not execute.
#[tokio::test]
async fn a_scenario_rule_that_decides_an_upload_is_named_in_the_journal() {
    let app = spawn_infinia("").await;
    let scenario = r#"
name = "sftp-rules"
[[rule]]
name = "reject f.csv"
surface = "infinia"
operation = "trade-details/upload"
when = { fileName = "f.csv" }
then = { result = "failure", reason = "duplicate batch" }
[[rule]]
name = "busy for g.csv"
surface = "infinia"
operation = "trade-details/upload"
when = { fileName = "g.csv" }
then = { code = "SYS-008", detail = "try later" }
"#;
    let (status, body) = app.load_scenario(scenario, "").await;
    assert_eq!(status, 200, "{body}");
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    let good = one_sale("2025-01-01 10:00:00");
    for name in ["f.csv", "g.csv"] {
        put(&files, &format!("/upload/{name}"), good.as_bytes(), 1024)
            .await
            .unwrap();
    }
    app.advance(5.0).await;
    assert_eq!(trades(&app), [], "a rejected file booked its rows");
    let journal = app
        .get_json("/__sim/requests?operation=trade-details/upload")
        .await;
    let entries = journal["requests"]
        .as_array()
        .or_else(|| journal.as_array())
        .cloned()
        .unwrap_or_default();
    for (name, rule, reason) in [
        ("f.csv", "reject f.csv", "duplicate batch"),
        ("g.csv", "busy for g.csv", "SYS-008: try later"),
    ] {
        let of_file: Vec<_> = entries
            .iter()
            .filter(|e| e["request"]["fileName"] == name)
            .collect();
        let codes: Vec<_> = of_file.iter().map(|e| e["code"].as_str()).collect();
        assert_eq!(codes.len(), 2, "{name}: {of_file:?}");
        for e in &of_file {
            assert_eq!(e["rule"], rule, "{e}");
        }
        assert!(
            of_file
                .iter()
                .any(|e| e["code"] == "FAILED" && e["detail"] == reason),
            "{name}: {of_file:?}"
        );
        assert_eq!(upload_status(&app, name), Some(UploadStatus::Failed));
    }
    app.shutdown().await;
}

/// Regression: after a frame announcing more than the SFTP library takes, the library read on
/// from inside it, taking every 4 bytes for a new length (one warning each) and waiting for
/// more; the session now ends there, and the connection keeps serving new sessions.
#[tokio::test]
async fn a_frame_too_long_ends_the_sftp_session() {
    let app = spawn_infinia("").await;
    let ssh = login(&app).await;
    let channel = ssh.channel_open_session().await.unwrap();
    channel.request_subsystem(true, "sftp").await.unwrap();
    let mut stream = channel.into_stream();
    let mut junk = u32::MAX.to_be_bytes().to_vec();
    junk.extend([7u8; 64]);
    stream.write_all(&junk).await.unwrap();
    stream.flush().await.unwrap();
    // A bound against a hang only: the end comes as soon as the frame is read.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
    assert!(
        read.is_ok(),
        "the session did not end: {} bytes",
        rest.len()
    );
    let sftp = sftp(&ssh).await;
    sftp.read_dir("/").await.unwrap();
    app.shutdown().await;
}

/// Regression: a name holding `\` was taken in /upload (by creation or rename), but
/// `trade-details/query` refuses it as a path, so the upload's status could never be read.
#[tokio::test]
async fn a_name_with_a_backslash_is_refused_in_upload() {
    let app = spawn_infinia("").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    let refused = put(&files, "/upload/bs\\x.csv", b"x", 1024)
        .await
        .unwrap_err();
    assert!(refused.contains("holds a \\"), "{refused}");
    put(&files, "/upload/e1.csv.part", b"x", 1024)
        .await
        .unwrap();
    let renamed = files
        .rename("/upload/e1.csv.part", "/upload/e\\1.csv")
        .await
        .unwrap_err()
        .to_string();
    assert!(renamed.contains("holds a \\"), "{renamed}");
    let names: Vec<String> = files
        .read_dir("/upload")
        .await
        .unwrap()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, ["e1.csv.part"]);
    app.shutdown().await;
}

/// Regression: after a `kill -9` (here: a copy of the data directory taken while the simulator
/// runs), an upload whose file was open for writing again when its timer ran was PROCESSING
/// without a timer, and the data directory refused to start. It starts, the upload INCOMPLETE,
/// and the journal says why.
#[tokio::test]
async fn an_upload_left_open_when_the_simulator_dies_ends_incomplete_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        |d: &std::path::Path| format!("[store]\ndata_dir = {:?}\n", d.display().to_string());
    let app = spawn_infinia(&config(dir.path())).await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    put(
        &files,
        "/upload/k.csv",
        one_sale("2025-01-01 10:00:00").as_bytes(),
        1024,
    )
    .await
    .unwrap();
    let mut again = files
        .open_with_flags("/upload/k.csv", OpenFlags::WRITE | OpenFlags::TRUNCATE)
        .await
        .unwrap();
    write(&mut again, HEADER.as_bytes()).await.unwrap();
    app.advance(6.0).await;
    assert_eq!(upload_status(&app, "k.csv"), Some(UploadStatus::Processing));
    tokio::time::sleep(Duration::from_millis(300)).await; // the background writer's commit
    let copy = tempfile::tempdir().unwrap();
    crate::persistence::copy_data_dir(dir.path(), copy.path());
    let again_app = spawn_infinia(&config(copy.path())).await;
    assert_eq!(
        upload_status(&again_app, "k.csv"),
        Some(UploadStatus::Incomplete)
    );
    // The restarted journal (the data directory's) says why, beside the upload's other events.
    let journal = again_app
        .get_json("/__sim/requests?surface=infinia&limit=5")
        .await;
    let ended = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["request"]["fileName"] == "k.csv" && e["code"] == "INCOMPLETE")
        .unwrap_or_else(|| panic!("no INCOMPLETE entry for k.csv: {journal}"));
    let detail = ended["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("simulator stopped"), "{ended}");
    again_app.shutdown().await;
    app.shutdown().await;
}

/// Regression: a handle opened before an import of a snapshot taken while its file was being
/// written still wrote into the imported file (which looked like the one it opened), and its
/// close started processing it. It answers NO_SUCH_FILE, as after a reset.
#[tokio::test]
async fn a_handle_opened_before_an_import_does_not_reach_the_imported_file() {
    let app = spawn_infinia("").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    let mut old = files.create("/upload/hi.csv").await.unwrap();
    write(&mut old, HEADER.as_bytes()).await.unwrap();
    let snapshot = crate::persistence::export(&app, "").await;
    let (status, body) = crate::persistence::import(&app, "", snapshot).await;
    assert_eq!(status, 200, "{body}");
    let late = write(&mut old, b"HI1,SALE,O9,S1,,2025-01-01 10:00:00,USD,9.00\n").await;
    assert!(late.is_err(), "the old handle wrote into the imported file");
    let _closed = old.shutdown().await;
    assert_eq!(
        upload_status(&app, "hi.csv"),
        None,
        "the close started processing"
    );
    app.shutdown().await;
}
