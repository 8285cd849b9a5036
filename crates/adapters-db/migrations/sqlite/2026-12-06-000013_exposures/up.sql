-- Exposure reports (what was found at a site, in which window, by whom) and the in-app
-- notifications they cause: one per person and report, deleted with the person's account.
CREATE TABLE exposure_reports (
    id           TEXT PRIMARY KEY NOT NULL,
    site_id      TEXT NOT NULL REFERENCES sites (id),
    window_start TEXT NOT NULL,
    window_end   TEXT NOT NULL,
    note         TEXT NOT NULL,
    reported_by  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    CHECK (window_end > window_start)
) STRICT;
CREATE INDEX exposure_reports_latest ON exposure_reports (created_at DESC);

CREATE TABLE notifications (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    report_id  TEXT NOT NULL REFERENCES exposure_reports (id),
    message    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at    TEXT,
    UNIQUE (user_id, report_id)
) STRICT;
CREATE INDEX notifications_user ON notifications (user_id, created_at DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
