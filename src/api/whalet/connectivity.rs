//! `connectivity`: the partner checks the envelope end to end. `responseFlag = Y` echoes
//! `responseMessage` as `messge` (the vendor's spelling); `notifyFlag = Y` sends a
//! `connectivityNotify` carrying `notifyMessage`.

use serde_json::{json, Value};

use super::common::fields::{done, optional_str, yes_no};
use super::{Ctx, Operation, Reply};
use crate::wire::whalet::WhaletError;

pub const OPERATIONS: &[Operation] = &[Operation {
    name: "connectivity",
    handler,
}];

fn handler(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let notify = yes_no(body, "notifyFlag", true)?.unwrap_or(false);
    let respond = yes_no(body, "responseFlag", true)?.unwrap_or(false);
    let notify_message = optional_str(body, "notifyMessage")?.unwrap_or("");
    let response_message = optional_str(body, "responseMessage")?.unwrap_or("");
    done()?;
    if notify {
        ctx.notify(
            "connectivityNotify",
            json!({ "notifyMessage": notify_message }),
            Some(format!("connectivity:{}", ctx.echo.request_no)),
        );
    }
    Ok(if respond {
        Reply::ok(json!({ "messge": response_message }))
    } else {
        Reply::empty()
    })
}
