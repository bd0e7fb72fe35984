//! File names every later step can carry: SFTP refuses a name in `/upload` that OpenSSH could
//! not list (a control character, NUL included) or that is not UTF-8 (the SFTP library reads it
//! lossily, so two names would meet on one file); `POST /file/upload` refuses a name longer
//! than a file reference's `fileName` takes, so its `info` can always be passed back.

use russh_sftp::client::SftpSession;
use russh_sftp::protocol::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use whalet_sim::api::whalet::common::fields::MAX_TEXT;

use crate::infinia::support::{sftp_session as sftp, spawn_infinia, ssh_login as login};
use crate::whalet2_support::{file_token, now_ms, upload, upload_with};

/// SSH_FXP_* packet types and SSH_FXF_* flags (draft-ietf-secsh-filexfer-02).
const INIT: u8 = 1;
const OPEN: u8 = 3;
const CLOSE: u8 = 4;
const RENAME: u8 = 18;
const STATUS: u8 = 101;
const HANDLE: u8 = 102;
const WRITE_CREATE_TRUNCATE: u32 = 0x02 | 0x08 | 0x10;

/// An SFTP session spoken byte by byte, so a name can hold what a client library would not
/// send (bytes that are not UTF-8).
struct Raw<S> {
    stream: S,
    next_id: u32,
}

