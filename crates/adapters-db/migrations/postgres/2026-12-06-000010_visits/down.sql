DROP TRIGGER bookings_give_back_place ON bookings;
DROP FUNCTION bookings_give_back_place();
DROP TABLE visit_slots;
DROP TABLE bookings;
DROP TABLE service_types;
DROP TABLE sites;
