DROP TABLE mail_outbox;
DROP TABLE login_tokens;
