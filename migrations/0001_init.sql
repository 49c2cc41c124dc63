-- 0001_init: stacks, their environments, and the append-only history of every change.
-- Documents are JSON text; revision starts at 1 and grows by 1 on every change.

CREATE TABLE stacks (
	name TEXT PRIMARY KEY NOT NULL,
	document TEXT NOT NULL CHECK (json_valid(document) AND json_type(document) = 'object'),
	revision INTEGER NOT NULL CHECK (revision > 0),
	created TEXT NOT NULL,
	updated TEXT NOT NULL
) STRICT;

CREATE TABLE environments (
	stack TEXT NOT NULL REFERENCES stacks(name) ON DELETE CASCADE,
	name TEXT NOT NULL,
	document TEXT NOT NULL CHECK (json_valid(document) AND json_type(document) = 'object'),
	revision INTEGER NOT NULL CHECK (revision > 0),
	created TEXT NOT NULL,
	updated TEXT NOT NULL,
	PRIMARY KEY (stack, name)
) STRICT;

-- kind: create | update | delete. environment is NULL for a change of the stack itself.
-- Documents have their secret values masked ({"set": true}).
CREATE TABLE history (
	id INTEGER PRIMARY KEY,
	time TEXT NOT NULL,
	actor TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('create', 'update', 'delete')),
	stack TEXT NOT NULL,
	environment TEXT,
	revision INTEGER NOT NULL,
	old_document TEXT,
	new_document TEXT
) STRICT;

CREATE INDEX history_by_target ON history (stack, environment, id);

CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN
	SELECT RAISE(ABORT, 'history is append-only');
END;

CREATE TRIGGER history_no_delete BEFORE DELETE ON history
BEGIN
	SELECT RAISE(ABORT, 'history is append-only');
END;
