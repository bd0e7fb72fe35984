//! whalet-platform and SFTP fixes of stop 48: a binding of a partner that is no longer configured
//! is refused on the seller's page and by a scenario's decision as the trigger refuses it; an
//! upload that is not processed (INCOMPLETE, PROCESSING) keeps naming the report an earlier
//! upload of its name left while that report is there; a partner's SFTP materials upload counts
//! in the platform coverage as the API's `tradeMaterialsUpload` does.

use std::time::Duration;

use russh_sftp::client::SftpSession;
use russh_sftp::protocol::OpenFlags;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use whalet_sim::store::infinia::{Upload, UploadStatus};
use whalet_sim::store::{Provider, TenantId};

use crate::helpers::{second_partner_config, spawn_with, Setup, TestApp, SECOND_PARTNER};
use crate::infinia::support::{
    eventually, sftp_session, spawn_infinia, ssh_login, ssh_password, Merchant, SshClient,
};
use crate::persistence::data_dir_config;
use crate::platform::bind_body;

/// Binds `bind_id` as the second partner; the seller's link.
async fn bind_as_second(app: &TestApp, bind_id: &str, shop: &str) -> String {
    let mut client = app.client_as(SECOND_PARTNER);
    client.url = format!("{}/v1/platform/shopAccountBind", app.url);
    let reply = client
        .call("shopAccountBind", &bind_body(bind_id, shop))
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS", "{}", reply.detail);
    let body = reply.body.unwrap();
    body["authorizeUrl"].as_str().unwrap().to_owned()
}

/// The status and reason of the second partner's binding `bind_id`, from the state.
async fn second_binding(app: &TestApp, bind_id: &str) -> (String, String) {
    let tenant = format!("whalet:{SECOND_PARTNER}");
    let state = app.get_json(&format!("/__sim/state?tenant={tenant}")).await;
    let b = &state["tenants"][&tenant]["platform"]["bindings"][bind_id];
    (
        b["status"].as_str().unwrap_or_default().to_owned(),
        b["reason"].as_str().unwrap_or_default().to_owned(),
    )
}

const AUTO_APPROVE: &str = r#"
name = "seller-approves-B2"
[[rule]]
name = "auto approve"
surface = "platform"
operation = "shopAccountBind"
[rule.when]
bindId = "B2"
[rule.then]
result = "success"
delay = "2m"
"#;

