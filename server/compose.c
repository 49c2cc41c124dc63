/* compose: docker-compose import: the compose document (read by yamlin) mapped onto a
 * stack and an environment, with a report of what has no counterpart. */
#include "compose.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "compose_vars.h"
#include "importkit.h"
#include "model.h"
#include "util.h"
#include "yamlin.h"

void compose_result_release(struct compose_result *r)
{
	if (!r)
		return;
	json_decref(r->stack);
	json_decref(r->environment);
	json_decref(r->report);
	*r = (struct compose_result){0};
}

int compose_parse_yaml(const char *text, size_t len, struct buf *err, json_t **ret_doc)
{
	static const struct yamlin_opts opts = {COMPOSE_MAX_BYTES, COMPOSE_MAX_DEPTH, COMPOSE_MAX_NODES, 0};
	return yamlin_parse(text, len, &opts, err, ret_doc);
}

#define STORAGE_SIZE "1Gi"


struct conv {
	const json_t *compose;
	const json_t *services_in; /* compose services, interpolated (services_own) */
	json_t *services_own;      /* a copy of the compose services, interpolated */
	json_t *stack, *env, *report;
	json_t *services;          /* stack.services (borrowed from stack) */
	json_t *components;        /* stack.components (borrowed from stack) */
	json_t *names;             /* compose service name -> manifestd name (or null: skipped) */
	json_t *stores;            /* compose name of each datastore -> {type, database, user} */
	json_t *used_volumes;      /* named volumes that were mapped */
	json_t *tags, *registries; /* value -> count, to pick the top-level ones */
	json_t *entries;           /* compose name -> the target of its first published port */
	const char *ingress;       /* compose name of the service of the main rule */
	int ingress_rank;          /* how sure: 2 for host port 80 or 443, else 1 */
	int rc;                    /* sticky -ENOMEM */
};

/* Sets rc on allocation failure; returns it. */
static int oom(struct conv *cv, int r)
{
	if (r < 0 && cv->rc == 0)
		cv->rc = r;
	return cv->rc;
}

static void set_new(struct conv *cv, json_t *obj, const char *key, json_t *value)
{
	if (!value || json_object_set_new(obj, key, value) < 0)
		(void)oom(cv, -ENOMEM);
}

/* The object obj[key], created when missing (NULL only after a failure). */
static json_t *child(struct conv *cv, json_t *obj, const char *key)
{
	json_t *c = json_object_get(obj, key);
	if (!c && obj) {
		c = json_object();
		set_new(cv, obj, key, c);
		c = json_object_get(obj, key);
	}
	return c;
}

/* Appends a new reference to the array arr (NULL values and failures set rc). */
static void append_new(struct conv *cv, json_t *arr, json_t *value)
{
	if (!value || json_array_append_new(arr, value) < 0)
		(void)oom(cv, -ENOMEM);
}

/* The array obj[key], created when missing (NULL only after a failure). */
static json_t *child_array(struct conv *cv, json_t *obj, const char *key)
{
	json_t *c = json_object_get(obj, key);
	if (!c && obj) {
		set_new(cv, obj, key, json_array());
		c = json_object_get(obj, key);
	}
	return c;
}

/* Appends {"path": "/t0/t1/...", "kind", "detail"} to the report; tokens end at the first NULL
 * (at most 4) and are escaped per RFC 6901. */
