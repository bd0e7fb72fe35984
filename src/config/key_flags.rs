//! The key flags of every command (`--key`, `--platform-key`, …): one reader, so that they
//! all take the forms the configuration takes (a file path, `@path`, PEM, bare Base64 DER,
//! [`super::key_text`]) and none echoes key material. Below both the CLI and the bench, which
//! read the same flags.

/// A key type a key flag gives.
pub trait FlagKey: Sized {
    fn from_text(text: &str) -> Result<Self, String>;
}

impl FlagKey for crate::wire::keys::PrivateKey {
    fn from_text(text: &str) -> Result<Self, String> {
        Self::parse(text).map_err(|e| e.to_string())
    }
}

impl FlagKey for crate::wire::keys::PublicKey {
    fn from_text(text: &str) -> Result<Self, String> {
        Self::parse(text).map_err(|e| e.to_string())
    }
}

/// The key given to `--<flag>` (any form of [`key_flag_text`]), else `default`.
pub fn key_flag<K: FlagKey>(flag: &str, value: Option<&str>, default: &str) -> anyhow::Result<K> {
    let text = value.map_or_else(|| Ok(default.to_owned()), |v| key_flag_text(flag, v))?;
    K::from_text(&text).map_err(|e| anyhow::anyhow!("--{flag}: {e}"))
}

/// The text of a key given to a key flag in the forms the config accepts: a file path, `@path`,
/// or the key itself (PEM, or bare Base64 DER as Java exports it). One reader for every key flag
/// of every command, so they all take the same forms; an error names the flag and never echoes
/// key material (at most a short prefix of a value that looks like a path).
pub fn key_flag_text(flag: &str, value: &str) -> anyhow::Result<String> {
    if let Some(path) = value.strip_prefix('@') {
        anyhow::ensure!(
            !super::looks_like_key(path),
            "--{flag}: @ is followed by a key, not a path (give the key without the @)"
        );
        return super::key_text(value).map_err(|e| anyhow::anyhow!("--{flag}: {e}"));
    }
    if std::path::Path::new(value).exists() {
        // As the configuration reads `@path`: a small regular file (a directory, pipe or device
        // is refused saying so).
        return super::key_text(&format!("@{value}")).map_err(|e| anyhow::anyhow!("--{flag}: {e}"));
    }
    if super::looks_like_key(value) {
        return Ok(value.to_owned());
    }
    if let Some(missing) = missing_key_file(value) {
        anyhow::bail!("--{flag}: {missing}");
    }
    anyhow::bail!(
        "--{flag}: {} is neither a readable file nor a key (give a path, @path, a PEM key or \
         bare Base64 DER)",
        shown(value)
    )
}

/// What to say of a key flag's `value` written as a path (it ends in `.pem`, `.der`, `.key`,
/// `.b64` or `.pub`, or has a `/`) of a file that does not exist: the path as resolved against
/// the working directory, rather than "neither a readable file nor a key". None for any other
/// value. A long run of Base64 characters is not taken for a path, so that no error echoes key
/// material.
fn missing_key_file(value: &str) -> Option<String> {
    let keyish = value.starts_with('@')
        || value.contains('\n')
        || value.contains("-----")
        || super::looks_like_key(value);
    if keyish || value.trim().is_empty() {
        return None;
    }
    let lower = value.to_ascii_lowercase();
    let named_as_file = [".pem", ".der", ".key", ".b64", ".pub"]
        .iter()
        .any(|ext| lower.ends_with(ext));
    let base64 = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c));
    let separated = value.contains(std::path::MAIN_SEPARATOR) && (value.len() <= 100 || !base64);
    if !(named_as_file || separated) {
        return None;
    }
    let path = std::path::Path::new(value);
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        _ => return None,
    }
    let resolved = match std::env::current_dir() {
        Ok(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    };
    let given = shown(value);
    Some(format!(
        "{given} is neither a readable file nor a key: the file {} does not exist (a relative \
         path is read from the working directory); give a key file that exists, @path, or the \
         key itself (PEM or bare Base64 DER)",
        crate::text::echo(&resolved.to_string_lossy())
    ))
}

/// A flag value as an error may show it: a short path in quotes, else a bounded prefix that
/// cannot carry a key (a PEM header or whole lines are never shown).
fn shown(value: &str) -> String {
    const MAX: usize = 40;
    if value.contains("-----") || value.contains('\n') {
        return "the value".to_owned();
    }
    match value.char_indices().nth(MAX) {
        None => format!("{value:?}"),
        Some((end, _)) => format!(
            "{:?}… ({} characters)",
            &value[..end],
            value.chars().count()
        ),
    }
}
