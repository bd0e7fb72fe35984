//! Regressions of the SFTP file exchange (stop 44): an unclosed quote in an uploaded CSV, and
//! upload names `trade-details/query` cannot take. An SSH client in the test process, logged in
//! as `demo-app` with its password (as in infinia/sftp_limits.rs).

use russh::client::Handle;
use russh_sftp::client::SftpSession;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::helpers::TestApp;
use crate::infinia::support::{
    sftp_session, spawn_infinia, ssh_login as login, Merchant, SshClient as Client,
};

async fn files(app: &TestApp) -> (Handle<Client>, SftpSession) {
    let ssh = login(app).await;
    let sftp = sftp_session(&ssh).await;
    (ssh, sftp)
}

async fn put(sftp: &SftpSession, path: &str, data: &[u8]) -> Result<(), String> {
    let mut file = sftp.create(path).await.map_err(|e| e.to_string())?;
    file.write_all(data).await.map_err(|e| e.to_string())?;
    file.shutdown().await.map_err(|e| e.to_string())
}

const HEADER: &str = "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount,quantity,productName\n";

/// Regression: a quoted cell never closed took every later row into it; the upload ended
/// SUCCESS with `totalCount` 1 and the other trades silently lost.
#[tokio::test]
async fn an_unclosed_quote_fails_the_upload_naming_its_row() {
    let app = spawn_infinia("").await;
    let (_ssh, sftp) = files(&app).await;
    let text = format!(
        "{HEADER}Q1,SALE,O1,S1,,2025-01-01 10:00:00,USD,10.00,1,\"Phone case\n\
         Q2,SALE,O2,S1,,2025-01-01 11:00:00,USD,20.00,1,Earbuds\n\
         Q3,SALE,O3,S1,,2025-01-01 12:00:00,USD,30.00,1,Watch\n"
    );
    put(&sftp, "/upload/uq.csv", text.as_bytes()).await.unwrap();
    app.advance(6.0).await;
    let s = Merchant::demo()
        .ok(&app, "trade-details/query", &json!({"fileName": "uq.csv"}))
        .await;
    assert_eq!(s["status"], "FAILED", "{s}");
    assert_eq!(s["totalCount"], "0", "{s}");
    let reason = s["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("row 2: "), "{reason}");
    assert!(reason.contains("\"productName\""), "{reason}");
    assert!(reason.contains("never closed"), "{reason}");
    let report = s["errorFile"].as_str().unwrap_or_default().to_owned();
    let errors = String::from_utf8(sftp.read(&report).await.unwrap()).unwrap();
    assert!(errors.contains("never closed"), "{report}: {errors}");
    app.shutdown().await;
}

/// Regression: SFTP created files named blank or longer than `trade-details/query` takes as a
/// `fileName` (255 characters), so those uploads could never be queried.
#[tokio::test]
async fn names_the_query_refuses_are_refused_in_upload() {
    let app = spawn_infinia("").await;
    let (_ssh, sftp) = files(&app).await;
    let long = format!("{}.csv", "x".repeat(5000));
    // The longest an upload may be: its error file `…_error_file.csv` is then 255 bytes.
    let longest = format!("{}.csv", "y".repeat(240));
    for (name, why) in [("   ", "blank"), (long.as_str(), "characters long")] {
        let refused = put(&sftp, &format!("/upload/{name}"), b"x")
            .await
            .unwrap_err();
        assert!(refused.contains(why), "{refused}");
    }
    put(&sftp, "/upload/n.csv.part", b"x").await.unwrap();
    for (name, why) in [("   ", "blank"), (long.as_str(), "at most 255")] {
        let renamed = sftp
            .rename("/upload/n.csv.part", format!("/upload/{name}"))
            .await
            .unwrap_err()
            .to_string();
        assert!(renamed.contains(why), "{renamed}");
    }
    // The longest name SFTP takes can be queried.
    put(&sftp, &format!("/upload/{longest}"), HEADER.as_bytes())
        .await
        .unwrap();
    let names: Vec<String> = sftp
        .read_dir("/upload")
        .await
        .unwrap()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"n.csv.part".to_owned()), "{names:?}");
    let s = Merchant::demo()
        .ok(&app, "trade-details/query", &json!({"fileName": longest}))
        .await;
    assert_eq!(s["fileName"], longest.as_str(), "{s}");
    app.shutdown().await;
}