static void report(struct conv *cv, const char *t0, const char *t1, const char *t2, const char *t3,
		   const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void guess(struct conv *cv, const char *t0, const char *t1, const char *t2, const char *t3,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void vreport(struct conv *cv, const char *kind, const char *const tokens[4], const char *fmt,
		    va_list ap) __attribute__((format(printf, 4, 0)));
static void vreport_at(struct conv *cv, const char *kind, const char *path, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static void guess_at(struct conv *cv, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Appends {"path", "kind", "detail"} to the report. kind: "unmapped" (what has no
 * counterpart, or was left out) or "guess" (what was decided without the file saying it). */
static void vreport_at(struct conv *cv, const char *kind, const char *path, const char *fmt, va_list ap)
{
	struct buf detail;
	buf_init(&detail, BUF_NO_MAX);
	int r = buf_vprintf(&detail, fmt, ap);
	if (r == 0) {
		json_t *item = json_pack("{s:s, s:s, s:s}", "path", path, "kind", kind, "detail", buf_cstr(&detail));
		if (!item || json_array_append_new(cv->report, item) < 0)
			r = -ENOMEM;
	}
	(void)oom(cv, r);
	buf_release(&detail);
}

static void vreport(struct conv *cv, const char *kind, const char *const tokens[4], const char *fmt,
		    va_list ap)
{
	struct buf path;
	buf_init(&path, BUF_NO_MAX);
	int r = 0;
	for (size_t i = 0; r == 0 && i < 4 && tokens[i]; i++)
		r = util_pointer_append(&path, tokens[i]);
	if (r == 0)
		vreport_at(cv, kind, buf_cstr(&path), fmt, ap);
	(void)oom(cv, r);
	buf_release(&path);
}

/* A guess about the place path (a JSON Pointer) of the compose document. */
static void guess_at(struct conv *cv, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport_at(cv, "guess", path, fmt, ap);
	va_end(ap);
}

static void report(struct conv *cv, const char *t0, const char *t1, const char *t2, const char *t3,
		   const char *fmt, ...)
{
	const char *const tokens[4] = {t0, t1, t2, t3};
	va_list ap;
	va_start(ap, fmt);
	vreport(cv, "unmapped", tokens, fmt, ap);
	va_end(ap);
}

static void guess(struct conv *cv, const char *t0, const char *t1, const char *t2, const char *t3,
		  const char *fmt, ...)
{
	const char *const tokens[4] = {t0, t1, t2, t3};
	va_list ap;
	va_start(ap, fmt);
	vreport(cv, "guess", tokens, fmt, ap);
	va_end(ap);
}

/* The text of a scalar (strings as they are, integers and booleans written out); NULL
 * for anything else. Written to out (at most n bytes with the NUL). */
static const char *scalar_text(const json_t *v, char *out, size_t n)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		(void)snprintf(out, n, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		(void)snprintf(out, n, "%s", json_is_true(v) ? "true" : "false");
	else
		return NULL;
	return out;
}



/* ---- names ---- */



/* ---- interpolation ---- */

static void interpolate(struct conv *cv, json_t *v, struct buf *path);

/* A string that uses a variable with a default: set to what compose reads with no
 * variable set (a guess); other variables stay as written, for the mapping to report. */
static void interpolate_string(struct conv *cv, json_t *v, const char *path)
{
	struct buf out;
	struct compose_vars_info info;
	buf_init(&out, BUF_NO_MAX);
	if (oom(cv, compose_vars_expand(json_string_value(v), COMPOSE_VARS_KEEP, &out, &info)) == 0 &&
	    info.defaults) {
		guess_at(cv, path, "uses docker compose interpolation: with no variable set here, it reads '%s' (%s)",
			 buf_cstr(&out), "the defaults of ${VAR:-default}; set the values that differ");
		if (json_string_set(v, buf_cstr(&out)) < 0)
			(void)oom(cv, -ENOMEM);
	}
	buf_release(&out);
}

/* The member (key, or index with key NULL) of v at path/token. */
static void interpolate_member(struct conv *cv, json_t *v, const char *key, size_t i, struct buf *path)
{
	char tok[24];
	size_t len = path->len;
	(void)snprintf(tok, sizeof tok, "%zu", i);
	if (oom(cv, util_pointer_append(path, key ? key : tok)) == 0)
		interpolate(cv, v, path);
	buf_truncate(path, len);
}

/* Every string in v (at path) interpolated as compose does with no variable set. */
static void interpolate(struct conv *cv, json_t *v, struct buf *path)
{
	const char *key;
	json_t *m;
	size_t i;
	if (json_is_string(v) && strchr(json_string_value(v), '$'))
		interpolate_string(cv, v, buf_cstr(path));
	json_object_foreach(v, key, m)
		interpolate_member(cv, m, key, 0, path);
	json_array_foreach(v, i, m)
		interpolate_member(cv, m, NULL, i, path);
}

/* ---- values ---- */

/* A compose boolean: true or false, or the text "true" or "false" (what an interpolation
 * gives). false when v is none of them. */
static bool compose_bool(const json_t *v, bool *ret)
{
	const char *s = json_string_value(v);
	if (json_is_boolean(v) || (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))) {
		*ret = json_is_true(v) || (s && strcmp(s, "true") == 0);
		return true;
	}
	return false;
}

/* A compose duration ("1m30s", "10s", "500ms", or a number of seconds) in whole seconds,
 * rounded up. -EINVAL when it is not one. */
static int duration_seconds(const json_t *v, long long *ret)
{
	if (json_is_integer(v)) {
		*ret = json_integer_value(v);
		return *ret >= 0 ? 0 : -EINVAL;
	}
	const char *s = json_string_value(v);
	if (!s || !*s)
		return -EINVAL;
	double total = 0;
	while (*s) {
		char *end;
		double n = strtod(s, &end);
		if (end == s || n < 0)
			return -EINVAL;
		s = end;
		double unit;
		if (strncmp(s, "ms", 2) == 0)
			unit = 1e-3, s += 2;
		else if (strncmp(s, "us", 2) == 0)
			unit = 1e-6, s += 2;
		else if (strncmp(s, "ns", 2) == 0)
			unit = 1e-9, s += 2;
		else if (*s == 'h')
			unit = 3600, s++;
		else if (*s == 'm')
			unit = 60, s++;
		else if (*s == 's')
			unit = 1, s++;
		else
			return -EINVAL;
		total += n * unit;
	}
	if (total > 1e9)
		return -EINVAL;
	long long secs = (long long)total;
	*ret = (double)secs < total ? secs + 1 : secs;
	return 0;
}

/* A compose memory size ("512m", "1g", "1.5gb", "1048576") as a Kubernetes quantity
 * (binary units, as Docker reads them). false when it is not one. */
static bool memory_quantity(const json_t *v, char *out, size_t n)
{
	char tmp[32];
	const char *s = scalar_text(v, tmp, sizeof tmp);
	if (!s || !*s)
		return false;
	size_t i = 0;
	while (isdigit((unsigned char)s[i]) || s[i] == '.')
		i++;
	if (i == 0 || i > 20)
		return false;
	char unit = (char)tolower((unsigned char)s[i]);
	const char *rest = s[i] ? s + i + 1 : s + i;
	if (*rest == 'b' || *rest == 'B')
		rest++;
	const char *suffix = unit == 'k' ? "Ki" : unit == 'm' ? "Mi" : unit == 'g' ? "Gi" : unit == 't' ? "Ti"
			   : (unit == 'b' || unit == '\0') ? "" : NULL;
	if (!suffix || *rest || (unit == 'b' && s[i + 1]))
		return false;
	return snprintf(out, n, "%.*s%s", (int)i, s, suffix) < (int)n;
}

/* ---- renaming hosts ---- */

static bool host_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* value with every whole-word occurrence of from replaced by to, appended to out;
 * *ret_changed tells whether any was. An empty from (a service keyed by "") is no word. */
static int replace_host(const char *value, const char *from, const char *to, struct buf *out,
			bool *ret_changed)
{
	size_t n = strlen(from);
	int r = n == 0 ? buf_puts(out, value) : 0;
	for (const char *p = value; r == 0 && n > 0 && *p;) {
		const char *hit = strstr(p, from);
		bool word = hit && (hit == value || !host_char(hit[-1])) && !host_char(hit[n]);
		if (!hit) {
			r = buf_puts(out, p);
			break;
		}
		r = buf_append(out, p, (size_t)(hit - p));
		if (r == 0)
			r = word ? buf_puts(out, to) : buf_append(out, hit, n);
		*ret_changed |= word;
		p = hit + n;
	}
	return r;
}

/* The value with the compose names of renamed services replaced by their manifestd
 * names (db -> mysql, api_gateway -> api-gateway), as a new string in out. */
static int rename_hosts(struct conv *cv, const char *value, struct buf *out, bool *ret_changed)
{
	int r = buf_puts(out, value);
	const char *from;
	json_t *to;
	json_object_foreach(cv->names, from, to) {
		if (!json_is_string(to) || strcmp(from, json_string_value(to)) == 0)
			continue;
		struct buf next;
		buf_init(&next, BUF_NO_MAX);
		if (r == 0)
			r = replace_host(buf_cstr(out), from, json_string_value(to), &next, ret_changed);
		if (r == 0) {
			buf_reset(out);
			r = buf_puts(out, buf_cstr(&next));
		}
		buf_release(&next);
	}
	return r;
}

/* ---- secrets ---- */

/* The secret key holding value (importkit_secret_key), with "" in the stack's secrets. */
static void secret_key(struct conv *cv, const char *service, const char *var, const char *value,
		       struct buf *key)
{
	(void)oom(cv, importkit_secret_key(child(cv, cv->env, "secrets"), service, var, value,
					   strcmp(value, MODEL_PLACEHOLDER) != 0, key));
	set_new(cv, child(cv, cv->stack, "secrets"), buf_cstr(key), json_string(""));
}

/* Stores value as secret under a fixed key (a component's); "" or an interpolation
 * gets the placeholder and a guess at /services/CNAME/ENV_KEY/VAR (shorter when env_key
 * or var is NULL). */
static void store_secret(struct conv *cv, const char *cname, const char *env_key, const char *var,
			 const char *key, const char *value)
{
	if (!value || !*value || strstr(value, "${")) {
		guess(cv, "services", cname, env_key, var,
		      "has no literal value: the secret '%s' was set to \"%s\"; set the real one in the environment",
		      key, MODEL_PLACEHOLDER);
		value = MODEL_PLACEHOLDER;
	}
	set_new(cv, child(cv, cv->stack, "secrets"), key, json_string(""));
	set_new(cv, child(cv, cv->env, "secrets"), key, json_string(value));
}

/* ---- environment ---- */

static bool env_var_name(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* Calls fn(cv, arg, var, value or NULL, pointer token) for every entry of a compose
 * environment (a mapping, or a list of "VAR=value" / "VAR"). */
typedef void (*env_fn)(struct conv *cv, void *arg, const char *var, const char *value,
		       const char *token);

static void env_foreach(struct conv *cv, const char *cname, const json_t *env, env_fn fn, void *arg)
{
	char tmp[32], tok[24];
	if (json_is_object(env)) {
		const char *var;
		json_t *v;
		json_object_foreach((json_t *)env, var, v)
			fn(cv, arg, var, scalar_text(v, tmp, sizeof tmp), var);
		return;
	}
	if (!json_is_array(env)) {
		if (env)
			report(cv, "services", cname, "environment", NULL,
			       "must be a mapping or a list of VAR=value: not mapped");
		return;
	}
	size_t i;
	json_t *item;
	json_array_foreach(env, i, item) {
		(void)snprintf(tok, sizeof tok, "%zu", i);
		const char *s = json_string_value(item);
		const char *eq = s ? strchr(s, '=') : NULL;
		if (!s) {
			report(cv, "services", cname, "environment", tok, "must be a string VAR=value: not mapped");
			continue;
		}
		struct buf var;
		buf_init(&var, BUF_NO_MAX);
		(void)oom(cv, eq ? buf_append(&var, s, (size_t)(eq - s)) : buf_puts(&var, s));
		fn(cv, arg, buf_cstr(&var), eq ? eq + 1 : NULL, tok);
		buf_release(&var);
	}
}

struct app_env {
	const char *cname;
	const char *name;
	json_t *out; /* the service's env */
};

/* A variable without a value, which docker compose takes from the shell where it runs:
 * read from the key VAR of the stack's config, "" here (a secret: a secret set to the
 * placeholder); the environments set it (a guess). */
static void shell_env(struct conv *cv, const struct app_env *a, const char *var, const char *token)
{
	struct buf key;
	buf_init(&key, BUF_NO_MAX);
	bool secret = importkit_secret_name(var);
	if (secret) {
		secret_key(cv, a->name, var, MODEL_PLACEHOLDER, &key);
		set_new(cv, a->out, var, json_pack("{s:s}", "secret", buf_cstr(&key)));
	} else {
		json_t *config = child(cv, cv->stack, "config");
		if (!json_object_get(config, var))
			set_new(cv, config, var, json_string(""));
		set_new(cv, a->out, var, json_pack("{s:s}", "config", var));
	}
	guess(cv, "services", a->cname, "environment", token,
	      "has no value (docker compose takes it from the shell): it reads the %s '%s', set to \"%s\" here; set its value in the environments",
	      secret ? "secret" : "config key", secret ? buf_cstr(&key) : var, secret ? MODEL_PLACEHOLDER : "");
	buf_release(&key);
}

static void app_env_entry(struct conv *cv, void *arg, const char *var, const char *value,
			  const char *token)
{
	struct app_env *a = arg;
	if (!env_var_name(var)) {
		report(cv, "services", a->cname, "environment", token,
		       "'%s' is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*): not mapped", var);
		return;
	}
	if (!value) {
		shell_env(cv, a, var, token);
		return;
	}
	struct buf v, key;
	buf_init(&v, BUF_NO_MAX);
	buf_init(&key, BUF_NO_MAX);
	bool renamed = false;
	(void)oom(cv, rename_hosts(cv, value, &v, &renamed));
	if (renamed)
		guess(cv, "services", a->cname, "environment", token,
		      "names a service that is called differently here: the value became '%s'",
		       importkit_secret_name(var) ? "(secret)" : buf_cstr(&v));
	bool interpolated = strstr(value, "${") != NULL || (value[0] == '$' && value[1] != '(');
	if (importkit_secret_name(var)) {
		const char *secret = buf_cstr(&v);
		if (interpolated || !*secret) {
			guess(cv, "services", a->cname, "environment", token,
			      "is a secret with no literal value (docker compose interpolates it): its secret was set to \"%s\"; set the real value in the environment",
			       MODEL_PLACEHOLDER);
			secret = MODEL_PLACEHOLDER;
		}
		secret_key(cv, a->name, var, secret, &key);
		set_new(cv, a->out, var, json_pack("{s:s}", "secret", buf_cstr(&key)));
	} else {
		if (interpolated)
			report(cv, "services", a->cname, "environment", token,
			       "uses docker compose interpolation (${...}), which is not done here: the value is kept as written");
		set_new(cv, a->out, var, json_pack("{s:s}", "value", buf_cstr(&v)));
	}
	buf_release(&v);
	buf_release(&key);
}

/* ---- ports ---- */

struct port {
	long long target;    /* the container's port */
	long long published; /* the host's port, 0 when not published (or any port) */
	bool local;          /* published on 127.0.0.1 or localhost only */
	bool udp;
};

/* A port number from text (len bytes); false when it is none. */
static bool port_number(const char *s, size_t n, long long *ret)
{
	char digits[16];
	if (n == 0 || n >= sizeof digits)
		return false;
	memcpy(digits, s, n);
	digits[n] = '\0';
	return util_parse_int(digits, 1, 65535, ret) == 0;
}

/* The protocol of a port entry: false when it is neither tcp nor udp. */
static bool port_protocol(const char *proto, struct port *p)
{
	p->udp = proto && strcmp(proto, "udp") == 0;
	return !proto || p->udp || strcmp(proto, "tcp") == 0;
}

/* One entry of ports or expose: 8080, "8080", "80:8080", "127.0.0.1:80:8080/udp", or
 * {target, published, host_ip, protocol}. NULL, or why it cannot be mapped. */
static const char *parse_port(const json_t *v, struct port *p)
{
	char tmp[32], pub[32];
	*p = (struct port){0};
	if (json_is_object(v)) {
		if (!port_protocol(json_string_value(json_object_get(v, "protocol")), p))
			return "only TCP and UDP ports are mapped";
		const char *published = scalar_text(json_object_get(v, "published"), pub, sizeof pub);
		if (published && !port_number(published, strlen(published), &p->published))
			p->published = 0;
		const char *ip = json_string_value(json_object_get(v, "host_ip"));
		p->local = ip && (strcmp(ip, "127.0.0.1") == 0 || strcmp(ip, "localhost") == 0);
		v = json_object_get(v, "target");
	}
	const char *s = scalar_text(v, tmp, sizeof tmp);
	if (!s)
		return "is not a port";
	const char *slash = strchr(s, '/');
	if (slash && !port_protocol(slash + 1, p))
		return "only TCP and UDP ports are mapped";
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	const char *colon = memrchr(s, ':', len);
	const char *target = colon ? colon + 1 : s;
	if (colon) {
		const char *first = memchr(s, ':', (size_t)(colon - s));
		const char *host = first ? first + 1 : s;
		p->local = first && (strncmp(s, "127.0.0.1:", 10) == 0 || strncmp(s, "localhost:", 10) == 0);
		if (!port_number(host, (size_t)(colon - host), &p->published))
			p->published = 0;
	}
	size_t n = len - (size_t)(target - s);
	if (memchr(target, '-', n))
		return "port ranges are not mapped";
	if (!port_number(target, n, &p->target))
		return "is not a port from 1 to 65535";
	return NULL;
}

/* ---- probes ---- */

/* The command of a healthcheck test as one string into out; false for NONE/absent. */
static bool test_command(const json_t *test, struct buf *out)
{
	if (json_is_string(test))
		return buf_puts(out, json_string_value(test)) == 0;
	const char *kind = json_string_value(json_array_get(test, 0));
	if (!kind || strcmp(kind, "NONE") == 0)
		return false;
	for (size_t i = 1; i < json_array_size(test); i++) {
		const char *arg = json_string_value(json_array_get(test, i));
		if (arg && buf_printf(out, "%s%s", i > 1 ? " " : "", arg) < 0)
			return false;
	}
	return true;
}

/* Finds http://localhost[:port]/path in cmd: the path into path, the port (0 when not
 * given) into *ret_port. false when there is none. */
static bool local_http_url(const char *cmd, struct buf *path, long long *ret_port)
{
	static const char *const hosts[] = {"localhost", "127.0.0.1", "0.0.0.0", "[::1]", NULL};
	for (const char *p = strstr(cmd, "http://"); p; p = strstr(p + 1, "http://")) {
		const char *h = p + 7;
		size_t i = 0;
		while (hosts[i] && strncmp(h, hosts[i], strlen(hosts[i])) != 0)
			i++;
		if (!hosts[i])
			continue;
		h += strlen(hosts[i]);
		*ret_port = 0;
		if (*h == ':') {
			char digits[8];
			size_t n = strspn(h + 1, "0123456789");
			if (n == 0 || n >= sizeof digits)
				continue;
			memcpy(digits, h + 1, n);
			digits[n] = '\0';
			if (util_parse_int(digits, 1, 65535, ret_port) < 0)
				continue;
			h += 1 + n;
		}
		if (*h != '/' && *h != '\0' && !isspace((unsigned char)*h) && *h != '"' && *h != '\'')
			continue;
		size_t n = strcspn(h, " \t\r\n\"'|;&)");
		return (n ? buf_append(path, h, n) : buf_puts(path, "/")) == 0;
	}
	return false;
}

/* ---- deploy ---- */

/* resources[side] from a compose limits/reservations mapping. */
static void map_resource_side(struct conv *cv, const char *cname, const json_t *in,
			      const char *side_in, json_t *out)
{
	char tmp[32], mem[48];
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)in, key, v) {
		if (strcmp(key, "cpus") == 0 && scalar_text(v, tmp, sizeof tmp)) {
			set_new(cv, out, "cpu", json_string(scalar_text(v, tmp, sizeof tmp)));
		} else if (strcmp(key, "memory") == 0 && memory_quantity(v, mem, sizeof mem)) {
			set_new(cv, out, "memory", json_string(mem));
		} else {
			report(cv, "services", cname, "deploy", "resources",
			       "%s.%s is not mapped (cpus and memory are)", side_in, key);
		}
	}
}

/* Docker reserves nothing unless asked, Kubernetes wants requests <= limits: a side
 * given alone is copied to the other one, a reservation above its limit lowered to it. */
static void complete_resources(struct conv *cv, const char *cname, json_t *res)
{
	static const char *const sides[2] = {"limits", "requests"};
	for (int s = 0; s < 2; s++) {
		json_t *from = json_object_get(res, sides[s]);
		json_t *to = child(cv, res, sides[1 - s]);
		const char *key;
		json_t *v;
		json_object_foreach(from, key, v)
			if (!json_object_get(to, key))
				set_new(cv, to, key, json_incref(v));
	}
	bool lowered[2];
	(void)oom(cv, importkit_fit_requests(res, lowered));
	for (int i = 0; i < 2; i++)
		if (lowered[i])
			report(cv, "services", cname, "deploy", "resources", "the %s reservation " IMPORTKIT_ABOVE_LIMIT,
			       i ? "memory" : "cpu");
}

static void map_deploy(struct conv *cv, const char *cname, const json_t *deploy, json_t *svc)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)deploy, key, v) {
		if (strcmp(key, "replicas") == 0 && json_is_integer(v) && json_integer_value(v) >= 0 &&
		    json_integer_value(v) <= 1000) {
			set_new(cv, svc, "replicas", json_incref(v));
		} else if (strcmp(key, "resources") == 0 && json_is_object(v)) {
			json_t *res = json_object();
			const char *k;
			json_t *side;
			json_object_foreach(v, k, side) {
				if ((strcmp(k, "limits") == 0 || strcmp(k, "reservations") == 0) &&
				    json_is_object(side))
					map_resource_side(cv, cname, side, k,
							  child(cv, res, k[0] == 'l' ? "limits" : "requests"));
				else
					report(cv, "services", cname, "deploy", "resources",
					       "'%s' is not mapped (limits and reservations are)", k);
			}
			complete_resources(cv, cname, res);
			set_new(cv, svc, "resources", res);
		} else {
			report(cv, "services", cname, "deploy", key,
			       strcmp(key, "replicas") == 0 ? "must be an integer from 0 to 1000: not mapped"
							    : "is not mapped (deploy.replicas and deploy.resources are)");
		}
	}
}

