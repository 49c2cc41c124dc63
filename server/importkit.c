/* importkit: the importers' shared decisions: secret-looking variables, the keys of secret
 * values, the value most services share, datastore images and their components, image
 * references, service names, sources. */
#include "importkit.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "catalog.h"
#include "syntax.h"
#include "util.h"

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

/* ---- datastores as components ---- */

static const struct {
	const char *var;
	enum importkit_store_role role;
} store_vars[] = {
	{"MYSQL_ROOT_PASSWORD", IMPORTKIT_ROOT_PASSWORD}, {"MARIADB_ROOT_PASSWORD", IMPORTKIT_ROOT_PASSWORD},
	{"MONGO_INITDB_ROOT_PASSWORD", IMPORTKIT_ROOT_PASSWORD}, {"MYSQL_PASSWORD", IMPORTKIT_PASSWORD},
	{"MARIADB_PASSWORD", IMPORTKIT_PASSWORD}, {"RABBITMQ_DEFAULT_PASS", IMPORTKIT_PASSWORD},
	{"REDIS_PASSWORD", IMPORTKIT_PASSWORD}, {"POSTGRES_PASSWORD", IMPORTKIT_BOTH_PASSWORDS},
	{"MYSQL_DATABASE", IMPORTKIT_DATABASE}, {"MARIADB_DATABASE", IMPORTKIT_DATABASE},
	{"POSTGRES_DB", IMPORTKIT_DATABASE}, {"MONGO_INITDB_DATABASE", IMPORTKIT_DATABASE},
	{"MYSQL_USER", IMPORTKIT_USER}, {"MARIADB_USER", IMPORTKIT_USER}, {"POSTGRES_USER", IMPORTKIT_USER},
	{"RABBITMQ_DEFAULT_USER", IMPORTKIT_ADMIN_USER},
};

enum importkit_store_role importkit_store_role(const char *var)
{
	for (size_t i = 0; i < sizeof store_vars / sizeof *store_vars; i++)
		if (strcmp(store_vars[i].var, var) == 0)
			return store_vars[i].role;
	return IMPORTKIT_OTHER;
}

bool importkit_role_sets(enum importkit_store_role role, const char *secret)
{
	if (strcmp(secret, "rootPassword") == 0)
		return role == IMPORTKIT_ROOT_PASSWORD || role == IMPORTKIT_BOTH_PASSWORDS;
	return strcmp(secret, "password") == 0 && (role == IMPORTKIT_PASSWORD || role == IMPORTKIT_BOTH_PASSWORDS);
}

bool importkit_type_has(const char *type, const char *section, const char *member)
{
	const struct catalog_type *t = catalog_find(catalog_builtin(), type);
	return t && json_object_get(json_object_get(t->def, section), member);
}

int importkit_store_secret_key(const char *name, const char *secret, struct buf *key)
{
	buf_reset(key);
	int r = BUF_PUTS(key, name, strcmp(secret, "rootPassword") == 0 ? "-root-password" : "-password");
	return r < 0 ? -ENOMEM : 0;
}

json_t *importkit_store_instance(const struct importkit_datastore *ds, const char *repository)
{
	json_t *inst = json_pack("{s:s}", "type", ds->type);
	if (inst && ds->tag[0] &&
	    json_object_set_new(inst, "image", json_pack("{s:s, s:s}", "repository", repository, "tag", ds->tag)) < 0) {
		json_decref(inst);
		return NULL;
	}
	return inst;
}

