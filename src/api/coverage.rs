//! What the coverage model is generated from (`crate::coverage`): every surface's operation
//! table, result codes, notifications and the trigger registry, read here so that a new operation,
//! code, notification or trigger appears in the model without being listed anywhere else. Also
//! the hooks the surfaces call where a state changes on the clock.

use std::sync::Arc;

use super::pipeline::Operation;
use super::whalet::Dispatch;
use super::{infinia, platform, pockyt, whalet};
use crate::core::{Core, Trigger};
use crate::coverage::{Coverage, Model, Sources, SurfaceSource, TriggerSource};
use crate::store::pockyt::PayoutStatus;
use crate::tenant::TenantId;
use crate::wire::infinia::Code as InfiniaCode;
use crate::wire::pockyt::RetCode;
use crate::wire::whalet::Code as WhaletCode;

/// Whalet codes that refuse the envelope (or the partner) rather than answer an operation.
const WHALET_ENVELOPE: &[WhaletCode] = &[
    WhaletCode::TooManyRequests,
    WhaletCode::PartnerNotExist,
    WhaletCode::InternalError,
    WhaletCode::ParamFormatError,
    WhaletCode::RequestNoNotUnique,
    WhaletCode::Unauthorized,
    WhaletCode::UnauthenticatedError,
    WhaletCode::InterfaceUnauthorized,
];
/// Infinia system codes about the request as a whole.
const INFINIA_ENVELOPE: &[InfiniaCode] = &[
    InfiniaCode::InternalError,
    InfiniaCode::PayloadTooLarge,
    InfiniaCode::Unavailable,
];
/// Pockyt codes about the request as a whole.
const POCKYT_ENVELOPE: &[RetCode] = &[RetCode::SystemError, RetCode::AccessDenied];

/// The file upload's operation as the journal names it (`POST /file/upload`).
const UPLOAD_OPERATION: &str = whalet::upload::OPERATION;

/// The model of this simulator: every surface's tables and `triggers` (the registry).
pub fn model(dispatch: &Dispatch, triggers: &[Trigger]) -> Model {
    Model::generate(&sources(dispatch, triggers))
}

/// The counters, registered with the core's surfaces.
pub fn coverage(dispatch: &Dispatch, triggers: &[Trigger]) -> Arc<Coverage> {
    Arc::new(Coverage::new(model(dispatch, triggers)))
}

/// A scheme's codes as the model names them: all of them, and those refusing the envelope.
fn code_names<C: Copy>(
    all: &[C],
    envelope: &[C],
    name: fn(C) -> &'static str,
) -> (Vec<&'static str>, Vec<&'static str>) {
    let names = |codes: &[C]| codes.iter().map(|&c| name(c)).collect();
    (names(all), names(envelope))
}

