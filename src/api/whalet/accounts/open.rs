//! Opening collection accounts ("收款卡", virtual accounts): `b2bVirtualAccountApply` (at a
//! channel bank from `b2bChannelBanksQuery`) and `b2cVirtualAccountApply` (for a marketplace, in
//! the name of an approved card holder). The bank opens the account in 10 s of virtual time by
//! default; the result arrives as `virtualAccountNotify` with the receiving bank details.

use serde_json::{json, Value};

use super::cards::card_status;
use super::catalogue::{self, offering, Channel, Platform};
use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::kinds::OpeningReview;
use crate::api::whalet::common::review::{self, reported, Notice, Review, Settle};
use crate::api::whalet::common::{again, failure, mint, once, IdOf};
use crate::api::whalet::{Ctx, Reply};
use crate::money::Currency;
use crate::store::whalet::{BankAccount, Card, CardStatus, FundSource, ReviewStatus};
use crate::store::TenantState;
use crate::wire::whalet::WhaletError;

/// What differs between a B2B and a B2C application once the fields are read.
struct Application<'a> {
    user_id: &'a str,
    out_card_id: &'a str,
    currency: Currency,
    fund_source: FundSource,
    holder_id: Option<&'a str>,
    platform: Option<&'a str>,
    channel_code: Option<&'a str>,
    /// The account name a B2B application asks for, which must be the user's legal name.
    account_name: Option<&'a str>,
}

pub fn apply_b2b(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let out_card_id = c.id("outCardId");
    let channels = catalogue::catalogue().channels.iter();
    let channel_code = listed(&mut c, "channelCode", channels.map(|ch| &*ch.channel_code));
    let currency = c.currency("currency", true);
    // Only compared with the user's legal name, which the account is opened in whatever is
    // asked: checked, not kept.
    let account_name = c.unkept("accountName", Check::opt);
    let content = c.content();
    let currency = c.finish_with("currency", currency)?;
    open(
        ctx,
        "b2bVirtualAccountApply",
        &content,
        Application {
            user_id,
            out_card_id,
            currency,
            fund_source: FundSource::B2B,
            holder_id: None,
            platform: None,
            channel_code: Some(channel_code),
            account_name,
        },
    )
}

pub fn apply_b2c(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let out_card_id = c.id("outCardId");
    let holder_id = c.id("holderId");
    let platforms = catalogue::catalogue().platforms.iter();
    let platform = listed(&mut c, "platform", platforms.map(|p| &*p.platform));
    let currency = c.currency("currency", true);
    let content = c.content();
    let currency = c.finish_with("currency", currency)?;
    open(
        ctx,
        "b2cVirtualAccountApply",
        &content,
        Application {
            user_id,
            out_card_id,
            currency,
            fund_source: FundSource::B2C,
            holder_id: Some(holder_id),
            platform: Some(platform),
            channel_code: None,
            account_name: None,
        },
    )
}

/// The id `field`, which the catalogue lists as `codes` (the operation's description shows them).
fn listed<'a>(
    c: &mut Check<'a>,
    field: &str,
    codes: impl Iterator<Item = &'static str>,
) -> &'a str {
    let value = c.id(field);
    let codes: Vec<&str> = codes.collect();
    crate::api::describe::record(field, "enum", true, &codes);
    value
}

