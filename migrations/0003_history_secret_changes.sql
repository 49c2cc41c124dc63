-- 0003_history_secret_changes: which secrets a change altered, so the history can say
-- "secrets.jwt-secret changed" although its documents are masked. A JSON array of the
-- secret keys whose value differs between the old and the new document (added, removed
-- or changed); the values themselves are never recorded. NULL in rows written before.
ALTER TABLE history ADD COLUMN secret_changes TEXT
	CHECK (secret_changes IS NULL OR (json_valid(secret_changes) AND json_type(secret_changes) = 'array'));
