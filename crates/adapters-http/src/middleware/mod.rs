//! What runs around every request.

pub(crate) mod cors;
pub(crate) mod csp;
pub(crate) mod edge;
pub(crate) mod errors;
pub(crate) mod frame;
pub(crate) mod headers;
pub(crate) mod hosts;
