//! Trade-details uploads over SFTP with OpenSSH's own client: a valid file, a file with bad rows
//! (and its error file downloaded back), an upload through a temporary name, an interrupted
//! upload (never processed), and refused logins.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use whalet_sim::store::infinia::UploadStatus;
use whalet_sim::store::{Provider, TenantId};

use super::support::{
    assert_no_nulls, client_key, eventually, sftp_batch, sftp_port, spawn_infinia, ssh_options,
    Merchant,
};
use crate::helpers::repo_path;

async fn status(app: &crate::helpers::TestApp, m: &Merchant, name: &str) -> Value {
    m.ok(app, "trade-details/query", &json!({ "fileName": name }))
        .await
}

#[tokio::test]
async fn a_valid_file_is_processed_after_it_is_closed() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let dir = tempfile::tempdir().unwrap();
    let sample = repo_path("samples/infinia-trade-details.csv");
    let (ok, out) = sftp_batch(
        sftp_port(&app),
        dir.path(),
        "demo-app",
        &format!("cd upload\nput {sample} trades-20250101.csv\nls -l\n"),
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("trades-20250101.csv"), "{out}");
    let s = status(&app, &m, "trades-20250101.csv").await;
    assert_eq!(s["status"], "PROCESSING");
    app.advance(5.0).await;
    let s = status(&app, &m, "trades-20250101.csv").await;
    assert_eq!(s["status"], "SUCCESS", "{s}");
    assert_eq!(
        (
            s["totalCount"].as_str(),
            s["successCount"].as_str(),
            s["failedCount"].as_str()
        ),
        (Some("5"), Some("5"), Some("0"))
    );
    assert_eq!(
        (s["errorFile"].as_str(), s["reason"].as_str()),
        (Some(""), Some(""))
    );
    assert_no_nulls("trade-details/query", &s);
    // Regression: a name with a path was cut to its last part and answered for it. A fileName is
    // the name as uploaded: one carrying a path is a wrong format (SYS-005) naming the value.
    for path in [
        "../../etc/trades-20250101.csv",
        "/upload/trades-20250101.csv",
        "upload\\trades-20250101.csv",
    ] {
        let r = m
            .call(&app, "trade-details/query", &json!({ "fileName": path }))
            .await;
        assert_eq!(r.code, "SYS-005", "{path}: {}", r.message);
        assert_eq!(
            r.message,
            format!(
                "fileName {path:?} carries a path; give only the file's name as uploaded to \
                 /upload, such as \"trades-20250101.csv\""
            )
        );
    }
    let r = m
        .ok(
            &app,
            "available-revenue/query",
            &json!({"sellerId": "SELLER-123456"}),
        )
        .await;
    assert_eq!(r["revenues"][0]["earnedAmount"], "145.50");
    app.shutdown().await;
}

#[tokio::test]
async fn bad_rows_produce_an_error_file_the_platform_downloads() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("bad.csv");
    std::fs::write(
        &local,
        "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount\n\
        B1,SALE,O1,S1,,2025-01-01 10:00:00,USD,10.00\n\
        B2,SALE,O2,S1,,yesterday,USD,5.00\n\
        B3,RETURN,O1,S1,B9,2025-01-01 12:00:00,USD,1.00\n",
    )
    .unwrap();
    let got = dir.path().join("got.csv");
    let port = sftp_port(&app);
    // Upload under a temporary name, then rename: processed once, at the rename.
    let (ok, out) = sftp_batch(
        port,
        dir.path(),
        "demo-app",
        &format!(
            "put {} /upload/bad.csv.part\nrename /upload/bad.csv.part /upload/bad.csv\n",
            local.display()
        ),
    )
    .await;
    assert!(ok, "{out}");
    let reply = m
        .call(
            &app,
            "trade-details/query",
            &json!({"fileName": "bad.csv.part"}),
        )
        .await;
    assert_eq!(reply.code, "SYS-002");
    app.advance(5.0).await;
    let s = status(&app, &m, "bad.csv").await;
    assert_eq!(s["status"], "PARTIALLY_FAILED", "{s}");
    assert_eq!(
        (
            s["totalCount"].as_str(),
            s["successCount"].as_str(),
            s["failedCount"].as_str()
        ),
        (Some("3"), Some("1"), Some("2"))
    );
    assert_eq!(s["errorFile"], "/error/bad_error_file.csv");
    let (ok, out) = sftp_batch(
        port,
        dir.path(),
        "demo-app",
        &format!(
            "get /error/bad_error_file.csv {}\n-put {} /error/x.csv\n",
            got.display(),
            local.display()
        ),
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.to_lowercase().contains("permission denied"), "{out}");
    let error_file = std::fs::read_to_string(&got).unwrap();
    assert_eq!(
        error_file,
        "rowNumber,tradeNo,column,reason\n\
         3,B2,tradeTime,\"\"\"yesterday\"\" is not yyyy-MM-dd HH:mm:ss\"\n\
         4,B3,originalTradeNo,\"no accepted SALE with tradeNo \"\"B9\"\" (earlier rows and files count)\"\n"
    );
    app.shutdown().await;
}

