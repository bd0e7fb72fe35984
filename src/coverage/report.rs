//! The coverage report: the model with its hit counts, grouped surface → group → operation, as
//! `GET /__sim/coverage` answers it; and its renderings for people and CI (text, JUnit XML, HTML),
//! which the CLI prints from that JSON.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::model::Model;
use super::{Coverage, Kind};
use crate::tenant::{Provider, TenantId};
use crate::text::markup;

/// One item with its hits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemHits {
    pub id: String,
    pub kind: String,
    pub outcome: String,
    pub hits: u64,
    pub hint: String,
}

/// How many items a part of the report holds and how many of them were exercised (flattened
/// into each part's JSON, after its name).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    pub items: usize,
    pub exercised: usize,
    pub percent: f64,
}

impl Tally {
    fn of(items: usize, exercised: usize) -> Self {
        Self {
            items,
            exercised,
            percent: percent(exercised, items),
        }
    }

    /// Whether at least `min` percent of the items were exercised, on the exact share: the
    /// shown `percent` is rounded down (never 100 before every item), so 1 of 12 items shows
    /// 8.3 % and still meets `--min 8.33`. No items meets only a `min` of 0.
    pub fn meets(&self, min: f64) -> bool {
        self.exercised as f64 * 100.0 >= min * self.items as f64 && (self.items > 0 || min <= 0.0)
    }

    /// The tally of the parts together.
    fn sum(parts: impl IntoIterator<Item = Tally>) -> Self {
        let (items, exercised) = parts
            .into_iter()
            .fold((0, 0), |(a, d), t| (a + t.items, d + t.exercised));
        Self::of(items, exercised)
    }
}

/// `exercised/items (percent%)`.
impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{} ({:.1}%)",
            self.exercised, self.items, self.percent
        )
    }
}

/// Items of one operation (or notification topic, stateful object, the envelope).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationReport {
    pub operation: String,
    #[serde(flatten)]
    pub tally: Tally,
    pub outcomes: Vec<ItemHits>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupReport {
    pub group: String,
    #[serde(flatten)]
    pub tally: Tally,
    pub operations: Vec<OperationReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SurfaceReport {
    pub surface: String,
    #[serde(flatten)]
    pub tally: Tally,
    pub groups: Vec<GroupReport>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub tenant: Option<String>,
    pub surface: Option<String>,
    pub group: Option<String>,
    #[serde(flatten)]
    pub tally: Tally,
    pub surfaces: Vec<SurfaceReport>,
}

/// Exercised share in percent, one decimal. An empty selection is `0`, never complete: nothing
/// was shown to work, so no `--min` gate passes on it by accident.
pub fn percent(exercised: usize, items: usize) -> f64 {
    if items == 0 {
        return 0.0;
    }
    (exercised as f64 * 1000.0 / items as f64).floor() / 10.0
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Sync => "sync",
        Kind::Envelope => "envelope",
        Kind::Notification => "notification",
        Kind::State => "state",
    }
}

/// Which part of the model a report covers.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub tenant: Option<TenantId>,
    pub surface: Option<String>,
    pub group: Option<String>,
}

impl Selection {
    /// Why this selection names nothing in `model`, if it does not: an unknown surface, or a
    /// group that is not one of the model's (of that surface, when one is named). The message
    /// lists the known names, so a misspelt `--group payouts` is an error, not an empty report
    /// that a CI gate reads as passed. A group without a surface must be one surface's: a name
    /// several surfaces use (`payout`, `envelope`) would measure all of them at once, which is
    /// not what a gate on one of them meant.
    pub fn check(&self, model: &Model) -> Result<(), String> {
        let in_surface = |s: &str| self.takes(s);
        if let Some(surface) = &self.surface {
            if !model.items.iter().any(|i| i.surface == surface) {
                let known = sorted_names(model.items.iter().map(|i| i.surface));
                return Err(format!(
                    "no surface {}; known: {}",
                    crate::text::echo(surface),
                    known.join(", ")
                ));
            }
            if let Some(t) = self.tenant.as_ref().filter(|_| !self.reaches(surface)) {
                let known = sorted_names(
                    (model.items.iter())
                        .map(|i| i.surface)
                        .filter(|s| self.reaches(s)),
                );
                return Err(format!(
                    "tenant {t} is not a tenant of surface {surface}, whose requests it can never \
                     make; its surfaces: {}",
                    known.join(", ")
                ));
            }
        }
        if let Some(group) = &self.group {
            let mut groups = model.items.iter().filter(|i| in_surface(i.surface));
            if !groups.any(|i| &i.group == group) {
                let known = sorted_names(
                    model
                        .items
                        .iter()
                        .filter(|i| in_surface(i.surface))
                        .map(|i| i.group.as_str()),
                );
                let place = self
                    .surface
                    .as_deref()
                    .map_or_else(String::new, |s| format!(" in surface {s}"));
                return Err(format!(
                    "no group {}{place}; known: {}",
                    crate::text::echo(group),
                    known.join(", ")
                ));
            }
            if self.surface.is_none() {
                return self.one_surface_has(model, group);
            }
        }
        Ok(())
    }

