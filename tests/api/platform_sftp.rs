//! whalet-platform trade materials over SFTP, with OpenSSH's own client logging in as the demo
//! partner with the RSA key it signs requests with: a good file (the same materials as the API
//! would store), a file with bad rows (a result report naming each, those rows not stored), an
//! oversize file (refused by the SFTP limits), and the password login.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use whalet_sim::store::infinia::UploadStatus;
use whalet_sim::store::platform::{MaterialSource, TradeMaterial};
use whalet_sim::store::{Provider, TenantId};

use crate::helpers::{platform_call, repo_path, spawn_with, Setup, TestApp};
use crate::infinia::support::{sftp_port, ssh_options, ssh_password};

const PARTNER: &str = "202400000000001";
const HEADER: &str = "shopId,tradeOrderId,tradeOrderNo,tradeType,tradeTime,tradeCurrency,tradeAmount,tradeName,tradeCount,tradeUnit,payerName,payerCountryCode,hsCode\n";

fn tenant() -> TenantId {
    TenantId::new(Provider::Whalet, PARTNER)
}

async fn spawn(extra: &str) -> TestApp {
    spawn_with(Setup {
        config: Some(format!("[infinia]\nsftp_addr = \"127.0.0.1:0\"\n{extra}")),
        ..Setup::default()
    })
    .await
}

