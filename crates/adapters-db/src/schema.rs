//! Table definitions shared by both backends. Column types are the subset both SQLite and
//! Postgres map identically (text, bytes, booleans, integers, timestamps).

diesel::table! {
    users (id) {
        id -> Text,
        email_lookup -> Binary,
        email_encrypted -> Text,
        role -> Text,
        active -> Bool,
        created_at -> Timestamp,
        email_verified_at -> Nullable<Timestamp>,
        privacy_accepted_at -> Nullable<Timestamp>,
        password_hash -> Nullable<Text>,
        totp_secret -> Nullable<Text>,
        totp_last_step -> Nullable<BigInt>,
        failed_attempts -> Integer,
        locked_until -> Nullable<Timestamp>,
        last_login_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        target -> Nullable<Text>,
        details -> Text,
        request_id -> Nullable<Text>,
        prev_hash -> Binary,
        hash -> Binary,
    }
}

diesel::table! {
    audit_chain_lock (id) {
        id -> Integer,
        appends -> BigInt,
    }
}
