//! Regressions of the SFTP listener (round 50): the last allowed failed login ends the attempts
//! for OpenSSH too (no extra password prompt), upload names whose report would be too long for
//! a partner's file system are refused, and connections that never log in cannot take the places
//! logged-in sessions and clients that log in at once need.

use std::path::Path;
use std::time::Duration;

use russh::client::AuthResult;
use russh::MethodKind;
use russh_sftp::client::SftpSession;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::infinia::support::{
    eventually, sftp_port, sftp_session as sftp, spawn_infinia, ssh_connect as connect,
    ssh_login as login, Merchant,
};

async fn put(sftp: &SftpSession, path: &str, data: &[u8]) -> Result<(), String> {
    let mut file = sftp.create(path).await.map_err(|e| e.to_string())?;
    file.write_all(data).await.map_err(|e| e.to_string())?;
    file.shutdown().await.map_err(|e| e.to_string())
}

/// Whether OpenSSH would ask for another password after `answer`: it goes on with a method it
/// can use that the server lists, and reads an empty list as "use my own preferences".
fn openssh_would_prompt_again(answer: &AuthResult) -> bool {
    match answer {
        AuthResult::Failure {
            remaining_methods, ..
        } => {
            remaining_methods.is_empty()
                || remaining_methods.contains(&MethodKind::Password)
                || remaining_methods.contains(&MethodKind::PublicKey)
        }
        AuthResult::Success => false,
    }
}

/// Regression: the last allowed refusal listed no method at all, which OpenSSH reads as "go on
/// with your own": with `sftp_max_auth_attempts = 2` it asked for a third password, sent it,
/// and only then was disconnected. A client that keeps going while the server lets it makes
/// exactly the allowed attempts, and is disconnected.
#[tokio::test]
async fn a_client_that_tries_while_it_may_makes_exactly_the_allowed_attempts() {
    let app = spawn_infinia("sftp_max_auth_attempts = 2\n").await;
    let mut ssh = connect(&app).await.unwrap();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let answer = ssh
            .authenticate_password("demo-app", format!("guess-{attempts}"))
            .await;
        match answer {
            Ok(answer) if openssh_would_prompt_again(&answer) && attempts < 10 => {}
            _ => break,
        }
    }
    assert_eq!(attempts, 2, "the client was invited to try again");
    assert!(eventually(|| ssh.is_closed()).await, "still connected");
    app.shutdown().await;
}

