//! Regressions found by the round-28 exploratory testers and fixed outside a helper's module.

use crate::helpers::spawn_config;

/// Regression: a JSON body that starts with a UTF-8 byte order mark (as Windows and .NET
/// writers add) was refused on every surface as "expected value at line 1 column 1", which
/// names nothing the partner can see. Each surface and the control plane now name the mark.
#[tokio::test]
async fn a_body_with_a_byte_order_mark_is_told_so_on_every_surface() {
    let app = spawn_config("[platform]\nauth = \"none\"\n").await;
    let bom = |json: &str| [b"\xEF\xBB\xBF".as_slice(), json.as_bytes()].concat();
    for path in [
        "/api",
        "/v1/platform/balanceQuery",
        "/v3/payouts/balance",
        "/api/v1/account-balance/query",
        "/__sim/clock/advance",
    ] {
        let (status, body) = app
            .post_raw(path, "application/json", bom("{\"ms\": 1}"))
            .await;
        assert!(
            body.contains("byte order mark"),
            "{path}: HTTP {status}: {body}"
        );
        // The same JSON without the mark is not refused for being JSON at all.
        let (_, plain) = app
            .post_raw(path, "application/json", b"{\"ms\": 1}".to_vec())
            .await;
        assert!(
            !plain.contains("byte order mark") && !plain.contains("is not JSON"),
            "{path}: {plain}"
        );
    }
    app.finish().await;
}

/// Regression: the tenants view cut an entity table at its first six fields, so a Pockyt
/// account (customerNo, accountTag, accountType, country, currency, bankAccountId, …) and a
/// payout (invoiceId, customerNo, accountToken, vendor, amount, fee, …) were shown without
/// their status: a failed payout or a deleted account looked like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenants_view_shows_the_status_of_pockyt_accounts_and_payouts() {
    use crate::pockyt_support::{active_payee, bank_account, ok};
    let app = crate::helpers::spawn_app().await;
    let customer = active_payee(&app, "r28-tenants@example.com").await;
    let token = bank_account(&app, &customer, "http://127.0.0.1:9/ipn").await;
    app.advance(600.0).await;
    let pay = serde_json::json!({"customerNo": customer, "accountToken": token, "amount": "5",
        "currency": "USD", "invoiceId": "r28-inv"});
    ok(&app, "/v3/payouts/pay", pay).await;
    let Some(browser) = crate::browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    crate::dashboard::support::open(&browser, &app, "/__sim/ui/tenants").await;
    crate::dashboard::support::wait_text(c, "section.card", "pockyt:").await;
    let headers = c
        .execute(
            "return Array.from(document.querySelectorAll('.table-wrap')).map(t => \
             [t.getAttribute('aria-label'), Array.from(t.querySelectorAll('thead th')).map(h => h.textContent)]);",
            vec![],
        )
        .await
        .unwrap();
    for wanted in ["accounts", "payouts"] {
        let table = headers
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t[0].as_str().is_some_and(|l| l.ends_with(wanted)))
            .unwrap_or_else(|| panic!("no {wanted} table: {headers}"));
        assert!(
            table[1].as_array().unwrap().iter().any(|h| h == "Status"),
            "{wanted}: {table}"
        );
    }
    crate::dashboard::support::assert_no_script_errors(c, "tenants").await;
    browser.close().await;
    app.shutdown().await;
}

/// Regression: `listen --max-body-bytes 0` started a receiver that answered every notification
/// 413, so every delivery failed for a reason the partner never chose. It is a usage error.
#[tokio::test]
async fn listen_refuses_a_body_limit_of_zero() {
    let mut child = crate::helpers::bin()
        .args(["listen", "--addr", "127.0.0.1:0", "--max-body-bytes", "0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A receiver that started would serve until killed: give it 10 s to refuse instead.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("listen --max-body-bytes 0 started a receiver");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--max-body-bytes"), "{stderr}");
}
