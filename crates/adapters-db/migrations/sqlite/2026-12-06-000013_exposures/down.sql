DROP TABLE notifications;
DROP TABLE exposure_reports;
