//! The simulator's operations and notifications, per surface, from the surfaces' own tables,
//! in one place: what a contract overlay may name (`crate::contract`), what `whalet-sim
//! contract dump` prints, what `GET /__sim/operations` lists, and what a surface says when it is
//! sent a name it does not serve: the nearest name it does serve, or the surface that serves
//! this one ("shopAccountBind is a whalet-platform operation: POST /v1/platform/shopAccountBind").

use std::sync::Arc;

use serde::Serialize;

use crate::config::Config;
use crate::contract::Catalog;
use crate::core::Core;

/// One operation as a partner reaches it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    /// `whalet`, `platform`, `file`, `infinia` or `pockyt` (as in the journal).
    pub surface: &'static str,
    /// The surface's own name for it, as on the wire (after configured renames): the Whalet
    /// apiCode, the platform operation, the Infinia path after `/api/v1/`, the Pockyt path.
    pub name: String,
    /// The request: `POST /api` (apiCode in `head.apiCode`), `POST /v1/platform/paymentQuery`, ...
    pub request: String,
}

/// Every operation of every surface as a partner reaches it (wire names, after the configured
/// renames), from [`build`]; Whalet's apiCodes sorted by name.
pub fn operations(core: &Core) -> Vec<Listed> {
    let catalog = build(core.config());
    let mut out: Vec<Listed> = catalog
        .operations
        .into_iter()
        .map(|(surface, _canonical, name)| Listed {
            surface,
            request: match surface {
                "whalet" => format!("POST /api (head.apiCode = {name}), or POST /api/{name}"),
                "platform" => format!("POST /v1/platform/{name}"),
                "infinia" => format!("POST /api/v1/{name}"),
                _ => format!("POST {name}"),
            },
            name,
        })
        .collect();
    let whalet = out.iter().take_while(|op| op.surface == "whalet").count();
    out[..whalet].sort_by(|a, b| a.name.cmp(&b.name));
    let after_platform = out
        .iter()
        .position(|op| op.surface != "whalet" && op.surface != "platform")
        .unwrap_or(out.len());
    out.insert(
        after_platform,
        Listed {
            surface: "file",
            name: "upload".to_owned(),
            request: "POST /file/upload".to_owned(),
        },
    );
    out
}

/// The sentence that follows "`given` is not an operation of this surface": the operation of
/// another surface with that very name, or the nearest name this surface serves, and where the
/// whole list is.
pub fn unknown(core: &Core, surface: &str, given: &str) -> String {
    let all = operations(core);
    if let Some(other) = all.iter().find(|op| {
        op.surface != surface && op.name.trim_start_matches('/') == given.trim_start_matches('/')
    }) {
        return format!(
            "{given} is a {} operation: {}",
            surface_title(other.surface),
            other.request
        );
    }
    let here: Vec<&str> = all
        .iter()
        .filter(|op| op.surface == surface)
        .map(|op| op.name.as_str())
        .collect();
    let mut text = String::new();
    if let Some(near) = crate::text::nearest(given, &here) {
        text.push_str(&format!("did you mean `{near}`? "));
    }
    text.push_str("GET /__sim/operations lists every operation of every surface");
    text
}

/// A surface as people call it.
pub fn surface_title(surface: &str) -> &'static str {
    match surface {
        "whalet" => "Whalet Open API",
        "platform" => "whalet-platform",
        "file" => "Whalet file upload",
        "infinia" => "Infinia Pay",
        "pockyt" => "Pockyt",
        _ => "simulator",
    }
}

/// Every operation (canonical name and wire name after the configured renames) and every
/// notification of every surface.
pub fn build(config: &Config) -> Catalog {
    let mut catalog = Catalog::default();
    let renames = &config.whalet.api_codes;
    let wire = |name: &str| {
        renames
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    };
    for op in super::whalet::all_operations() {
        catalog
            .operations
            .push(("whalet", op.name.to_owned(), wire(op.name)));
    }
    for op in super::platform::OPERATIONS {
        catalog
            .operations
            .push(("platform", op.name.to_owned(), op.name.to_owned()));
    }
    let paths = &config.infinia.paths;
    for op in super::infinia::OPERATIONS {
        let wire_path = paths.get(op.name).map_or(op.name, String::as_str);
        catalog.operations.push((
            "infinia",
            op.name.to_owned(),
            wire_path.trim_matches('/').to_owned(),
        ));
    }
    for op in super::pockyt::OPERATIONS {
        catalog
            .operations
            .push(("pockyt", op.name.to_owned(), op.name.to_owned()));
    }
    let whalet_notifications = super::whalet::NOTIFICATIONS.iter().chain(
        super::whalet::ops::NOTIFICATIONS
            .iter()
            .flat_map(|g| g.iter()),
    );
    // whalet-platform's notifications travel in the Whalet envelope, on the `whalet` channel.
    let whalet_notifications = whalet_notifications.chain(super::platform::NOTIFICATIONS.iter());
    for name in whalet_notifications {
        catalog.notifications.push(("whalet", (*name).to_owned()));
        catalog.whalet_wire.insert(wire(name), (*name).to_owned());
    }
    catalog
        .notifications
        .push(("infinia", super::infinia::sellers::TOPIC.to_owned()));
    catalog.notifications.push(("pockyt", "payout".to_owned()));
    catalog
}

/// Loads the configured overlays (`[contract]`) and installs the notification rewrite on the
/// outbox; the returned handle is what the pipeline reads (`Core::surface::<Contracts>()`).
pub fn install_contracts(
    config: &crate::config::Config,
    outbox: &crate::notify::Outbox,
    tenants: &[crate::tenant::TenantId],
) -> anyhow::Result<Arc<crate::contract::Contracts>> {
    let catalog = build(config);
    let known: Vec<String> = tenants.iter().map(ToString::to_string).collect();
    let contracts = Arc::new(crate::contract::Contracts::load(
        config.contract.file.as_deref(),
        &config.contract.tenants,
        &catalog,
        &known,
    )?);
    if !contracts.is_empty() {
        let handle = contracts.clone();
        outbox.set_rewrite(Arc::new(move |tenant, channel, topic, payload| {
            let name = catalog.notification_name(channel, topic);
            if let Some(overlay) = handle
                .for_tenant(tenant)
                .and_then(|c| c.notification(channel, &name))
            {
                overlay.apply(payload);
            }
        }));
    }
    Ok(contracts)
}