/// The same with OpenSSH itself, as a partner meets it: the askpass program counts the
/// password prompts. Skipped (with a note) where OpenSSH is not installed.
#[tokio::test]
async fn openssh_is_asked_for_exactly_the_allowed_passwords() {
    if std::process::Command::new("ssh")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("skipped: OpenSSH `ssh` is not installed");
        return;
    }
    let app = spawn_infinia("sftp_max_auth_attempts = 2\n").await;
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("prompts");
    let askpass = dir.path().join("askpass.sh");
    std::fs::write(
        &askpass,
        format!(
            "#!/bin/sh\necho prompt >> '{}'\necho wrong-password\n",
            count.display()
        ),
    )
    .unwrap();
    make_executable(&askpass);
    let mut command = std::process::Command::new("ssh");
    command
        .env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", ":0")
        .stdin(std::process::Stdio::null())
        .args(["-p", &sftp_port(&app).to_string()])
        .args(["-o", "StrictHostKeyChecking=no"])
        .args(["-o", "UserKnownHostsFile=/dev/null"])
        .args(["-o", "PubkeyAuthentication=no"])
        .args(["-o", "PreferredAuthentications=password"])
        .args(["-o", "NumberOfPasswordPrompts=10"])
        .args(["-o", "ConnectTimeout=10"])
        .args(["-s", "demo-app@127.0.0.1", "sftp"]);
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || command.output()),
    )
    .await
    .expect("ssh finished within 30 s")
    .unwrap()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let prompts = std::fs::read_to_string(&count).unwrap_or_default();
    assert_eq!(
        prompts.lines().count(),
        2,
        "prompts: {prompts:?}; ssh: {stderr}"
    );
    app.shutdown().await;
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// Regression: a 255-character name was taken, but its error file
/// `/error/<stem>_error_file.csv` was 266 characters, and a 255-character name of multibyte
/// characters up to 1,020 bytes: a partner's `get` failed on Linux (NAME_MAX is 255 bytes).
/// A name is taken when its error file's name fits in 255 bytes; creating or renaming to a
/// longer one is refused naming the limit and the report's length.
#[tokio::test]
async fn a_name_whose_error_file_passes_255_bytes_is_refused() {
    let app = spawn_infinia("").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    let longest = format!("{}.csv", "x".repeat(240));
    let too_long = format!("{}.csv", "x".repeat(241));
    let accented = format!("{}.csv", "é".repeat(121));
    for name in [&too_long, &accented] {
        let refused = put(&files, &format!("/upload/{name}"), b"x")
            .await
            .unwrap_err();
        assert!(
            refused.contains(&format!("is {} bytes long", name.len()))
                && refused.contains(&format!("would be {} bytes", name.len() + 11))
                && refused.contains("at most 255 bytes")
                && refused.contains("\"/error/"),
            "{refused}"
        );
    }
    put(&files, "/upload/n.csv.part", b"x").await.unwrap();
    let renamed = files
        .rename("/upload/n.csv.part", format!("/upload/{too_long}"))
        .await
        .unwrap_err()
        .to_string();
    assert!(renamed.contains("would be 256 bytes"), "{renamed}");
    // The longest name is taken; a bad row gives it an error file of exactly 255 bytes.
    put(&files, &format!("/upload/{longest}"), b"tradeNo\nT1\n")
        .await
        .unwrap();
    app.advance(10.0).await;
    let s = Merchant::demo()
        .ok(&app, "trade-details/query", &json!({"fileName": longest}))
        .await;
    let report = s["errorFile"].as_str().unwrap_or_default().to_owned();
    let report_name = report.rsplit('/').next().unwrap_or_default();
    assert_eq!(report_name.len(), 255, "{s}");
    assert!(files.read(&report).await.is_ok(), "{report}");
    app.shutdown().await;
}

/// Regression: TCP sockets that never sent a byte held every connection place until the login
/// grace time (a minute), locking out logged-in partners' new connections, again and again.
/// Connections not logged in now have their own bound (`sftp_max_unauthenticated`); past it a
/// new connection closes the oldest of them, so a client that logs in at once still gets in,
/// uploads, and sessions already logged in are never touched.
#[tokio::test]
async fn idle_sockets_cannot_lock_out_a_client_that_logs_in() {
    let app = spawn_infinia("sftp_max_connections = 6\nsftp_max_unauthenticated = 2\n").await;
    let port = sftp_port(&app);
    // Three partners logged in, their SFTP sessions open.
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let ssh = login(&app).await;
        let files = sftp(&ssh).await;
        sessions.push((ssh, files));
    }
    // Ten sockets that never send anything: more than every place left.
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap(),
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A client that logs in at once gets in and uploads.
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    put(&files, "/upload/after-flood.csv.part", b"tradeNo\n")
        .await
        .unwrap();
    // The logged-in sessions were never closed, and still work.
    for (n, (ssh, files)) in sessions.iter().enumerate() {
        assert!(!ssh.is_closed(), "session {n} was closed");
        let got = files.read("/upload/after-flood.csv.part").await.unwrap();
        assert_eq!(got, b"tradeNo\n", "session {n}");
    }
    // The oldest idle sockets were closed (the server's version line, then the end); the two
    // newest still wait for their login grace time.
    let mut closed = 0;
    for socket in &mut idle {
        let mut sink = Vec::new();
        let read = tokio::time::timeout(Duration::from_millis(300), socket.read_to_end(&mut sink));
        if matches!(read.await, Ok(Ok(_)) | Ok(Err(_))) {
            closed += 1;
        }
    }
    assert!(closed >= 8, "only {closed} of 10 idle sockets were closed");
    app.shutdown().await;
}