/* ---- datastores: components of the catalog's types ---- */

/* The catalog type of a compose service's image when it is a datastore (ds filled). */
static bool store_of(const json_t *c, struct importkit_datastore *ds)
{
	struct importkit_image img;
	const char *ref = json_string_value(json_object_get(c, "image"));
	return ref && importkit_image_split(ref, &img) && importkit_datastore(img.registry, img.repository, img.tag, ds);
}

struct store_env {
	int pass;       /* 0: the consumers' password (its key first, for values shared); 1: the rest */
	const char *cname, *name, *type;
	json_t *inst;   /* the component */
	json_t *plan;   /* cv->stores[cname]: {type, database, user} */
	bool root_set, pass_set;
};

/* Stores a password of the datastore under the key of its secret (when the type has it). */
static void store_password(struct conv *cv, struct store_env *e, const char *secret, const char *env_key,
			   const char *token, const char *value)
{
	struct buf key;
	buf_init(&key, BUF_NO_MAX);
	if (importkit_type_has(e->type, "secrets", secret) &&
	    oom(cv, importkit_store_secret_key(e->name, secret, &key)) == 0)
		store_secret(cv, e->cname, env_key, token, buf_cstr(&key), value);
	buf_release(&key);
}

static void store_env_entry(struct conv *cv, void *arg, const char *var, const char *value,
			    const char *token)
{
	struct store_env *e = arg;
	enum importkit_store_role role = importkit_store_role(var);
	bool root = importkit_role_sets(role, "rootPassword"), pass = importkit_role_sets(role, "password");
	if ((e->pass == 0) != pass)
		return;
	if (root || pass) {
		if (root)
			store_password(cv, e, "rootPassword", "environment", token, value);
		if (pass)
			store_password(cv, e, "password", "environment", token, value);
		e->root_set |= root;
		e->pass_set |= pass;
	} else if (role == IMPORTKIT_ADMIN_USER && value && importkit_type_has(e->type, "params", "user") &&
		   importkit_db_identifier(value, 64)) {
		set_new(cv, e->inst, "user", json_string(value));
	} else if ((role == IMPORTKIT_DATABASE || role == IMPORTKIT_USER) && value && importkit_db_identifier(value, 63)) {
		bool database = role == IMPORTKIT_DATABASE;
		set_new(cv, e->plan, database ? "database" : "user", json_string(value));
		guess(cv, "services", e->cname, "environment", token,
		      "becomes the %s of each service that uses '%s' (unless its own env names another)",
		      database ? "database" : "user", e->name);
	} else {
		report(cv, "services", e->cname, "environment", token,
		       "is not mapped: the component '%s' (type %s) is configured by its params", e->name, e->type);
	}
}

