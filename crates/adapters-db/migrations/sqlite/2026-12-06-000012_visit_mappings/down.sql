DROP TABLE visit_mappings;