/// The business rules of an application; Ok(the bank that will open the account).
fn admissible(t: &TenantState, a: &Application<'_>) -> Result<&'static Channel, WhaletError> {
    let user = t.whalet.onboarded_user(a.user_id)?;
    if let Some(code) = a.channel_code {
        account_name_matches(a.account_name, &user.name)?;
        return offering::<Channel>(code, a.currency).map_err(failure);
    }
    let holder_id = a.holder_id.unwrap_or("");
    let holder = t.whalet.holder_of(a.user_id, holder_id)?;
    let r = &holder.review;
    if r.status != ReviewStatus::Success {
        return Err(failure(format!(
            "card holder {holder_id} is not approved (status {})",
            r.status_text()
        )));
    }
    let code = a.platform.unwrap_or("");
    let platform = offering::<Platform>(code, a.currency).map_err(failure)?;
    let held = t
        .whalet
        .cards
        .values()
        .filter(|c| c.user_id == a.user_id && c.platform.as_deref() == Some(code))
        .filter(|c| !matches!(c.status, CardStatus::Failure | CardStatus::Cancelled))
        .count();
    if held >= platform.max_cards {
        return Err(failure(format!(
            "user {} already holds {held} cards for {code}, the limit (see b2cCardNumberQuery)",
            a.user_id
        )));
    }
    catalogue::channel_for(a.currency)
        .ok_or_else(|| failure(format!("no bank offers {} accounts", a.currency)))
}

/// A B2B account is opened in the user's legal name (what onboarding verified): an `accountName`
/// asked for must be that name (letter case and surrounding blanks aside), not another.
fn account_name_matches(asked: Option<&str>, legal_name: &str) -> Result<(), WhaletError> {
    match asked {
        Some(asked) if !asked.trim().eq_ignore_ascii_case(legal_name.trim()) => {
            Err(failure(format!(
                "accountName {asked:?} is not the user's legal name {legal_name:?}; a B2B account \
                 is opened in the name onboarding verified (leave accountName out to use it)"
            )))
        }
        _ => Ok(()),
    }
}

/// Opens the account `a` applies for, once per `outCardId` of the user: `content` is what was
/// read of the request ([`Check::content`]), which a retry must repeat.
fn open(
    ctx: &Ctx<'_>,
    operation: &str,
    content: &Value,
    a: Application<'_>,
) -> Result<Reply, WhaletError> {
    let now = ctx.now();
    once(
        ctx,
        &format!("{operation} {}", a.user_id),
        ("outCardId", a.out_card_id),
        content,
        IdOf::Partner,
        |t| {
            let channel = admissible(t, &a)?;
            if let Some(card) = t
                .whalet
                .cards
                .values()
                .find(|c| c.user_id == a.user_id && c.out_card_id == a.out_card_id)
            {
                return Err(WhaletError::idempotent(format!(
                    "outCardId {:?} was already used for card {}",
                    a.out_card_id, card.card_id
                )));
            }
            let card_id = mint(t, "VA", now);
            t.whalet.cards.insert(
                card_id.clone(),
                Card {
                    card_id: card_id.clone(),
                    out_card_id: a.out_card_id.to_owned(),
                    user_id: a.user_id.to_owned(),
                    fund_source: a.fund_source,
                    holder_id: a.holder_id.map(str::to_owned),
                    platform: a.platform.map(str::to_owned),
                    channel_code: Some(channel.channel_code.clone()),
                    currency: a.currency,
                    status: CardStatus::Processing,
                    reported_status: "PROCESSING".into(),
                    message: String::new(),
                    account: None,
                    attempt: 1,
                    applied_at: now,
                    opened_at: None,
                    cancelled_at: None,
                    cancel_refusals: 0,
                },
            );
            review::begin::<OpeningReview>(ctx, &card_id, 1);
            Ok(Reply::processing(json!({
                "userId": a.user_id,
                "cardId": card_id,
                "outCardId": a.out_card_id,
                "fundSource": a.fund_source.as_str(),
                "currency": a.currency.code(),
                "status": "PROCESSING",
            })))
        },
    )
}

/// The receiving details of a newly opened account, deterministic from the card id.
pub(super) fn bank_account(t: &TenantState, card: &Card) -> BankAccount {
    let channel = card
        .channel_code
        .as_deref()
        .and_then(catalogue::entry::<Channel>)
        .or_else(|| catalogue::channel_for(card.currency));
    let digits: String = card.card_id.chars().filter(char::is_ascii_digit).collect();
    let tail = digits.get(digits.len().saturating_sub(8)..).unwrap_or("0");
    let account_name = match &card.holder_id {
        Some(h) => t.whalet.holders.get(h).map(|h| h.name.clone()),
        None => t.whalet.users.get(&card.user_id).map(|u| u.name.clone()),
    }
    .unwrap_or_default();
    match channel {
        Some(ch) => BankAccount {
            account_no: format!("{}{:0>10}", ch.account_prefix, tail),
            account_name,
            bank_name: ch.bank_name.clone(),
            bank_country: ch.bank_country.clone(),
            swift_code: ch.swift_code.clone(),
            routing_no: ch.routing_no.clone(),
            bank_address: ch.bank_address.clone(),
        },
        None => BankAccount {
            account_no: format!("99{tail:0>10}"),
            account_name,
            bank_name: "Simulated Bank".into(),
            bank_country: "HK".into(),
            swift_code: String::new(),
            routing_no: String::new(),
            bank_address: String::new(),
        },
    }
}

impl Review for OpeningReview {
    fn settle(t: &mut TenantState, s: Settle<'_>) -> Result<Notice, String> {
        let (card_id, v) = (s.id, s.v);
        let card = s.find(&t.whalet.cards, "a card")?;
        let busy = (card.status == CardStatus::Processing, "is not being opened");
        let what = format!("card {card_id}");
        s.expect(&what, busy, card_status(card), Some(card.attempt))?;
        let account = v.success.then(|| bank_account(t, card));
        let card = again(&mut t.whalet.cards, card_id, &what)?;
        card.status = v.pick(CardStatus::Active, CardStatus::Failure);
        card.reported_status = reported(v, card.status.as_str());
        card.message = v.message("account opened", "account opening refused");
        card.opened_at = v.success.then_some(s.now);
        card.account = account;
        let mut payload = json!({
            "userId": card.user_id,
            "cardId": card.card_id,
            "outCardId": card.out_card_id,
            "fundSource": card.fund_source.as_str(),
            "currency": card.currency.code(),
            "status": v.word("SUCCESS", "FAILURE"),
            "message": card.message,
        });
        if let (Some(acc), Value::Object(map)) = (&card.account, &mut payload) {
            map.extend(super::cards::account_fields(acc));
        }
        Ok(Notice {
            api_code: "virtualAccountNotify",
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::whalet::common::review::Kind;
    use crate::api::whalet::common::testing::{decision, TestBed};

    #[tokio::test]
    async fn a_scenario_refusal_leaves_the_card_failed_without_bank_details() {
        let bed = TestBed::new();
        bed.seed(None);
        let d = decision(false, None, Some("bank declined"), Some(3_000), json!({}));
        let body = json!({"userId": "U1", "outCardId": "c9", "holderId": "H1", "platform": "AMAZON", "currency": "GBP"});
        let reply = bed.run(apply_b2c, &body, &d).unwrap();
        assert_eq!(reply.code.as_str(), "PROCESSING");
        bed.core.clock().advance(3_000).await;
        let sent = bed.sent("virtualAccountNotify");
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["status"], "FAILURE");
        assert_eq!(sent[0]["message"], "bank declined");
        assert!(sent[0].get("accountNo").is_none());
    }

    #[tokio::test]
    async fn an_opened_account_gets_its_channel_bank_details() {
        let bed = TestBed::new();
        bed.seed(None);
        let body = json!({"userId": "U1", "outCardId": "c8", "channelCode": "SIM_GB_LOCAL", "currency": "GBP"});
        bed.run(apply_b2b, &body, &Default::default()).unwrap();
        bed.core.clock().advance(OpeningReview::KIND.delay_ms).await;
        let sent = bed.sent("virtualAccountNotify");
        assert_eq!(sent[0]["status"], "SUCCESS");
        assert_eq!(sent[0]["bankCountry"], "GB");
        assert_eq!(sent[0]["accountName"], "Acme");
        assert!(sent[0]["accountNo"].as_str().unwrap().starts_with("44"));
    }
}