/* Whether the service's command or entrypoint sets a password (--requirepass). */
static bool asks_password(const json_t *c)
{
	static const char *const keys[] = {"command", "entrypoint"};
	for (size_t k = 0; k < 2; k++) {
		const json_t *v = json_object_get(c, keys[k]);
		size_t i;
		json_t *item;
		if (json_is_string(v) && strstr(json_string_value(v), "requirepass"))
			return true;
		json_array_foreach(v, i, item)
			if (json_is_string(item) && strstr(json_string_value(item), "requirepass"))
				return true;
	}
	return false;
}

/* The secrets the type needs that the compose file did not give; a Redis given no
 * password (no REDIS_PASSWORD, no --requirepass in its command) runs without one. */
static void store_defaults(struct conv *cv, struct store_env *e, const json_t *c, const char *env_key)
{
	static const char *const secrets[] = {"rootPassword", "password"};
	if (!e->pass_set && importkit_type_has(e->type, "params", "auth") && !asks_password(c)) {
		set_new(cv, e->inst, "auth", json_false());
		guess(cv, "services", e->cname, NULL, NULL,
		      "sets no password: the component '%s' runs without one (auth: false); only network policies protect it",
		      e->name);
		e->pass_set = true;
	}
	for (int i = 0; i < 2; i++) {
		if ((i ? e->pass_set : e->root_set) || !importkit_type_has(e->type, "secrets", secrets[i]))
			continue;
		store_password(cv, e, secrets[i], env_key, NULL, MODEL_PLACEHOLDER);
		guess(cv, "services", e->cname, env_key, NULL,
		      "gives no %s: the secret '%s-%s' was set to \"%s\"; set the real one in the environment%s",
		      i ? "password" : "root password", e->name, i ? "password" : "root-password", MODEL_PLACEHOLDER,
		      strcmp(e->type, "redis") == 0 ? " (Redis asks for it: give it to its clients, as REDIS_PASSWORD or the component's url output)" : "");
	}
}

/* The image's repository (the component's instance has the tag made to fit: ds). */
static void store_image(struct conv *cv, const char *cname, const json_t *c, const struct importkit_datastore *ds,
			struct importkit_image *img)
{
	const char *ref = json_string_value(json_object_get(c, "image"));
	if (!importkit_image_split(ref, img))
		return;
	if (ds->why)
		guess(cv, "services", cname, "image", NULL, "the component runs %s%s%s: %s",
		      ds->tag[0] ? img->repository : "the type's default image", ds->tag[0] ? ":" : "", ds->tag, ds->why);
}

/* A named volume's name in a volumes entry ("data:/var/lib/mysql" or {source}), else
 * NULL; the rest of a string entry is after it. Written to out. */
static const char *named_volume(const json_t *v, char *out, size_t n)
{
	const char *s = json_string_value(v);
	const char *type = json_string_value(json_object_get(v, "type"));
	if (!s && type && strcmp(type, "volume") != 0)
		return NULL;
	if (!s)
		s = json_string_value(json_object_get(v, "source"));
	size_t len = s ? strcspn(s, ":") : 0;
	if (!s || len == 0 || s[0] == '.' || s[0] == '/' || s[0] == '~' || (json_is_string(v) && !s[len]))
		return NULL;
	return util_copy_str(out, n, s, len) ? out : NULL;
}

/* A named volume becomes the component's storage; bind mounts are reported. */
static void store_volumes(struct conv *cv, const char *cname, const char *type)
{
	size_t i;
	json_t *v;
	char tok[24], name[256];
	json_array_foreach(json_object_get(json_object_get(cv->services_in, cname), "volumes"), i, v) {
		(void)snprintf(tok, sizeof tok, "%zu", i);
		if (named_volume(v, name, sizeof name) && importkit_type_has(type, "params", "storage")) {
			set_new(cv, cv->used_volumes, name, json_true());
			guess(cv, "services", cname, "volumes", tok,
			      "is the component's storage: one claim of the type's default size (set storage.size)");
			continue;
		}
		report(cv, "services", cname, "volumes", tok,
		       "is not mapped: the component has its own data volume and configuration%s",
		       importkit_type_has(type, "consumer", "database") ? " (and creates each consumer's database and user itself)" : "");
	}
}

/* What the component replaces: ports, healthcheck, command, user. */
static void store_replaced(struct conv *cv, const char *cname, const json_t *c, const char *name)
{
	static const char *const what[] = {"ports", "healthcheck", "command", "entrypoint", "user", NULL};
	static const char *const how[] = {
		"is not published: the component is reachable in the cluster as its Service '%s'",
		"is replaced by the probes of the component '%s' (those of its type)",
		"is not mapped: the component '%s' runs its type's command, set by its params",
		"is not mapped: the component '%s' runs its type's command, set by its params",
		"is replaced by the uid of the component '%s' (its image's user, from its type)",
	};
	for (size_t i = 0; what[i]; i++) {
		if (!json_object_get(c, what[i]))
			continue;
		if (i == 1 || i == 4)
			guess(cv, "services", cname, what[i], NULL, how[i], name);
		else
			report(cv, "services", cname, what[i], NULL, how[i], name);
	}
}

static bool key_in(const char *key, const char *const *keys)
{
	for (; *keys; keys++)
		if (strcmp(key, *keys) == 0)
			return true;
	return false;
}

