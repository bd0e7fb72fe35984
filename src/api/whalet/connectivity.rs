//! `connectivity`: the partner checks the envelope end to end. `responseFlag = Y` echoes
//! `responseMessage` as `messge` (the vendor's spelling); `notifyFlag = Y` sends a
//! `connectivityNotify` carrying `notifyMessage`. Its fields are read as every operation's
//! ([`Check`]): one PARAMETER_ERROR names every problem.

use serde_json::{json, Value};

use super::common::fields::Check;
use super::{Ctx, Operation, Reply};
use crate::wire::whalet::WhaletError;

pub const OPERATIONS: &[Operation] = &[Operation {
    name: "connectivity",
    handler,
}];

fn handler(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let notify = c.flag("notifyFlag", true).unwrap_or(false);
    let respond = c.flag("responseFlag", true).unwrap_or(false);
    let notify_message = c.free_text("notifyMessage").unwrap_or("");
    let response_message = c.free_text("responseMessage").unwrap_or("");
    c.finish()?;
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
