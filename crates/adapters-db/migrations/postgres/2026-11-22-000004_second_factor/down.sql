DROP TABLE recovery_codes;
ALTER TABLE login_tokens DROP COLUMN email_encrypted;
