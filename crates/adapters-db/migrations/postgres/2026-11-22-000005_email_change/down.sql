DELETE FROM login_tokens WHERE purpose = 'email_change';
DROP INDEX login_tokens_user;
ALTER TABLE login_tokens DROP CONSTRAINT login_tokens_email_change_check;
ALTER TABLE login_tokens DROP COLUMN user_id;
ALTER TABLE login_tokens DROP CONSTRAINT login_tokens_purpose_check;
ALTER TABLE login_tokens ADD CONSTRAINT login_tokens_purpose_check
    CHECK (purpose IN ('magic_link', 'email_verification'));
