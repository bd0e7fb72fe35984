//! The simulator's operations and notifications, per surface, from the surfaces' own tables:
//! what a contract overlay may name (`crate::contract`) and what `whalet-sim contract dump`
//! prints.

use std::sync::Arc;

use crate::config::Config;
use crate::contract::Catalog;

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
