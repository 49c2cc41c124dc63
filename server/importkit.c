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

int importkit_secret_key(json_t *values, const char *service, const char *var, const char *value, bool share,
			 struct buf *key)
{
	const char *k;
	json_t *v;
	buf_reset(key);
	json_object_foreach(share ? values : NULL, k, v)
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

/* ---- datastore images ---- */

/* One official image of a catalog type, and the oldest version its workload runs. */
struct store_image {
	const char *repository;
	const char *type;
	int major, minor;   /* the oldest version the type's probe and tools work with */
	const char *suffix; /* a variant the type needs ("management"), or NULL */
	const char *old;    /* why an older one is not run */
};

static const struct store_image store_images[] = {
	{"mysql", "mysql", 5, 7, NULL, "older than 5.7"},
	{"mariadb", "mariadb", 10, 4, NULL, "older than 10.4, which has no mariadb-admin for the probe"},
	{"postgres", "postgres", 9, 6, NULL, "older than 9.6"},
	{"redis", "redis", 5, 0, NULL, "older than 5.0"},
	{"mongo", "mongodb", 6, 0, NULL, "older than 6.0, which has no mongosh for the probe and provisioning"},
	{"rabbitmq", "rabbitmq", 3, 8, "management", "older than 3.8, which has no rabbitmq-diagnostics for the probe"},
	{"memcached", "memcached", 1, 5, NULL, "older than 1.5"},
	{"openzipkin/zipkin", "zipkin", 2, 21, NULL, "older than 2.21"},
	{"apache/kafka", "kafka", 3, 7, NULL, "older than 3.7 (the first apache/kafka image)"},
};

/* Variants of the Debian (or Oracle Linux) builds, whose uid is the type's. */
static bool same_build(const char *variant, size_t n)
{
	static const char *const builds[] = {"bookworm", "bullseye", "buster", "focal", "jammy",
					     "noble", "debian", "oracle", NULL};
	for (size_t i = 0; builds[i]; i++)
		if (strlen(builds[i]) == n && strncmp(variant, builds[i], n) == 0)
			return true;
	return false;
}

/* Reads "MAJOR[.MINOR[...]]" at the start of tag: its length, or 0 when none. */
static size_t tag_version(const char *tag, int *ret_major, int *ret_minor)
{
	int part[2] = {0, 0};
	size_t i = 0;
	for (int k = 0; k < 8; k++) {
		size_t start = i;
		int v = 0;
		while (isdigit((unsigned char)tag[i]) && i - start < 6)
			v = v * 10 + (tag[i++] - '0');
		if (i == start)
			return 0;
		if (k < 2)
			part[k] = v;
		if (tag[i] != '.' || !isdigit((unsigned char)tag[i + 1]))
			break;
		i++;
	}
	*ret_major = part[0];
	*ret_minor = part[1];
	return i;
}

/* The tag of a recognised image made to fit its type (importkit_datastore). */
static void store_tag(const struct store_image *s, const char *tag, struct importkit_datastore *ret)
{
	int major, minor;
	size_t n = tag_version(tag, &major, &minor);
	if (n == 0) {
		ret->why = *tag ? "the tag names no version" : "the image has no tag";
		return;
	}
	if (major < s->major || (major == s->major && minor < s->minor)) {
		ret->why = s->old;
		return;
	}
	bool dropped = false, has_suffix = false;
	size_t len = n;
	char out[sizeof ret->tag];
	if (n >= sizeof out)
		return;
	memcpy(out, tag, n);
	for (const char *p = tag + n; *p == '-';) {
		const char *v = p + 1;
		size_t vn = strcspn(v, "-");
		bool suffix = s->suffix && strlen(s->suffix) == vn && strncmp(v, s->suffix, vn) == 0;
		if ((suffix || same_build(v, vn)) && len + 1 + vn < sizeof out) {
			out[len++] = '-';
			memcpy(out + len, v, vn);
			len += vn;
			has_suffix |= suffix;
		} else {
			dropped = true;
		}
		p = v + vn;
	}
	if (tag[n] && tag[n] != '-')
		dropped = true;
	if (s->suffix && !has_suffix && len + 1 + strlen(s->suffix) < sizeof out) {
		out[len++] = '-';
		memcpy(out + len, s->suffix, strlen(s->suffix));
		len += strlen(s->suffix);
		ret->why = "the -management build, whose management API provisioning uses";
	}
	out[len] = '\0';
	if (dropped)
		ret->why = "the Debian build of the same version, whose uid, paths and tools the component's workload has";
	memcpy(ret->tag, out, len + 1);
}

bool importkit_datastore(const char *registry, const char *repository, const char *tag,
			 struct importkit_datastore *ret)
{
	if (*registry && strcmp(registry, "docker.io") != 0 && strcmp(registry, "index.docker.io") != 0)
		return false;
	if (strncmp(repository, "library/", 8) == 0)
		repository += 8;
	for (size_t i = 0; i < sizeof store_images / sizeof *store_images; i++) {
		const struct store_image *s = &store_images[i];
		if (strcmp(repository, s->repository) != 0)
			continue;
		*ret = (struct importkit_datastore){.type = s->type};
		store_tag(s, tag, ret);
		return true;
	}
	return false;
}
