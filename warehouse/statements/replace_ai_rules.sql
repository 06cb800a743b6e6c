-- `page_ai_rules` is the parsed ai_rules.csv, registered by the loader.
DELETE FROM ai_rules;
INSERT INTO ai_rules BY NAME SELECT * FROM page_ai_rules;
