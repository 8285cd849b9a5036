-- The name a user chose to be shown by: plain text, cleaned of markup and control characters
-- by the core before it is stored, at most 60 characters.
ALTER TABLE users ADD COLUMN display_name TEXT CHECK (display_name IS NULL OR char_length(display_name) BETWEEN 1 AND 60);
