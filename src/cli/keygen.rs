//! `whalet-sim keygen --out DIR`: an RSA pair (2048 bits unless `--bits`) as PEM (PKCS#8 / SPKI)
//! and as bare Base64 DER (the form Java exports), and the public key's fingerprint.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::wire::keys::{PrivateKey, MAX_BITS, MIN_BITS};

#[derive(clap::Args)]
#[command(after_help = super::exit::EXIT_CODES)]
pub struct KeygenArgs {
    /// Directory to write private.pem, public.pem, private.b64 and public.b64 into.
    #[arg(long)]
    out: PathBuf,
    /// Key size in bits (1024 to 8192, the sizes every key setting and flag reads).
    #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u16).range(MIN_BITS as i64..=MAX_BITS as i64))]
    bits: u16,
    /// Replace key files already in the directory (else keygen refuses, naming the first one).
    #[arg(long)]
    force: bool,
}

/// The files keygen writes, and whether each holds the private key (written owner-only).
const FILES: [(&str, bool); 4] = [
    ("private.pem", true),
    ("public.pem", false),
    ("private.b64", true),
    ("public.b64", false),
];

pub fn run(args: KeygenArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out).map_err(|e| out_error(&args.out, &e))?;
    if !args.force {
        // Checked before generating: a refused run leaves the existing pair whole. Any entry
        // counts, a symbolic link too (even one that points nowhere).
        if let Some(existing) = FILES
            .iter()
            .map(|(name, _)| args.out.join(name))
            .find(|p| p.symlink_metadata().is_ok())
        {
            anyhow::bail!(
                "{} already exists: keygen does not replace a key pair (use --force to)",
                existing.display()
            );
        }
    }
    let key = PrivateKey::generate(usize::from(args.bits))?;
    let contents = [
        key.to_pkcs8_pem(),
        key.public().to_pem(),
        key.to_base64_der() + "\n",
        key.public().to_base64_der() + "\n",
    ];
    for ((name, private), content) in FILES.iter().zip(contents) {
        let path = args.out.join(name);
        write_key(&path, content.as_bytes(), *private)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        super::out(format_args!("wrote {}", path.display()));
    }
    super::out(format_args!(
        "public key fingerprint: {}",
        key.public().fingerprint()
    ));
    Ok(ExitCode::SUCCESS)
}

/// Why `--out` (`out`) could not be made a directory (`e`): an entry already there that is no
/// directory (a file: the pair goes into a directory, `--out DIR`) is named as what it is,
/// rather than as the system's "File exists".
fn out_error(out: &Path, e: &std::io::Error) -> anyhow::Error {
    let shown = out.display();
    match std::fs::metadata(out) {
        Ok(meta) if meta.is_file() => anyhow::anyhow!(
            "--out {shown} is a file, not a directory: keygen writes private.pem, public.pem, \
             private.b64 and public.b64 into the directory --out names (created if missing); \
             give a directory"
        ),
        Ok(meta) if !meta.is_dir() => anyhow::anyhow!(
            "--out {shown} is not a directory: keygen writes its four files into the directory \
             --out names (created if missing); give a directory"
        ),
        _ => anyhow::anyhow!("cannot create directory {shown}: {e}"),
    }
}

/// Writes one key file; a private key is readable by its owner only (mode 0600 on Unix, set at
/// creation, so it is never world-readable, even for a moment). The content goes to a new file
/// in the same directory, renamed over `path` once written: an entry already at `path` is
/// replaced, never written through (a symbolic link planted there does not send the key to its
/// target), and a failed run leaves the old file whole.
fn write_key(path: &Path, content: &[u8], private: bool) -> std::io::Result<()> {
    let temp = temp_path(path);
    let written = write_new(&temp, content, private).and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// `path`'s temporary sibling: `.private.pem.<pid>.tmp`.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Creates `path` (which must not exist: a leftover of a killed run is removed first, and
/// nothing at `path` is followed) and writes `content` to it.
#[cfg_attr(not(unix), allow(unused_variables))]
fn write_new(path: &Path, content: &[u8], private: bool) -> std::io::Result<()> {
    if path.symlink_metadata().is_ok() {
        std::fs::remove_file(path)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(content)?;
    file.sync_all()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// `--force` replaces a symbolic link planted at a key file's name instead of writing the
    /// key through it to the link's target (which keeps its content and its mode).
    #[test]
    fn a_forced_write_replaces_a_symlink_and_leaves_its_target_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("keygen-link-{}", std::process::id()));
        let out = dir.join("k");
        std::fs::create_dir_all(&out).unwrap();
        let target = dir.join("target.txt");
        std::fs::write(&target, "keep me").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = out.join("private.pem");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link).unwrap();

        write_key(&link, b"SECRET", true).unwrap();

        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        let target_mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(target_mode & 0o777, 0o644);
        let meta = std::fs::symlink_metadata(&link).unwrap();
        assert!(meta.file_type().is_file(), "the link is replaced by a file");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&link).unwrap(), b"SECRET");
        let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