/* Keys of a compose service that are Docker's own business, mapped nowhere and reported
 * nowhere: the namespace and the pod stand for them. */
static const char *const quiet_keys[] = {"container_name", "hostname", "networks", "restart", "stdin_open",
					 "tty", "expose", "depends_on", "cap_drop", NULL};

/* Reports every key of the compose service c that is neither in handled nor quiet. */
static void report_other_keys(struct conv *cv, const char *cname, const json_t *c,
			      const char *const *handled, const char *what)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)c, key, v)
		if (!key_in(key, handled) && !key_in(key, quiet_keys))
			report(cv, "services", cname, key, NULL, "is not mapped%s", what);
}

static void convert_store(struct conv *cv, const char *cname, const json_t *c, const struct importkit_datastore *ds)
{
	static const char *const handled[] = {"image", "environment", "volumes", "ports", "healthcheck",
					      "command", "entrypoint", "user", NULL};
	const char *name = json_string_value(json_object_get(cv->names, cname));
	struct importkit_image img = {0};
	store_image(cv, cname, c, ds, &img);
	json_t *inst = importkit_store_instance(ds, img.repository);
	json_t *plan = json_pack("{s:s}", "type", ds->type);
	set_new(cv, cv->components, name, inst);
	set_new(cv, cv->stores, cname, plan);
	if (cv->rc)
		return;
	const char *env_key = json_object_get(c, "environment") ? "environment" : NULL;
	struct store_env e = {0, cname, name, ds->type, inst, plan, false, false};
	env_foreach(cv, cname, json_object_get(c, "environment"), store_env_entry, &e);
	e.pass = 1;
	env_foreach(cv, cname, json_object_get(c, "environment"), store_env_entry, &e);
	store_defaults(cv, &e, c, env_key);
	store_volumes(cv, cname, ds->type);
	store_replaced(cv, cname, c, name);
	report_other_keys(cv, cname, c, handled, ": the component is configured by its type and params");
}

/* ---- uses: the datastores a service uses, and its database and user there ---- */

static void db_guess_entry(struct conv *cv, void *arg, const char *var, const char *value,
			   const char *token)
{
	(void)cv;
	(void)token;
	importkit_db_guess(arg, var, value);
}

/* uses[store] of the service: its database and user guessed from its env (a database
 * URL, *DB_NAME, *_DATABASE; *DB_USER, *DATASOURCE_USERNAME), else the datastore's. */
static void map_use(struct conv *cv, const char *cname, const char *store, json_t *svc)
{
	const json_t *plan = json_object_get(cv->stores, store);
	const char *type = json_string_value(json_object_get(plan, "type"));
	const char *target = json_string_value(json_object_get(cv->names, store));
	json_t *uses = child(cv, svc, "uses");
	if (!type || !target || json_object_get(uses, target))
		return;
	struct importkit_db_guess g = {{0}, {0}};
	if (importkit_type_has(type, "consumer", "database")) /* a database's: not a broker's user */
		env_foreach(cv, cname, json_object_get(json_object_get(cv->services_in, cname), "environment"),
			    db_guess_entry, &g);
	json_t *use = importkit_use(type, &g, plan);
	set_new(cv, uses, target, use);
	if (json_object_size(use))
		guess(cv, "services", cname, NULL, NULL,
		      "uses the component '%s': its pods wait for it, and its database and user there are made for it (%s)",
		      target, type);
}

/* Whether the compose service c names the datastore store: depends_on it, or an env
 * value with its name as a host. */
static bool names_store(const json_t *c, const char *store)
{
	const json_t *deps = json_object_get(c, "depends_on");
	size_t i;
	json_t *v;
	if (json_object_get(deps, store))
		return true;
	json_array_foreach(deps, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), store) == 0)
			return true;
	const json_t *env = json_object_get(c, "environment");
	const char *key;
	json_object_foreach((json_t *)env, key, v)
		if (json_is_string(v) && importkit_names_host(json_string_value(v), store))
			return true;
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);
		const char *eq = s ? strchr(s, '=') : NULL;
		if (eq && importkit_names_host(eq + 1, store))
			return true;
	}
	return false;
}

/* depends_on entries that are not datastores: reported (Kubernetes starts pods in any
 * order). */
static void report_dependency(struct conv *cv, const char *cname, const char *target, const char *token)
{
	if (!json_object_get(cv->stores, target))
		report(cv, "services", cname, "depends_on", token,
		       "'%s' is not waited for: Kubernetes starts pods in any order, so the service must retry until it answers",
		       target);
}

static void map_depends_on(struct conv *cv, const char *cname, const json_t *c, json_t *svc)
{
	const json_t *deps = json_object_get(c, "depends_on");
	char tok[24];
	size_t i;
	json_t *v;
	const char *target;
	json_object_foreach((json_t *)deps, target, v)
		report_dependency(cv, cname, target, target);
	json_array_foreach(deps, i, v) {
		(void)snprintf(tok, sizeof tok, "%zu", i);
		if (json_is_string(v))
			report_dependency(cv, cname, json_string_value(v), tok);
	}
	json_object_foreach(cv->stores, target, v)
		if (names_store(c, target))
			map_use(cv, cname, target, svc);
}

/* ---- application services ---- */

/* An image reference with variables that have no default (${VERSION}) read with each
 * variable as its name in lowercase, so that it has a valid form (a guess, reported);
 * any other reference as it is. */
static const char *image_named(struct conv *cv, const char *cname, const char *ref, struct buf *out)
{
	struct compose_vars_info info;
	if (!ref || oom(cv, compose_vars_expand(ref, COMPOSE_VARS_NAME, out, &info)) != 0 || !info.unresolved)
		return ref;
	guess(cv, "services", cname, "image", NULL,
	      "uses variables without a default (docker compose interpolation, not done here): read as '%s', each variable as its name; set the real image",
	      buf_cstr(out));
	return buf_cstr(out);
}

static void map_image(struct conv *cv, const char *cname, const char *name, const json_t *c,
		      json_t *svc)
{
	struct buf named;
	buf_init(&named, BUF_NO_MAX);
	const char *ref = image_named(cv, cname, json_string_value(json_object_get(c, "image")), &named);
	struct importkit_image img = {0};
	if (!ref || !importkit_image_split(ref, &img)) {
		(void)util_copy_str(img.repository, sizeof img.repository, name, strlen(name));
		guess(cv, "services", cname, json_object_get(c, "build") ? "build" : "image", NULL,
		      "images are not built here: build and push one, then set its repository and tag (assumed '%s:%s')",
		      name, MODEL_PLACEHOLDER);
		img.tag[0] = '\0';
	} else if (json_object_get(c, "build")) {
		report(cv, "services", cname, "build", NULL, "is not used: the image '%s' is deployed", ref);
	}
	if (!img.tag[0] || strcmp(img.tag, "latest") == 0) {
		if (ref)
			guess(cv, "services", cname, "image", NULL,
			      "has no tag or 'latest', which moves: the tag was set to '%s'; pin a version",
			      MODEL_PLACEHOLDER);
		(void)util_copy_str(img.tag, sizeof img.tag, MODEL_PLACEHOLDER, strlen(MODEL_PLACEHOLDER));
	}
	(void)oom(cv, importkit_count(cv->registries, img.registry));
	(void)oom(cv, importkit_count(cv->tags, img.tag));
	json_t *image = json_pack("{s:s, s:s, s:s}", "registry", img.registry, "repository",
				  img.repository, "tag", img.tag);
	if (image && img.digest[0])
		set_new(cv, image, "digest", json_string(img.digest));
	set_new(cv, svc, "image", image);
	buf_release(&named);
}

/* The document's name of a container port: port-N (udp-N). */
static void port_name(const struct port *p, char out[16])
{
	(void)snprintf(out, 16, "%s-%lld", p->udp ? "udp" : "port", p->target);
}

/* A published port: the first of each service is an entry point (an Ingress rule); the
 * likeliest one (host port 80 or 443 first, then the first published) is the main rule,
 * for any host. One bound to localhost is none. */
static void consider_entry(struct conv *cv, const char *cname, const struct port *p)
{
	int rank = p->published == 80 || p->published == 443 ? 2 : 1;
	if (!p->published || p->local || p->udp || json_object_get(cv->entries, cname))
		return;
	set_new(cv, cv->entries, cname, json_integer(p->target));
	if (rank > cv->ingress_rank) {
		cv->ingress = cname;
		cv->ingress_rank = rank;
	}
}