fn packet(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut p = ((body.len() + 1) as u32).to_be_bytes().to_vec();
    p.push(kind);
    p.extend_from_slice(body);
    p
}

fn string(s: &[u8]) -> Vec<u8> {
    let mut v = (s.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

fn read_packet(r: &mut impl Read) -> (u8, Vec<u8>) {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    r.read_exact(&mut body).unwrap();
    (body[0], body[1..].to_vec())
}

#[tokio::test]
async fn an_interrupted_upload_is_never_processed() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let dir = tempfile::tempdir().unwrap();
    let key = client_key(dir.path());
    // OpenSSH's ssh runs the sftp subsystem; we speak SFTP v3 on its stdin to open a file, write
    // half of it, and then kill the client without closing the file.
    let mut child = sftp_subsystem(&app, &key);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let half = std::fs::read(repo_path("samples/infinia-trade-details.csv")).unwrap();
    let half = half[..half.len() / 2].to_vec();
    let handle = tokio::task::spawn_blocking(move || {
        stdin.write_all(&packet(1, &3u32.to_be_bytes())).unwrap();
        assert_eq!(read_packet(&mut stdout).0, 2, "SSH_FXP_VERSION");
        let mut open = 1u32.to_be_bytes().to_vec();
        open.extend(string(b"/upload/interrupted.csv"));
        open.extend(0x1Au32.to_be_bytes()); // WRITE | CREAT | TRUNC
        open.extend(0u32.to_be_bytes()); // no attributes
        stdin.write_all(&packet(3, &open)).unwrap();
        let (kind, body) = read_packet(&mut stdout);
        assert_eq!(kind, 102, "SSH_FXP_HANDLE");
        let handle = body[8..].to_vec();
        let mut write = 2u32.to_be_bytes().to_vec();
        write.extend(string(&handle));
        write.extend(0u64.to_be_bytes());
        write.extend(string(&half));
        stdin.write_all(&packet(6, &write)).unwrap();
        let (kind, body) = read_packet(&mut stdout);
        assert_eq!(
            (kind, &body[4..8]),
            (101, &[0u8, 0, 0, 0][..]),
            "SSH_FXP_STATUS OK"
        );
        (stdin, stdout)
    })
    .await
    .unwrap();
    // Half-written and still open: not processed, not even listed.
    let reply = m
        .call(
            &app,
            "trade-details/query",
            &json!({"fileName": "interrupted.csv"}),
        )
        .await;
    assert_eq!(reply.code, "SYS-002");
    child.kill().unwrap();
    child.wait().unwrap();
    drop(handle);
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    let store = app.app().store().clone();
    let noticed = eventually(|| {
        store
            .with_tenant(&tenant, |t| {
                t.infinia.uploads.get("interrupted.csv").map(|u| u.status)
            })
            .flatten()
            == Some(UploadStatus::Incomplete)
    })
    .await;
    assert!(noticed, "the server never noticed the session ended");
    app.advance(60.0).await;
    let s = status(&app, &m, "interrupted.csv").await;
    assert_eq!(s["status"], "INCOMPLETE", "{s}");
    assert!(s["reason"].as_str().unwrap().contains("upload it again"));
    let trades = app
        .app()
        .store()
        .with_tenant(&tenant, |t| t.infinia.trades.len());
    assert_eq!(trades, Some(0));
    app.shutdown().await;
}

#[tokio::test]
async fn logins_need_the_apps_key_or_password() {
    let app = spawn_infinia("").await;
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = sftp_batch(sftp_port(&app), dir.path(), "someone-else", "ls\n").await;
    assert!(!ok, "{out}");
    assert!(out.contains("Permission denied"), "{out}");
    app.shutdown().await;
}

/// `sftp` with password authentication (no sshpass: OpenSSH's askpass hook answers).
fn sftp_with_password(port: u16, dir: &std::path::Path, password: &str) -> (bool, String) {
    use std::os::unix::fs::PermissionsExt;
    let askpass = dir.join("askpass.sh");
    std::fs::write(&askpass, format!("#!/bin/sh\necho '{password}'\n")).unwrap();
    std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o700)).unwrap();
    let batch = dir.join("pw-batch");
    std::fs::write(&batch, "ls /upload\n").unwrap();
    let out = Command::new("sftp")
        // Before -b, so that it wins over the BatchMode=yes that -b adds.
        .args([
            "-o",
            "BatchMode=no",
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "PreferredAuthentications=password",
        ])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "NumberOfPasswordPrompts=1",
        ])
        .arg("-b")
        .arg(&batch)
        .args(["-P", &port.to_string(), "demo-app@127.0.0.1"])
        .env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", ":0")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn the_demo_password_logs_in_and_a_wrong_one_does_not() {
    let app = spawn_infinia("").await;
    let dir = tempfile::tempdir().unwrap();
    let port = sftp_port(&app);
    let path = dir.path().to_owned();
    let (ok, out) =
        tokio::task::spawn_blocking(move || sftp_with_password(port, &path, "demo-password"))
            .await
            .unwrap();
    assert!(ok, "{out}");
    let path = dir.path().to_owned();
    let (ok, out) = tokio::task::spawn_blocking(move || sftp_with_password(port, &path, "wrong"))
        .await
        .unwrap();
    assert!(!ok, "{out}");
    app.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_open_sftp_sessions() {
    let app = spawn_infinia("").await;
    let dir = tempfile::tempdir().unwrap();
    let key = client_key(dir.path());
    let mut child = sftp_subsystem(&app, &key);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (stdin, _stdout) = tokio::task::spawn_blocking(move || {
        stdin.write_all(&packet(1, &3u32.to_be_bytes())).unwrap();
        assert_eq!(read_packet(&mut stdout).0, 2, "SSH_FXP_VERSION");
        (stdin, stdout)
    })
    .await
    .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(20), app.shutdown())
        .await
        .expect("shutdown finished with an SFTP session open");
    // The server disconnected the client: ssh exits although its stdin is still open.
    let exited = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::task::spawn_blocking(move || child.wait().unwrap()),
    )
    .await;
    drop(stdin);
    assert!(exited.is_ok(), "ssh still connected after shutdown");
}

