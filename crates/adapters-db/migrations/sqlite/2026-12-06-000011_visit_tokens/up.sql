-- Each booking's visit token, encrypted with the field key ring (Fernet), kept only until the
-- visitor is checked in or the booking is cancelled: the database never holds a token in
-- clear next to the person it was given to.
CREATE TABLE visit_tokens (
    booking_id TEXT PRIMARY KEY NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    sealed     TEXT NOT NULL
) STRICT;
