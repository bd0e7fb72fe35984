//! `account-binding/query` (inferred path, spec §2.4): the binding's status by `requestNo`, or
//! by `sellerId` the seller's BOUND binding (a later request for a bound seller never hides it),
//! else the seller's latest binding (the one created last: `InfiniaState::latest_binding`).
//! Statuses: PENDING, BOUND, REJECTED; a bound seller also has a `sellerStatus` (ACTIVE /
//! FROZEN).

use serde_json::Value;

use super::fields::{optional, text};
use super::{binding, Ctx, Operation};
use crate::wire::infinia::InfiniaError;

pub const OPERATION: Operation = Operation {
    name: "account-binding/query",
    handler,
};

fn handler(ctx: &Ctx<'_>, body: &Value) -> Result<Value, InfiniaError> {
    crate::api::describe::record_either("requestNo", "sellerId");
    let request_no = optional(body, "requestNo", 64)?;
    let seller_id = optional(body, "sellerId", 64)?;
    if request_no.is_none() && seller_id.is_none() {
        return Err(InfiniaError::missing(
            "give requestNo (of the binding request) or sellerId",
        ));
    }
    ctx.with_state(|t| {
        let s = &t.infinia;
        let found = match request_no {
            Some(no) => s.bindings.get(no),
            None => seller_id.and_then(|seller| {
                binding::bound_binding(s, seller).or_else(|| s.latest_binding(seller, None))
            }),
        };
        let Some(b) = found else {
            return Err(InfiniaError::invalid(match request_no {
                Some(no) => format!("no binding request with requestNo {no:?}"),
                None => format!(
                    "no binding request for sellerId {:?}",
                    seller_id.unwrap_or("")
                ),
            }));
        };
        if let (Some(no), Some(seller)) = (request_no, seller_id) {
            if b.seller_id != seller {
                return Err(InfiniaError::invalid(format!(
                    "binding {no:?} is for seller {:?}, not {seller:?}",
                    b.seller_id
                )));
            }
        }
        let mut view = binding::view(b);
        let status = s
            .sellers
            .get(&b.seller_id)
            .filter(|_| b.status == crate::store::infinia::BindingStatus::Bound)
            .map(|x| x.status.as_str());
        view["sellerStatus"] = text(status).into();
        Ok(view)
    })?
}