    /// Whether the selection's tenant (if any) can reach `surface`: a tenant is measured only on
    /// the surfaces its provider serves ([`Provider::serving`]), the only ones it can exercise.
    fn reaches(&self, surface: &str) -> bool {
        (self.tenant.as_ref()).is_none_or(|t| Provider::serving(surface) == Some(t.provider))
    }

    /// Whether an item of `surface` is in the selection (its surface, and one its tenant
    /// reaches).
    fn takes(&self, surface: &str) -> bool {
        self.surface
            .as_deref()
            .is_none_or(|wanted| wanted == surface)
            && self.reaches(surface)
    }

    /// `Ok` when `group` is a group of one surface only (of those the tenant reaches); else the
    /// refusal naming its surfaces.
    fn one_surface_has(&self, model: &Model, group: &str) -> Result<(), String> {
        let surfaces = sorted_names(
            (model.items.iter())
                .filter(|i| i.group == group && self.reaches(i.surface))
                .map(|i| i.surface),
        );
        if surfaces.len() < 2 {
            return Ok(());
        }
        Err(format!(
            "group {} is a group of several surfaces ({}): name one with surface= (--surface)",
            crate::text::echo(group),
            surfaces.join(", ")
        ))
    }
}

/// The distinct names among `names`, sorted.
fn sorted_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut known: Vec<&str> = names.collect();
    known.sort_unstable();
    known.dedup();
    known
}

impl Coverage {
    /// The report of `selection`: items in model order, grouped as they first appear.
    pub fn report(&self, selection: &Selection) -> Report {
        let hits = self.hits(selection.tenant.as_ref());
        let mut surfaces: Vec<SurfaceReport> = Vec::new();
        for (item, &count) in self.model.items.iter().zip(&hits) {
            if !selection.takes(item.surface)
                || selection.group.as_deref().is_some_and(|g| g != item.group)
            {
                continue;
            }
            let surface = entry(&mut surfaces, item.surface);
            let group = entry(&mut surface.groups, &item.group);
            let operation = entry(&mut group.operations, &item.operation);
            operation.outcomes.push(ItemHits {
                id: item.id.clone(),
                kind: kind_word(item.kind).to_owned(),
                outcome: item.outcome.clone(),
                hits: count,
                hint: item.hint.clone(),
            });
        }
        for s in &mut surfaces {
            for g in &mut s.groups {
                for o in &mut g.operations {
                    let exercised = o.outcomes.iter().filter(|i| i.hits > 0).count();
                    o.tally = Tally::of(o.outcomes.len(), exercised);
                }
                g.tally = Tally::sum(g.operations.iter().map(|o| o.tally));
            }
            s.tally = Tally::sum(s.groups.iter().map(|g| g.tally));
        }
        Report {
            tenant: selection.tenant.as_ref().map(ToString::to_string),
            surface: selection.surface.clone(),
            group: selection.group.clone(),
            tally: Tally::sum(surfaces.iter().map(|s| s.tally)),
            surfaces,
        }
    }
}

/// A named part of the report, holding smaller parts.
trait Part {
    fn named(name: &str) -> Self;
    fn name(&self) -> &str;
}

/// `Part` for the report's levels: the field holding the name and the one holding the parts.
macro_rules! parts {
    ($($ty:ident { $name:ident, $inner:ident })*) => {$(
        impl Part for $ty {
            fn named(name: &str) -> Self {
                Self {
                    $name: name.to_owned(),
                    tally: Tally::default(),
                    $inner: Vec::new(),
                }
            }
            fn name(&self) -> &str {
                &self.$name
            }
        }
    )*};
}

parts! {
    SurfaceReport { surface, groups }
    GroupReport { group, operations }
    OperationReport { operation, outcomes }
}

/// The part of `list` called `name`, added at the end if there is none.
fn entry<'a, T: Part>(list: &'a mut Vec<T>, name: &str) -> &'a mut T {
    match list.iter().position(|p| p.name() == name) {
        Some(i) => &mut list[i],
        None => {
            list.push(T::named(name));
            let last = list.len() - 1;
            &mut list[last]
        }
    }
}

