//! What runs around every request.

pub(crate) mod errors;
pub(crate) mod frame;
pub(crate) mod headers;
