-- 0006_document_v2: every stored document (stacks, environments, and both documents of
-- every history row) carried into the general workload model (shape 2: probes of every
-- kind, ingress rules; see include/docmigrate.h), so that each environment resolves and
-- renders the same objects as before. document_v2(doc, stack) is an SQL function
-- registered by the store; an environment is converted in the light of its stack's
-- shape-1 document, so environments and history go first, stacks last. History stays
-- append-only for everything else: its trigger is lifted for this one rewrite only.

DROP TRIGGER history_no_update;

UPDATE environments
SET document = document_v2(document, (SELECT s.document FROM stacks s WHERE s.name = environments.stack));

UPDATE history
SET old_document = document_v2(old_document,
		CASE WHEN environment IS NULL THEN NULL
		     ELSE (SELECT s.document FROM stacks s WHERE s.name = history.stack) END),
    new_document = document_v2(new_document,
		CASE WHEN environment IS NULL THEN NULL
		     ELSE (SELECT s.document FROM stacks s WHERE s.name = history.stack) END);

UPDATE stacks SET document = document_v2(document, NULL);

CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN
	SELECT RAISE(ABORT, 'history is append-only');
END;
