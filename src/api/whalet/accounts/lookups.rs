//! What a partner looks up before opening accounts: `b2bChannelBanksQuery` (receiving banks and
//! their currencies), `b2cPlatformQuery` (marketplaces, currencies, card limits),
//! `b2cCardHolderQuery` (the user's approved holders) and `b2cCardNumberQuery` (cards held
//! against the limit). Answers are JSON arrays, like `queryCurrencyBalance`.

use serde_json::{json, Value};

use super::catalogue::{catalogue, known, Offering, Platform};
use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::{failure, known_user, list, user_rows};
use crate::api::whalet::{Ctx, Reply};
use crate::store::whalet::{CardStatus, ReviewStatus};
use crate::wire::whalet::WhaletError;

pub fn channel_banks(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let currency = c.currency("currency", false);
    c.finish()?;
    known_user(ctx, user_id)?;
    Ok(list(
        catalogue()
            .channels
            .iter()
            .filter(|ch| currency.is_none_or(|cur| ch.offers(cur)))
            .map(|ch| {
                json!({
                    "channelCode": ch.channel_code,
                    "bankName": ch.bank_name,
                    "bankCountry": ch.bank_country,
                    "swiftCode": ch.swift_code,
                    "currencies": ch.currencies,
                })
            }),
    ))
}

pub fn platforms(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    c.finish()?;
    known_user(ctx, user_id)?;
    Ok(list(catalogue().platforms.iter().map(|p| {
        json!({
            "platform": p.platform,
            "platformName": p.platform_name,
            "currencies": p.currencies,
            "maxCards": p.max_cards,
        })
    })))
}

pub fn card_holders(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    c.finish()?;
    user_rows(ctx, user_id, |t| {
        t.whalet
            .holders
            .values()
            .filter(|h| h.user_id == user_id && h.review.status == ReviewStatus::Success)
            .map(|h| {
                json!({
                    "holderId": h.holder_id,
                    "outHolderId": h.out_holder_id,
                    "holderType": h.holder_type,
                    "name": h.name,
                    "countryCode": h.country_code,
                })
            })
            .collect()
    })
}

pub fn card_number(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let platform = c.opt("platform");
    c.finish()?;
    if let Some(p) = platform {
        known::<Platform>(p).map_err(failure)?;
    }
    user_rows(ctx, user_id, |t| {
        catalogue()
            .platforms
            .iter()
            .filter(|p| platform.is_none_or(|wanted| p.platform == wanted))
            .map(|p| {
                let cards: Vec<_> = t
                    .whalet
                    .cards
                    .values()
                    .filter(|c| c.user_id == user_id && c.platform.as_deref() == Some(&p.platform))
                    .collect();
                let count = |s: CardStatus| cards.iter().filter(|c| c.status == s).count();
                let held = count(CardStatus::Active)
                    + count(CardStatus::Processing)
                    + count(CardStatus::Cancelling);
                json!({
                    "platform": p.platform,
                    "total": held,
                    "active": count(CardStatus::Active),
                    "processing": count(CardStatus::Processing),
                    "maxCards": p.max_cards,
                    "remaining": p.max_cards.saturating_sub(held),
                })
            })
            .collect()
    })
}
