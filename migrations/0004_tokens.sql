-- 0004_tokens: API tokens (see include/auth.h), and secrets sealed at rest.
-- A token is stored only as the SHA-256 (hex) of its text; role is what it may do.
-- last_used is written at most once a minute per token.
--
-- From this version on, secret values in stacks.document and environments.document are
-- stored sealed ({"sealed": "v1:..."}, XChaCha20-Poly1305 under the key of the server,
-- see include/secretbox.h). SQL cannot encrypt, so the store seals any plaintext secret
-- left by older versions (and by the seed of 0002) when it is next opened with a key,
-- in one transaction, right after the migrations; this version number keeps older
-- binaries, which cannot read sealed values, away from the database.

CREATE TABLE tokens (
	name TEXT PRIMARY KEY NOT NULL,
	role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
	hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
	created TEXT NOT NULL,
	last_used TEXT
) STRICT;
