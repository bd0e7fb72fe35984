//! `revenue-sharing/query` (spec §2.8): the status of a revenue sharing by `requestNo`:
//! PROCESSING, SUCCESS or FAILED (with the reason), per seller amounts included.

use serde_json::Value;

use super::fields::required;
use super::{sharing, Ctx, Operation};
use crate::wire::infinia::InfiniaError;

pub const OPERATION: Operation = Operation {
    name: "revenue-sharing/query",
    handler,
};

fn handler(ctx: &Ctx<'_>, body: &Value) -> Result<Value, InfiniaError> {
    let request_no = required(body, "requestNo", 64)?;
    ctx.with_state(|t| Ok(sharing::view(t.infinia.sharing(request_no)?)))?
}
