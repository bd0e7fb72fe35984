//! `whalet-sim contract dump`: the effective contract of every operation and notification (the
//! simulator's names, paths, and what an overlay changes), as TOML or JSON, for a partner to
//! diff against the provider's real document (docs/CONTRACTS.md).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::exit;
use crate::config::Config;
use crate::contract::{Catalog, Contract, Contracts, NotificationOverlay, OperationOverlay};
use crate::tenant::TenantId;
use crate::{App, Options};

#[derive(Args)]
#[command(after_help = exit::EXIT_CODES)]
pub struct ContractArgs {
    #[command(subcommand)]
    command: ContractCommand,
}

#[derive(Subcommand)]
enum ContractCommand {
    /// Print the effective contract of every operation and notification.
    Dump(DumpArgs),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
enum Format {
    #[default]
    Toml,
    Json,
}

#[derive(Args)]
struct DumpArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Toml)]
    format: Format,
    /// TOML configuration (apiCode and path renames, `[contract]`).
    #[arg(long, env = "WHALET_SIM_CONFIG")]
    config: Option<PathBuf>,
    /// Contract overlay file (overrides `[contract] file`).
    #[arg(long, env = "WHALET_SIM_CONTRACT")]
    contract: Option<PathBuf>,
    /// Show the overlay in force for this tenant (`provider:id`) instead of the default one.
    #[arg(long)]
    tenant: Option<String>,
}

/// The dump: one entry per operation and per notification.
#[derive(Serialize)]
struct Dump {
    /// The overlay shown (its file), or none.
    contract: String,
    /// What the simulator can and cannot list.
    note: &'static str,
    operation: Vec<OperationEntry>,
    notification: Vec<NotificationEntry>,
}

#[derive(Serialize)]
struct OperationEntry {
    surface: &'static str,
    /// Canonical name (what an overlay and scenario rules name).
    name: String,
    /// The name on the wire (after `[whalet.api_codes]` / `[infinia.paths]`).
    wire_name: String,
    /// Method and path.
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    overlay: Option<OperationOverlay>,
}

#[derive(Serialize)]
struct NotificationEntry {
    channel: &'static str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    overlay: Option<NotificationOverlay>,
}

const NOTE: &str = "Request fields are not in this dump: `whalet-sim call <operation> --example` \
and GET /__sim/operations list them (read from the handlers' own checks); the dump, like `serve`, \
refuses an overlay naming a request field the operation does not read. Each overlay shows the changes a partner's document makes (request renames partner → \
simulator; reply and notification renames simulator → partner).";

pub fn run(args: ContractArgs) -> anyhow::Result<ExitCode> {
    let ContractCommand::Dump(args) = args.command;
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(file) = args.contract {
        config.contract.file = Some(file);
    }
    let catalog = crate::api::catalog::build(&config);
    let contract = checked_contract(config, args.tenant.as_deref())?;
    let dump = dump(&catalog, contract.as_ref());
    match args.format {
        Format::Toml => super::write_out(format_args!("{}", toml::to_string(&dump)?)),
        Format::Json => super::out(serde_json::to_string_pretty(&dump)?),
    }
    Ok(exit::code(exit::SUCCESS))
}

/// The overlay in force for `tenant` (the default one without), the part its provider's
/// surfaces and channels read, after the checks `serve`
/// makes: the simulator is built as `serve` builds it (apiCode renames, every overlay file
/// and tenant, the request fields each operation reads), without its data directory, so a
/// dump never answers for a configuration `serve` refuses.
fn checked_contract(mut config: Config, tenant: Option<&str>) -> anyhow::Result<Option<Contract>> {
    config.store.data_dir = None;
    let app = App::new(config, Options::default())?;
    let contracts = app.surface::<Contracts>();
    let Some(tenant) = tenant else {
        return Ok(contracts.default.as_deref().cloned());
    };
    let Some(id) = TenantId::parse(tenant) else {
        anyhow::bail!(
            "--tenant {tenant:?} is not a tenant (provider whalet, infinia or pockyt, then :id, e.g. \"whalet:202400000000001\")"
        );
    };
    if !app.store().tenant_ids().contains(&id) {
        anyhow::bail!("--tenant: {}", app.store().no_tenant(tenant));
    }
    // Only what can apply to the tenant: the default overlay too is read by its provider's
    // surfaces alone, as a tenant's own overlay is cut to them at start.
    Ok(contracts
        .for_tenant(&id)
        .map(|contract| contract.for_provider(id.provider).0))
}

fn path_of(surface: &str, wire: &str) -> String {
    match surface {
        "whalet" => format!("POST /api/{wire}"),
        "platform" => format!("POST /v1/platform/{wire}"),
        "infinia" => format!("POST /api/v1/{wire}"),
        _ => format!("POST {wire}"),
    }
}

fn dump(catalog: &Catalog, contract: Option<&Contract>) -> Dump {
    Dump {
        contract: contract.map_or_else(|| "none".to_owned(), |c| c.source.clone()),
        note: NOTE,
        operation: catalog
            .operations
            .iter()
            .map(|(surface, name, wire)| OperationEntry {
                surface,
                name: name.clone(),
                wire_name: wire.clone(),
                path: path_of(surface, wire),
                overlay: contract.and_then(|c| c.operation(surface, name).cloned()),
            })
            .collect(),
        notification: catalog
            .notifications
            .iter()
            .map(|(channel, name)| NotificationEntry {
                channel,
                name: name.clone(),
                overlay: contract.and_then(|c| c.notification(channel, name).cloned()),
            })
            .collect(),
    }
}