/// A private copy of the demo partner's private key with mode 0600 (OpenSSH reads the PEM).
fn partner_key(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("partner.pem");
    std::fs::copy(repo_path("keys/demo-partner/private.pem"), &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// Runs OpenSSH `sftp -b batch` as the demo partner with its key; returns (success, output).
pub(crate) async fn sftp_batch(app: &TestApp, dir: &Path, commands: &str) -> (bool, String) {
    let batch = dir.join("batch");
    std::fs::write(&batch, commands).unwrap();
    let mut command = std::process::Command::new("sftp");
    command
        .arg("-b")
        .arg(&batch)
        .arg("-P")
        .arg(sftp_port(app).to_string())
        .args(ssh_options(&partner_key(dir)))
        .args(["-o", "ConnectTimeout=10"])
        .arg(format!("{PARTNER}@127.0.0.1"));
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::task::spawn_blocking(move || command.output()),
    )
    .await
    .expect("sftp finished within 60 s")
    .unwrap()
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The stored materials of a shop: (material, source, origin).
fn stored(app: &TestApp, shop: &str) -> Vec<(TradeMaterial, MaterialSource, String)> {
    app.app()
        .store()
        .with_tenant(&tenant(), |t| {
            t.platform
                .materials
                .for_shop(shop)
                .map(|m| (m.material.clone(), m.source, m.origin.clone()))
                .collect()
        })
        .unwrap()
}

fn upload_status(app: &TestApp, name: &str) -> Option<(UploadStatus, u64, u64)> {
    app.app()
        .store()
        .with_tenant(&tenant(), |t| {
            t.platform
                .uploads
                .get(name)
                .map(|u| (u.status, u.success_rows, u.failed_rows))
        })
        .unwrap()
}

fn api_material(order: &str) -> Value {
    json!({
        "tradeOrderId": order, "tradeOrderNo": format!("OR{order}"), "tradeType": 0,
        "tradeTime": "2024-12-30 10:15:00", "tradeCurrency": "CNY", "tradeAmount": "39.68",
        "tradeName": "Desk lamp", "tradeCount": 2, "tradeUnit": "piece",
        "payerName": "buyer-77", "payerCountryCode": "RU", "hsCode": "7323990000"
    })
}

fn csv_row(shop: &str, order: &str) -> String {
    format!("{shop},{order},OR{order},0,2024-12-30 10:15:00,CNY,39.68,Desk lamp,2,piece,buyer-77,RU,7323990000\n")
}

#[tokio::test]
async fn a_good_file_stores_the_same_materials_as_the_api() {
    let app = spawn("").await;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("good.csv");
    std::fs::write(
        &local,
        format!(
            "{HEADER}{}{}",
            csv_row("SHOP-SFTP", "1"),
            csv_row("SHOP-SFTP", "2")
        ),
    )
    .unwrap();
    let got = dir.path().join("got.csv");
    let (ok, out) = sftp_batch(
        &app,
        dir.path(),
        &format!(
            "ls /\nput {} /upload/materials-1.csv\nget /result/materials-1_result.csv {}\n",
            local.display(),
            got.display()
        ),
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("upload") && out.contains("result"), "{out}");
    let report = std::fs::read_to_string(&got).unwrap();
    assert_eq!(
        report,
        "rowNumber,shopId,tradeOrderId,result,error\n2,SHOP-SFTP,1,ACCEPTED,\n3,SHOP-SFTP,2,ACCEPTED,\n"
    );
    assert_eq!(
        upload_status(&app, "materials-1.csv"),
        Some((UploadStatus::Success, 2, 0))
    );
    // The same rows through the API, for another shop: the very same materials.
    let upload = json!({"shopId": "SHOP-API", "materials": [api_material("1"), api_material("2")]});
    let (code, _, _) = platform_call(&app, "tradeMaterialsUpload", &upload).await;
    assert_eq!(code, "SUCCESS");
    let (sftp, api) = (stored(&app, "SHOP-SFTP"), stored(&app, "SHOP-API"));
    assert_eq!(sftp.len(), 2);
    let materials = |v: &[(TradeMaterial, MaterialSource, String)]| {
        v.iter().map(|(m, _, _)| m.clone()).collect::<Vec<_>>()
    };
    assert_eq!(materials(&sftp), materials(&api));
    assert!(sftp
        .iter()
        .all(|(_, source, origin)| *source == MaterialSource::Sftp && origin == "materials-1.csv"));
    // The upload is journaled on the platform surface.
    let journal = app
        .get_json("/__sim/requests?surface=platform&operation=tradeMaterialsUpload")
        .await;
    let sftp_entry = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["request"]["fileName"] == "materials-1.csv")
        .cloned()
        .expect("journaled");
    assert_eq!(sftp_entry["code"], "SUCCESS");
    app.shutdown().await;
}

/// Regression: SETSTAT answered OK on any path and did nothing. OpenSSH `put -p` (times and
/// permissions after the upload) and `chmod` in `/upload` are accepted; `/result` is read-only.
#[tokio::test]
async fn setstat_is_accepted_in_upload_and_refused_in_result() {
    let app = spawn("").await;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("good.csv");
    std::fs::write(&local, format!("{HEADER}{}", csv_row("SHOP-P", "1"))).unwrap();
    let (ok, out) = sftp_batch(
        &app,
        dir.path(),
        &format!(
            "put -p {} /upload/materials-p.csv
chmod 600 /upload/materials-p.csv
-chmod 600 /result/materials-p_result.csv
",
            local.display()
        ),
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("Permission denied"), "{out}");
    assert_eq!(
        upload_status(&app, "materials-p.csv"),
        Some((UploadStatus::Success, 1, 0))
    );
    assert_eq!(stored(&app, "SHOP-P").len(), 1, "stored once");
    app.shutdown().await;
}

#[tokio::test]
async fn bad_rows_are_named_in_the_result_report_and_not_stored() {
    let app = spawn("").await;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("bad.csv");
    std::fs::write(
        &local,
        format!(
            "{HEADER}{}{}{}{}",
            csv_row("S1", "1"),
            csv_row("S1", "2").replace("2024-12-30 10:15:00", "2024/12/30 10:15"),
            csv_row("S1", "3").replace("39.68", "39.685"),
            csv_row("S1", "1"),
        ),
    )
    .unwrap();
    let got = dir.path().join("got.csv");
    let (ok, out) = sftp_batch(
        &app,
        dir.path(),
        &format!(
            "put {} /upload/bad.csv.part\nrename /upload/bad.csv.part /upload/bad.csv\nget /result/bad_result.csv {}\n",
            local.display(),
            got.display()
        ),
    )
    .await;
    assert!(ok, "{out}");
    let report = std::fs::read(&got).unwrap();
    let lines: Vec<Vec<String>> = csv::Reader::from_reader(report.as_slice())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0], ["2", "S1", "1", "ACCEPTED", ""]);
    // The API's own messages, each row named by its line and its position.
    let error = |i: usize| lines[i][4].clone();
    assert_eq!(lines[1][..4], ["3", "S1", "2", "REFUSED"]);
    assert!(
        error(1).starts_with("materials[1].tradeTime: must be a time as yyyy-MM-dd HH:mm:ss"),
        "{lines:?}"
    );
    assert!(
        error(2).starts_with("materials[2].tradeAmount \"39.685\" has 3 decimal places"),
        "{lines:?}"
    );
    assert_eq!(
        error(3),
        "materials[3].tradeOrderId: \"1\" appears again (first at materials[0])"
    );
    // Only the good row is stored; the bad ones left the state as it was.
    let kept = stored(&app, "S1");
    let ids: Vec<&str> = kept
        .iter()
        .map(|(m, _, _)| m.trade_order_id.as_str())
        .collect();
    assert_eq!(ids, ["1"]);
    assert_eq!(kept[0].0.trade_order_no, "OR1");
    assert_eq!(
        upload_status(&app, "bad.csv"),
        Some((UploadStatus::PartiallyFailed, 1, 3))
    );
    // The same rows through the API are refused as one upload, with the same messages.
    let mut bad_time = api_material("2");
    bad_time["tradeTime"] = json!("2024/12/30 10:15");
    let upload = json!({"shopId": "S2", "materials": [api_material("1"), bad_time]});
    let (code, detail, _) = platform_call(&app, "tradeMaterialsUpload", &upload).await;
    assert_eq!(code, "PARAMETER_ERROR");
    assert_eq!(detail, error(1));
    app.shutdown().await;
}

