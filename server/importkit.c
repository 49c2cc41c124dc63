/* importkit: the importers' shared decisions: secret-looking variables, the keys of secret
 * values, the value most services share, image references, service names, sources. */
#include "importkit.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "util.h"

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

static bool copy_str(char *dst, size_t n, const char *src, size_t len)
{
	if (len >= n)
		return false;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

bool importkit_image_split(const char *ref, struct importkit_image *img)
{
	*img = (struct importkit_image){0};
	const char *at = strchr(ref, '@');
	size_t len = at ? (size_t)(at - ref) : strlen(ref);
	if (at && !copy_str(img->digest, sizeof img->digest, at + 1, strlen(at + 1)))
		return false;
	const char *slash = memchr(ref, '/', len);
	const char *rest = ref;
	if (slash) {
		size_t first = (size_t)(slash - ref);
		bool host = memchr(ref, '.', first) || memchr(ref, ':', first) ||
			    (first == 9 && memcmp(ref, "localhost", 9) == 0);
		if (host) {
			if (!copy_str(img->registry, sizeof img->registry, ref, first))
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
	if (colon && !copy_str(img->tag, sizeof img->tag, colon + 1, rlen - repo_len - 1))
		return false;
	if (!copy_str(img->repository, sizeof img->repository, rest, repo_len))
		return false;
	/* Docker Hub's official images may be written library/NAME */
	if (!img->registry[0] && strncmp(img->repository, "library/", 8) == 0)
		memmove(img->repository, img->repository + 8, strlen(img->repository + 8) + 1);
	if (strcmp(img->registry, "docker.io") == 0 || strcmp(img->registry, "index.docker.io") == 0)
		img->registry[0] = '\0';
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
