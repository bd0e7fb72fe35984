//! Criterion benchmark of the Whalet envelope on the server's side: open one request (parse,
//! verify SHA1withRSA, RSA-decrypt keyEnc, AES-decrypt the body) and seal its reply (AES-encrypt,
//! RSA-encrypt keyEnc, sign), also with the server's crypto account on; and the partner's side.
//! Throughput is reported in pairs per second; run it once per backend:
//!
//!     cargo bench --bench envelope
//!     cargo bench --bench envelope --features openssl

// The allocator of the shipped binary (src/main.rs), so memory figures match it.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;
use whalet_sim::wire::keys::{demo, PrivateKey};
use whalet_sim::wire::whalet::{self as envelope, Echo, VERSION};
use whalet_sim::wire::HexCase;

fn envelope_pair(c: &mut Criterion) {
    let platform = PrivateKey::parse(demo::PLATFORM_PRIVATE).expect("demo platform key");
    let partner = PrivateKey::parse(demo::PARTNER_PRIVATE).expect("demo partner key");
    let echo = Echo {
        partner_id: "202400000000001".into(),
        api_code: "connectivity".into(),
        request_no: "R1763770000000000001".into(),
        version: VERSION.into(),
    };
    let body = json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "bench"});
    let reply = json!({"messge": "bench"});
    let request = envelope::seal_request(&echo, &body, &partner, platform.public(), HexCase::Lower)
        .expect("seal");
    let backend = whalet_sim::wire::crypto::backend();

    let serve = || {
        let sealed = envelope::parse_request(&request).expect("parse");
        let opened = sealed.open(&platform, partner.public()).expect("open");
        envelope::seal_reply(
            &opened.echo,
            "SUCCESS",
            envelope::SUCCESS_DETAIL,
            Some(&reply),
            Some((&platform, partner.public())),
            HexCase::Lower,
        )
    };

    let mut group = c.benchmark_group(format!("envelope [{backend}]"));
    group.throughput(Throughput::Elements(1));
    group.bench_function("server: open request + seal reply", |b| b.iter(&serve));
    let answer = envelope::seal_reply(
        &echo,
        "SUCCESS",
        envelope::SUCCESS_DETAIL,
        Some(&reply),
        Some((&platform, partner.public())),
        HexCase::Lower,
    );
    group.bench_function("partner: seal request + open reply", |b| {
        b.iter(|| {
            let bytes =
                envelope::seal_request(&echo, &body, &partner, platform.public(), HexCase::Lower)
                    .expect("seal");
            let opened = envelope::open_reply(&answer, &partner, platform.public()).expect("open");
            (bytes, opened)
        })
    });
    // One cheap primitive, whose time the count's two clock reads would show in.
    let key = [7u8; 16];
    let aes = || whalet_sim::wire::crypto::aes_ecb_encrypt(&key, b"{\"messge\":\"bench\"}");
    group.bench_function("AES-ECB encrypt (one block)", |b| b.iter(aes));
    // Last: the crypto account, once on, stays on for the process (`serve --account-crypto`).
    // The difference from the cases above is what counting costs.
    whalet_sim::wire::crypto::account::enable(whalet_sim::wire::crypto::account::SAMPLE_ONE_IN);
    group.bench_function("server: open request + seal reply, crypto counted", |b| {
        b.iter(&serve)
    });
    group.bench_function("AES-ECB encrypt (one block), crypto counted", |b| {
        b.iter(aes)
    });
    group.finish();
}

criterion_group!(benches, envelope_pair);
criterion_main!(benches);
