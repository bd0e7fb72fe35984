//! The HTTP edge's limits (`[server]`): a body over a path's limit is refused from its
//! `Content-Length` before anything is read; idle and half-sent connections are closed after the
//! header-read timeout; connections beyond the cap get a 503 (after their request head, so HTTP
//! clients see it) while the simulator keeps serving; a client that stops reading its answers is
//! cut off after the write-stall timeout; configured body and head limits are honoured as given;
//! a low open-file limit is raised at start, or named in a warning.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app, spawn_config, TestApp};

fn addr(url: &str) -> String {
    url.trim_start_matches("http://").to_owned()
}

/// A raw TCP connection to the simulator's HTTP port.
async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(addr(&app.url)).await.unwrap()
}

/// `n` raw connections held open without a request, then the moment the server needs to
/// accept them all.
async fn hold_connections(app: &TestApp, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 0..n {
        held.push(connect(app).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    held
}

/// Sends `head` on a fresh raw connection and returns the first answer read (up to
/// `buf_len` bytes), which must come within 5 s (so before any body the head announces).
async fn answer_to_head(app: &TestApp, head: &str, buf_len: usize) -> String {
    let mut stream = connect(app).await;
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; buf_len];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("the answer must come within 5 s, before any body")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Reads what the server sends until it closes the connection (bounded by `within`).
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut out)).await {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_without_being_sent() {
    let app = spawn_app().await;
    // 50 MB announced, not a byte of it sent: the answer must not wait for the body.
    let head = "POST /api HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 50000000\r\n\r\n";
    let text = answer_to_head(&app, head, 4096).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("PARAM_FORMAT_ERROR"), "{text}");
    assert!(
        text.contains("exceeds the limit of 1048576 bytes"),
        "{text}"
    );
    let journal = app.get_json("/__sim/requests?limit=1").await;
    assert_eq!(
        journal["requests"][0]["request"],
        "<more than 1048576 bytes, not kept>"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_silent_or_idle_connection_is_closed_after_the_header_read_timeout() {
    let config = "[server]\nheader_read_timeout_ms = 300\n";
    let app = spawn_config(config).await;
    // Never sends a byte.
    let mut silent = connect(&app).await;
    // Sends half a request line and stalls (slowloris).
    let mut slow = connect(&app).await;
    slow.write_all(b"GET /__sim/health HT").await.unwrap();
    // One full request, then idles on keep-alive.
    let mut idle = connect(&app).await;
    idle.write_all(b"GET /__sim/health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    for stream in [&mut silent, &mut slow, &mut idle] {
        let seen = read_to_close(stream, Duration::from_secs(5)).await;
        assert!(seen.is_some(), "the connection was not closed");
    }
    let (status, _) = app.get("/__sim/health").await;
    assert_eq!(status, 200);
    app.shutdown().await;
}

#[tokio::test]
async fn connections_beyond_the_cap_get_a_503_and_the_simulator_keeps_serving() {
    let config = "[server]\nmax_connections = 4\nheader_read_timeout_ms = 2000\n";
    let app = spawn_config(config).await;
    let held = hold_connections(&app, 4).await;
    let mut extra = connect(&app).await;
    let answer = read_to_close(&mut extra, Duration::from_secs(5))
        .await
        .expect("the extra connection must be answered and closed");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("too many open connections"), "{answer}");
    drop(held);
    // Once the held connections are gone, requests are served again.
    let mut ok = false;
    for _ in 0..50 {
        let (status, _) = app.get("/__sim/health").await;
        if status == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "health never answered 200 after the connections closed");
    app.shutdown().await;
}

#[tokio::test]
async fn a_body_that_breaks_off_is_a_400_and_changes_nothing() {
    let app = spawn_app().await;
    // Make some state, so that a reset would be visible.
    app.connectivity().await;
    let before = app.get_json("/__sim/requests").await["requests"]
        .as_array()
        .unwrap()
        .len();
    let mut stream = connect(&app).await;
    let head = "POST /__sim/reset HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"tenant\": \"whal";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    let answer = read_to_close(&mut stream, Duration::from_secs(5))
        .await
        .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("could not be read"), "{answer}");
    let after = app.get_json("/__sim/requests").await["requests"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before, "the journal was reset by a broken body");
    app.shutdown().await;
}

