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
        display_name -> Nullable<Text>,
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
        client_network -> Nullable<Text>,
    }
}

diesel::table! {
    audit_chain_lock (id) {
        id -> Integer,
        appends -> BigInt,
    }
}

diesel::table! {
    sessions (key) {
        key -> Binary,
        user_id -> Nullable<Text>,
        fingerprint -> Binary,
        csrf -> Binary,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        authenticated_at -> Nullable<Timestamp>,
        request_count -> Integer,
        window_started_at -> Nullable<Timestamp>,
        rate_limited -> Bool,
        is_trusted -> Bool,
        captcha_passed_at -> Nullable<Timestamp>,
        coarse_ip -> Nullable<Text>,
        device -> Nullable<Text>,
    }
}

diesel::table! {
    rate_limits (key) {
        key -> Binary,
        count -> Integer,
        window_started_at -> Timestamp,
    }
}

diesel::table! {
    captchas (id) {
        id -> Text,
        kind -> Text,
        answer_hash -> Binary,
        session_key -> Nullable<Binary>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        attempts -> Integer,
    }
}

diesel::table! {
    held_photos (session_key) {
        session_key -> Binary,
        source_format -> Text,
        format -> Text,
        bytes -> Binary,
        width -> Integer,
        height -> Integer,
        thumbnail -> Binary,
        upload_sha256 -> Binary,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    identifications (id) {
        id -> Text,
        owner -> Text,
        created_at -> Timestamp,
        provider -> Text,
        stored_bytes -> BigInt,
        details -> Text,
        animal_type_key -> Nullable<Text>,
        feedback_correct -> Nullable<Bool>,
        feedback -> Nullable<Text>,
    }
}

diesel::table! {
    sightings (identification_id) {
        identification_id -> Text,
        owner -> Text,
        created_at -> Timestamp,
        lat -> Nullable<Integer>,
        lon -> Nullable<Integer>,
        shown_lat -> Nullable<Integer>,
        shown_lon -> Nullable<Integer>,
        observed_at -> Nullable<Timestamp>,
        notes -> Nullable<Text>,
        visibility -> Text,
        conservation_rank -> SmallInt,
        common_name -> Text,
        species -> Text,
    }
}

diesel::table! {
    journal_usage (user_id) {
        user_id -> Text,
        bytes -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    identification_photos (identification_id) {
        identification_id -> Text,
        media_type -> Text,
        photo -> Binary,
        thumbnail -> Binary,
    }
}

diesel::table! {
    sites (id) {
        id -> Text,
        name -> Text,
        name_key -> Text,
        description -> Nullable<Text>,
        south -> Integer,
        west -> Integer,
        north -> Integer,
        east -> Integer,
        active -> Bool,
    }
}

diesel::table! {
    service_types (id) {
        id -> Text,
        name -> Text,
        name_key -> Text,
        duration_minutes -> Integer,
        capacity -> Integer,
    }
}

diesel::table! {
    bookings (id) {
        id -> Text,
        visitor_id -> Text,
        site_id -> Text,
        service_type_id -> Text,
        starts_at -> Timestamp,
        minutes -> Integer,
        description -> Nullable<Text>,
        status -> Text,
        worker_id -> Nullable<Text>,
        created_at -> Timestamp,
        checked_in_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    exposure_reports (id) {
        id -> Text,
        site_id -> Text,
        window_start -> Timestamp,
        window_end -> Timestamp,
        note -> Text,
        reported_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        user_id -> Text,
        report_id -> Text,
        message -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    visit_mappings (token_digest) {
        token_digest -> Binary,
        sealed_visitor -> Text,
        site_id -> Text,
        visit_start -> Timestamp,
        visit_end -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    visit_tokens (booking_id) {
        booking_id -> Text,
        sealed -> Text,
    }
}

diesel::table! {
    visit_slots (site_id, service_type_id, starts_at) {
        site_id -> Text,
        service_type_id -> Text,
        starts_at -> Timestamp,
        taken -> Integer,
    }
}

diesel::table! {
    job_leases (job) {
        job -> Text,
        holder -> Nullable<Text>,
        leased_until -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    reencryption_progress (column_name) {
        column_name -> Text,
        key_id -> Text,
        cursor -> Nullable<Text>,
        examined -> BigInt,
        rewritten -> BigInt,
        unreadable -> BigInt,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(identification_photos -> identifications (identification_id));
diesel::joinable!(sightings -> identifications (identification_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    audit_log,
    audit_chain_lock,
    rate_limits,
    captchas,
    held_photos,
    identifications,
    identification_photos,
    sightings,
    journal_usage,
    sites,
    service_types,
    bookings,
    visit_slots,
    visit_tokens,
    visit_mappings,
    exposure_reports,
    notifications,
    login_tokens,
    mail_outbox,
    recovery_codes,
    job_leases,
    reencryption_progress
);

diesel::table! {
    login_tokens (hash) {
        hash -> Binary,
        purpose -> Text,
        email_lookup -> Binary,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        email_encrypted -> Nullable<Text>,
        user_id -> Nullable<Text>,
    }
}

diesel::table! {
    recovery_codes (user_id, idx) {
        user_id -> Text,
        idx -> Integer,
        salt -> Binary,
        digest -> Binary,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        payload -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}
