/* jsonutil: JSON helpers shared by the unit tests (see jsonutil.h). */
#include "jsonutil.h"

#include <check.h>
#include <stdlib.h>

#include "seed.h"

json_t *jsonutil_seed(const char *name)
{
	size_t len = 0;
	const char *text = seed_file(name, &len);
	ck_assert_msg(text != NULL, "no built-in '%s'", name);
	json_error_t je;
	json_t *doc = json_loadb(text, len, 0, &je);
	ck_assert_msg(doc != NULL, "%s: %s", name, je.text);
	return doc;
}

json_t *jsonutil_reversed(const json_t *v, bool (*keep)(const char *key))
{
	if (!json_is_object(v))
		return json_deep_copy(v);
	size_t n = json_object_size(v), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof *keys);
	ck_assert_ptr_nonnull(keys);
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)v, key, val)
		keys[i++] = key;
	json_t *out = json_object();
	ck_assert_ptr_nonnull(out);
	while (i-- > 0) {
		val = json_object_get(v, keys[i]);
		json_t *copy = keep && keep(keys[i]) ? json_deep_copy(val) : jsonutil_reversed(val, keep);
		ck_assert_int_eq(json_object_set_new(out, keys[i], copy), 0);
	}
	free(keys);
	return out;
}
