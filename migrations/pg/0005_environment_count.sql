-- 0005_environment_count (PostgreSQL): each stack keeps the number of its environments,
-- kept by triggers on every insert and delete of an environment, as in
-- migrations/0005_environment_count.sql.

ALTER TABLE stacks ADD COLUMN environments bigint NOT NULL DEFAULT 0 CHECK (environments >= 0);

UPDATE stacks SET environments = (SELECT count(*) FROM environments e WHERE e.stack = stacks.name);

CREATE FUNCTION environments_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		UPDATE stacks SET environments = environments + 1 WHERE name = NEW.stack;
	ELSE
		UPDATE stacks SET environments = environments - 1 WHERE name = OLD.stack;
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER environments_count_insert AFTER INSERT ON environments
	FOR EACH ROW EXECUTE FUNCTION environments_count();

CREATE TRIGGER environments_count_delete AFTER DELETE ON environments
	FOR EACH ROW EXECUTE FUNCTION environments_count();