bool importkit_db_identifier(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The database named by a database URL in value, into out (n bytes). */
static bool url_database(const char *value, char *out, size_t n)
{
	static const char *const schemes[] = {"mysql://", "mariadb://", "postgres://", "postgresql://",
					      "mongodb://", NULL};
	const char *p = NULL;
	for (size_t i = 0; !p && schemes[i]; i++)
		p = strstr(value, schemes[i]);
	if (!p)
		return false;
	p = strchr(strstr(p, "//") + 2, '/');
	if (!p)
		return false;
	size_t len = strcspn(p + 1, "?;/ ");
	if (len == 0 || len >= n)
		return false;
	memcpy(out, p + 1, len);
	out[len] = '\0';
	return true;
}

/* Copies s into out (n bytes) when it is an identifier of at most max characters. */
static void take_identifier(char *out, size_t n, const char *s, size_t max)
{
	if (!out[0] && importkit_db_identifier(s, max) && strlen(s) < n)
		memcpy(out, s, strlen(s) + 1);
}

void importkit_db_guess(struct importkit_db_guess *g, const char *var, const char *value)
{
	char tmp[65];
	if (!value)
		return;
	if (!g->name[0] && url_database(value, tmp, sizeof tmp))
		take_identifier(g->name, sizeof g->name, tmp, 63);
	if (ends_with(var, "DB_NAME") || ends_with(var, "DATABASE_NAME") || ends_with(var, "_DATABASE"))
		take_identifier(g->name, sizeof g->name, value, 63);
	if ((ends_with(var, "DB_USER") || ends_with(var, "DB_USERNAME") || ends_with(var, "DATASOURCE_USERNAME") ||
	     strcmp(var, "MYSQL_USER") == 0 || strcmp(var, "POSTGRES_USER") == 0) &&
	    strcmp(value, "root") != 0)
		take_identifier(g->user, sizeof g->user, value, 32);
}

/* use[member] = own, else plan[member], when the type takes member. */
static int use_param(json_t *use, const char *type, const char *member, const char *own, const json_t *plan)
{
	if (!importkit_type_has(type, "consumer", member))
		return 0;
	if (*own)
		return json_object_set_new(use, member, json_string(own));
	if (json_object_get(plan, member))
		return json_object_set(use, member, json_object_get(plan, member));
	return 0;
}

json_t *importkit_use(const char *type, const struct importkit_db_guess *own, const json_t *plan)
{
	json_t *use = json_object();
	if (use && (use_param(use, type, "database", own->name, plan) < 0 ||
		    use_param(use, type, "user", own->user, plan) < 0)) {
		json_decref(use);
		return NULL;
	}
	return use;
}

static bool host_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

bool importkit_names_host(const char *value, const char *host)
{
	size_t n = strlen(host);
	for (const char *p = n ? strstr(value, host) : NULL; p; p = strstr(p + 1, host))
		if ((p == value || !host_char(p[-1])) && !host_char(p[n]))
			return true;
	return false;
}

/* ---- image references ---- */

bool importkit_image_split(const char *ref, struct importkit_image *img)
{
	memset(img, 0, sizeof *img);
	const char *at = strchr(ref, '@');
	size_t len = at ? (size_t)(at - ref) : strlen(ref);
	if (at && !util_copy_str(img->digest, sizeof img->digest, at + 1, strlen(at + 1)))
		return false;
	const char *slash = memchr(ref, '/', len);
	const char *rest = ref;
	if (slash) {
		size_t first = (size_t)(slash - ref);
		bool host = memchr(ref, '.', first) || memchr(ref, ':', first) ||
			    (first == 9 && memcmp(ref, "localhost", 9) == 0);
		if (host) {
			if (!util_copy_str(img->registry, sizeof img->registry, ref, first))
				return false;
			rest = slash + 1;
		}
	}
	size_t rlen = len - (size_t)(rest - ref);
	const char *colon = NULL;
	for (size_t i = rlen; i > 0; i--) {
		if (rest[i - 1] == '/')
			break;
		if (rest[i - 1] == ':') {
			colon = rest + i - 1;
			break;
		}
	}
	size_t repo_len = colon ? (size_t)(colon - rest) : rlen;
	if (colon && !util_copy_str(img->tag, sizeof img->tag, colon + 1, rlen - repo_len - 1))
		return false;
	if (!util_copy_str(img->repository, sizeof img->repository, rest, repo_len))
		return false;
	if (strcmp(img->registry, "docker.io") == 0 || strcmp(img->registry, "index.docker.io") == 0)
		img->registry[0] = '\0';
	/* Docker Hub's official images may be written library/NAME */
	if (!img->registry[0] && strncmp(img->repository, "library/", 8) == 0)
		memmove(img->repository, img->repository + 8, strlen(img->repository + 8) + 1);
	return true;
}

const char *importkit_image_base(const struct importkit_image *img)
{
	const char *slash = strrchr(img->repository, '/');
	return slash ? slash + 1 : img->repository;
}

void importkit_service_name(const char *in, char out[64])
{
	size_t n = strlen(in);
	out[0] = '\0';
	if (n == 0 || n > 63)
		return;
	for (size_t i = 0; i <= n; i++)
		out[i] = in[i] == '_' || in[i] == '.' ? '-' : (char)tolower((unsigned char)in[i]);
	if (!util_is_dns_label(out) || !isalpha((unsigned char)out[0]))
		out[0] = '\0';
}

static int set_str(json_t *obj, const char *key, const char *value)
{
	return obj && json_object_set_new(obj, key, json_string(value)) == 0 ? 0 : -ENOMEM;
}

/* obj[key] as an object, created when missing; NULL on failure. */
static json_t *member_object(json_t *obj, const char *key)
{
	json_t *c = json_object_get(obj, key);
	if (!c && json_object_set_new(obj, key, json_object()) == 0)
		c = json_object_get(obj, key);
	return c;
}

int importkit_settle_images(json_t *stack, json_t *env, json_t *services, const json_t *registries,
			    const json_t *tags)
{
	const char *registry = importkit_most(registries, 1), *tag = importkit_most(tags, 1);
	registry = registry ? registry : "";
	tag = tag ? tag : "";
	int r = set_str(member_object(stack, "image"), "registry", registry);
	if (r == 0)
		r = set_str(member_object(env, "image"), "tag", tag);
	const char *name;
	json_t *svc;
	json_object_foreach(services, name, svc) {
		json_t *image = json_object_get(svc, "image");
		const char *reg = json_string_value(json_object_get(image, "registry"));
		if (reg && strcmp(reg, registry) == 0)
			(void)json_object_del(image, "registry");
		else if (reg && !*reg && r == 0)
			r = set_str(image, "registry", "docker.io");
		const char *t = json_string_value(json_object_get(image, "tag"));
		if (t && strcmp(t, tag) == 0)
			(void)json_object_del(image, "tag");
	}
	return r;
}

int importkit_source_of(const char *text, size_t start, size_t end, struct buf *out)
{
	static const char tag[] = "# Source: ";
	const char *p = text + start, *stop = text + end;
	while (p < stop) {
		const char *eol = memchr(p, '\n', (size_t)(stop - p));
		const char *line_end = eol ? eol : stop;
		if ((size_t)(line_end - p) > sizeof tag - 1 && memcmp(p, tag, sizeof tag - 1) == 0) {
			const char *v = p + sizeof tag - 1;
			size_t n = (size_t)(line_end - v);
			while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == ' '))
				n--;
			return buf_append(out, v, n) < 0 ? -ENOMEM : 0;
		}
		p = line_end + 1;
	}
	return 0;
}

int importkit_fit_requests(json_t *resources, bool lowered[2])
{
	static const char *const names[2] = {"cpu", "memory"};
	json_t *req = json_object_get(resources, "requests");
	const json_t *lim = json_object_get(resources, "limits");
	for (int i = 0; i < 2; i++) {
		const char *r = json_string_value(json_object_get(req, names[i]));
		const json_t *l = json_object_get(lim, names[i]);
		long double rv, lv;
		lowered[i] = r && json_is_string(l) && syntax_quantity_value(r, &rv) == 0 &&
			     syntax_quantity_value(json_string_value(l), &lv) == 0 && rv > lv;
		if (lowered[i] && json_object_set(req, names[i], (json_t *)l) < 0)
			return -ENOMEM;
	}
	return 0;
}