pub fn sources(dispatch: &Dispatch, triggers: &[Trigger]) -> Sources {
    let (codes, envelope) = code_names(&WhaletCode::ALL, WHALET_ENVELOPE, WhaletCode::as_str);
    let mut groups: Vec<(&'static str, Vec<&'static str>)> =
        vec![("connectivity", names(whalet::CONNECTIVITY_OPERATIONS))];
    groups.extend(
        whalet::ops::GROUP_NAMES
            .iter()
            .zip(whalet::ops::OPERATIONS)
            .map(|(g, ops)| (*g, names(ops))),
    );
    let mut notifications: Vec<(&'static str, String)> = whalet::NOTIFICATIONS
        .iter()
        .map(|n| ("connectivity", (*n).to_owned()))
        .collect();
    notifications.extend(
        whalet::ops::EVENT_GROUP_NAMES
            .iter()
            .zip(whalet::ops::NOTIFICATIONS)
            .flat_map(|(g, names)| names.iter().map(move |n| (*g, (*n).to_owned()))),
    );
    let aliases = dispatch
        .names()
        .iter()
        .filter(|(canonical, wire)| canonical != wire)
        .map(|(canonical, wire)| (wire.clone(), canonical.clone()))
        .collect();
    let whalet = SurfaceSource {
        surface: "whalet",
        groups,
        aliases,
        codes: codes.clone(),
        envelope: envelope.clone(),
        success: WhaletCode::Success.as_str(),
        accepted_as_processing: crate::answers::whalet_decided_later(),
        processing: Some(WhaletCode::Processing.as_str()),
        channel: "whalet",
        notifications,
    };
    let platform = one_group(
        ("platform", "whalet"),
        ("platform", names(platform::OPERATIONS)),
        (codes.clone(), envelope.clone()),
        (
            WhaletCode::Success.as_str(),
            Some(WhaletCode::Processing.as_str()),
        ),
        platform::NOTIFICATIONS
            .iter()
            .map(|n| ("notifications", (*n).to_owned()))
            .collect(),
    );
    let file = one_group(
        ("file", "file"),
        ("upload", vec![UPLOAD_OPERATION]),
        (codes, envelope),
        (WhaletCode::Success.as_str(), None),
        Vec::new(),
    );
    let infinia = one_group(
        ("infinia", "infinia"),
        ("ecommerce", names(infinia::OPERATIONS)),
        code_names(&InfiniaCode::ALL, INFINIA_ENVELOPE, InfiniaCode::as_str),
        (InfiniaCode::Success.as_str(), None),
        vec![("notifications", infinia::sellers::TOPIC.to_owned())],
    );
    let pockyt = one_group(
        ("pockyt", "pockyt"),
        ("payouts", names(pockyt::OPERATIONS)),
        code_names(&RetCode::ALL, POCKYT_ENVELOPE, RetCode::as_str),
        (RetCode::Success.as_str(), None),
        [
            PayoutStatus::Success,
            PayoutStatus::Failed,
            PayoutStatus::Returned,
        ]
        .iter()
        .map(|s| ("notifications", format!("payout.{}", s.as_str())))
        .collect(),
    );
    Sources {
        surfaces: vec![whalet, platform, file, infinia, pockyt],
        triggers: trigger_sources(triggers),
    }
}

/// The names of a surface's operations.
fn names<H>(operations: &[Operation<H>]) -> Vec<&'static str> {
    operations.iter().map(|o| o.name).collect()
}

