//! The HTTP edge's refusals seen by clients that do not read before they have sent everything:
//! a body over the limit is answered, with `connection: close`, and what the client still sends
//! is read before the close (so the answer is not lost to a reset); a transfer coding the edge
//! does not know is a 501 naming it; the 503 over `max_connections` names its key.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app, spawn_config, TestApp};

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.url.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Writes `request` whole, then reads the answer until the server closes: what Python's
/// http.client and requests do. Err names what went wrong (a reset, a broken pipe, a timeout).
/// The client's send buffer is small, so that it is still sending when the answer comes (as a
/// slower client would be).
async fn send_all_then_read(app: &TestApp, request: &[u8]) -> Result<String, String> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(16 * 1024).unwrap();
    let addr = app.url.trim_start_matches("http://").parse().unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let exchange = async {
        stream
            .write_all(request)
            .await
            .map_err(|e| format!("writing the request: {e}"))?;
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .await
            .map_err(|e| format!("reading the answer: {e}"))?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| "no answer and close within 10 s".to_owned())?
}

/// The JSON body of a raw HTTP answer (Null when there is none).
fn body_json(answer: &str) -> serde_json::Value {
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
}

#[tokio::test]
async fn a_client_that_sends_its_whole_oversized_body_before_reading_gets_the_refusal() {
    let app = spawn_app().await;
    let body = vec![b'a'; 2_000_000];
    let mut request = format!(
        "POST /api HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    // Several times over: a reset that loses the answer is a race.
    for attempt in 0..5 {
        let answer = send_all_then_read(&app, &request)
            .await
            .unwrap_or_else(|e| panic!("attempt {attempt}: {e}"));
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("connection: close"), "{answer}");
        assert!(answer.contains("PARAM_FORMAT_ERROR"), "{answer}");
        assert!(
            answer.contains("exceeds the limit of 1048576 bytes"),
            "{answer}"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_refusal_before_100_continue_closes_the_connection() {
    let app = spawn_app().await;
    let mut stream = connect(&app).await;
    let head = "POST /api HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                content-length: 2000000\r\nexpect: 100-continue\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("the refusal and the close must come within 5 s, without the body")
        .expect("a clean close");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!answer.contains("100 Continue"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(answer.contains("PARAM_FORMAT_ERROR"), "{answer}");
    app.shutdown().await;
}

#[tokio::test]
async fn an_unknown_transfer_coding_is_501_naming_it() {
    let app = spawn_app().await;
    for (coding, named) in [("gzip, chunked", "\"gzip\""), ("foo, chunked", "\"foo\"")] {
        let request = format!(
            "POST /api HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
             transfer-encoding: {coding}\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n"
        );
        let answer = send_all_then_read(&app, request.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{coding}: {e}"));
        assert!(answer.starts_with("HTTP/1.1 501"), "{coding}: {answer}");
        assert!(answer.contains("connection: close"), "{coding}: {answer}");
        let error = body_json(&answer)["error"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert!(
            error.contains(&format!("transfer coding {named} is not supported")),
            "{coding}: {answer}"
        );
    }
    // Chunked alone is read as before.
    let request = "POST /api HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                   transfer-encoding: chunked\r\nconnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
    let answer = send_all_then_read(&app, request.as_bytes()).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    app.shutdown().await;
}

#[tokio::test]
async fn the_503_over_max_connections_names_its_key() {
    let config = "[server]\nmax_connections = 1\nheader_read_timeout_ms = 2000\n";
    let app = spawn_config(config).await;
    let held = connect(&app).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let answer = send_all_then_read(&app, b"GET /__sim/health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("[server] max_connections"), "{answer}");
    let error = body_json(&answer)["error"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(error.contains("[server] max_connections"), "{answer}");
    drop(held);
    app.shutdown().await;
}