impl Report {
    /// Every item with where it is: (surface, group, operation, item).
    pub fn items(&self) -> impl Iterator<Item = (&str, &str, &str, &ItemHits)> {
        self.surfaces.iter().flat_map(|s| {
            s.groups.iter().flat_map(move |g| {
                g.operations.iter().flat_map(move |o| {
                    o.outcomes.iter().map(move |i| {
                        (
                            s.surface.as_str(),
                            g.group.as_str(),
                            o.operation.as_str(),
                            i,
                        )
                    })
                })
            })
        })
    }

    /// For people: per surface, group and operation the share and hit counts, then every item
    /// never exercised with its hint.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let scope = match (&self.tenant, &self.surface) {
            (Some(t), _) => format!("tenant {t}"),
            (None, _) => "all tenants".to_owned(),
        };
        let _ = writeln!(
            out,
            "coverage ({scope}): {}/{} items exercised ({:.1}%)",
            self.tally.exercised, self.tally.items, self.tally.percent
        );
        for s in &self.surfaces {
            let _ = writeln!(out, "\n{}  {}", s.surface, s.tally);
            for g in &s.groups {
                let _ = writeln!(out, "  {}  {}", g.group, g.tally);
                for o in &g.operations {
                    let hits: Vec<String> = o
                        .outcomes
                        .iter()
                        .map(|i| format!("{}={}", i.outcome, i.hits))
                        .collect();
                    let _ = writeln!(
                        out,
                        "    {:<32} {:>3}/{:<3} {}",
                        o.operation,
                        o.tally.exercised,
                        o.tally.items,
                        hits.join(" ")
                    );
                }
            }
        }
        let missing: Vec<_> = self.items().filter(|(.., i)| i.hits == 0).collect();
        if !missing.is_empty() {
            let _ = writeln!(out, "\nnever exercised ({}):", missing.len());
            for (.., i) in missing {
                let _ = writeln!(out, "  {}\n      how: {}", i.id, i.hint);
            }
        }
        out
    }

    /// JUnit XML: one `testsuite` per surface and group, one `testcase` per item; an item never
    /// exercised is a `failure` (its message is the hint), so CI shows it red.
    pub fn junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let failures = self.tally.items - self.tally.exercised;
        let _ = writeln!(
            out,
            "<testsuites name=\"whalet-sim coverage\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
            self.tally.items
        );
        for s in &self.surfaces {
            for g in &s.groups {
                let _ = writeln!(
                    out,
                    "  <testsuite name=\"{}.{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
                    markup(&s.surface),
                    markup(&g.group),
                    g.tally.items,
                    g.tally.items - g.tally.exercised
                );
                for o in &g.operations {
                    for i in &o.outcomes {
                        let _ = write!(
                            out,
                            "    <testcase classname=\"{}.{}.{}\" name=\"{}\" time=\"0\"",
                            markup(&s.surface),
                            markup(&g.group),
                            markup(&o.operation),
                            markup(&i.outcome)
                        );
                        if i.hits > 0 {
                            let _ = writeln!(
                                out,
                                "><system-out>{} hits ({})</system-out></testcase>",
                                i.hits,
                                markup(&i.id)
                            );
                        } else {
                            let _ = writeln!(
                                out,
                                "><failure type=\"NotExercised\" message=\"never exercised: {}\">{}</failure></testcase>",
                                markup(&i.id),
                                markup(&i.hint)
                            );
                        }
                    }
                }
                out.push_str("  </testsuite>\n");
            }
        }
        out.push_str("</testsuites>\n");
        out
    }

    /// A standalone HTML page: a bar per operation, the items never exercised with hints.
    pub fn html(&self) -> String {
        let mut out = String::from(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>whalet-sim coverage</title>\
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}\
td{padding:2px 8px;vertical-align:top}.bar{background:#eee;width:200px;height:12px}\
.fill{background:#2a7;height:12px}.miss{color:#b33}</style></head><body>",
        );
        let _ = write!(out, "<h1>Coverage: {}</h1>", self.tally);
        for s in &self.surfaces {
            let _ = write!(out, "<h2>{} {}</h2><table>", markup(&s.surface), s.tally);
            for g in &s.groups {
                for o in &g.operations {
                    let missing: Vec<String> = o
                        .outcomes
                        .iter()
                        .filter(|i| i.hits == 0)
                        .map(|i| {
                            format!(
                                "<div class=\"miss\" title=\"{}\">{}</div>",
                                markup(&i.hint),
                                markup(&i.outcome)
                            )
                        })
                        .collect();
                    let _ = write!(
                        out,
                        "<tr><td>{}</td><td>{}</td><td><div class=\"bar\"><div class=\"fill\" style=\"width:{}%\"></div></div></td><td>{}/{}</td><td>{}</td></tr>",
                        markup(&g.group),
                        markup(&o.operation),
                        o.tally.percent,
                        o.tally.exercised,
                        o.tally.items,
                        missing.join("")
                    );
                }
            }
            out.push_str("</table>");
        }
        out.push_str("</body></html>\n");
        out
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_minimum_is_met_on_the_exact_share_not_the_rounded_one() {
        let one_of_twelve = Tally::of(12, 1);
        assert_eq!(one_of_twelve.percent, 8.3);
        assert!(one_of_twelve.meets(8.33));
        assert!(!one_of_twelve.meets(8.34));
        let one_of_three = Tally::of(3, 1);
        assert!(one_of_three.meets(33.33));
        assert!(!one_of_three.meets(33.34));
        assert!(Tally::of(3, 3).meets(100.0));
        assert!(!Tally::of(3, 2).meets(100.0));
        assert!(Tally::of(0, 0).meets(0.0));
        assert!(!Tally::of(0, 0).meets(1.0));
    }

    use super::*;
    use crate::coverage::{Sources, SurfaceSource};

    fn surface(
        name: &'static str,
        groups: Vec<(&'static str, Vec<&'static str>)>,
    ) -> SurfaceSource {
        SurfaceSource {
            surface: name,
            groups,
            aliases: Vec::new(),
            codes: vec!["OK", "NO"],
            envelope: Vec::new(),
            success: "OK",
            accepted_as_processing: Vec::new(),
            processing: None,
            channel: name,
            notifications: Vec::new(),
        }
    }

    fn model() -> Model {
        Model::generate(&Sources {
            surfaces: vec![
                surface("a", vec![("payout", vec!["pay"]), ("fx", vec!["quote"])]),
                surface("b", vec![("b", vec!["go"])]),
            ],
            triggers: Vec::new(),
        })
    }

    fn selection(surface: Option<&str>, group: Option<&str>) -> Selection {
        Selection {
            tenant: None,
            surface: surface.map(str::to_owned),
            group: group.map(str::to_owned),
        }
    }

    #[test]
    fn a_selection_must_name_a_known_surface_and_group() {
        let m = model();
        for (s, g) in [
            (None, None),
            (Some("a"), None),
            (Some("a"), Some("payout")),
            (None, Some("b")),
        ] {
            assert_eq!(selection(s, g).check(&m), Ok(()), "{s:?} {g:?}");
        }
        let Err(e) = selection(Some("a"), Some("payouts")).check(&m) else {
            panic!("a misspelt group is refused");
        };
        assert_eq!(
            e,
            "no group \"payouts\" in surface a; known: envelope, fx, payout"
        );
        let Err(e) = selection(Some("b"), Some("payout")).check(&m) else {
            panic!("a group of another surface is refused");
        };
        assert_eq!(e, "no group \"payout\" in surface b; known: b, envelope");
        let Err(e) = selection(None, Some("nope")).check(&m) else {
            panic!("an unknown group is refused");
        };
        assert_eq!(e, "no group \"nope\"; known: b, envelope, fx, payout");
        let Err(e) = selection(Some("c"), None).check(&m) else {
            panic!("an unknown surface is refused");
        };
        assert_eq!(e, "no surface \"c\"; known: a, b");
    }

    /// A group name two surfaces use, asked for without a surface, would measure both: it is
    /// refused naming them; with a surface it is that surface's.
    #[test]
    fn a_group_of_several_surfaces_needs_a_surface() {
        let m = Model::generate(&Sources {
            surfaces: vec![
                surface("a", vec![("payout", vec!["pay"])]),
                surface(
                    "b",
                    vec![("payouts", vec!["go"]), ("payout", vec!["result"])],
                ),
            ],
            triggers: Vec::new(),
        });
        let Err(e) = selection(None, Some("payout")).check(&m) else {
            panic!("an ambiguous group is refused");
        };
        assert_eq!(
            e,
            "group \"payout\" is a group of several surfaces (a, b): name one with surface= (--surface)"
        );
        assert!(selection(None, Some("envelope")).check(&m).is_err());
        for (s, g) in [
            (Some("a"), "payout"),
            (Some("b"), "payout"),
            (None, "payouts"),
        ] {
            assert_eq!(selection(s, Some(g)).check(&m), Ok(()), "{s:?} {g}");
        }
    }

    #[test]
    fn an_empty_selection_is_not_complete() {
        assert_eq!(percent(0, 0), 0.0);
        assert_eq!(percent(1, 1), 100.0);
        assert_eq!(percent(9999, 10000), 99.9);
    }
}
