DROP TABLE visit_tokens;
