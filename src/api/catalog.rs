//! Every operation of every surface in one list: its surface, the name a partner uses and the
//! request that reaches it (`GET /__sim/operations`); and what a surface says when it is sent a
//! name it does not serve: the nearest name it does serve, or the surface that serves this one
//! ("shopAccountBind is a whalet-platform operation: POST /v1/platform/shopAccountBind").

use serde::Serialize;

use crate::core::Core;

/// One operation as a partner reaches it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    /// `whalet`, `platform`, `file`, `infinia` or `pockyt` (as in the journal).
    pub surface: &'static str,
    /// The surface's own name for it, as on the wire (after configured renames): the Whalet
    /// apiCode, the platform operation, the Infinia path after `/api/v1/`, the Pockyt path.
    pub name: String,
    /// The request: `POST /api` (apiCode in `head.apiCode`), `POST /v1/platform/paymentQuery`, ...
    pub request: String,
}

/// Every operation of every surface, in surface order, then by name.
pub fn operations(core: &Core) -> Vec<Listed> {
    let mut out = Vec::new();
    let dispatch = core.whalet_ops();
    let mut whalet: Vec<String> = super::whalet::all_operations()
        .map(|op| dispatch.wire_name(op.name))
        .collect();
    whalet.sort();
    out.extend(whalet.into_iter().map(|name| Listed {
        surface: "whalet",
        request: format!("POST /api (head.apiCode = {name}), or POST /api/{name}"),
        name,
    }));
    out.extend(super::platform::OPERATIONS.iter().map(|op| Listed {
        surface: "platform",
        name: op.name.to_owned(),
        request: format!("POST /v1/platform/{}", op.name),
    }));
    out.push(Listed {
        surface: "file",
        name: "upload".to_owned(),
        request: "POST /file/upload".to_owned(),
    });
    out.extend(core.infinia().paths().values().map(|path| Listed {
        surface: "infinia",
        name: path.clone(),
        request: format!("POST /api/v1/{path}"),
    }));
    out.extend(super::pockyt::OPERATIONS.iter().map(|op| Listed {
        surface: "pockyt",
        name: op.name.to_owned(),
        request: format!("POST {}", op.name),
    }));
    out
}

/// The sentence that follows "`given` is not an operation of this surface": the operation of
/// another surface with that very name, or the nearest name this surface serves, and where the
/// whole list is.
pub fn unknown(core: &Core, surface: &str, given: &str) -> String {
    let all = operations(core);
    if let Some(other) = all.iter().find(|op| {
        op.surface != surface && op.name.trim_start_matches('/') == given.trim_start_matches('/')
    }) {
        return format!(
            "{given} is a {} operation: {}",
            surface_title(other.surface),
            other.request
        );
    }
    let here: Vec<&str> = all
        .iter()
        .filter(|op| op.surface == surface)
        .map(|op| op.name.as_str())
        .collect();
    let mut text = String::new();
    if let Some(near) = crate::text::nearest(given, &here) {
        text.push_str(&format!("did you mean `{near}`? "));
    }
    text.push_str("GET /__sim/operations lists every operation of every surface");
    text
}

/// A surface as people call it.
pub fn surface_title(surface: &str) -> &'static str {
    match surface {
        "whalet" => "Whalet Open API",
        "platform" => "whalet-platform",
        "file" => "Whalet file upload",
        "infinia" => "Infinia Pay",
        "pockyt" => "Pockyt",
        _ => "simulator",
    }
}