/* Every port of ports and expose, as given, named port-N (udp-N). */
static void map_ports(struct conv *cv, const char *cname, const json_t *c, json_t *svc, bool job)
{
	static const char *const keys[] = {"ports", "expose"};
	for (int k = 0; k < 2; k++) {
		size_t i;
		json_t *v;
		char tok[24], name[16];
		json_array_foreach(json_object_get(c, keys[k]), i, v) {
			struct port p;
			const char *why = parse_port(v, &p);
			(void)snprintf(tok, sizeof tok, "%zu", i);
			if (why || job) {
				report(cv, "services", cname, keys[k], tok, "%s: not mapped",
				       why ? why : "a service that runs once (a Job) has no ports");
				continue;
			}
			port_name(&p, name);
			if (!json_object_get(json_object_get(svc, "ports"), name))
				set_new(cv, child(cv, svc, "ports"), name,
					p.udp ? json_pack("{s:I, s:s}", "port", (json_int_t)p.target, "protocol", "UDP")
					      : json_pack("{s:I}", "port", (json_int_t)p.target));
			if (k == 0)
				consider_entry(cv, cname, &p);
		}
	}
}

/* ---- probes ---- */

/* The port of the service that port number n is: its name, or the number. */
static json_t *probe_port(const json_t *svc, long long n)
{
	char name[16];
	struct port p = {.target = n};
	port_name(&p, name);
	return json_object_get(json_object_get(svc, "ports"), name) ? json_string(name) : json_integer(n);
}

/* The check of a healthcheck test: httpGet for an HTTP request to localhost, else exec.
 * A new reference, or NULL (reported) for NONE or no test. */
static json_t *probe_check(struct conv *cv, const char *cname, const json_t *test, const json_t *svc)
{
	struct buf cmd, path;
	buf_init(&cmd, BUF_NO_MAX);
	buf_init(&path, BUF_NO_MAX);
	long long url_port = 0;
	json_t *check = NULL;
	const char *kind = json_string_value(json_array_get(test, 0));
	bool none = !test_command(test, &cmd);
	if (none) {
		report(cv, "services", cname, "healthcheck", "test",
		       "is missing or NONE: the service gets no readiness or liveness probe");
	} else if (local_http_url(buf_cstr(&cmd), &path, &url_port)) {
		check = json_pack("{s:{s:s, s:o}}", "httpGet", "path", buf_cstr(&path), "port",
				  probe_port(svc, url_port ? url_port : 80));
	} else if (kind && strcmp(kind, "CMD") == 0) {
		json_t *argv = json_array();
		for (size_t i = 1; argv && i < json_array_size(test); i++)
			append_new(cv, argv, json_incref(json_array_get(test, i)));
		check = json_pack("{s:{s:o}}", "exec", "command", argv);
	} else {
		check = json_pack("{s:{s:[s, s, s]}}", "exec", "command", "/bin/sh", "-c", buf_cstr(&cmd));
	}
	if (!check && !none)
		(void)oom(cv, -ENOMEM);
	buf_release(&cmd);
	buf_release(&path);
	return check;
}

/* Sets probe[field] from a duration of the healthcheck, reporting a bad one. */
static void probe_seconds(struct conv *cv, const char *cname, const json_t *hc, const char *key,
			  json_t *probe, const char *field, long long min)
{
	const json_t *v = json_object_get(hc, key);
	long long secs;
	if (!v)
		return;
	if (duration_seconds(v, &secs) < 0) {
		report(cv, "services", cname, "healthcheck", key, "is not a duration: not mapped");
		return;
	}
	if (secs < min)
		secs = min;
	if (secs > 3600)
		secs = 3600;
	set_new(cv, probe, field, json_integer(secs));
}

/* The probe of a healthcheck (new reference), or NULL when it has no test. */
static json_t *health_probe(struct conv *cv, const char *cname, const json_t *hc, const json_t *svc)
{
	json_t *probe = probe_check(cv, cname, json_object_get(hc, "test"), svc);
	if (!probe)
		return NULL;
	probe_seconds(cv, cname, hc, "interval", probe, "periodSeconds", 1);
	probe_seconds(cv, cname, hc, "timeout", probe, "timeoutSeconds", 1);
	probe_seconds(cv, cname, hc, "start_period", probe, "initialDelaySeconds", 0);
	const json_t *retries = json_object_get(hc, "retries");
	if (json_is_integer(retries) && json_integer_value(retries) >= 1 && json_integer_value(retries) <= 1000)
		set_new(cv, probe, "failureThreshold", json_incref((json_t *)retries));
	else if (retries)
		report(cv, "services", cname, "healthcheck", "retries", "must be an integer from 1 to 1000: not mapped");
	return probe;
}

/* probes of a service: readiness and liveness from its healthcheck; none given: the
 * default TCP probes of its first port (a worker has none). */
static void map_probes(struct conv *cv, const char *cname, const json_t *hc, json_t *svc)
{
	bool disabled = json_is_true(json_object_get(hc, "disable"));
	if (!hc || (!disabled && !json_object_get(hc, "test"))) { /* none, or the image's own */
		if (json_object_size(json_object_get(svc, "ports")))
			guess(cv, "services", cname, hc ? "healthcheck" : NULL, NULL, "%s: %s",
			      hc ? "has no test (the image's own HEALTHCHECK, which Kubernetes does not run)" : "has no healthcheck",
			      "its readiness and liveness probes check that its first port accepts connections");
		else if (hc)
			report(cv, "services", cname, "healthcheck", NULL,
			       "has no test (the image's own HEALTHCHECK, which Kubernetes does not run): the service, which has no port, gets no probe");
		return;
	}
	json_t *probe = disabled ? NULL : health_probe(cv, cname, hc, svc);
	json_t *probes = json_pack("{s:O, s:O, s:n}", "readiness", probe ? probe : json_null(),
				   "liveness", probe ? probe : json_null(), "startup");
	json_decref(probe);
	set_new(cv, svc, "probes", probes);
}

/* ---- command and args ---- */

/* Splits a compose command string into words as compose does (shell quoting, no
 * expansion) into the array out. false on an unclosed quote. */
static bool shell_words(struct conv *cv, const char *s, json_t *out)
{
	struct buf word;
	buf_init(&word, BUF_NO_MAX);
	bool in_word = false, ok = true;
	char quote = 0;
	for (; ok && *s; s++) {
		if (!quote && isspace((unsigned char)*s)) {
			if (in_word)
				append_new(cv, out, json_string(buf_cstr(&word)));
			ok = cv->rc == 0;
			buf_reset(&word);
			in_word = false;
			continue;
		}
		in_word = true;
		if (quote ? *s == quote : (*s == '\'' || *s == '"')) {
			quote = quote ? 0 : *s;
			continue;
		}
		if (*s == '\\' && quote != '\'' && s[1] && (!quote || strchr("\"\\$`", s[1])))
			s++;
		ok = oom(cv, buf_append(&word, s, 1)) == 0;
	}
	if (ok && in_word && !quote)
		append_new(cv, out, json_string(buf_cstr(&word)));
	ok = ok && cv->rc == 0;
	buf_release(&word);
	return ok && !quote;
}

/* command (compose's entrypoint) or args (compose's command), as a list or a string
 * split into words. */
static void map_argv(struct conv *cv, const char *cname, const json_t *c, const char *key, const char *member,
		     json_t *svc)
{
	const json_t *v = json_object_get(c, key);
	json_t *argv = json_array();
	size_t i;
	json_t *item;
	bool ok = json_is_array(v) || json_is_string(v);
	json_array_foreach(v, i, item)
		if ((ok = ok && json_is_string(item)))
			append_new(cv, argv, json_incref(item));
	if (json_is_string(v))
		ok = shell_words(cv, json_string_value(v), argv);
	if (ok)
		set_new(cv, svc, member, json_incref(argv));
	else
		report(cv, "services", cname, key, NULL, "must be a list of strings or a command line: not mapped");
	json_array_foreach(ok ? argv : NULL, i, item)
		if (strstr(json_string_value(item), "${"))
			guess(cv, "services", cname, key, NULL,
			      "uses docker compose interpolation (${...}), which is not done here: kept as written");
	json_decref(argv);
}

/* ---- volumes ---- */

/* A DNS name for a volume from text (db_data -> db-data), else volume-N. */
static void volume_name(const char *text, size_t i, char out[64])
{
	importkit_service_name(text, out);
	if (!out[0])
		(void)snprintf(out, 64, "volume-%zu", i);
}

/* A bind-mounted file (its base name has an extension): a files volume with the
 * content to move into the config key of its name. */
