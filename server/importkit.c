/* importkit: the importers' shared decisions: secret-looking variables, the keys of secret
 * values, the value most services share. */
#include "importkit.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

bool importkit_secret_name(const char *var)
{
	static const char *const words[] = {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", NULL};
	for (size_t i = 0; words[i]; i++)
		if (strcasestr(var, words[i]))
			return true;
	return false;
}

int importkit_secret_key(json_t *values, const char *service, const char *var, const char *value, struct buf *key)
{
	const char *k;
	json_t *v;
	buf_reset(key);
	json_object_foreach(values, k, v)
		if (json_is_string(v) && strcmp(json_string_value(v), value) == 0)
			return buf_puts(key, k) < 0 ? -ENOMEM : 0;
	int r = 0;
	for (int attempt = 0; r == 0 && attempt < 2; attempt++) {
		buf_reset(key);
		if (attempt)
			r = BUF_PUTS(key, service, "-");
		for (const char *p = var; r == 0 && *p; p++) {
			char c = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
			r = buf_append(key, &c, 1);
		}
		if (!json_object_get(values, buf_cstr(key)))
			break;
	}
	if (r == 0 && json_object_set_new(values, buf_cstr(key), json_string(value)) < 0)
		r = -ENOMEM;
	return r < 0 ? -ENOMEM : 0;
}

int importkit_count(json_t *counts, const char *value)
{
	json_int_t n = json_integer_value(json_object_get(counts, value));
	return json_object_set_new(counts, value, json_integer(n + 1)) < 0 ? -ENOMEM : 0;
}

const char *importkit_most(const json_t *counts, json_int_t at_least)
{
	const char *best = NULL, *key;
	json_int_t n = at_least - 1;
	json_t *v;
	json_object_foreach((json_t *)counts, key, v) {
		if (json_integer_value(v) > n) {
			n = json_integer_value(v);
			best = key;
		}
	}
	return best;
}
