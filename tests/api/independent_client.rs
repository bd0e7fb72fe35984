//! An independent partner client (scripts/whalet_envelope.py, Python `cryptography`) talks to the
//! server: it seals and signs the request, and verifies and decrypts the server's reply.

use std::process::Command;

use serde_json::Value;

use crate::helpers::{python, repo_path, spawn_app};

fn py_call(url: &str, api_code: &str, data: &str) -> (i32, Value, String) {
    let out = Command::new(python())
        .arg(repo_path("scripts/whalet_envelope.py"))
        .args(["call", "--url", url, "--api-code", api_code, "--data", data])
        .current_dir(repo_path(""))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        value,
        format!("{stdout}\n{stderr}"),
    )
}

#[tokio::test]
async fn python_partner_calls_connectivity_and_verifies_the_reply() {
    let app = spawn_app().await;
    let url = format!("{}/api", app.url);
    let data = r#"{"notifyFlag":"N","responseFlag":"Y","responseMessage":"from python 你好"}"#;
    let (code, reply, output) =
        tokio::task::spawn_blocking(move || py_call(&url, "connectivity", data))
            .await
            .unwrap();
    assert_eq!(code, 0, "{output}");
    assert_eq!(reply["head"]["code"], "SUCCESS", "{output}");
    assert_eq!(reply["body"]["messge"], "from python 你好", "{output}");
    // The server journal shows the request decrypted.
    let journal = app.get_json("/__sim/requests?apiCode=connectivity").await;
    assert_eq!(
        journal["requests"][0]["request"]["responseMessage"],
        "from python 你好"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn python_partner_verifies_signed_parameter_errors() {
    let app = spawn_app().await;
    let url = format!("{}/api", app.url);
    let data = r#"{"notifyFlag":"maybe","responseFlag":"Y"}"#;
    let (code, reply, output) =
        tokio::task::spawn_blocking(move || py_call(&url, "connectivity", data))
            .await
            .unwrap();
    // Exit 3: verified, but not SUCCESS (a signature that failed to verify would be exit 1).
    assert_eq!(code, 3, "{output}");
    assert_eq!(reply["head"]["code"], "PARAMETER_ERROR", "{output}");
    // An authenticated refusal is a signed head-only reply, which the Python side verified.
    assert!(reply["head"]["sign"].is_string(), "{output}");
    assert!(
        reply["head"]["detail"]
            .as_str()
            .unwrap()
            .contains("notifyFlag"),
        "{output}"
    );
    app.shutdown().await;
}
