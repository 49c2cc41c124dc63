-- 0007_components: the component types platform teams store (include/catalog.h; built-in
-- types live in the binary, a stored one of the same name overrides it), and the
-- append-only history of their changes. The C step of this version (server/store_migrate.c)
-- carries every stored document into components (include/docmigrate.h, docmigrate_v3).
-- A type's revision starts at 1 and grows by 1 on every change; deleted and stored again,
-- it starts over (its earlier history rows are kept).

CREATE TABLE catalog (
	name TEXT PRIMARY KEY NOT NULL,
	document TEXT NOT NULL CHECK (json_valid(document) AND json_type(document) = 'object'),
	revision INTEGER NOT NULL CHECK (revision > 0),
	created TEXT NOT NULL,
	updated TEXT NOT NULL
) STRICT;

-- kind: create | update | delete. A type holds no secret values: documents as they were.
CREATE TABLE catalog_history (
	id INTEGER PRIMARY KEY,
	time TEXT NOT NULL,
	actor TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('create', 'update', 'delete')),
	name TEXT NOT NULL,
	revision INTEGER NOT NULL,
	old_document TEXT,
	new_document TEXT
) STRICT;

CREATE INDEX catalog_history_by_name ON catalog_history (name, id);

CREATE TRIGGER catalog_history_no_update BEFORE UPDATE ON catalog_history
BEGIN
	SELECT RAISE(ABORT, 'catalog_history is append-only');
END;

CREATE TRIGGER catalog_history_no_delete BEFORE DELETE ON catalog_history
BEGIN
	SELECT RAISE(ABORT, 'catalog_history is append-only');
END;
