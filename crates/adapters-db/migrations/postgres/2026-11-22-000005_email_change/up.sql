-- Address-change links: purpose 'email_change', tied to the account that asked for it and
-- carrying the new address (encrypted).
ALTER TABLE login_tokens DROP CONSTRAINT login_tokens_purpose_check;
ALTER TABLE login_tokens ADD CONSTRAINT login_tokens_purpose_check
    CHECK (purpose IN ('magic_link', 'email_verification', 'email_change'));
ALTER TABLE login_tokens ADD COLUMN user_id TEXT REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE login_tokens ADD CONSTRAINT login_tokens_email_change_check
    CHECK ((purpose = 'email_change' AND user_id IS NOT NULL AND email_encrypted IS NOT NULL)
        OR (purpose <> 'email_change' AND user_id IS NULL));
CREATE INDEX login_tokens_user ON login_tokens (user_id) WHERE user_id IS NOT NULL;
