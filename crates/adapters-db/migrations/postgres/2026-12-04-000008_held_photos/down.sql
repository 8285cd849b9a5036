DROP TABLE held_photos;
