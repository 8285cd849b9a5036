DROP TABLE reencryption_progress;
DROP TABLE job_leases;