/// Regression: a 1-byte write at offset 32 MiB − 1 allocated 32 MiB (40 such files took the
/// simulator to 1.36 GB), and a file whose write was refused was processed truncated on close.
/// Gaps are refused, the app's quota holds, and a file with a refused write is INCOMPLETE.
#[tokio::test]
async fn a_gap_or_a_write_over_the_quota_is_refused_and_the_file_never_processed() {
    let app = spawn_infinia("sftp_max_bytes = 1000\n").await;
    let m = Merchant::demo();
    let dir = tempfile::tempdir().unwrap();
    let key = client_key(dir.path());
    let mut child = sftp_subsystem(&app, &key);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let statuses = tokio::task::spawn_blocking(move || {
        stdin.write_all(&packet(1, &3u32.to_be_bytes())).unwrap();
        assert_eq!(read_packet(&mut stdout).0, 2, "SSH_FXP_VERSION");
        let mut statuses = Vec::new();
        for (n, (name, offset, len)) in
            [("gap.csv", (32u64 << 20) - 1, 1usize), ("big.csv", 0, 1500)]
                .into_iter()
                .enumerate()
        {
            let id = (n as u32) * 3 + 1;
            let mut open = id.to_be_bytes().to_vec();
            open.extend(string(format!("/upload/{name}").as_bytes()));
            open.extend(0x1Au32.to_be_bytes()); // WRITE | CREAT | TRUNC
            open.extend(0u32.to_be_bytes());
            stdin.write_all(&packet(3, &open)).unwrap();
            let (kind, body) = read_packet(&mut stdout);
            assert_eq!(kind, 102, "SSH_FXP_HANDLE");
            let handle = body[8..].to_vec();
            let mut write = (id + 1).to_be_bytes().to_vec();
            write.extend(string(&handle));
            write.extend(offset.to_be_bytes());
            write.extend(string(&vec![b'x'; len]));
            stdin.write_all(&packet(6, &write)).unwrap();
            let (kind, body) = read_packet(&mut stdout);
            assert_eq!(kind, 101, "SSH_FXP_STATUS");
            statuses.push(u32::from_be_bytes(body[4..8].try_into().unwrap()));
            let mut close = (id + 2).to_be_bytes().to_vec();
            close.extend(string(&handle));
            stdin.write_all(&packet(4, &close)).unwrap();
            assert_eq!(read_packet(&mut stdout).0, 101, "close answered");
        }
        statuses
    })
    .await
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(statuses, vec![4, 4], "both writes refused (SSH_FX_FAILURE)");
    for name in ["gap.csv", "big.csv"] {
        let s = status(&app, &m, name).await;
        assert_eq!(s["status"], "INCOMPLETE", "{name}: {s}");
        assert!(
            s["reason"]
                .as_str()
                .unwrap()
                .contains("a write was refused"),
            "{s}"
        );
    }
    // Nothing of the refused writes is kept in memory.
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    let held = app
        .app()
        .store()
        .with_tenant(&tenant, |t| {
            t.infinia
                .files
                .values()
                .map(|f| f.data.len())
                .sum::<usize>()
        })
        .unwrap();
    assert_eq!(held, 0);
    app.shutdown().await;
}

