-- 0002_seed_msa_shop: the msa-shop stack and its dev, staging and prod environments,
-- from the seed documents embedded in the binary (migrations/seed/msa-shop/*.json).
-- seed_document(name) returns that file as compact JSON; mask_secrets(doc) masks secret
-- values for the history rows. Both are SQL functions registered by the store.

INSERT INTO stacks (name, document, revision, created, updated)
VALUES ('msa-shop', seed_document('msa-shop/stack.json'), 1,
	strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

INSERT INTO environments (stack, name, document, revision, created, updated)
SELECT 'msa-shop', env, seed_document('msa-shop/' || env || '.json'), 1,
	strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
FROM (SELECT 'dev' AS env UNION ALL SELECT 'staging' UNION ALL SELECT 'prod');

INSERT INTO history (time, actor, kind, stack, environment, revision, old_document, new_document)
SELECT created, 'migration:0002_seed_msa_shop', 'create', 'msa-shop', NULL, revision, NULL,
	mask_secrets(document)
FROM stacks WHERE name = 'msa-shop';

INSERT INTO history (time, actor, kind, stack, environment, revision, old_document, new_document)
SELECT created, 'migration:0002_seed_msa_shop', 'create', stack, name, revision, NULL,
	mask_secrets(document)
FROM environments WHERE stack = 'msa-shop' ORDER BY name;
