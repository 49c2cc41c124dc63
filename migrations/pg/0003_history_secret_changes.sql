-- 0003_history_secret_changes (PostgreSQL): which secrets a change altered, as in
-- migrations/0003_history_secret_changes.sql: a JSON array of secret key names, never
-- values; NULL in rows written before.
ALTER TABLE history ADD COLUMN secret_changes text
	CHECK (secret_changes IS NULL OR json_typeof(secret_changes::json) = 'array');
