-- 0004_tokens (PostgreSQL): API tokens, as in migrations/0004_tokens.sql. A token is stored
-- only as the SHA-256 (hex) of its text; role is what it may do. From this version on,
-- secret values in documents are stored sealed (the store seals when it opens with a key).

CREATE TABLE tokens (
	name text COLLATE "C" PRIMARY KEY NOT NULL,
	role text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
	hash text NOT NULL UNIQUE CHECK (length(hash) = 64),
	created text NOT NULL,
	last_used text
);
