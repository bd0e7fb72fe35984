//! The HTTP edge's limits (`[server]`): a body over a path's limit is refused from its
//! `Content-Length` before anything is read; idle and half-sent connections are closed after the
//! header-read timeout; connections beyond the cap get a 503 while the simulator keeps serving.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_with, Setup};

fn addr(url: &str) -> String {
    url.trim_start_matches("http://").to_owned()
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
    let app = spawn_with(Setup::default()).await;
    let mut stream = TcpStream::connect(addr(&app.url)).await.unwrap();
    // 50 MB announced, not a byte of it sent: the answer must not wait for the body.
    let head = "POST /api HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 50000000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("the refusal must come before the body")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
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
    let app = spawn_with(Setup {
        config: Some(config.into()),
        ..Setup::default()
    })
    .await;
    // Never sends a byte.
    let mut silent = TcpStream::connect(addr(&app.url)).await.unwrap();
    // Sends half a request line and stalls (slowloris).
    let mut slow = TcpStream::connect(addr(&app.url)).await.unwrap();
    slow.write_all(b"GET /__sim/health HT").await.unwrap();
    // One full request, then idles on keep-alive.
    let mut idle = TcpStream::connect(addr(&app.url)).await.unwrap();
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
    let app = spawn_with(Setup {
        config: Some(config.into()),
        ..Setup::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(addr(&app.url)).await.unwrap());
    }
    // Give the server the moment it needs to accept the four.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = TcpStream::connect(addr(&app.url)).await.unwrap();
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
    let app = spawn_with(Setup::default()).await;
    // Make some state, so that a reset would be visible.
    app.connectivity().await;
    let before = app.get_json("/__sim/requests").await["requests"]
        .as_array()
        .unwrap()
        .len();
    let mut stream = TcpStream::connect(addr(&app.url)).await.unwrap();
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
    let app = spawn_with(Setup {
        config: Some(config.into()),
        ..Setup::default()
    })
    .await;
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
    let app = spawn_with(Setup {
        config: Some(config.into()),
        ..Setup::default()
    })
    .await;
    // Headers and the first chunk of a body, then nothing: not a slow header, so only the body
    // timeout can end it.
    let mut stalled = TcpStream::connect(addr(&app.url)).await.unwrap();
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
    // Four stalled bodies that could each claim about 1 MiB (a declared length, or chunked to a
    // path whose limit is 1 MiB) against a budget of 4 MiB, and a body timeout long enough not
    // to help: the others must still be served.
    let config = "[server]\nmax_body_bytes_in_flight = 4194304\nbody_read_timeout_ms = 60000\n";
    let app = spawn_with(Setup {
        config: Some(config.into()),
        ..Setup::default()
    })
    .await;
    let mut stalled = Vec::new();
    for i in 0..4 {
        let length = if i % 2 == 0 {
            "content-length: 1000000"
        } else {
            "transfer-encoding: chunked"
        };
        let mut s = TcpStream::connect(addr(&app.url)).await.unwrap();
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
