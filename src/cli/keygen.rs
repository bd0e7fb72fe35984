//! `whalet-sim keygen --out DIR`: a 2048-bit RSA pair as PEM (PKCS#8 / SPKI) and as bare Base64
//! DER (the form Java exports), and the public key's fingerprint.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::wire::keys::PrivateKey;

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Directory to write private.pem, public.pem, private.b64 and public.b64 into.
    #[arg(long)]
    out: PathBuf,
    /// Key size in bits.
    #[arg(long, default_value_t = 2048)]
    bits: usize,
}

pub fn run(args: KeygenArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        (1024..=8192).contains(&args.bits),
        "--bits must be between 1024 and 8192"
    );
    std::fs::create_dir_all(&args.out)?;
    let key = PrivateKey::generate(args.bits)?;
    let files = [
        ("private.pem", key.to_pkcs8_pem()),
        ("public.pem", key.public().to_pem()),
        ("private.b64", key.to_base64_der() + "\n"),
        ("public.b64", key.public().to_base64_der() + "\n"),
    ];
    for (name, content) in files {
        let path = args.out.join(name);
        std::fs::write(&path, content)?;
        super::out(format_args!("wrote {}", path.display()));
    }
    super::out(format_args!(
        "public key fingerprint: {}",
        key.public().fingerprint()
    ));
    Ok(ExitCode::SUCCESS)
}