/// SFTP `string`: a length and the bytes.
fn string(bytes: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Raw<S> {
    async fn new(stream: S) -> Self {
        let mut raw = Self { stream, next_id: 1 };
        raw.send(INIT, &3u32.to_be_bytes()).await;
        let (kind, _) = raw.receive().await;
        assert_eq!(kind, 2, "INIT is answered VERSION");
        raw
    }

    async fn send(&mut self, kind: u8, body: &[u8]) {
        let mut packet = u32::try_from(body.len() + 1)
            .unwrap()
            .to_be_bytes()
            .to_vec();
        packet.push(kind);
        packet.extend_from_slice(body);
        self.stream.write_all(&packet).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    async fn receive(&mut self) -> (u8, Vec<u8>) {
        let len = self.stream.read_u32().await.unwrap() as usize;
        let mut packet = vec![0; len];
        self.stream.read_exact(&mut packet).await.unwrap();
        (packet[0], packet[1..].to_vec())
    }

    /// Sends a request (`kind`, its id, then `body`); the reply's type and what follows its id.
    async fn request(&mut self, kind: u8, body: &[u8]) -> (u8, Vec<u8>) {
        let id = self.next_id;
        self.next_id += 1;
        let mut packet = id.to_be_bytes().to_vec();
        packet.extend_from_slice(body);
        self.send(kind, &packet).await;
        let (kind, reply) = self.receive().await;
        assert_eq!(
            reply[..4],
            id.to_be_bytes(),
            "the reply answers the request"
        );
        (kind, reply[4..].to_vec())
    }

    /// OPEN `path` for writing (created, truncated), then CLOSE the handle if one came back:
    /// the OPEN's status (code and message), or None for a handle.
    async fn create(&mut self, path: &[u8]) -> Option<(u32, String)> {
        let mut body = string(path);
        body.extend(WRITE_CREATE_TRUNCATE.to_be_bytes());
        body.extend(0u32.to_be_bytes()); // no attributes
        match self.request(OPEN, &body).await {
            (HANDLE, reply) => {
                let handle = &reply[4..];
                let (kind, _) = self.request(CLOSE, &string(handle)).await;
                assert_eq!(kind, STATUS);
                None
            }
            (STATUS, reply) => Some(status(&reply)),
            (kind, _) => panic!("OPEN answered packet type {kind}"),
        }
    }

    /// RENAME `from` to `to`: the status (code and message).
    async fn rename(&mut self, from: &[u8], to: &[u8]) -> (u32, String) {
        let mut body = string(from);
        body.extend(string(to));
        let (kind, reply) = self.request(RENAME, &body).await;
        assert_eq!(kind, STATUS);
        status(&reply)
    }
}

/// A STATUS body after its id: the code and the message.
fn status(body: &[u8]) -> (u32, String) {
    let code = u32::from_be_bytes(body[..4].try_into().unwrap());
    let len = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
    (
        code,
        String::from_utf8_lossy(&body[8..8 + len]).into_owned(),
    )
}

async fn names_in(files: &SftpSession, dir: &str) -> Vec<String> {
    let mut names: Vec<String> = files
        .read_dir(dir)
        .await
        .unwrap()
        .map(|e| e.file_name())
        .collect();
    names.sort();
    names
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

/// Regression: `/upload/n\0.csv` was created and processed into `/error/n\0_error_file.csv`,
/// and OpenSSH `sftp` could no longer list either folder (`parse filenames: invalid format`).
/// A name with a control character is refused, on creation and on rename, as a `\` is.
#[tokio::test]
async fn a_name_with_a_control_character_is_refused_in_upload() {
    let app = spawn_infinia("").await;
    let ssh = login(&app).await;
    let files = sftp(&ssh).await;
    for name in ["/upload/n\0.csv", "/upload/a\nb.csv", "/upload/\u{7f}.csv"] {
        let (code, why) = refusal(files.create(name).await.map(|_| ()));
        assert_eq!(code, StatusCode::Failure, "{name:?}: {why}");
        assert!(why.contains("control character"), "{name:?}: {why}");
    }
    let mut part = files.create("/upload/c1.csv.part").await.unwrap();
    part.write_all(b"x").await.unwrap();
    part.shutdown().await.unwrap();
    let (code, why) = refusal(
        files
            .rename("/upload/c1.csv.part", "/upload/c\x001.csv")
            .await,
    );
    assert_eq!(code, StatusCode::Failure, "{why}");
    assert!(why.contains("control character U+0000"), "{why}");
    assert_eq!(names_in(&files, "/upload").await, ["c1.csv.part"]);
    assert!(names_in(&files, "/error").await.is_empty());
    app.shutdown().await;
}

/// Regression: a name that is not UTF-8 (`\xff\xfe.csv`) was stored as `\u{fffd}\u{fffd}.csv`,
/// so two different names landed on one file and the listed name was not the one written. It
/// is refused on creation and on rename, with the reason.
#[tokio::test]
async fn a_name_that_is_not_utf8_is_refused_in_upload() {
    let app = spawn_infinia("").await;
    let ssh = login(&app).await;
    let channel = ssh.channel_open_session().await.unwrap();
    channel.request_subsystem(true, "sftp").await.unwrap();
    let mut raw = Raw::new(channel.into_stream()).await;
    let failure = StatusCode::Failure as u32;
    for name in [&b"/upload/\xff\xfe.csv"[..], b"/upload/\xfd\xfe.csv"] {
        let (code, why) = raw.create(name).await.expect("refused");
        assert_eq!(code, failure, "{why}");
        assert!(why.contains("is not UTF-8"), "{why}");
    }
    assert_eq!(raw.create(b"/upload/u1.csv.part").await, None);
    let (code, why) = raw
        .rename(b"/upload/u1.csv.part", b"/upload/\xc3.csv")
        .await;
    assert_eq!(code, failure, "{why}");
    assert!(why.contains("is not UTF-8"), "{why}");
    let files = sftp(&ssh).await;
    assert_eq!(names_in(&files, "/upload").await, ["u1.csv.part"]);
    app.shutdown().await;
}

async fn stored_files(app: &crate::helpers::TestApp) -> usize {
    crate::whalet_support::state(app).await["whaletTrade"]["files"]
        .as_object()
        .map_or(0, |m| m.len())
}

/// Regression: a file uploaded with a name longer than a file reference's `fileName` takes was
/// answered SUCCESS, and its `info` was then refused by every operation it was passed back to.
/// The longest name that fits is taken and its `info` passes back; one more character is
/// refused `PARAMETER_ERROR` naming the limit, and nothing is stored.
#[tokio::test]
async fn an_uploaded_file_name_always_fits_a_file_reference() {
    let app = crate::helpers::spawn_app().await;
    let over = "x".repeat(MAX_TEXT - 3) + ".pdf";
    let ts = now_ms(&app).await;
    let reply = upload_with(&app, &over, b"%PDF over", ts, &file_token(ts)).await;
    assert_eq!(reply["code"], "PARAMETER_ERROR", "{reply}");
    // The whole text is in the journal (the wire's detail is cut at 256 characters).
    let journal = app.get_json("/__sim/requests?limit=1").await;
    let detail = journal["requests"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("{} characters long", MAX_TEXT + 1))
            && detail.contains(&format!("at most {MAX_TEXT}")),
        "{detail}"
    );
    assert_eq!(reply["info"], serde_json::Value::Null);
    assert_eq!(stored_files(&app).await, 0);

    let longest = "x".repeat(MAX_TEXT - 4) + ".pdf";
    let file = upload(&app, &longest, b"%PDF longest").await;
    assert_eq!(file["fileName"], longest.as_str());
    let user = crate::whalet_support::trigger(&app, "whalet.account.ready", json!({})).await
        ["userId"]
        .clone();
    let order = json!({"userId": user, "outOrderNo": "o-1", "buyerName": "B",
        "buyerCountry": "US", "goodsName": "G", "currency": "USD", "amount": "10",
        "attaches": [file]});
    crate::whalet_support::expect(&app, "tradeOrderApply", order, "SUCCESS").await;
    app.shutdown().await;
}