static void bind_file(struct conv *cv, const char *cname, const char *tok, const char *source,
		      const char *target, bool ro, json_t *volumes, size_t i)
{
	const char *base = strrchr(source, '/');
	base = base ? base + 1 : source;
	char name[64];
	volume_name(base, i, name);
	struct buf key;
	buf_init(&key, BUF_NO_MAX);
	json_t *config = child(cv, cv->stack, "config");
	(void)oom(cv, buf_puts(&key, base));
	if (json_object_get(config, base))
		(void)oom(cv, buf_printf(&key, "-%s", cname));
	set_new(cv, config, buf_cstr(&key), json_string(""));
	set_new(cv, volumes, name,
		json_pack("{s:s, s:s, s:b, s:{s:{s:s}}}", "mountPath", target, "subPath", base, "readOnly", ro,
			  "files", base, "config", buf_cstr(&key)));
	guess(cv, "services", cname, "volumes", tok,
	      "mounts the host's file '%s': it is the file of the config key '%s', empty here; move the file's content into it",
	      source, buf_cstr(&key));
	buf_release(&key);
}

/* The parts of a volumes entry: source (or NULL), target, read-only. false when it has
 * no target. */
static bool volume_parts(const json_t *v, char *source, char *target, size_t n, bool *ro)
{
	const char *s = json_string_value(v);
	*ro = json_is_true(json_object_get(v, "read_only"));
	source[0] = '\0';
	if (!s) {
		const char *src = json_string_value(json_object_get(v, "source"));
		const char *dst = json_string_value(json_object_get(v, "target"));
		return dst && util_copy_str(target, n, dst, strlen(dst)) && (!src || util_copy_str(source, n, src, strlen(src)));
	}
	size_t a = strcspn(s, ":");
	if (!s[a])
		return util_copy_str(target, n, s, a);
	const char *t = s + a + 1;
	size_t b = strcspn(t, ":");
	*ro = t[b] && strncmp(t + b + 1, "ro", 2) == 0;
	return util_copy_str(source, n, s, a) && util_copy_str(target, n, t, b);
}

/* Every volumes entry: a named volume is persistent storage (the service becomes a
 * StatefulSet), a bind-mounted file a files volume; others are reported. */
static void map_volumes(struct conv *cv, const char *cname, const json_t *c, json_t *svc)
{
	size_t i;
	json_t *v;
	char tok[24], source[256], target[256], name[64];
	bool ro;
	json_t *volumes = json_object();
	json_array_foreach(json_object_get(c, "volumes"), i, v) {
		(void)snprintf(tok, sizeof tok, "%zu", i);
		if (!volume_parts(v, source, target, sizeof source, &ro) || target[0] != '/') {
			report(cv, "services", cname, "volumes", tok, "is not a volume with a path in the container: not mapped");
		} else if (named_volume(v, name, sizeof name)) {
			char vname[64];
			set_new(cv, cv->used_volumes, name, json_true());
			volume_name(name, i, vname);
			set_new(cv, volumes, vname, json_pack("{s:s, s:b, s:{s:s}}", "mountPath", target, "readOnly", ro,
							     "persistent", "size", STORAGE_SIZE));
			guess(cv, "services", cname, "volumes", tok,
			      "is persistent storage: a claim of %s per pod (the service is a StatefulSet); set its size", STORAGE_SIZE);
		} else if (!source[0]) {
			report(cv, "services", cname, "volumes", tok,
			       "is an anonymous volume: not mapped (the container sees the image's files there)");
		} else if (strrchr(source, '.') > strrchr(source, '/') && strcmp(strrchr(source, '.'), ".sock") != 0 &&
			   strrchr(source, '.')[1]) {
			bind_file(cv, cname, tok, source, target, ro, volumes, i);
		} else {
			report(cv, "services", cname, "volumes", tok,
			       "mounts the host's '%s', which a pod does not have: not mapped (put its files into config and a files volume, or into the image)",
			       source);
		}
	}
	json_t *tmpfs = (json_t *)json_object_get(c, "tmpfs");
	json_t *one = json_is_string(tmpfs) ? json_pack("[O]", tmpfs) : json_incref(tmpfs);
	json_array_foreach(one, i, v) {
		const char *s = json_string_value(v);
		size_t n = s ? strcspn(s, ":") : 0;
		(void)snprintf(name, sizeof name, "tmpfs-%zu", i);
		if (s && s[0] == '/' && util_copy_str(target, sizeof target, s, n))
			set_new(cv, volumes, name, json_pack("{s:s, s:{s:s}}", "mountPath", target, "emptyDir", "medium", "Memory"));
	}
	json_decref(one);
	if (json_object_size(volumes))
		set_new(cv, svc, "volumes", json_incref(volumes));
	json_decref(volumes);
}

/* ---- security ---- */

static void map_user(struct conv *cv, const char *cname, const json_t *user, json_t *security)
{
	char tmp[32], uid[16];
	const char *s = scalar_text(user, tmp, sizeof tmp);
	size_t n = s ? strcspn(s, ":") : 0;
	long long u, g = 0;
	if (s && n > 0 && util_copy_str(uid, sizeof uid, s, n) && util_parse_int(uid, 1, 2147483647, &u) == 0 &&
	    (!s[n] || util_parse_int(s + n + 1, 0, 2147483647, &g) == 0)) {
		set_new(cv, security, "runAsUser", json_integer(u));
		if (s[n])
			set_new(cv, security, "runAsGroup", json_integer(g));
		return;
	}
	report(cv, "services", cname, "user", NULL,
	       "only a numeric non-root user id is mapped: the container runs as user 1000");
}

/* user, read_only, cap_add into securityContext. */
static void map_security(struct conv *cv, const char *cname, const json_t *c, json_t *svc)
{
	json_t *security = json_object();
	if (json_object_get(c, "user"))
		map_user(cv, cname, json_object_get(c, "user"), security);
	const json_t *ro = json_object_get(c, "read_only");
	bool read_only = false;
	if (ro && !compose_bool(ro, &read_only))
		report(cv, "services", cname, "read_only", NULL,
		       "is not true or false (a variable without a default?): not mapped, the root filesystem is writable");
	if (read_only)
		set_new(cv, security, "readOnlyRootFilesystem", json_true());
	size_t i;
	json_t *v;
	char tok[24];
	json_array_foreach(json_object_get(c, "cap_add"), i, v) {
		const char *cap = json_string_value(v);
		(void)snprintf(tok, sizeof tok, "%zu", i);
		if (cap && strncmp(cap, "CAP_", 4) == 0)
			cap += 4;
		if (cap && strcmp(cap, "ALL") != 0 && strcmp(cap, "all") != 0)
			append_new(cv, child_array(cv, security, "capabilities"), json_string(cap));
		else
			report(cv, "services", cname, "cap_add", tok, "is not one capability: not mapped");
	}
	if (json_object_size(security))
		set_new(cv, svc, "securityContext", json_incref(security));
	json_decref(security);
}

/* ---- the service ---- */

/* Whether the compose service runs once: restart "no" or "on-failure", or another service
 * waits for it to complete. */
static bool runs_once(const struct conv *cv, const char *cname, const json_t *c)
{
	const char *restart = json_string_value(json_object_get(c, "restart"));
	if (restart && (strcmp(restart, "no") == 0 || strncmp(restart, "on-failure", 10) == 0))
		return true;
	const char *other;
	json_t *o;
	json_object_foreach((json_t *)cv->services_in, other, o) {
		const char *cond = json_string_value(json_object_get(json_object_get(json_object_get(o, "depends_on"), cname), "condition"));
		if (cond && strcmp(cond, "service_completed_successfully") == 0)
			return true;
	}
	return false;
}

