//! `whalet-sim keygen --out DIR`: a 2048-bit RSA pair as PEM (PKCS#8 / SPKI) and as bare Base64
//! DER (the form Java exports), and the public key's fingerprint.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::wire::keys::PrivateKey;

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Directory to write private.pem, public.pem, private.b64 and public.b64 into.
    #[arg(long)]
    out: PathBuf,
    /// Key size in bits (1024 to 8192).
    #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u16).range(1024..=8192))]
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
    std::fs::create_dir_all(&args.out)
        .map_err(|e| anyhow::anyhow!("cannot create directory {}: {e}", args.out.display()))?;
    if !args.force {
        // Checked before generating: a refused run leaves the existing pair whole.
        if let Some(existing) = FILES
            .iter()
            .map(|(name, _)| args.out.join(name))
            .find(|p| p.exists())
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

/// Writes one key file; a private key is readable by its owner only (mode 0600 on Unix, set at
/// creation and again on a replaced file, so it is never world-readable, even for a moment).
#[cfg_attr(not(unix), allow(unused_variables))]
fn write_key(path: &Path, content: &[u8], private: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(content)
}