#[tokio::test]
async fn a_control_body_over_its_limit_is_413() {
    let config = "[server]\ncontrol_body_limit_bytes = 64\n";
    let app = spawn_config(config).await;
    let big = format!("{{\"tenant\": \"{}\"}}", "x".repeat(200));
    let (status, body) = app
        .post_raw("/__sim/reset", "application/json", big.into_bytes())
        .await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("control_body_limit_bytes"), "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_body_that_stalls_is_a_408_after_the_body_read_timeout() {
    let config = "[server]\nbody_read_timeout_ms = 300\n";
    let app = spawn_config(config).await;
    // Headers and the first chunk of a body, then nothing: not a slow header, so only the body
    // timeout can end it.
    let mut stalled = connect(&app).await;
    let head = "POST /__sim/reset HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n3\r\n{\"t\r\n";
    stalled.write_all(head.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut stalled, Duration::from_secs(5))
        .await
        .expect("a stalled body must be answered and the connection closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_read_timeout_ms"), "{answer}");
    let (status, _) = app.get("/__sim/health").await;
    assert_eq!(status, 200);
    app.shutdown().await;
}

#[tokio::test]
async fn stalled_bodies_hold_only_what_they_sent_of_the_in_flight_budget() {
    // Four stalled bodies that could each claim a quarter of the budget (a declared length, or
    // chunked to a path whose limit is that quarter) against the smallest budget (11 MiB, the
    // upload's limit), and a body timeout long enough not to help: the others must still be
    // served.
    let config = "[server]\nmax_body_bytes_in_flight = 11534336\n\
                  control_body_limit_bytes = 2883584\nbody_read_timeout_ms = 60000\n";
    let app = spawn_config(config).await;
    let mut stalled = Vec::new();
    for i in 0..4 {
        let length = if i % 2 == 0 {
            "content-length: 2883584"
        } else {
            "transfer-encoding: chunked"
        };
        let mut s = connect(&app).await;
        let head = format!("POST /__sim/scenarios HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n{length}\r\n\r\n");
        s.write_all(head.as_bytes()).await.unwrap();
        stalled.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, body) = app.get("/__sim/health").await;
    assert_eq!(status, 200, "{body}");
    app.connectivity().await;
    drop(stalled);
    app.shutdown().await;
}