/// A surface with one group of operations, none of them renamed or accepting with the
/// processing code: its name and notification channel, the group, its codes (all, and those
/// refusing the envelope), its success and processing codes, its notifications.
fn one_group(
    (surface, channel): (&'static str, &'static str),
    group: (&'static str, Vec<&'static str>),
    (codes, envelope): (Vec<&'static str>, Vec<&'static str>),
    (success, processing): (&'static str, Option<&'static str>),
    notifications: Vec<(&'static str, String)>,
) -> SurfaceSource {
    SurfaceSource {
        surface,
        groups: vec![group],
        aliases: Vec::new(),
        codes,
        envelope,
        success,
        accepted_as_processing: Vec::new(),
        processing,
        channel,
        notifications,
    }
}

/// Every trigger but the simulator's own tools (`sim.*`), with its group: a Whalet trigger's is
/// the group that declares it; others are grouped by the object they name.
fn trigger_sources(triggers: &[Trigger]) -> Vec<TriggerSource> {
    let whalet_group = |name: &str| {
        whalet::ops::EVENT_GROUP_NAMES
            .iter()
            .zip(whalet::ops::TRIGGERS)
            .find(|(_, ts)| ts.iter().any(|t| t.name == name))
            .map(|(g, _)| (*g).to_owned())
    };
    triggers
        .iter()
        .filter(|t| !t.name.starts_with("sim."))
        .map(|t| TriggerSource {
            group: whalet_group(t.name)
                .unwrap_or_else(|| t.name.split('.').nth(1).unwrap_or("events").to_owned()),
            name: t.name,
            description: t.description,
            // A fired trigger is counted for the tenant it chose to act on (`Core::fire`, by
            // `trigger::acting_tenant`), which only the configured tenants settle: the model
            // keeps no default of its own.
        })
        .collect()
}

/// A state change the clock made (a scheduled review, settlement or payout result), named by
/// the trigger that makes the same change on demand. Changes made by a trigger are counted when
/// it fires (`Core::fire`), so the callers count only their scheduled path.
pub fn state_changed(core: &Core, tenant: &TenantId, trigger: &str) {
    core.surface::<Coverage>().state(Some(tenant), trigger);
}

/// A decision with two outcomes, counted as the change of the trigger that makes the same one on
/// demand (`approved` or `rejected`, by `success`) unless a trigger made it (`by_trigger`: it
/// was counted when it fired).
pub fn decided(
    core: &Core,
    tenant: &TenantId,
    by_trigger: bool,
    success: bool,
    (approved, rejected): (&str, &str),
) {
    if !by_trigger {
        state_changed(core, tenant, if success { approved } else { rejected });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;
    use crate::coverage::Kind;

    fn all_triggers() -> Vec<Trigger> {
        let mut t = whalet::triggers();
        t.extend(pockyt::triggers());
        t.extend(platform::triggers());
        t.extend(infinia::triggers());
        t.extend(crate::core::timeline::triggers());
        t
    }

    fn the_model() -> Model {
        let dispatch = Dispatch::new(&BTreeMap::new()).unwrap();
        model(&dispatch, &all_triggers())
    }

    #[test]
    fn the_group_names_match_the_tables() {
        assert_eq!(
            whalet::ops::GROUP_NAMES.len(),
            whalet::ops::OPERATIONS.len()
        );
        assert_eq!(
            whalet::ops::EVENT_GROUP_NAMES.len(),
            whalet::ops::NOTIFICATIONS.len()
        );
        assert_eq!(
            whalet::ops::EVENT_GROUP_NAMES.len(),
            whalet::ops::TRIGGERS.len()
        );
    }

    /// Every operation of every table has sync items, among them its success; every code of
    /// each scheme is an item somewhere; ids are unique.
    #[test]
    fn every_operation_of_every_table_has_items() {
        let m = the_model();
        let mut tables: Vec<(&str, &str)> = whalet::CONNECTIVITY_OPERATIONS
            .iter()
            .chain(whalet::ops::OPERATIONS.iter().flat_map(|g| g.iter()))
            .map(|o| ("whalet", o.name))
            .collect();
        tables.extend(platform::OPERATIONS.iter().map(|o| ("platform", o.name)));
        tables.extend(infinia::OPERATIONS.iter().map(|o| ("infinia", o.name)));
        tables.extend(pockyt::OPERATIONS.iter().map(|o| ("pockyt", o.name)));
        tables.push(("file", UPLOAD_OPERATION));
        for (surface, op) in tables {
            let items: Vec<_> = m
                .items
                .iter()
                .filter(|i| i.surface == surface && i.operation == op && i.kind == Kind::Sync)
                .collect();
            assert!(items.len() >= 2, "{surface} {op} has no sync items");
            let asynchronous =
                surface == "whalet" && crate::answers::whalet(op).is_some_and(|a| a.decided_later);
            let success = items.iter().any(|i| {
                matches!(i.outcome.as_str(), "SUCCESS" | "SUC-200" | "000100")
                    || (asynchronous && i.outcome == "PROCESSING")
            });
            assert!(success, "{surface} {op} has no success item");
        }
        let mut ids = HashSet::new();
        for i in &m.items {
            assert!(ids.insert(i.id.as_str()), "{} twice", i.id);
            assert!(!i.hint.is_empty(), "{} has no hint", i.id);
        }
        let listed = |surface: &str, outcome: &str| {
            m.items
                .iter()
                .any(|i| i.surface == surface && i.outcome == outcome)
        };
        for code in WhaletCode::ALL {
            assert!(listed("whalet", code.as_str()), "{code}");
        }
        for code in InfiniaCode::ALL {
            assert!(listed("infinia", code.as_str()), "{code}");
        }
        for code in RetCode::ALL {
            assert!(listed("pockyt", code.as_str()), "{code}");
        }
    }

    #[test]
    fn asynchronous_applies_succeed_with_processing() {
        let m = the_model();
        let later = crate::answers::whalet_decided_later();
        assert!(!later.is_empty());
        for op in later {
            assert!(m.find(&format!("whalet.{op}.SUCCESS")).is_none(), "{op}");
            let processing = m.find(&format!("whalet.{op}.PROCESSING")).unwrap();
            assert_eq!(m.items[processing].hint, format!("a valid {op} request"));
        }
        assert!(m.find("whalet.payoutApply.SUCCESS").is_some());
    }

    #[test]
    fn every_notification_and_trigger_has_items() {
        let m = the_model();
        let topics = whalet::NOTIFICATIONS
            .iter()
            .chain(whalet::ops::NOTIFICATIONS.iter().flat_map(|g| g.iter()))
            .chain(platform::NOTIFICATIONS);
        for topic in topics {
            let n = m
                .items
                .iter()
                .filter(|i| i.kind == Kind::Notification && i.operation == *topic)
                .count();
            assert_eq!(n, 6, "{topic}");
        }
        for t in all_triggers()
            .iter()
            .filter(|t| !t.name.starts_with("sim."))
        {
            assert!(m.state_index(t.name).is_some(), "{}", t.name);
        }
        // Reviews are among them: each review kind's trigger pair is two state items.
        assert!(m.state_index("whalet.beneficiary.approved").is_some());
        assert!(m.state_index("whalet.payout.failed").is_some());
    }

    /// The ids a partner's CI may pin do not move.
    #[test]
    fn ids_are_stable() {
        let m = the_model();
        for id in [
            "whalet.payoutApply.SUCCESS",
            "whalet.payoutConfirm.PROCESSING",
            "whalet.payoutConfirm.IDEMPOTENT_ERROR",
            "whalet.collectionQuery.FAILURE",
            "whalet.envelope.UNAUTHENTICATED_ERROR",
            "whalet.envelope.DROPPED",
            "whalet.notify.payoutResultNotify.exhausted",
            "whalet.state.payout.failed",
            "infinia.account-binding/request.SUC-200",
            "pockyt./v3/payouts/pay.000040",
        ] {
            assert!(m.find(id).is_some(), "{id} is not in the model");
        }
    }

    #[test]
    fn operation_codes_and_envelope_codes_are_found_where_they_belong() {
        let m = the_model();
        let at = |s: &str, o: &str, c: &str| m.sync_index(s, o, c).map(|i| m.items[i].id.clone());
        assert_eq!(
            at("whalet", "payoutApply", "FAILURE").as_deref(),
            Some("whalet.payoutApply.FAILURE")
        );
        assert_eq!(
            at("whalet", "payoutApply", "REQUEST_NO_NOT_UNIQUE").as_deref(),
            Some("whalet.envelope.REQUEST_NO_NOT_UNIQUE")
        );
        assert_eq!(
            at("whalet", "noSuchApi", "INTERFACE_UNAUTHORIZED").as_deref(),
            Some("whalet.envelope.INTERFACE_UNAUTHORIZED")
        );
        assert_eq!(at("whalet", "noSuchApi", "FAILURE"), None);
        assert_eq!(
            at("whalet", "payoutApply", "DROPPED").as_deref(),
            Some("whalet.envelope.DROPPED")
        );
    }

    #[test]
    fn renamed_api_codes_count_for_their_operation() {
        let renames = BTreeMap::from([("payoutApply".to_owned(), "payoutApplyV2".to_owned())]);
        let dispatch = Dispatch::new(&renames).unwrap();
        let m = model(&dispatch, &[]);
        let i = m.sync_index("whalet", "payoutApplyV2", "SUCCESS").unwrap();
        assert_eq!(m.items[i].id, "whalet.payoutApply.SUCCESS");
    }
}
