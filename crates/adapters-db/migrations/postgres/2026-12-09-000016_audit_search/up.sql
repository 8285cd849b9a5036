-- The admin console searches the audit log by actor or by action, newest first.
CREATE INDEX audit_log_actor_seq ON audit_log (actor, seq);
CREATE INDEX audit_log_action_seq ON audit_log (action, seq);
