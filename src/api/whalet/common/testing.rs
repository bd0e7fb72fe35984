//! Unit-test bench for handlers: the core of a real `App` (manual clock, demo partner, no notify URL) and a
//! way to run one handler with a hand-made scenario [`Decision`].

#![allow(clippy::unwrap_used)]

use serde_json::Value;

use crate::api::whalet::partners::DEMO_PARTNER_ID;
use crate::api::whalet::{Ctx, Handler, Reply, Session};
use crate::app::{App, Options};
use crate::clock::ClockMode;
use crate::config::Config;
use crate::core::Core;
use crate::money::Currency;
use crate::notify::NotificationFilter;
use crate::scenario::{AsyncResult, Decision, Outcome};
use crate::store::whalet::{BankAccount, Card, CardStatus, FundSource, Holder, Reviewed, User};
use crate::tenant::{Provider, TenantId};
use crate::wire::whalet::{Echo, WhaletError};

pub struct TestBed {
    pub core: Core,
    pub tenant: TenantId,
}

/// A decision as a scenario rule would make it.
pub fn decision(
    success: bool,
    status: Option<&str>,
    reason: Option<&str>,
    delay_ms: Option<i64>,
    values: Value,
) -> Decision {
    Decision {
        rule: Some("unit test".into()),
        result: Some(AsyncResult {
            outcome: if success {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            status: status.map(str::to_owned),
            reason: reason.map(str::to_owned),
        }),
        delay_ms,
        values: values.as_object().cloned().unwrap_or_default(),
        ..Decision::default()
    }
}

impl Default for TestBed {
    fn default() -> Self {
        Self::new()
    }
}

impl TestBed {
    pub fn new() -> Self {
        let options = Options {
            clock_mode: Some(ClockMode::Manual),
            start_time: Some(1_735_689_600_000),
            ..Options::default()
        };
        let core = App::new(Config::default(), options).unwrap().core().clone();
        let tenant = TenantId::new(Provider::Whalet, DEMO_PARTNER_ID);
        Self { core, tenant }
    }

    pub fn run(
        &self,
        handler: Handler,
        body: &Value,
        decision: &Decision,
    ) -> Result<Reply, WhaletError> {
        let session = Session {
            partner: self.core.partners().get(DEMO_PARTNER_ID).unwrap(),
            echo: Echo::default(),
            handler,
        };
        let ctx = Ctx {
            core: &self.core,
            tenant: &self.tenant,
            decision,
            session: &session,
        };
        handler(&ctx, body)
    }

    /// Payloads of the notifications enqueued with this apiCode, oldest first.
    pub fn sent(&self, api_code: &str) -> Vec<Value> {
        let filter = NotificationFilter {
            api_code: Some(api_code.to_owned()),
            ..NotificationFilter::default()
        };
        let mut list: Vec<Value> = self
            .core
            .outbox()
            .list(&filter)
            .into_iter()
            .map(|n| n.payload)
            .collect();
        list.reverse();
        list
    }

    pub fn user_status(&self, user_id: &str) -> String {
        self.core
            .with_tenant(&self.tenant, |t| {
                t.whalet.users[user_id].review.status.as_str().to_owned()
            })
            .ok()
            .unwrap()
    }

    /// Puts an onboarded user `U1`, an approved holder `H1` and (with `currency`) an ACTIVE B2C
    /// card `VA1` with account number `8100000001` straight into the state.
    pub fn seed(&self, currency: Option<&str>) {
        self.core
            .with_tenant(&self.tenant, |t| {
                let w = &mut t.whalet;
                w.users.insert(
                    "U1".into(),
                    User {
                        user_id: "U1".into(),
                        out_user_id: "m1".into(),
                        user_type: "ENTERPRISE".into(),
                        name: "Acme".into(),
                        country_code: "CN".into(),
                        review: Reviewed::approved(0),
                        re_material: false,
                        material_type: String::new(),
                        application: Value::Null,
                    },
                );
                w.holders.insert(
                    "H1".into(),
                    Holder {
                        holder_id: "H1".into(),
                        out_holder_id: "h1".into(),
                        user_id: "U1".into(),
                        holder_type: "ENTERPRISE".into(),
                        name: "Acme".into(),
                        country_code: "CN".into(),
                        review: Reviewed::approved(0),
                        application: Value::Null,
                    },
                );
                if let Some(code) = currency {
                    w.cards.insert(
                        "VA1".into(),
                        Card {
                            card_id: "VA1".into(),
                            out_card_id: "c1".into(),
                            user_id: "U1".into(),
                            fund_source: FundSource::B2C,
                            holder_id: Some("H1".into()),
                            platform: Some("AMAZON".into()),
                            channel_code: None,
                            currency: Currency::parse(code).unwrap(),
                            status: CardStatus::Active,
                            reported_status: "ACTIVE".into(),
                            message: String::new(),
                            account: Some(BankAccount {
                                account_no: "8100000001".into(),
                                account_name: "Acme".into(),
                                bank_name: "Bank".into(),
                                bank_country: "US".into(),
                                swift_code: String::new(),
                                routing_no: String::new(),
                                bank_address: String::new(),
                            }),
                            attempt: 1,
                            applied_at: 0,
                            opened_at: Some(0),
                            cancelled_at: None,
                            cancel_refusals: 0,
                        },
                    );
                }
            })
            .ok()
            .unwrap();
    }

    /// A ledger balance in minor units.
    pub fn balance(&self, account: &str, currency: &str) -> i64 {
        self.core
            .with_tenant(&self.tenant, |t| {
                t.ledger
                    .balance(account, Currency::parse(currency).unwrap())
                    .minor
            })
            .ok()
            .unwrap()
    }
}
