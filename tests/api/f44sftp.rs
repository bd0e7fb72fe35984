//! SFTP regressions (stop 44): a snapshot taken while a file was open for writing, a reader of
//! a report the upload's processing replaces, and the channels and handles one client may hold.

use russh_sftp::client::SftpSession;
use russh_sftp::protocol::{OpenFlags, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use whalet_sim::store::infinia::{Upload, UploadStatus};
use whalet_sim::store::{Provider, TenantId};

use crate::helpers::TestApp;
use crate::infinia::support::{sftp_session as sftp, spawn_infinia, ssh_login as login};

const HEADER: &str =
    "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount\n";

/// A trade-details file of one sale dated `time`.
fn one_sale(time: &str) -> String {
    format!("{HEADER}R1,SALE,O1,S1,,{time},USD,1.00\n")
}

async fn put(files: &SftpSession, path: &str, data: &[u8]) {
    let mut file = files.create(path).await.unwrap();
    file.write_all(data).await.unwrap();
    file.shutdown().await.unwrap();
}

async fn write(file: &mut russh_sftp::client::fs::File, data: &[u8]) -> std::io::Result<()> {
    file.write_all(data).await?;
    file.flush().await
}

fn demo_tenant() -> TenantId {
    TenantId::new(Provider::Infinia, "demo-app")
}

fn upload(app: &TestApp, name: &str) -> Option<Upload> {
    app.app()
        .store()
        .with_tenant(&demo_tenant(), |t| t.infinia.uploads.get(name).cloned())
        .unwrap()
}

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

/// Uploads `/upload/{again}`, opens it for writing again and lets its processing timer find it
/// open (it stays PROCESSING, its timer spent), and opens `/upload/{fresh}` for writing; then
/// takes a snapshot (`query`) and imports it. The handles are returned open.
async fn import_mid_write(
    app: &TestApp,
    files: &SftpSession,
    (again, fresh): (&str, &str),
    query: &str,
) -> Vec<russh_sftp::client::fs::File> {
    put(
        files,
        &format!("/upload/{again}"),
        one_sale("2025-01-01 10:00:00").as_bytes(),
    )
    .await;
    let mut reopened = files
        .open_with_flags(
            format!("/upload/{again}"),
            OpenFlags::WRITE | OpenFlags::TRUNCATE,
        )
        .await
        .unwrap();
    write(&mut reopened, HEADER.as_bytes()).await.unwrap();
    let mut new = files.create(format!("/upload/{fresh}")).await.unwrap();
    write(&mut new, HEADER.as_bytes()).await.unwrap();
    app.advance(6.0).await;
    assert_eq!(
        upload(app, again).map(|u| u.status),
        Some(UploadStatus::Processing)
    );
    let snapshot = crate::persistence::export(app, query).await;
    let (status, body) = crate::persistence::import(app, query, snapshot).await;
    assert_eq!(status, 200, "{body}");
    vec![reopened, new]
}

/// Regression: a snapshot taken while files were open for writing kept them marked as being
/// written for good once imported (whole or one tenant): no session held them, yet they could
/// not be removed, and the upload whose timer had found its file open stayed PROCESSING. The
/// import ends that upload INCOMPLETE, saying why (in the upload and in the journal), and its
/// files can be removed.
#[tokio::test]
async fn a_snapshot_taken_mid_write_imports_files_removable_and_the_skipped_upload_incomplete() {
    let app = spawn_infinia("").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    for (again, fresh, query) in [
        ("w.csv", "n.csv", ""),
        ("t.csv", "m.csv", "?tenant=infinia:demo-app"),
    ] {
        let _open = import_mid_write(&app, &files, (again, fresh), query).await;
        let ended = upload(&app, again).unwrap();
        assert_eq!(ended.status, UploadStatus::Incomplete, "{query}");
        let reason = ended.reason.unwrap_or_default();
        assert!(
            reason.contains("snapshot was taken while the file was being written"),
            "{query}: {reason}"
        );
        // The journal says so beside the file's other events (an import of all state restores
        // the snapshot's journal first, which does not hold it).
        let journal = app
            .get_json("/__sim/requests?surface=infinia&limit=5")
            .await;
        let entry = journal["requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["request"]["fileName"] == again && e["code"] == "INCOMPLETE")
            .unwrap_or_else(|| panic!("{query}: no INCOMPLETE entry for {again}: {journal}"));
        assert_eq!(entry["operation"], "trade-details/upload", "{entry}");
        assert_eq!(entry["tenant"], "infinia:demo-app", "{entry}");
        assert_eq!(entry["detail"].as_str(), Some(reason.as_str()), "{entry}");
        // A session of the imported state removes them (the old handles find them gone).
        let other = login(&app).await;
        let later = sftp(&other).await;
        for name in [again, fresh] {
            let removed = later.remove_file(format!("/upload/{name}")).await;
            assert!(removed.is_ok(), "{query} {name}: {removed:?}");
        }
        // Nothing is left to process them later.
        app.advance(10.0).await;
        assert_eq!(
            upload(&app, again).map(|u| u.status),
            Some(UploadStatus::Incomplete)
        );
    }
    app.shutdown().await;
}

/// Regression: processing an upload again replaced its error file under the same name, and a
/// handle opened on the old one read on into the new one's bytes (a spliced document). It
/// finds the old report gone, as after a removal; the new report opens afresh.
#[tokio::test]
async fn a_reader_of_an_error_file_finds_it_gone_once_the_upload_is_processed_again() {
    let app = spawn_infinia("").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    put(&files, "/upload/e.csv", one_sale("bad-time").as_bytes()).await;
    app.advance(5.0).await;
    let first = upload(&app, "e.csv").unwrap();
    assert_eq!(first.status, UploadStatus::Failed);
    let report = first.error_file.expect("an error file");
    let mut old = files.open(&report).await.unwrap();
    let mut head = [0u8; 8];
    old.read_exact(&mut head).await.unwrap();
    // Again, with more bad rows: the new report is longer than the old one.
    let rows: String = (1..=20)
        .map(|n| format!("E{n},SALE,O{n},S1,,later-{n},USD,1.00\n"))
        .collect();
    put(
        &files,
        "/upload/e.csv",
        format!("{HEADER}{rows}").as_bytes(),
    )
    .await;
    app.advance(5.0).await;
    let second = upload(&app, "e.csv").unwrap();
    assert_eq!(second.error_file.as_deref(), Some(report.as_str()));
    let mut rest = Vec::new();
    let read = old.read_to_end(&mut rest).await;
    let why = read
        .expect_err("the old handle read the new report")
        .to_string();
    assert!(why.contains("is gone"), "{why}");
    let mut new = Vec::new();
    files
        .open(&report)
        .await
        .unwrap()
        .read_to_end(&mut new)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&new).contains("later-20"));
    // Processed again without errors: the report is dropped, and a handle on it finds it gone
    // even once a later upload writes one under the name again.
    let mut held = files.open(&report).await.unwrap();
    put(
        &files,
        "/upload/e.csv",
        one_sale("2025-01-01 10:00:00").as_bytes(),
    )
    .await;
    app.advance(5.0).await;
    assert_eq!(
        upload(&app, "e.csv").map(|u| u.status),
        Some(UploadStatus::Success)
    );
    put(&files, "/upload/e.csv", one_sale("bad-again").as_bytes()).await;
    app.advance(5.0).await;
    let mut late = Vec::new();
    assert!(held.read_to_end(&mut late).await.is_err(), "{late:?}");
    app.shutdown().await;
}