/// OpenSSH's ssh running the sftp subsystem as `demo-app`: the test speaks SFTP v3 on its
/// stdin/stdout.
fn sftp_subsystem(app: &crate::helpers::TestApp, key: &std::path::Path) -> std::process::Child {
    Command::new("ssh")
        .args(ssh_options(key))
        .args([
            "-p",
            &sftp_port(app).to_string(),
            "-s",
            "demo-app@127.0.0.1",
            "sftp",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Regression: READDIR answered `/upload` in one message, which OpenSSH's `sftp` refuses over
/// 256 KiB ("Received message too long"): 1,000 files (the default `sftp_max_files`) with names
/// of 110 characters could not be listed. The folder is answered 100 entries at a time.
#[tokio::test]
async fn a_full_upload_folder_of_long_names_lists_with_openssh() {
    let app = spawn_infinia("").await;
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    let names: Vec<String> = (0..1000)
        .map(|i| format!("{i:04}-{}.csv", "n".repeat(101)))
        .collect();
    app.app()
        .store()
        .with_tenant(&tenant, |t| {
            for name in &names {
                let file = whalet_sim::store::infinia::StoredFile {
                    data: b"x".to_vec(),
                    size: 1,
                    modified_at: 0,
                    writing: false,
                    ..Default::default()
                };
                t.infinia.files.insert(format!("/upload/{name}"), file);
            }
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = sftp_batch(sftp_port(&app), dir.path(), "demo-app", "ls -1 /upload\n").await;
    assert!(ok, "{}", &out[..out.len().min(2000)]);
    let listed: Vec<&str> = out
        .lines()
        .filter_map(|l| l.trim().rsplit('/').next())
        .filter(|l| l.ends_with(".csv"))
        .collect();
    assert_eq!(listed, names, "every file once, in order");
    app.shutdown().await;
}
