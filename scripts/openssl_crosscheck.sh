#!/usr/bin/env bash
# Cross-checks the golden vectors in tests/vectors/ with the OpenSSL command line (a third, independent
# implementation beside Python `cryptography` and the Rust code). For every Whalet case:
#   - `openssl dgst -sha1 -verify` accepts sign over sign_string, and `-sign` reproduces it byte for byte;
#   - `openssl pkeyutl -decrypt` of keyEnc gives Base64(session key);
#   - `openssl enc -d -aes-N-ecb -K` of encrypt gives the plaintext, and `enc -e` reproduces encrypt.
# For every Infinia case: each 256-byte block decrypts (pkeyutl) to its chunk, the chunks join to the
# plaintext, and `openssl dgst -sha256|-sha1 -verify` accepts the signature over request_data.
# For every Pockyt case: `openssl md5` reproduces verify_sign.
# Usage: scripts/openssl_crosscheck.sh [CASE_NAME]   (default: all cases). Exit 1 on any mismatch.
# VECTORS_DIR overrides tests/vectors (used to check that a tampered copy is caught).
# Needs: openssl, python3 (stdlib only, to read JSON and convert hex/Base64).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
only="${1:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
checked=0

# Unpack each case into $work/<file>/<case>/ as binary files and key paths.
python3 - "$work" "$only" "${VECTORS_DIR:-tests/vectors}" <<'EOF'
import base64, json, os, sys
work, only, vdir = sys.argv[1], sys.argv[2], sys.argv[3]
def put(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
found = 0
for fname in ("whalet", "infinia", "pockyt"):
    for c in json.load(open(f"{vdir}/{fname}.json", encoding="utf-8"))["cases"]:
        if only and c["name"] != only:
            continue
        found += 1
        d = os.path.join(work, fname, c["name"]); os.makedirs(d)
        for k, v in c.get("keys", {}).items():
            put(d, k, v)
        if fname == "whalet":
            if c["sign"] is not None:
                put(d, "sign_string", c["sign_string"]); put(d, "sign.bin", bytes.fromhex(c["sign"]))
            if c["plaintext"] is not None:
                put(d, "plaintext", c["plaintext"])
                put(d, "encrypt.bin", bytes.fromhex(c["encrypt"]))
                put(d, "key_enc.bin", bytes.fromhex(c["key_enc"]))
                put(d, "session_key_b64", c["session_key_b64"]); put(d, "session_key_hex", c["session_key_hex"])
                put(d, "aes_bits", str(len(c["session_key_hex"]) * 4))
        elif fname == "infinia":
            put(d, "plaintext", c["plaintext"])
            blob = base64.b64decode(c["request_data"])
            for i in range(0, len(blob), 256):
                put(d, f"block{i // 256:03d}.bin", blob[i:i + 256])
            put(d, "request_data", c["request_data"]); put(d, "signature.bin", base64.b64decode(c["signature"]))
            put(d, "digest", {"SHA256withRSA": "sha256", "SHA1withRSA": "sha1", "MD5withRSA": "md5"}[c["signature_alg"]])
        else:
            put(d, "string_to_sign", c["string_to_sign"]); put(d, "verify_sign", c["verify_sign"])
            put(d, "drop_empty_string", c["drop_empty"]["string_to_sign"])
            put(d, "drop_empty_sign", c["drop_empty"]["verify_sign"])
if not found:
    sys.exit(f"no vector case named {only!r}")
EOF

bad() { echo "MISMATCH $1" >&2; fail=1; }
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }

for d in "$work"/whalet/*/; do
  [ -d "$d" ] || continue
  name=$(basename "$d"); checked=$((checked + 1))
  if [ -f "$d/sign.bin" ]; then
    openssl dgst -sha1 -verify "$(cat "$d/sender_public")" -signature "$d/sign.bin" "$d/sign_string" >/dev/null \
      || bad "whalet/$name: openssl rejects sign"
    openssl dgst -sha1 -sign "$(cat "$d/sender_private")" -out "$d/sign.openssl" "$d/sign_string"
    cmp -s "$d/sign.bin" "$d/sign.openssl" || bad "whalet/$name: openssl's SHA1withRSA signature differs"
  fi
  if [ -f "$d/plaintext" ]; then
    openssl pkeyutl -decrypt -inkey "$(cat "$d/receiver_private")" -in "$d/key_enc.bin" -out "$d/sk_b64"
    cmp -s "$d/sk_b64" "$d/session_key_b64" || bad "whalet/$name: keyEnc does not decrypt to Base64(session key)"
    [ "$(base64 -d "$d/sk_b64" | od -An -v -tx1 | tr -d ' \n')" = "$(cat "$d/session_key_hex")" ] \
      || bad "whalet/$name: Base64 session key != session_key_hex"
    cipher="-aes-$(cat "$d/aes_bits")-ecb"
    openssl enc -d "$cipher" -K "$(cat "$d/session_key_hex")" -in "$d/encrypt.bin" -out "$d/plain.openssl"
    cmp -s "$d/plain.openssl" "$d/plaintext" || bad "whalet/$name: body does not decrypt to plaintext"
    openssl enc -e "$cipher" -K "$(cat "$d/session_key_hex")" -in "$d/plaintext" -out "$d/enc.openssl"
    cmp -s "$d/enc.openssl" "$d/encrypt.bin" || bad "whalet/$name: openssl's AES-ECB ciphertext differs"
  fi
  echo "whalet/$name: checked"
done

for d in "$work"/infinia/*/; do
  [ -d "$d" ] || continue
  name=$(basename "$d"); checked=$((checked + 1))
  : >"$d/joined"
  for b in "$d"/block*.bin; do
    openssl pkeyutl -decrypt -inkey "$(cat "$d/receiver_private")" -in "$b" >>"$d/joined"
  done
  cmp -s "$d/joined" "$d/plaintext" || bad "infinia/$name: blocks do not decrypt to plaintext"
  openssl dgst "-$(cat "$d/digest")" -verify "$(cat "$d/sender_public")" -signature "$d/signature.bin" \
    "$d/request_data" >/dev/null || bad "infinia/$name: openssl rejects signature"
  echo "infinia/$name: checked ($(ls "$d"/block*.bin | wc -l) blocks)"
done

md5hex() { openssl md5 -r | cut -d' ' -f1; }
for d in "$work"/pockyt/*/; do
  [ -d "$d" ] || continue
  name=$(basename "$d"); checked=$((checked + 1))
  [ "$(md5hex <"$d/string_to_sign")" = "$(cat "$d/verify_sign")" ] || bad "pockyt/$name: verify_sign"
  [ "$(md5hex <"$d/drop_empty_string")" = "$(cat "$d/drop_empty_sign")" ] || bad "pockyt/$name: drop_empty"
  echo "pockyt/$name: checked"
done

if [ "$fail" -ne 0 ]; then
  echo "openssl cross-check: FAILED" >&2
  exit 1
fi
echo "openssl cross-check: $checked cases agree with $(openssl version)"