/// Regression: one connection opened any number of SFTP channels and one session any number of
/// handles. Past `sftp_max_handles` an open (file or folder) is refused with a failure naming
/// the setting, and changes nothing; past `sftp_max_channels` a session channel is refused.
/// Either frees up when one is closed.
#[tokio::test]
async fn channels_per_connection_and_handles_per_session_are_bounded() {
    let app = spawn_infinia("sftp_max_channels = 2\nsftp_max_handles = 3\n").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    let _dir = files.read_dir("/upload").await.unwrap(); // opened and closed again
    let mut a = files.create("/upload/h1.csv").await.unwrap();
    let _b = files.create("/upload/h2.csv").await.unwrap();
    let _c = files.create("/upload/h3.csv").await.unwrap();
    let (code, message) = refusal(files.create("/upload/h4.csv").await.map(|_| ()));
    assert_eq!(code, StatusCode::Failure, "{message}");
    assert!(message.contains("sftp_max_handles"), "{message}");
    let (code, message) = refusal(files.read_dir("/upload").await.map(|_| ()));
    assert_eq!(code, StatusCode::Failure, "{message}");
    let (code, _) = refusal(files.metadata("/upload/h4.csv").await);
    assert_eq!(
        code,
        StatusCode::NoSuchFile,
        "the refused open created the file"
    );
    a.shutdown().await.unwrap();
    assert!(files.create("/upload/h4.csv").await.is_ok());

    let second = sftp(&ssh).await;
    let refused = ssh.channel_open_session().await;
    assert!(
        matches!(
            refused,
            Err(russh::Error::ChannelOpenFailure(
                russh::ChannelOpenFailure::AdministrativelyProhibited
            ))
        ),
        "{refused:?}"
    );
    // Another connection has its own channels.
    let other = login(&app).await;
    assert!(sftp(&other).await.metadata("/upload").await.is_ok());
    second.close().await.unwrap();
    // The channel's close reaches the server after the reply: a few tries.
    let mut reopened = false;
    for _ in 0..50 {
        if ssh.channel_open_session().await.is_ok() {
            reopened = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        reopened,
        "a channel closed still counts against sftp_max_channels"
    );
    app.shutdown().await;
}
