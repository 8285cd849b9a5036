-- Where each audited event came from, beside its request id: the client's coarse network (an
-- IPv4 /24 or IPv6 /48, never an address). Entries from before have none; their digests do
-- not cover it, so the chain already stored still verifies.
ALTER TABLE audit_log ADD COLUMN client_network TEXT;