#[tokio::test]
async fn an_oversize_file_is_refused_by_the_sftp_limits() {
    let app = spawn("sftp_max_file_bytes = 2048\n").await;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("big.csv");
    let rows: String = (0..40).map(|i| csv_row("S1", &i.to_string())).collect();
    std::fs::write(&local, format!("{HEADER}{rows}")).unwrap();
    assert!(std::fs::metadata(&local).unwrap().len() > 2048);
    let (ok, out) = sftp_batch(
        &app,
        dir.path(),
        &format!("put {} /upload/big.csv\n", local.display()),
    )
    .await;
    assert!(!ok, "{out}");
    assert!(
        stored(&app, "S1").is_empty(),
        "nothing of a cut file is stored"
    );
    let status = upload_status(&app, "big.csv").map(|(s, _, _)| s);
    assert_eq!(status, Some(UploadStatus::Incomplete));
    app.shutdown().await;
}

/// Whether the demo partner logs in with `password` (an SSH client in the test process: OpenSSH
/// would prompt for it).
async fn password_login(app: &TestApp, password: &str) -> bool {
    ssh_password(app, (PARTNER, password)).await.0
}

#[tokio::test]
async fn a_partner_logs_in_with_its_configured_password_only() {
    let app = spawn(&format!(
        "[platform.sftp_passwords]\n\"{PARTNER}\" = \"s3cret\"\n"
    ))
    .await;
    let login = |password: &'static str| password_login(&app, password);
    assert!(login("s3cret").await);
    // The configured password replaces the demo default.
    assert!(!login("demo-password").await);
    app.shutdown().await;
}

/// Regression: `[platform.sftp_passwords]` mapping a partner to `""` let anyone log in with an
/// empty password; an empty password is no password.
#[tokio::test]
async fn an_empty_configured_password_lets_nobody_in() {
    let app = spawn(&format!(
        "[platform.sftp_passwords]\n\"{PARTNER}\" = \"\"\n"
    ))
    .await;
    assert!(!password_login(&app, "").await);
    assert!(!password_login(&app, "demo-password").await);
    app.shutdown().await;
}
