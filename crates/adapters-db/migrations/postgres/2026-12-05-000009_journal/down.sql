DROP TABLE journal_usage;
DROP TABLE identification_photos;
DROP TABLE sightings;
DROP TABLE identifications;
