//! The Rust codec against golden vectors produced by an independent implementation
//! (scripts/gen_vectors.py, Python `cryptography`): every intermediate value must agree; the
//! deterministic ones (AES ciphertext, SHA1withRSA signature) byte for byte.

use serde_json::Value;
use whalet_sim::wire::crypto::{self, SignatureHash};
use whalet_sim::wire::keys::{PrivateKey, PublicKey};
use whalet_sim::wire::whalet::{self as envelope, Echo};

use crate::helpers::repo_path;

fn load(path: &str) -> String {
    std::fs::read_to_string(repo_path(path)).unwrap()
}

fn cases() -> Vec<Value> {
    let doc: Value = serde_json::from_str(&load("tests/vectors/whalet.json")).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} missing in {v}"))
}

#[test]
fn there_are_request_and_reply_vectors() {
    let cases = cases();
    assert!(cases.iter().filter(|c| c["kind"] == "request").count() >= 6);
    assert!(cases.iter().filter(|c| c["kind"] == "reply").count() >= 4);
}

#[test]
fn rust_agrees_with_every_python_vector() {
    for case in cases() {
        let name = s(&case, "name");
        let keys = &case["keys"];
        let sender = PrivateKey::parse(&load(s(keys, "sender_private"))).unwrap();
        let receiver = PrivateKey::parse(&load(s(keys, "receiver_private"))).unwrap();
        let sender_public = PublicKey::parse(&load(s(keys, "sender_public"))).unwrap();
        let wire = serde_json::to_vec(&case["envelope"]).unwrap();
        let head = &case["envelope"]["head"];
        let echo = Echo {
            partner_id: s(head, "partnerId").into(),
            api_code: s(head, "apiCode").into(),
            request_no: s(head, "requestNo").into(),
            version: s(head, "version").into(),
        };
        let encrypt = case["encrypt"].as_str().filter(|e| !e.is_empty());
        // The signature is deterministic: Rust must produce the very same bytes.
        if let Some(sign) = case["sign"].as_str().filter(|x| !x.is_empty()) {
            let expected_string = match case["kind"].as_str() {
                Some("request") => envelope::request_sign_string(&echo, encrypt.unwrap()),
                _ => {
                    envelope::reply_sign_string(&echo, s(head, "code"), s(head, "detail"), encrypt)
                }
            };
            assert_eq!(
                expected_string,
                s(&case, "sign_string"),
                "{name}: sign string"
            );
            let ours = hex::encode(crypto::sign(
                &sender,
                SignatureHash::Sha1,
                expected_string.as_bytes(),
            ));
            assert_eq!(ours, sign.to_lowercase(), "{name}: signature bytes");
        }
        // AES/ECB/PKCS5 is deterministic under a fixed session key.
        if let (Some(encrypt), Some(key_hex)) = (encrypt, case["session_key_hex"].as_str()) {
            let key = hex::decode(key_hex).unwrap();
            let ours = hex::encode(
                crypto::aes_ecb_encrypt(&key, s(&case, "plaintext").as_bytes()).unwrap(),
            );
            assert_eq!(ours, encrypt.to_lowercase(), "{name}: AES ciphertext");
            let wrapped =
                crypto::rsa_decrypt(&receiver, &hex::decode(s(&case, "key_enc")).unwrap()).unwrap();
            assert_eq!(
                String::from_utf8(wrapped).unwrap(),
                s(&case, "session_key_b64"),
                "{name}: keyEnc plaintext"
            );
        }
        // The whole envelope opens with the codec.
        let expected_body: Option<Value> = case["plaintext"]
            .as_str()
            .filter(|p| !p.is_empty())
            .map(|p| serde_json::from_str(p).unwrap());
        match case["kind"].as_str() {
            Some("request") => {
                let opened = envelope::parse_request(&wire)
                    .unwrap()
                    .open(&receiver, &sender_public)
                    .unwrap();
                assert_eq!(Some(opened.body), expected_body, "{name}: body");
            }
            _ => {
                let opened = envelope::open_reply(&wire, &receiver, &sender_public).unwrap();
                assert_eq!(
                    opened.body,
                    expected_body.filter(|_| encrypt.is_some()),
                    "{name}: body"
                );
                assert_eq!(opened.code, s(head, "code"), "{name}: code");
            }
        }
    }
}
