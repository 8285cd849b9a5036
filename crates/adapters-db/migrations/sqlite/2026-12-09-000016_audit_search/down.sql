DROP INDEX audit_log_action_seq;
DROP INDEX audit_log_actor_seq;