/// Regression: after a restart on the same data directory without the partner, the trigger
/// refused to decide its binding but the seller's page approved it (SUCCESS, a notification
/// queued for a partner with no notification URL), and so did a scenario's decision. All three
/// refuse it now, naming the configured partners; the binding stays PROCESSING and nothing is
/// notified. Its link's expiry still rejects it (FAILURE), notifying no one.
#[tokio::test]
async fn a_binding_of_a_partner_no_longer_configured_is_refused_on_the_page_as_by_the_trigger() {
    let dir = tempfile::tempdir().unwrap();
    let with_partner = spawn_with(Setup {
        config: Some(format!(
            "{}{}",
            data_dir_config(dir.path()),
            second_partner_config()
        )),
        ..Setup::default()
    })
    .await;
    let (status, body) = with_partner.load_scenario(AUTO_APPROVE, "").await;
    assert_eq!(status, 200, "{body}");
    let link = bind_as_second(&with_partner, "B1", "S1").await;
    bind_as_second(&with_partner, "B2", "S2").await;
    with_partner.shutdown().await;

    let app = spawn_with(Setup {
        config: Some(data_dir_config(dir.path())),
        ..Setup::default()
    })
    .await;
    let link = format!("{}/authorize/{}", app.url, link.rsplit('/').next().unwrap());
    let (status, body) = app
        .post(
            "/__sim/trigger/platform.binding.approved",
            &json!({"partnerId": SECOND_PARTNER, "bindId": "B1"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("no Whalet partner"), "{body}");
    let (_, _, decided) = app.post_decision(&link, "approve").await;
    let status = decided.status().as_u16();
    let page = decided.text().await.unwrap();
    assert_eq!(status, 409, "{page}");
    assert!(
        page.contains(&format!(
            "no Whalet partner &quot;{SECOND_PARTNER}&quot;; configured: 202400000000001"
        )),
        "{page}"
    );
    assert!(page.contains("[[whalet.partners]]"), "{page}");
    assert_eq!(second_binding(&app, "B1").await.0, "PROCESSING");
    // The scenario's seller decision falls due: refused too.
    app.advance(3.0 * 60.0).await;
    assert_eq!(second_binding(&app, "B2").await.0, "PROCESSING");
    let notifications = app.get_json("/__sim/notifications").await;
    assert_eq!(notifications["notifications"], json!([]), "{notifications}");
    // The links stayed open (the refusals took nothing); unanswered, they expire.
    app.advance(31.0 * 60.0).await;
    for bind_id in ["B1", "B2"] {
        let (status, reason) = second_binding(&app, bind_id).await;
        assert_eq!(status, "FAILURE", "{bind_id}");
        assert_eq!(reason, whalet_sim::authorize::EXPIRED_REASON, "{bind_id}");
    }
    let notifications = app.get_json("/__sim/notifications").await;
    assert_eq!(notifications["notifications"], json!([]), "{notifications}");
    app.shutdown().await;
}

const TRADES: &str =
    "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount\n";

async fn put(files: &SftpSession, path: &str, data: &[u8]) {
    let mut file = files.create(path).await.unwrap();
    file.write_all(data).await.unwrap();
    file.shutdown().await.unwrap();
}

/// Opens `path` for writing again (truncated), writes `data` and ends the connection with the
/// handle still open; waits until the server recorded the upload `name` INCOMPLETE.
async fn rewrite_and_drop(
    ssh: russh::client::Handle<SshClient>,
    files: &SftpSession,
    path: &str,
    data: &[u8],
    status: impl FnMut() -> bool,
) {
    let mut file = files
        .open_with_flags(path, OpenFlags::WRITE | OpenFlags::TRUNCATE)
        .await
        .unwrap();
    file.write_all(data).await.unwrap();
    file.flush().await.unwrap();
    ssh.disconnect(russh::Disconnect::ByApplication, "", "en")
        .await
        .unwrap();
    assert!(
        eventually(status).await,
        "the server never noticed the session ended"
    );
    drop(file);
}

fn infinia_upload(app: &TestApp, name: &str) -> Option<Upload> {
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    app.app()
        .store()
        .with_tenant(&tenant, |t| t.infinia.uploads.get(name).cloned())
        .unwrap()
}

async fn query(app: &TestApp, name: &str) -> Value {
    Merchant::demo()
        .ok(app, "trade-details/query", &json!({"fileName": name}))
        .await
}

/// Whether `path` is listed in its folder over a new SFTP session of `demo-app`.
async fn listed(app: &TestApp, path: &str) -> bool {
    let ssh = ssh_login(app).await;
    let files = sftp_session(&ssh).await;
    files.metadata(path).await.is_ok()
}

/// Regression: an Infinia upload with an error file, written again and left unclosed when the
/// session ended, was INCOMPLETE with `errorFile: ""` while `/error/e_error_file.csv` stayed
/// listed. An upload of the name that is not processed (INCOMPLETE, or PROCESSING) keeps naming
/// the earlier report while it is there; processing the name again drops it (no failed rows),
/// and a report removed over SFTP is no longer named.
#[tokio::test]
async fn an_unprocessed_upload_keeps_naming_the_error_file_an_earlier_upload_left() {
    let app = spawn_infinia("").await;
    let report = "/error/e_error_file.csv";
    let ssh = ssh_login(&app).await;
    let files = sftp_session(&ssh).await;
    let bad = format!(
        "{TRADES}E1,SALE,O1,SELX,,2025-12-30 10:00:00,USD,10.00\n\
         E2,SALE,O2,SELX,,2025-12-30 10:00:00,usd,5.00\n"
    );
    put(&files, "/upload/e.csv", bad.as_bytes()).await;
    app.advance(6.0).await;
    let first = query(&app, "e.csv").await;
    assert_eq!(first["status"], "PARTIALLY_FAILED", "{first}");
    assert_eq!(first["errorFile"], report, "{first}");
    rewrite_and_drop(ssh, &files, "/upload/e.csv", TRADES.as_bytes(), || {
        infinia_upload(&app, "e.csv").map(|u| u.status) == Some(UploadStatus::Incomplete)
    })
    .await;
    let incomplete = query(&app, "e.csv").await;
    assert_eq!(incomplete["status"], "INCOMPLETE", "{incomplete}");
    assert!(listed(&app, report).await);
    assert_eq!(incomplete["errorFile"], report, "{incomplete}");

    // Uploaded whole again: PROCESSING still names it; its processing (no bad row) drops it.
    let ssh = ssh_login(&app).await;
    let files = sftp_session(&ssh).await;
    let good = format!("{TRADES}E3,SALE,O3,SELX,,2025-12-30 10:00:00,USD,1.00\n");
    put(&files, "/upload/e.csv", good.as_bytes()).await;
    let processing = query(&app, "e.csv").await;
    assert_eq!(processing["status"], "PROCESSING", "{processing}");
    assert_eq!(processing["errorFile"], report, "{processing}");
    app.advance(6.0).await;
    let done = query(&app, "e.csv").await;
    assert_eq!(done["status"], "SUCCESS", "{done}");
    assert_eq!(done["errorFile"], "", "{done}");
    assert!(!listed(&app, report).await);

    // A report removed over SFTP is not named by the next unprocessed upload.
    put(&files, "/upload/e.csv", bad.as_bytes()).await;
    app.advance(6.0).await;
    assert_eq!(query(&app, "e.csv").await["errorFile"], report);
    files.remove_file(report).await.unwrap();
    rewrite_and_drop(ssh, &files, "/upload/e.csv", TRADES.as_bytes(), || {
        infinia_upload(&app, "e.csv").map(|u| u.status) == Some(UploadStatus::Incomplete)
    })
    .await;
    assert_eq!(query(&app, "e.csv").await["errorFile"], "");
    app.shutdown().await;
}

const PARTNER: &str = "202400000000001";
const MATERIALS: &str = "shopId,tradeOrderId,tradeOrderNo,tradeType,tradeTime,tradeCurrency,tradeAmount,tradeName,tradeCount,tradeUnit,payerName,payerCountryCode,hsCode\n";

fn material(order: &str) -> String {
    format!("SHOP-1,{order},OR{order},0,2024-12-30 10:15:00,CNY,39.68,Desk lamp,2,piece,buyer-77,RU,7323990000\n")
}

fn partner_tenant() -> TenantId {
    TenantId::new(Provider::Whalet, PARTNER)
}

/// The partner's upload record of `name` and whether its named report is among its files.
fn platform_upload(app: &TestApp, name: &str) -> Option<(Upload, bool)> {
    app.app()
        .store()
        .with_tenant(&partner_tenant(), |t| {
            let upload = t.platform.uploads.get(name)?.clone();
            let there =
                (upload.error_file.as_ref()).is_some_and(|p| t.platform.files.contains_key(p));
            Some((upload, there))
        })
        .unwrap()
}

async fn spawn_platform_sftp() -> TestApp {
    spawn_with(Setup {
        config: Some(format!(
            "[infinia]\nsftp_addr = \"127.0.0.1:0\"\n[platform.sftp_passwords]\n\"{PARTNER}\" = \"s3cret\"\n"
        )),
        ..Setup::default()
    })
    .await
}

async fn partner_login(app: &TestApp) -> russh::client::Handle<SshClient> {
    let (ok, ssh) = ssh_password(app, (PARTNER, "s3cret")).await;
    assert!(ok, "the partner did not log in");
    ssh
}

/// Regression (whalet-platform): the result report of an earlier processing stayed in `/result`
/// beside an INCOMPLETE upload of the name that named none; the INCOMPLETE upload names it.
#[tokio::test]
async fn an_incomplete_materials_upload_keeps_naming_the_earlier_result_report() {
    let app = spawn_platform_sftp().await;
    let ssh = partner_login(&app).await;
    let files = sftp_session(&ssh).await;
    let file = format!("{MATERIALS}{}", material("1"));
    put(&files, "/upload/m.csv", file.as_bytes()).await;
    let (done, there) = platform_upload(&app, "m.csv").unwrap();
    assert_eq!(done.status, UploadStatus::Success);
    assert_eq!(done.error_file.as_deref(), Some("/result/m_result.csv"));
    assert!(there);
    rewrite_and_drop(ssh, &files, "/upload/m.csv", MATERIALS.as_bytes(), || {
        platform_upload(&app, "m.csv").map(|(u, _)| u.status) == Some(UploadStatus::Incomplete)
    })
    .await;
    let (incomplete, there) = platform_upload(&app, "m.csv").unwrap();
    assert_eq!(incomplete.status, UploadStatus::Incomplete);
    assert_eq!(
        incomplete.error_file.as_deref(),
        Some("/result/m_result.csv")
    );
    assert!(there, "the report it names is there");
    app.shutdown().await;
}

/// The hits of coverage item `id` of surface `platform`.
/// (`tenant`: one tenant's hits, else the overall ones).
async fn platform_hits(app: &TestApp, tenant: Option<&str>, id: &str) -> u64 {
    fn find(v: &Value, id: &str) -> Option<u64> {
        match v {
            Value::Object(map) if map.get("id").and_then(Value::as_str) == Some(id) => {
                map.get("hits").and_then(Value::as_u64)
            }
            Value::Object(map) => map.values().find_map(|v| find(v, id)),
            Value::Array(items) => items.iter().find_map(|v| find(v, id)),
            _ => None,
        }
    }
    let tenant = tenant.map(|t| format!("&tenant={t}")).unwrap_or_default();
    let r = reqwest::get(format!(
        "{}/__sim/coverage?surface=platform{tenant}",
        app.url
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let coverage: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    find(&coverage, id).unwrap_or_else(|| panic!("no coverage item {id}"))
}

const FORCED: &str = r#"
name = "materials-refused"
[[rule]]
name = "forced code"
surface = "platform"
operation = "tradeMaterialsUpload"
[rule.when]
fileName = "forced.csv"
[rule.then]
code = "PARAMETER_ERROR"
"#;

/// Regression: a partner's trade materials uploaded over SFTP (journaled as
/// `tradeMaterialsUpload`) were not counted in the platform coverage. A file processed with
/// every row accepted counts as the operation's SUCCESS, a scenario's forced code as that code;
/// a file with failed rows (no API code says PARTIALLY_FAILED) counts nothing.
#[tokio::test]
async fn a_materials_upload_over_sftp_counts_as_the_api_operation_in_coverage() {
    let app = spawn_platform_sftp().await;
    let (status, body) = app.load_scenario(FORCED, "").await;
    assert_eq!(status, 200, "{body}");
    let success = "platform.tradeMaterialsUpload.SUCCESS";
    let refused = "platform.tradeMaterialsUpload.PARAMETER_ERROR";
    assert_eq!(platform_hits(&app, None, success).await, 0);
    let ssh = partner_login(&app).await;
    let files = sftp_session(&ssh).await;
    let good = format!("{MATERIALS}{}", material("1"));
    put(&files, "/upload/good.csv", good.as_bytes()).await;
    let partial = format!("{MATERIALS}{}SHOP-1,2\n", material("3"));
    put(&files, "/upload/partial.csv", partial.as_bytes()).await;
    put(&files, "/upload/forced.csv", good.as_bytes()).await;
    let statuses: Vec<_> = ["good.csv", "partial.csv", "forced.csv"]
        .iter()
        .map(|n| platform_upload(&app, n).map(|(u, _)| u.status))
        .collect();
    assert_eq!(
        statuses,
        [
            Some(UploadStatus::Success),
            Some(UploadStatus::PartiallyFailed),
            Some(UploadStatus::Failed)
        ]
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(platform_hits(&app, None, success).await, 1);
    assert_eq!(platform_hits(&app, None, refused).await, 1);
    let tenant = format!("whalet:{PARTNER}");
    assert_eq!(platform_hits(&app, Some(&tenant), success).await, 1);
    app.shutdown().await;
}
