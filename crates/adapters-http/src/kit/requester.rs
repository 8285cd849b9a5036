//! Who asks: the client address and request id a use case records with what it does.

use wildid_ports::services::accounts::Requester;

use crate::session::Viewer;

/// `Requester` of the current request.
pub(crate) fn requester(viewer: &Viewer) -> Requester {
    Requester {
        ip: viewer.client_ip,
        request_id: viewer.handle.client().request_id,
    }
}