static void convert_app(struct conv *cv, const char *cname, const json_t *c)
{
	static const char *const handled[] = {"image", "build", "ports", "environment", "env_file", "healthcheck",
					      "deploy", "volumes", "tmpfs", "user", "read_only", "cap_add",
					      "command", "entrypoint", "working_dir", "profiles", NULL};
	const char *name = json_string_value(json_object_get(cv->names, cname));
	json_t *svc = json_object();
	set_new(cv, cv->services, name, svc);
	if (cv->rc)
		return;
	bool job = runs_once(cv, cname, c);
	if (job) {
		set_new(cv, svc, "kind", json_string("Job"));
		guess(cv, "services", cname, NULL, NULL, "runs once (restart \"no\" or on-failure, or others wait for it to complete): a Job");
	}
	map_image(cv, cname, name, c, svc);
	if (json_object_get(c, "entrypoint"))
		map_argv(cv, cname, c, "entrypoint", "command", svc);
	if (json_object_get(c, "command"))
		map_argv(cv, cname, c, "command", "args", svc);
	if (json_is_string(json_object_get(c, "working_dir")))
		set_new(cv, svc, "workingDir", json_incref(json_object_get(c, "working_dir")));
	map_ports(cv, cname, c, svc, job);
	json_t *env = json_object();
	struct app_env a = {cname, name, env};
	env_foreach(cv, cname, json_object_get(c, "environment"), app_env_entry, &a);
	set_new(cv, svc, "env", env);
	if (json_object_get(c, "env_file"))
		report(cv, "services", cname, "env_file", NULL,
		       "env files are not read: add their variables to the service's env (secrets to secrets)");
	map_depends_on(cv, cname, c, svc);
	if (job && json_object_get(c, "healthcheck"))
		report(cv, "services", cname, "healthcheck", NULL, "is not mapped: a Job has no probes");
	else if (!job)
		map_probes(cv, cname, json_object_get(c, "healthcheck"), svc);
	map_deploy(cv, cname, json_object_get(c, "deploy"), svc);
	map_security(cv, cname, c, svc);
	map_volumes(cv, cname, c, svc);
	if (json_object_get(c, "profiles")) {
		set_new(cv, svc, "enabled", json_false());
		guess(cv, "services", cname, "profiles", NULL,
		      "the service starts only with a profile: it is disabled (enabled: false); enable it in the environments that want it");
	}
	report_other_keys(cv, cname, c, handled, "");
}

/* ---- the whole file ---- */

/* Picks the datastores and the manifestd name of every service; false when a service
 * entry is not a mapping (reason in err). */
static bool plan_services(struct conv *cv, struct buf *err)
{
	const char *cname;
	json_t *c;
	json_object_foreach((json_t *)cv->services_in, cname, c) {
		if (!json_is_object(c)) {
			(void)buf_printf(err, "the service '%s' is not a mapping", cname);
			return false;
		}
		char name[64];
		importkit_service_name(cname, name);
		if (!name[0] || json_object_get(cv->services, name) || json_object_get(cv->components, name)) {
			report(cv, "services", cname, NULL, NULL,
			       "cannot be named here (a service name is a DNS label starting with a letter, and unique): not mapped");
			set_new(cv, cv->names, cname, json_null());
			continue;
		}
		struct importkit_datastore ds;
		set_new(cv, cv->names, cname, json_string(name));
		set_new(cv, store_of(c, &ds) ? cv->components : cv->services, name, json_object()); /* reserves the name */
	}
	return true;
}

static void report_top_level(struct conv *cv)
{
	static const char *const quiet[] = {"version", "name", "services", "volumes", "networks", NULL};
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)cv->compose, key, v)
		if (!key_in(key, quiet) && strncmp(key, "x-", 2) != 0)
			report(cv, key, NULL, NULL, NULL, "is not mapped");
	json_object_foreach(json_object_get(cv->compose, "volumes"), key, v)
		if (!json_object_get(cv->used_volumes, key))
			report(cv, "volumes", key, NULL, NULL, "is not mapped: no service mounts it");
}

/* One Ingress rule per entry point: the main one for any host, the others for a host of
 * their own (a guess: there is no host in a compose file). */
static void map_entries(struct conv *cv)
{
	json_t *rules = json_object();
	const char *cname;
	json_t *target;
	json_object_foreach(cv->entries, cname, target) {
		char port[16], host[96];
		struct port p = {.target = json_integer_value(target)};
		const char *name = json_string_value(json_object_get(cv->names, cname));
		bool main = strcmp(cname, cv->ingress) == 0;
		port_name(&p, port);
		(void)snprintf(host, sizeof host, "%s.example.com", name);
		set_new(cv, rules, main ? "main" : name,
			json_pack("{s:s, s:s, s:s}", "host", main ? "" : host, "service", name, "port", port));
		if (!main)
			guess(cv, "services", cname, "ports", NULL,
			      "is published beside '%s' (the Ingress rule for any host): its rule '%s' is for the host '%s'; set the real one",
			      cv->ingress, name, host);
	}
	set_new(cv, cv->stack, "ingress", json_pack("{s:b, s:o}", "enabled", 1, "rules", rules));
}

static void finish(struct conv *cv)
{
	if (cv->ingress)
		map_entries(cv);
	else
		report(cv, "services", NULL, NULL, NULL,
		       "no service publishes a port (on an address other than localhost): no Ingress is rendered (add a rule to ingress.rules for one)");
	(void)oom(cv, importkit_settle_images(cv->stack, cv->env, cv->services, cv->registries, cv->tags));
	report_top_level(cv);
}

static void conv_release(struct conv *cv)
{
	json_decref(cv->services_own);
	json_decref(cv->stack);
	json_decref(cv->env);
	json_decref(cv->report);
	json_decref(cv->names);
	json_decref(cv->stores);
	json_decref(cv->entries);
	json_decref(cv->used_volumes);
	json_decref(cv->tags);
	json_decref(cv->registries);
}

/* The compose services as compose reads them with no variable set: a copy, interpolated. */
static void interpolate_services(struct conv *cv)
{
	struct buf path;
	buf_init(&path, BUF_NO_MAX);
	cv->services_own = json_deep_copy(cv->services_in);
	if (!cv->services_own || buf_puts(&path, "/services") < 0) {
		(void)oom(cv, -ENOMEM);
	} else {
		cv->services_in = cv->services_own;
		interpolate(cv, cv->services_own, &path);
	}
	buf_release(&path);
}

/* Converts every service: the datastores first (their secrets keep their keys), then
 * the applications. */
static void convert_services(struct conv *cv)
{
	const char *cname;
	json_t *c;
	for (int pass = 0; pass < 2; pass++) {
		json_object_foreach((json_t *)cv->services_in, cname, c) {
			struct importkit_datastore ds;
			bool store = store_of(c, &ds);
			if (!json_is_string(json_object_get(cv->names, cname)) || store != (pass == 0))
				continue;
			if (store)
				convert_store(cv, cname, c, &ds);
			else
				convert_app(cv, cname, c);
		}
	}
}

int compose_convert(const json_t *compose, struct buf *err, struct compose_result *ret)
{
	struct conv cv = {.compose = compose};
	cv.services_in = json_object_get(compose, "services");
	if (!json_is_object(compose) || !json_is_object(cv.services_in) || !json_object_size(cv.services_in)) {
		(void)buf_puts(err, "not a docker-compose file: a mapping with a non-empty 'services' mapping is expected");
		return -EINVAL;
	}
	if (!catalog_builtin()) /* the types' secrets and consumer params */
		return -ENOMEM;
	cv.stack = json_pack("{s:s, s:{s:{s:b}}, s:{}, s:{}, s:{}}", "description",
			     "Imported from docker-compose", "serviceDefaults", "securityContext",
			     "readOnlyRootFilesystem", 0, "secrets", "components", "services");
	cv.env = json_pack("{s:{}, s:{}}", "image", "secrets");
	cv.report = json_array();
	cv.names = json_object();
	cv.stores = json_object();
	cv.entries = json_object();
	cv.used_volumes = json_object();
	cv.tags = json_object();
	cv.registries = json_object();
	int r = cv.stack && cv.env && cv.report && cv.names && cv.stores && cv.entries && cv.used_volumes && cv.tags &&
				cv.registries
			? 0
			: -ENOMEM;
	cv.services = json_object_get(cv.stack, "services");
	cv.components = json_object_get(cv.stack, "components");
	if (r == 0)
		interpolate_services(&cv);
	if (r == 0)
		r = cv.rc;
	if (r == 0 && !plan_services(&cv, err))
		r = -EINVAL;
	if (r == 0)
		r = cv.rc;
	if (r == 0)
		convert_services(&cv);
	if (r == 0)
		r = cv.rc;
	if (r == 0 && json_object_size(cv.services) == 0) {
		(void)buf_puts(err, "the compose file has no application service (only datastores)");
		r = -EINVAL;
	}
	if (r == 0)
		finish(&cv);
	if (r == 0)
		r = cv.rc;
	if (r == 0 && json_object_size(cv.components) == 0)
		(void)json_object_del(cv.stack, "components");
	if (r < 0) {
		conv_release(&cv);
		return r;
	}
	*ret = (struct compose_result){cv.stack, cv.env, cv.report};
	cv.stack = cv.env = cv.report = NULL;
	conv_release(&cv);
	return 0;
}

int compose_import(const char *text, size_t len, struct buf *err, struct compose_result *ret)
{
	json_t *doc = NULL;
	int r = compose_parse_yaml(text, len, err, &doc);
	if (r == 0)
		r = compose_convert(doc, err, ret);
	json_decref(doc);
	return r;
}
