//! `userOnboardingApply`: a partner asks Whalet to onboard one of its merchants. The review takes
//! 60 s of virtual time by default (scenario `delay`), is approved unless a scenario or trigger
//! says otherwise, and ends with `userOnboardingResultNotify {userId, status, message, reMaterial,
//! materialType}`. A rejection with `reMaterial = Y` lets the partner re-submit corrected material
//! under the same `outUserId`; the user keeps its `userId`.

use serde_json::{json, Map, Value};

use crate::api::whalet::common::fields::{yes_no, Check, CERT_TYPES, ENTITY_TYPES};
use crate::api::whalet::common::kinds::OnboardingReview;
use crate::api::whalet::common::review::{self, settle_review, Apply, Notice, Review, Settle};
use crate::api::whalet::{Ctx, Reply};
use crate::scenario::format::re_material;
use crate::store::whalet::{Reviewed, User};
use crate::store::TenantState;
use crate::wire::whalet::WhaletError;

pub fn handler(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let out_user_id = c.id("outUserId");
    let mut entity = c.object("legalEntity", true);
    let user_type = entity.one_of("type", ENTITY_TYPES, true).unwrap_or("");
    let name = entity.text("name");
    entity.one_of("certType", CERT_TYPES, true);
    entity.id("certNo");
    let country = entity.country("countryCode", true).unwrap_or("");
    c.absorb(entity);
    c.contact();
    let content = c.content();
    c.finish()?;

    let now = ctx.now();
    review::apply::<OnboardingReview, User>(
        ctx,
        Apply {
            api: "userOnboardingApply",
            user: None,
            out_field: "outUserId",
            out_id: out_user_id,
            body: &content,
        },
        |_| Ok(()),
        |user_id, attempt| User {
            user_id,
            out_user_id: out_user_id.to_owned(),
            user_type: user_type.to_owned(),
            name: name.to_owned(),
            country_code: country.to_owned(),
            review: Reviewed::submitted(attempt, now),
            re_material: false,
            material_type: String::new(),
            application: body.clone(),
        },
    )
}

impl Review for OnboardingReview {
    /// `reMaterial` is `Y` or `N` (read as the API reads a flag): anything else would quietly
    /// mean `N` and close the user for good.
    fn check_trigger(params: &Map<String, Value>) -> Result<(), String> {
        let params = Value::Object(params.clone());
        yes_no(&params, "reMaterial", false)
            .map(drop)
            .map_err(|e| format!("parameter {}", e.detail))
    }

    fn settle(t: &mut TenantState, s: Settle<'_>) -> Result<Notice, String> {
        let (user_id, v) = (s.id, s.v);
        let user = s.find_mut(&mut t.whalet.users, "a user")?;
        settle_review(user, &format!("user {user_id}"), s.attempt, v, s.now)?;
        // An approval reports `N` and `""` whatever the scenario's values say (docs/FIDELITY.md);
        // a rejection reads `reMaterial` with the loader's reader (`"Y"` or `"N"`, as the trigger).
        let asks_material = v.values.get("reMaterial").and_then(|m| re_material(m).ok());
        user.re_material = !v.success && asks_material == Some(true);
        user.material_type = if v.success {
            String::new()
        } else {
            v.value("materialType")
                .unwrap_or_else(|| v.pick("", "Reject").to_owned())
        };
        Ok(Notice {
            api_code: "userOnboardingResultNotify",
            payload: json!({
                "userId": user.user_id,
                "status": user.review.reported_status,
                "message": user.review.message,
                "reMaterial": if user.re_material { "Y" } else { "N" },
                "materialType": user.material_type,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::whalet::common::testing::{decision, TestBed};

    #[tokio::test]
    async fn a_scenario_rejection_asks_for_material_after_its_delay() {
        let bed = TestBed::new();
        let body = json!({"outUserId": "m-1", "legalEntity": {"type": "ENTERPRISE",
            "name": "Acme", "certType": "BUSINESS_LICENSE", "certNo": "91350200", "countryCode": "CN"}});
        let d = decision(
            false,
            Some("REJECTED"),
            Some("blurry licence"),
            Some(5_000),
            json!({"reMaterial": "Y", "materialType": "Supplement"}),
        );
        let reply = bed.run(handler, &body, &d).unwrap();
        assert_eq!(reply.code.as_str(), "PROCESSING");
        let user_id = reply.body.unwrap()["userId"].as_str().unwrap().to_owned();
        bed.core.clock().advance(4_999).await;
        assert_eq!(bed.user_status(&user_id), "PROCESSING");
        bed.core.clock().advance(1).await;
        let sent = bed.sent("userOnboardingResultNotify");
        assert_eq!(
            sent,
            vec![json!({"userId": user_id, "status": "REJECTED",
            "message": "blurry licence", "reMaterial": "Y", "materialType": "Supplement"})]
        );
        assert_eq!(bed.user_status(&user_id), "FAILURE");
    }

    #[tokio::test]
    async fn the_shipped_onboarding_rejected_scenario_reads_as_intended() {
        let text = include_str!("../../../../scenarios/onboarding-rejected.toml");
        let file: toml::Value = toml::from_str(text).unwrap();
        let then = &file["rule"][0]["then"];
        let delay_s: i64 = then["delay"]
            .as_str()
            .unwrap()
            .trim_end_matches('s')
            .parse()
            .unwrap();
        let values = serde_json::to_value(then["values"].clone()).unwrap();
        let d = decision(
            then["result"].as_str() == Some("success"),
            None,
            then["reason"].as_str(),
            Some(delay_s * 1000),
            values,
        );
        let bed = TestBed::new();
        let body = json!({"outUserId": "m-2", "legalEntity": {"type": "INDIVIDUAL",
            "name": "Li Lei", "certType": "ID_CARD", "certNo": "350200", "countryCode": "CN"}});
        let user_id = bed.run(handler, &body, &d).unwrap().body.unwrap()["userId"]
            .as_str()
            .unwrap()
            .to_owned();
        bed.core.clock().advance(30_000).await;
        let sent = bed.sent("userOnboardingResultNotify");
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["userId"], user_id.as_str());
        assert_eq!(sent[0]["status"], "FAILURE");
        assert_eq!(sent[0]["reMaterial"], "Y");
        assert_eq!(sent[0]["materialType"], "Reject");
    }
}