/// Regression: a body's room in the in-flight budget was handed back once the body was read,
/// before its handler ran, so bodies waiting at the CPU gate or decrypting were not counted and
/// 450 bodies of 0.96 MB took the server to 1.1 GB. Four whole bodies whose requests are still
/// being handled (long-polls that wait) now fill an 11 MiB budget, and a fifth is refused busy.
#[tokio::test]
async fn bodies_count_against_the_in_flight_budget_until_they_are_answered() {
    let config = "[server]\nmax_body_bytes_in_flight = 11534336\n\
                  control_body_limit_bytes = 2883584\n";
    let app = spawn_config(config).await;
    let body = vec![b' '; 2_883_584];
    let mut waiting = Vec::new();
    for _ in 0..4 {
        let mut s = connect(&app).await;
        let head = format!(
            "GET /__sim/notifications/wait?apiCode=connectivityNotify&businessId=none&timeoutMs=3000 HTTP/1.1\r\nhost: localhost\r\n\
             content-length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(&body).await.unwrap();
        waiting.push(s);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let head =
        "POST /__sim/reset HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
                content-length: 2\r\n\r\n{}";
    let answer = answer_to_head(&app, head, 4096).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("too many request bodies in flight"),
        "{answer}"
    );
    // Answered (408 after their wait), the four give their room back.
    for mut s in waiting {
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("the wait ends")
            .unwrap();
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    let (status, body) = app.post("/__sim/reset", &serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

/// Regression: the 404 of an unknown route echoed the whole method and path (60 KB back for a
/// 60 KB path); each is cut as every echoed client value is.
#[tokio::test]
async fn an_unknown_route_echoes_its_method_and_path_cut() {
    let app = spawn_app().await;
    let long = "A".repeat(60_000);
    for (method, path) in [
        ("POST", format!("/{long}")),
        ("POST", format!("/__sim/{long}")),
        (&*"M".repeat(5_000), "/__sim/nothing".to_owned()),
        (&*"M".repeat(5_000), "/nothing".to_owned()),
    ] {
        let head =
            format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: 0\r\n\r\n");
        let answer = answer_to_head(&app, &head, 8192).await;
        assert!(answer.starts_with("HTTP/1.1 404"), "{:.200}", answer);
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        assert!(body.len() < 1024, "{} bytes: {:.300}", body.len(), body);
        assert!(body.contains("more bytes"), "{body}");
    }
    app.shutdown().await;
}

/// One `GET /__sim/health` on a fresh connection; the status line's code, or None when the
/// connection was not answered within 2 s.
async fn health_status(url: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(addr(url)).await.ok()?;
    let request = "GET /__sim/health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).await.ok()?;
    let answer = read_to_close(&mut stream, Duration::from_secs(2)).await?;
    answer.get(9..12)?.parse().ok()
}

/// A client that pipelines many requests and never reads the answers (its receive buffer
/// small): once the server's writes to it make no progress for the write-stall timeout, its
/// connection is closed, so a few such clients cannot hold every slot.
#[tokio::test]
async fn a_client_that_never_reads_is_cut_off_after_the_write_stall_timeout() {
    let config = "[server]\nmax_connections = 2\nheader_read_timeout_ms = 1000\n\
                  body_read_timeout_ms = 1000\nwrite_stall_timeout_ms = 300\n";
    let app = spawn_config(config).await;
    let request = "GET /__sim/openapi.json HTTP/1.1\r\nhost: localhost\r\n\r\n".repeat(400);
    let mut silent = Vec::new();
    for _ in 0..2 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut stream = socket
            .connect(addr(&app.url).parse().unwrap())
            .await
            .unwrap();
        let request = request.clone();
        // Writes and holds the stream; never reads.
        silent.push(tokio::spawn(async move {
            let _ = stream.write_all(request.as_bytes()).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(stream);
        }));
    }
    // Both slots are taken while the answers pile up.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let mut status = None;
    while started.elapsed() < Duration::from_secs(5) {
        status = health_status(&app.url).await;
        if status == Some(200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status,
        Some(200),
        "clients that never read still hold every connection slot"
    );
    for task in silent {
        task.abort();
    }
    app.shutdown().await;
}

/// The 503 for a connection over the cap comes after the request head is read, so an HTTP
/// client (hyper, as in `whalet-sim call`) sees it instead of a connection closed under it.
#[tokio::test]
async fn an_http_client_over_the_cap_sees_the_503() {
    let config = "[server]\nmax_connections = 2\nheader_read_timeout_ms = 5000\n";
    let app = spawn_config(config).await;
    let held = hold_connections(&app, 2).await;
    let client = whalet_sim::http::client::HttpClient::new();
    let answer = client
        .get(&format!("{}/__sim/health", app.url), Duration::from_secs(5))
        .await
        .expect("the client must get an answer, not a broken connection");
    assert_eq!(answer.status, 503);
    let body = String::from_utf8_lossy(&answer.body);
    assert!(body.contains("too many open connections"), "{body}");
    drop(held);
    app.shutdown().await;
}

/// A body limit above the upload's 11 MiB is honoured as configured, and a body over it is
/// refused naming the configured limit.
#[tokio::test]
async fn a_configured_body_limit_above_eleven_mib_is_honoured() {
    let config = "[server]\ncontrol_body_limit_bytes = 20971520\n\
                  [whalet]\nbody_limit_bytes = 20971520\n";
    let app = spawn_config(config).await;
    // 12 MiB: under the limit, so it reaches the surface, which finds it is no request.
    let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(12 * 1024 * 1024));
    let (status, reply) = app
        .post_raw("/api", "application/json", body.into_bytes())
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(!reply.contains("exceeds the limit"), "{reply}");
    // 21 MiB declared: over it, refused naming the configured limit.
    let head = "POST /api HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 22020096\r\n\r\n";
    let text = answer_to_head(&app, head, 4096).await;
    assert!(
        text.contains("exceeds the limit of 20971520 bytes"),
        "{text}"
    );
    app.shutdown().await;
}

/// `[server] max_header_fields` and `max_header_bytes` bound a request's head: more is 431.
#[tokio::test]
async fn lowered_header_limits_take_effect() {
    let config = "[server]\nmax_header_fields = 5\nmax_header_bytes = 2048\n";
    let app = spawn_config(config).await;
    let cases = [(3, 10, "200"), (8, 10, "431"), (2, 3000, "431")];
    for (fields, value_bytes, expected) in cases {
        let mut head = "GET /__sim/health HTTP/1.1\r\nhost: localhost\r\n".to_owned();
        for i in 1..fields {
            head.push_str(&format!("x-f{i}: {}\r\n", "v".repeat(value_bytes)));
        }
        head.push_str("\r\n");
        let text = answer_to_head(&app, &head, 1024).await;
        assert!(
            text.starts_with(&format!("HTTP/1.1 {expected}")),
            "{fields} fields of {value_bytes} bytes: {text}"
        );
    }
    app.shutdown().await;
}

/// Started with a soft open-file limit below what `max_connections` needs, `serve` raises it
/// (within the hard limit); with a hard limit below it too, it warns naming both numbers.
#[cfg(target_os = "linux")]
#[test]
fn serve_raises_a_low_open_file_limit_or_warns() {
    use std::io::BufRead;
    let hard = hard_open_file_limit();
    if hard < 2304 {
        eprintln!("skipped: the hard open-file limit {hard} is below what the test needs");
        return;
    }
    for (ulimits, warns) in [("ulimit -S -n 200", false), ("ulimit -n 300", true)] {
        let script = format!("{ulimits} && exec \"$0\" serve --addr 127.0.0.1:0 --manual-clock");
        let mut child = std::process::Command::new("sh")
            .args(["-c", &script, env!("CARGO_BIN_EXE_whalet-sim")])
            .env("WHALET_SIM_SFTP_ADDR", "off")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut lines = Vec::new();
        for line in stderr.lines() {
            let line = line.unwrap();
            let ready = line.contains("ready on");
            lines.push(line);
            if ready {
                break;
            }
        }
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        let soft: u64 = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|v| v.parse().ok())
            .unwrap();
        let log = lines.join("\n");
        if warns {
            assert_eq!(soft, 300, "{log}");
            assert!(
                log.contains("open-file limit (300") && log.contains("2304"),
                "{log}"
            );
        } else {
            assert_eq!(soft, 2304, "the soft limit was not raised: {log}");
            assert!(!log.contains("open-file limit ("), "{log}");
        }
    }
}

/// This process's hard open-file limit, as `/proc/self/limits` gives it.
#[cfg(target_os = "linux")]
fn hard_open_file_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX)
}

/// Trailers of a chunked body over `[server] max_header_bytes` arrive after the head was
/// accepted: they are a body that could not be read (400), as docs/RELIABILITY.md says.
#[tokio::test]
async fn trailers_over_the_head_limit_are_a_400() {
    let config = "[server]\nmax_header_bytes = 2048\n";
    let app = spawn_config(config).await;
    let mut stream = connect(&app).await;
    let request = format!(
        "POST /__sim/reset HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         transfer-encoding: chunked\r\n\r\n2\r\n{{}}\r\n0\r\nx-pad: {}\r\n\r\n",
        "v".repeat(4096)
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut stream, Duration::from_secs(5))
        .await
        .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("the request body could not be read: error reading a body"),
        "{answer}"
    );
    app.shutdown().await;
}
