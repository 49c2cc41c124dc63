/* compose: docker-compose import: the compose document (read by yamlin) mapped onto a
 * stack and an environment, with a report of what has no counterpart. */
#include "compose.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "docmigrate.h"
#include "importkit.h"
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

#define PLACEHOLDER_TAG "change-me"
#define PLACEHOLDER_SECRET "change-me"
#define FALLBACK_PORT 8080

enum builtin { APP, MYSQL, RABBITMQ, ZIPKIN, BUILTIN_COUNT };

static const char *const builtin_service[BUILTIN_COUNT] = {NULL, "mysql", "rabbitmq", "zipkin"};

struct conv {
	const json_t *compose;
	const json_t *services_in; /* compose services (borrowed) */
	json_t *stack, *env, *report;
	json_t *services;          /* stack.services (borrowed from stack) */
	json_t *names;             /* compose service name -> manifestd name (or null: skipped) */
	const char *builtin[BUILTIN_COUNT]; /* compose service name of each built-in */
	json_t *used_volumes;      /* named volumes given to MySQL/RabbitMQ */
	json_t *tags, *registries; /* value -> count, to pick the top-level ones */
	const char *ingress;       /* compose name of the service behind the Ingress */
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

/* Appends {"path": "/t0/t1/...", "detail"} to the report; tokens end at the first NULL
 * (at most 4) and are escaped per RFC 6901. */
static void report(struct conv *cv, const char *t0, const char *t1, const char *t2, const char *t3,
		   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void vreport(struct conv *cv, const char *const tokens[4], const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vreport(struct conv *cv, const char *const tokens[4], const char *fmt, va_list ap)
{
	struct buf path, detail;
	buf_init(&path, BUF_NO_MAX);
	buf_init(&detail, BUF_NO_MAX);
	int r = 0;
	for (size_t i = 0; r == 0 && i < 4 && tokens[i]; i++)
		r = util_pointer_append(&path, tokens[i]);
	if (r == 0)
		r = buf_vprintf(&detail, fmt, ap);
	if (r == 0) {
		json_t *item = json_pack("{s:s, s:s}", "path", buf_cstr(&path), "detail", buf_cstr(&detail));
		if (!item || json_array_append_new(cv->report, item) < 0)
			r = -ENOMEM;
	}
	(void)oom(cv, r);
	buf_release(&path);
	buf_release(&detail);
}

static void report(struct conv *cv, const char *t0, const char *t1, const char *t2, const char *t3,
		   const char *fmt, ...)
{
	const char *const tokens[4] = {t0, t1, t2, t3};
	va_list ap;
	va_start(ap, fmt);
	vreport(cv, tokens, fmt, ap);
	va_end(ap);
}

/* Reports every item of the array member of the compose service c, at
 * /services/cname/member/INDEX, with the same detail. */
static void report_each(struct conv *cv, const char *cname, const json_t *c, const char *member,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void report_each(struct conv *cv, const char *cname, const json_t *c, const char *member,
			const char *fmt, ...)
{
	size_t i;
	json_t *v;
	char tok[24];
	json_array_foreach(json_object_get(c, member), i, v) {
		(void)snprintf(tok, sizeof tok, "%zu", i);
		const char *const tokens[4] = {"services", cname, member, tok};
		va_list ap;
		va_start(ap, fmt);
		vreport(cv, tokens, fmt, ap);
		va_end(ap);
	}
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



/* ---- images ---- */

static bool copy_str(char *dst, size_t n, const char *src, size_t len)
{
	if (len >= n)
		return false;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

static enum builtin classify(const json_t *svc)
{
	struct importkit_image img;
	const char *ref = json_string_value(json_object_get(svc, "image"));
	if (!ref || !importkit_image_split(ref, &img))
		return APP;
	const char *base = importkit_image_base(&img);
	if (strcmp(base, "mysql") == 0 || strcmp(base, "mariadb") == 0)
		return MYSQL;
	if (strcmp(base, "rabbitmq") == 0)
		return RABBITMQ;
	if (strcmp(base, "zipkin") == 0)
		return ZIPKIN;
	return APP;
}

/* ---- values ---- */

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
	(void)oom(cv, importkit_secret_key(child(cv, cv->env, "secrets"), service, var, value, key));
	set_new(cv, child(cv, cv->stack, "secrets"), buf_cstr(key), json_string(""));
}

/* Stores value as secret under a fixed key (for the built-ins); "" or an interpolation
 * gets the placeholder and a report entry at /services/CNAME/ENV_KEY/VAR (shorter when
 * env_key or var is NULL). */
static void builtin_secret(struct conv *cv, const char *cname, const char *env_key,
			   const char *var, const char *key, const char *value)
{
	if (!value || !*value || strstr(value, "${")) {
		report(cv, "services", cname, env_key, var,
		       "has no literal value: the secret '%s' was set to \"%s\"; set the real one in the environment",
		       key, PLACEHOLDER_SECRET);
		value = PLACEHOLDER_SECRET;
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
		report(cv, "services", a->cname, "environment", token,
		       "has no value (docker compose takes it from the shell): not mapped; add it to the service's env");
		return;
	}
	struct buf v, key;
	buf_init(&v, BUF_NO_MAX);
	buf_init(&key, BUF_NO_MAX);
	bool renamed = false;
	(void)oom(cv, rename_hosts(cv, value, &v, &renamed));
	if (renamed)
		report(cv, "services", a->cname, "environment", token,
		       "names a service that is called differently here: the value became '%s'",
		       importkit_secret_name(var) ? "(secret)" : buf_cstr(&v));
	bool interpolated = strstr(value, "${") != NULL || (value[0] == '$' && value[1] != '(');
	if (importkit_secret_name(var)) {
		const char *secret = buf_cstr(&v);
		if (interpolated || !*secret) {
			report(cv, "services", a->cname, "environment", token,
			       "is a secret with no literal value (docker compose interpolates it): its secret was set to \"%s\"; set the real value in the environment",
			       PLACEHOLDER_SECRET);
			secret = PLACEHOLDER_SECRET;
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

/* The value of variable var in a compose environment (borrowed or in tmp); NULL if absent. */
static const char *env_get(const json_t *env, const char *var, char *tmp, size_t n)
{
	if (json_is_object(env))
		return scalar_text(json_object_get(env, var), tmp, n);
	size_t i, len = strlen(var);
	json_t *item;
	json_array_foreach(env, i, item) {
		const char *s = json_string_value(item);
		if (s && strncmp(s, var, len) == 0 && s[len] == '=')
			return s + len + 1;
	}
	return NULL;
}

/* ---- ports ---- */

struct port {
	long long target;
	bool published;
};

/* One entry of ports or expose: 8080, "8080", "80:8080", "127.0.0.1:80:8080/tcp", or
 * {target, published, protocol}. NULL, or why it cannot be mapped. */
static const char *parse_port(const json_t *v, struct port *p)
{
	char tmp[32];
	*p = (struct port){0};
	if (json_is_object(v)) {
		const char *proto = json_string_value(json_object_get(v, "protocol"));
		if (proto && strcmp(proto, "tcp") != 0)
			return "only TCP ports are mapped";
		p->published = json_object_get(v, "published") != NULL;
		v = json_object_get(v, "target");
	}
	const char *s = scalar_text(v, tmp, sizeof tmp);
	if (!s)
		return "is not a port";
	const char *slash = strchr(s, '/');
	if (slash && strcmp(slash, "/tcp") != 0)
		return "only TCP ports are mapped";
	const char *colon = strrchr(s, ':');
	const char *target = colon ? colon + 1 : s;
	p->published |= colon != NULL;
	char digits[16];
	size_t n = slash ? (size_t)(slash - target) : strlen(target);
	if (n == 0 || n >= sizeof digits)
		return "is not a port";
	memcpy(digits, target, n);
	digits[n] = '\0';
	if (strchr(digits, '-'))
		return "port ranges are not mapped";
	if (util_parse_int(digits, 1, 65535, &p->target) < 0)
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

/* The probe of an HTTP healthcheck (new reference), or NULL (reported) when it is not one. */
static json_t *http_probe(struct conv *cv, const char *cname, const json_t *hc, long long port)
{
	struct buf cmd, path;
	buf_init(&cmd, BUF_NO_MAX);
	buf_init(&path, BUF_NO_MAX);
	long long url_port = 0;
	json_t *probe = NULL;
	if (!test_command(json_object_get(hc, "test"), &cmd)) {
		report(cv, "services", cname, "healthcheck", "test",
		       "is missing or NONE: the service gets no readiness or liveness probe");
	} else if (!local_http_url(buf_cstr(&cmd), &path, &url_port)) {
		report(cv, "services", cname, "healthcheck", "test",
		       "is not an HTTP check on localhost (probes here are HTTP GETs on the service port): the service gets no readiness or liveness probe");
	} else {
		if (url_port && url_port != port)
			report(cv, "services", cname, "healthcheck", "test",
			       "checks port %lld, but probes go to the service port %lld", url_port, port);
		probe = json_pack("{s:{s:s}}", "httpGet", "path", buf_cstr(&path));
		if (!probe)
			(void)oom(cv, -ENOMEM);
		probe_seconds(cv, cname, hc, "interval", probe, "periodSeconds", 1);
		probe_seconds(cv, cname, hc, "timeout", probe, "timeoutSeconds", 1);
		probe_seconds(cv, cname, hc, "start_period", probe, "initialDelaySeconds", 0);
		const json_t *retries = json_object_get(hc, "retries");
		if (json_is_integer(retries) && json_integer_value(retries) >= 1 &&
		    json_integer_value(retries) <= 1000)
			set_new(cv, probe, "failureThreshold", json_incref((json_t *)retries));
		else if (retries)
			report(cv, "services", cname, "healthcheck", "retries",
			       "must be an integer from 1 to 1000: not mapped");
	}
	buf_release(&cmd);
	buf_release(&path);
	return probe;
}

/* probes of a service: readiness and liveness from an HTTP healthcheck, else none. */
static void map_probes(struct conv *cv, const char *cname, const json_t *hc, long long port,
		       json_t *svc)
{
	json_t *probe = NULL;
	if (!hc)
		report(cv, "services", cname, NULL, NULL,
		       "has no healthcheck: the service gets no readiness or liveness probe");
	else if (!json_is_true(json_object_get(hc, "disable")))
		probe = http_probe(cv, cname, hc, port);
	json_t *probes = json_pack("{s:O, s:O, s:n}", "readiness", probe ? probe : json_null(),
				   "liveness", probe ? probe : json_null(), "startup");
	json_decref(probe);
	set_new(cv, svc, "probes", probes);
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
 * given alone is copied to the other one. */
static void complete_resources(struct conv *cv, json_t *res)
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
			complete_resources(cv, res);
			set_new(cv, svc, "resources", res);
		} else {
			report(cv, "services", cname, "deploy", key,
			       strcmp(key, "replicas") == 0 ? "must be an integer from 0 to 1000: not mapped"
							    : "is not mapped (deploy.replicas and deploy.resources are)");
		}
	}
}

/* ---- databases and dependencies ---- */

static bool db_identifier(const char *s, size_t max)
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

/* The database named by a MySQL URL in value ("jdbc:mysql://host:3306/orderdb?x"). */
static bool url_database(const char *value, char *out, size_t n)
{
	const char *p = strstr(value, "mysql://");
	if (!p)
		p = strstr(value, "mariadb://");
	if (!p)
		return false;
	p = strchr(strstr(p, "//") + 2, '/');
	if (!p)
		return false;
	size_t len = strcspn(p + 1, "?;/ ");
	return len > 0 && copy_str(out, n, p + 1, len);
}

struct db_guess {
	char name[65];
	char user[33];
};

static void db_guess_entry(struct conv *cv, void *arg, const char *var, const char *value,
			   const char *token)
{
	(void)cv;
	(void)token;
	struct db_guess *g = arg;
	char tmp[65];
	if (!value)
		return;
	if (!g->name[0] && url_database(value, tmp, sizeof tmp) && db_identifier(tmp, 64))
		memcpy(g->name, tmp, sizeof tmp);
	if (!g->name[0] && (ends_with(var, "DB_NAME") || ends_with(var, "DATABASE_NAME") ||
			    ends_with(var, "_DATABASE")) && db_identifier(value, 64))
		(void)copy_str(g->name, sizeof g->name, value, strlen(value));
	if (!g->user[0] && (ends_with(var, "DB_USER") || ends_with(var, "DB_USERNAME") ||
			    ends_with(var, "DATASOURCE_USERNAME") || strcmp(var, "MYSQL_USER") == 0) &&
	    strcmp(value, "root") != 0 && db_identifier(value, 32))
		(void)copy_str(g->user, sizeof g->user, value, strlen(value));
}

/* database {name, user} for a service that depends on MySQL, guessed from its
 * environment (a MySQL URL, *DB_NAME, *_DATABASE; *DB_USER, *DATASOURCE_USERNAME). */
static void map_database(struct conv *cv, const char *cname, const char *name, const json_t *c,
			 const char *token, json_t *databases, json_t *svc)
{
	struct db_guess g = {0};
	env_foreach(cv, cname, json_object_get(c, "environment"), db_guess_entry, &g);
	if (!g.name[0] || json_object_get(databases, g.name)) {
		size_t n = strlen(name);
		for (size_t i = 0; i <= n && i < sizeof g.name; i++)
			g.name[i] = name[i] == '-' ? '_' : name[i];
		g.name[sizeof g.name - 1] = '\0';
	}
	set_new(cv, databases, g.name, json_string(name));
	json_t *db = json_pack("{s:s}", "name", g.name);
	if (db && g.user[0])
		set_new(cv, db, "user", json_string(g.user));
	set_new(cv, svc, "database", db);
	report(cv, "services", cname, "depends_on", token,
	       "waits for MySQL; the database '%s' is created for it with the user '%s', whose password is the secret 'mysql-password'",
	       g.name, g.user[0] ? g.user : "(the service name with '_')");
}

static void map_dependency(struct conv *cv, const char *cname, const char *name, const json_t *c,
			   const char *target, const char *token, json_t *databases, json_t *svc)
{
	if (cv->builtin[MYSQL] && strcmp(target, cv->builtin[MYSQL]) == 0)
		map_database(cv, cname, name, c, token, databases, svc);
	else if (cv->builtin[RABBITMQ] && strcmp(target, cv->builtin[RABBITMQ]) == 0)
		set_new(cv, svc, "broker", json_true());
	else if (cv->builtin[ZIPKIN] && strcmp(target, cv->builtin[ZIPKIN]) == 0)
		return; /* tracing is optional: nothing waits for it */
	else
		report(cv, "services", cname, "depends_on", token,
		       "'%s' is not waited for: Kubernetes starts pods in any order, so the service must retry until it answers",
		       target);
}

static void map_depends_on(struct conv *cv, const char *cname, const char *name, const json_t *c,
			   json_t *databases, json_t *svc)
{
	const json_t *deps = json_object_get(c, "depends_on");
	char tok[24];
	size_t i;
	json_t *v;
	if (json_is_object(deps)) {
		const char *target;
		json_object_foreach((json_t *)deps, target, v)
			map_dependency(cv, cname, name, c, target, target, databases, svc);
	} else {
		json_array_foreach(deps, i, v) {
			(void)snprintf(tok, sizeof tok, "%zu", i);
			if (json_is_string(v))
				map_dependency(cv, cname, name, c, json_string_value(v), tok, databases, svc);
		}
	}
}

/* ---- application services ---- */

static void map_image(struct conv *cv, const char *cname, const char *name, const json_t *c,
		      json_t *svc)
{
	const char *ref = json_string_value(json_object_get(c, "image"));
	struct importkit_image img = {0};
	if (!ref || !importkit_image_split(ref, &img)) {
		(void)copy_str(img.repository, sizeof img.repository, name, strlen(name));
		report(cv, "services", cname, json_object_get(c, "build") ? "build" : "image", NULL,
		       "images are not built here: build and push one, then set its repository and tag (assumed '%s:%s')",
		       name, PLACEHOLDER_TAG);
		img.tag[0] = '\0';
	} else if (json_object_get(c, "build")) {
		report(cv, "services", cname, "build", NULL, "is not used: the image '%s' is deployed", ref);
	}
	if (!img.tag[0] || strcmp(img.tag, "latest") == 0) {
		if (ref)
			report(cv, "services", cname, "image", NULL,
			       "has no tag or 'latest', which moves: the tag was set to '%s'; pin a version",
			       PLACEHOLDER_TAG);
		(void)copy_str(img.tag, sizeof img.tag, PLACEHOLDER_TAG, strlen(PLACEHOLDER_TAG));
	}
	(void)oom(cv, importkit_count(cv->registries, img.registry));
	(void)oom(cv, importkit_count(cv->tags, img.tag));
	json_t *image = json_pack("{s:s, s:s, s:s}", "registry", img.registry, "repository",
				  img.repository, "tag", img.tag);
	if (image && img.digest[0])
		set_new(cv, image, "digest", json_string(img.digest));
	set_new(cv, svc, "image", image);
}

/* The usual port of a few well-known images, for services that publish none. */
static long long usual_port(const char *base)
{
	static const struct {
		const char *image;
		long long port;
	} ports[] = {{"redis", 6379}, {"postgres", 5432}, {"memcached", 11211}, {"mongo", 27017},
		     {"nginx", 80},   {"httpd", 80},      {"wordpress", 80},    {"elasticsearch", 9200}};
	for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
		if (strcmp(ports[i].image, base) == 0)
			return ports[i].port;
	return 0;
}

/* The first port of ports (published ones become the Ingress entry point) or expose. */
static long long listed_port(struct conv *cv, const char *cname, const json_t *c, const char *key)
{
	long long port = 0;
	size_t i;
	json_t *v;
	char tok[24];
	json_array_foreach(json_object_get(c, key), i, v) {
		struct port p;
		const char *why = parse_port(v, &p);
		(void)snprintf(tok, sizeof tok, "%zu", i);
		if (why) {
			report(cv, "services", cname, key, tok, "%s: not mapped", why);
			continue;
		}
		if (port) {
			report(cv, "services", cname, key, tok,
			       "a service has one port here (%lld): port %lld is not mapped", port, p.target);
			continue;
		}
		port = p.target;
		if (p.published && !cv->ingress)
			cv->ingress = cname;
		else if (p.published)
			report(cv, "services", cname, key, tok,
			       "is published, but the one entry point (the Ingress) goes to '%s': reachable inside the cluster only",
			       cv->ingress);
	}
	return port;
}

static long long map_port(struct conv *cv, const char *cname, const json_t *c, const json_t *svc)
{
	long long port = listed_port(cv, cname, c, "ports");
	long long exposed = listed_port(cv, cname, c, "expose");
	char tmp[32];
	if (!port)
		port = exposed;
	const json_t *env = json_object_get(c, "environment");
	const char *from_env = env_get(env, "SERVER_PORT", tmp, sizeof tmp);
	if (!from_env)
		from_env = env_get(env, "PORT", tmp, sizeof tmp);
	if (!port && from_env && util_parse_int(from_env, 1, 65535, &port) < 0)
		port = 0;
	struct importkit_image img;
	const char *repo = json_string_value(json_object_get(json_object_get(svc, "image"), "repository"));
	if (!port && repo && importkit_image_split(repo, &img) && (port = usual_port(importkit_image_base(&img))))
		report(cv, "services", cname, NULL, NULL,
		       "has no ports or expose: %lld, the usual port of '%s', was assumed", port, repo);
	if (!port) {
		port = FALLBACK_PORT;
		report(cv, "services", cname, NULL, NULL,
		       "has no ports or expose, and every service here has one: %d was assumed", FALLBACK_PORT);
	}
	return port;
}

static void map_user(struct conv *cv, const char *cname, const json_t *user, json_t *svc)
{
	char tmp[32];
	const char *s = scalar_text(user, tmp, sizeof tmp);
	char uid[16];
	size_t n = s ? strcspn(s, ":") : 0;
	long long v;
	if (s && n > 0 && n < sizeof uid) {
		memcpy(uid, s, n);
		uid[n] = '\0';
		if (util_parse_int(uid, 1, 2147483647, &v) == 0) {
			set_new(cv, svc, "securityContext", json_pack("{s:I}", "runAsUser", (json_int_t)v));
			return;
		}
	}
	report(cv, "services", cname, "user", NULL,
	       "only a numeric non-root user id is mapped: the container runs as user 1000");
}

static void report_volumes(struct conv *cv, const char *cname, const json_t *c)
{
	report_each(cv, cname, c, "volumes",
		    "volumes of application services are not mapped (only MySQL and RabbitMQ have storage): the data lives as long as the pod");
}

static bool key_in(const char *key, const char *const *keys)
{
	for (; *keys; keys++)
		if (strcmp(key, *keys) == 0)
			return true;
	return false;
}

/* Reports every key of the compose service c that is not in handled. */
static void report_other_keys(struct conv *cv, const char *cname, const json_t *c,
			      const char *const *handled, const char *what)
{
	static const char *const quiet[] = {"container_name", "restart", NULL};
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)c, key, v)
		if (!key_in(key, handled) && !key_in(key, quiet))
			report(cv, "services", cname, key, NULL, "is not mapped%s", what);
}

static void convert_app(struct conv *cv, const char *cname, const json_t *c, json_t *databases)
{
	static const char *const handled[] = {"image", "build", "ports", "expose", "environment", "env_file",
					      "depends_on", "healthcheck", "deploy", "volumes", "user",
					      "command", "entrypoint", NULL};
	const char *name = json_string_value(json_object_get(cv->names, cname));
	json_t *svc = json_object();
	set_new(cv, cv->services, name, svc);
	if (cv->rc)
		return;
	map_image(cv, cname, name, c, svc);
	set_new(cv, svc, "port", json_integer(map_port(cv, cname, c, svc)));
	json_t *env = json_object();
	struct app_env a = {cname, name, env};
	env_foreach(cv, cname, json_object_get(c, "environment"), app_env_entry, &a);
	set_new(cv, svc, "env", env);
	if (json_object_get(c, "env_file"))
		report(cv, "services", cname, "env_file", NULL,
		       "env files are not read: add their variables to the service's env (secrets to secrets)");
	map_depends_on(cv, cname, name, c, databases, svc);
	map_probes(cv, cname, json_object_get(c, "healthcheck"),
		   json_integer_value(json_object_get(svc, "port")), svc);
	map_deploy(cv, cname, json_object_get(c, "deploy"), svc);
	if (json_object_get(c, "user"))
		map_user(cv, cname, json_object_get(c, "user"), svc);
	report_volumes(cv, cname, c);
	if (json_object_get(c, "command"))
		report(cv, "services", cname, "command", NULL,
		       "is not mapped: services here have no command or args, so the image's own CMD runs; bake it into the image");
	if (json_object_get(c, "entrypoint"))
		report(cv, "services", cname, "entrypoint", NULL,
		       "is not mapped: services here have no command, so the image's own ENTRYPOINT runs; bake it into the image");
	report_other_keys(cv, cname, c, handled, "");
}

/* ---- built-in components ---- */

struct builtin_env {
	enum builtin kind;
	const char *cname;
	const char *env_key; /* "environment", or NULL when the service has none */
	json_t *section;
	bool root_set, app_set, pass_set;
};

static void builtin_env_entry(struct conv *cv, void *arg, const char *var, const char *value,
			      const char *token)
{
	struct builtin_env *b = arg;
	if (b->kind == MYSQL && (strcmp(var, "MYSQL_ROOT_PASSWORD") == 0 || strcmp(var, "MARIADB_ROOT_PASSWORD") == 0)) {
		builtin_secret(cv, b->cname, "environment", token, "mysql-root-password", value);
		b->root_set = true;
	} else if (b->kind == MYSQL && (strcmp(var, "MYSQL_PASSWORD") == 0 || strcmp(var, "MARIADB_PASSWORD") == 0)) {
		builtin_secret(cv, b->cname, "environment", token, "mysql-password", value);
		b->app_set = true;
	} else if (b->kind == MYSQL && (strcmp(var, "MYSQL_DATABASE") == 0 || strcmp(var, "MYSQL_USER") == 0 ||
					strcmp(var, "MARIADB_DATABASE") == 0 || strcmp(var, "MARIADB_USER") == 0)) {
		report(cv, "services", b->cname, "environment", token,
		       "is not needed: a database and a user are created for each service that depends on MySQL");
	} else if (b->kind == RABBITMQ && strcmp(var, "RABBITMQ_DEFAULT_USER") == 0 && value &&
		   *value && strlen(value) <= 64 && strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(value)) {
		set_new(cv, b->section, "user", json_string(value));
	} else if (b->kind == RABBITMQ && strcmp(var, "RABBITMQ_DEFAULT_PASS") == 0) {
		builtin_secret(cv, b->cname, "environment", token, "rabbitmq-password", value);
		b->pass_set = true;
	} else {
		report(cv, "services", b->cname, "environment", token,
		       "is not mapped: the built-in %s is configured by manifestd", builtin_service[b->kind]);
	}
}

/* The secrets a built-in needs but the compose file did not give. */
static void builtin_defaults(struct conv *cv, struct builtin_env *b)
{
	json_t *values = child(cv, cv->env, "secrets");
	if (b->kind == MYSQL && !b->root_set)
		builtin_secret(cv, b->cname, b->env_key, NULL, "mysql-root-password", NULL);
	if (b->kind == MYSQL && !b->app_set) {
		const char *root = json_string_value(json_object_get(values, "mysql-root-password"));
		builtin_secret(cv, b->cname, b->env_key, NULL, "mysql-password", root);
		report(cv, "services", b->cname, b->env_key, NULL,
		       "gives no MYSQL_PASSWORD: the secret 'mysql-password' (the services' database users) got the root password");
	}
	if (b->kind == RABBITMQ && !json_object_get(b->section, "user")) {
		set_new(cv, b->section, "user", json_string("guest"));
		if (!b->pass_set)
			builtin_secret(cv, b->cname, b->env_key, NULL, "rabbitmq-password", "guest");
		report(cv, "services", b->cname, b->env_key, NULL,
		       "gives no RABBITMQ_DEFAULT_USER: the image's guest user was kept, which RabbitMQ lets in from localhost only; set a user and password");
	} else if (b->kind == RABBITMQ && !b->pass_set) {
		builtin_secret(cv, b->cname, b->env_key, NULL, "rabbitmq-password", NULL);
	}
}

/* The image of a built-in, kept when it has a tag (else the built-in default). */
static void builtin_image(struct conv *cv, const char *cname, const json_t *c, json_t *section)
{
	const char *ref = json_string_value(json_object_get(c, "image"));
	struct importkit_image img;
	if (ref && importkit_image_split(ref, &img) && img.tag[0] && strcmp(img.tag, "latest") != 0)
		set_new(cv, section, "image", json_string(ref));
	else
		report(cv, "services", cname, "image", NULL,
		       "has no tag or 'latest': the built-in %s's default image is used", builtin_service[classify(c)]);
}

/* Named volumes become the component's storage; bind mounts are reported. */
static void builtin_volumes(struct conv *cv, const char *cname, const json_t *c)
{
	size_t i;
	json_t *v;
	char tok[24];
	json_array_foreach(json_object_get(c, "volumes"), i, v) {
		const char *s = json_string_value(v);
		if (!s)
			s = json_string_value(json_object_get(v, "source"));
		(void)snprintf(tok, sizeof tok, "%zu", i);
		size_t n = s ? strcspn(s, ":") : 0;
		if (s && s[n] == ':' && n > 0 && s[0] != '.' && s[0] != '/' && s[0] != '~') {
			char name[256];
			if (copy_str(name, sizeof name, s, n))
				set_new(cv, cv->used_volumes, name, json_true());
			continue;
		}
		report(cv, "services", cname, "volumes", tok,
		       "is not mapped: the built-in component has its own persistent volume%s",
		       classify(c) == MYSQL ? " and creates the databases itself (no init scripts needed)" : "");
	}
}

static void report_builtin_ports(struct conv *cv, const char *cname, const json_t *c, enum builtin kind)
{
	report_each(cv, cname, c, "ports",
		    "is not published: the built-in %s is reachable in the cluster as its Service '%s'",
		    builtin_service[kind], builtin_service[kind]);
}

static void convert_builtin(struct conv *cv, enum builtin kind, const char *cname, const json_t *c)
{
	static const char *const handled[] = {"image", "environment", "volumes", "ports", "expose",
					      "healthcheck", NULL};
	json_t *section = json_pack("{s:b}", "enabled", 1);
	set_new(cv, cv->stack, builtin_service[kind], section);
	if (cv->rc)
		return;
	builtin_image(cv, cname, c, section);
	struct builtin_env b = {kind, cname, json_object_get(c, "environment") ? "environment" : NULL,
				section, false, false, false};
	env_foreach(cv, cname, json_object_get(c, "environment"), builtin_env_entry, &b);
	builtin_defaults(cv, &b);
	builtin_volumes(cv, cname, c);
	report_builtin_ports(cv, cname, c, kind);
	report_other_keys(cv, cname, c, handled, ": the built-in component is configured by manifestd");
}

/* ---- the whole file ---- */

static bool is_builtin(const struct conv *cv, const char *cname)
{
	for (int k = 1; k < BUILTIN_COUNT; k++)
		if (cv->builtin[k] && strcmp(cv->builtin[k], cname) == 0)
			return true;
	return false;
}

/* Picks the built-ins and the manifestd name of every service; false when a service
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
		enum builtin kind = classify(c);
		if (kind != APP && !cv->builtin[kind]) {
			cv->builtin[kind] = cname;
			set_new(cv, cv->names, cname, json_string(builtin_service[kind]));
			continue;
		}
		char name[64];
		importkit_service_name(cname, name);
		for (int k = 1; k < BUILTIN_COUNT && name[0]; k++)
			if (cv->builtin[k] && strcmp(name, builtin_service[k]) == 0)
				name[0] = '\0';
		if (!name[0] || json_object_get(cv->services, name)) {
			report(cv, "services", cname, NULL, NULL,
			       "cannot be named here (a service name is a DNS label starting with a letter, unique, and not that of a built-in component): not mapped");
			set_new(cv, cv->names, cname, json_null());
			continue;
		}
		set_new(cv, cv->names, cname, json_string(name));
		set_new(cv, cv->services, name, json_object()); /* reserves the name */
	}
	return true;
}

static void report_top_level(struct conv *cv)
{
	static const char *const quiet[] = {"version", "name", "services", "volumes", NULL};
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)cv->compose, key, v) {
		if (key_in(key, quiet) || strncmp(key, "x-", 2) == 0)
			continue;
		report(cv, key, NULL, NULL, NULL, "is not mapped%s",
		       strcmp(key, "networks") == 0 ? ": every service reaches the others by name in the namespace" : "");
	}
	json_object_foreach(json_object_get(cv->compose, "volumes"), key, v)
		if (!json_object_get(cv->used_volumes, key))
			report(cv, "volumes", key, NULL, NULL,
			       "is not mapped: only MySQL and RabbitMQ have persistent storage here");
}

static void finish(struct conv *cv)
{
	if (cv->ingress)
		set_new(cv, cv->stack, "ingress",
			json_pack("{s:b, s:{s:{s:O}}}", "enabled", 1, "rules", "main", "service",
				  json_object_get(cv->names, cv->ingress)));
	else
		report(cv, "services", NULL, NULL, NULL,
		       "no service publishes a port: no Ingress is rendered (add a rule to ingress.rules for one)");
	(void)oom(cv, importkit_settle_images(cv->stack, cv->env, cv->services, cv->registries, cv->tags));
	report_top_level(cv);
}

static void conv_release(struct conv *cv)
{
	json_decref(cv->stack);
	json_decref(cv->env);
	json_decref(cv->report);
	json_decref(cv->names);
	json_decref(cv->used_volumes);
	json_decref(cv->tags);
	json_decref(cv->registries);
}

int compose_convert(const json_t *compose, struct buf *err, struct compose_result *ret)
{
	struct conv cv = {.compose = compose};
	cv.services_in = json_object_get(compose, "services");
	if (!json_is_object(compose) || !json_is_object(cv.services_in) || !json_object_size(cv.services_in)) {
		(void)buf_puts(err, "not a docker-compose file: a mapping with a non-empty 'services' mapping is expected");
		return -EINVAL;
	}
	cv.stack = json_pack("{s:s, s:{s:{s:b}}, s:{}, s:{}}", "description",
			     "Imported from docker-compose", "serviceDefaults", "securityContext",
			     "readOnlyRootFilesystem", 0, "secrets", "services");
	cv.env = json_pack("{s:{}, s:{}}", "image", "secrets");
	cv.report = json_array();
	cv.names = json_object();
	cv.used_volumes = json_object();
	cv.tags = json_object();
	cv.registries = json_object();
	json_t *databases = json_object();
	int r = cv.stack && cv.env && cv.report && cv.names && cv.used_volumes && cv.tags &&
				cv.registries && databases
			? 0
			: -ENOMEM;
	cv.services = json_object_get(cv.stack, "services");
	if (r == 0 && !plan_services(&cv, err))
		r = -EINVAL;
	if (r == 0)
		r = cv.rc;
	for (int k = 1; r == 0 && k < BUILTIN_COUNT; k++)
		if (cv.builtin[k])
			convert_builtin(&cv, (enum builtin)k, cv.builtin[k],
					json_object_get(cv.services_in, cv.builtin[k]));
	const char *cname;
	json_t *c;
	json_object_foreach((json_t *)(r == 0 ? cv.services_in : NULL), cname, c) {
		if (json_is_string(json_object_get(cv.names, cname)) && !is_builtin(&cv, cname))
			convert_app(&cv, cname, c, databases);
	}
	if (r == 0)
		r = cv.rc;
	if (r == 0 && json_object_size(cv.services) == 0) {
		(void)buf_puts(err, "the compose file has no application service (only built-in components)");
		r = -EINVAL;
	}
	if (r == 0)
		finish(&cv);
	if (r == 0)
		r = cv.rc;
	/* the built-in sections and services' database and broker as components and uses */
	if (r == 0)
		r = docmigrate_v3(cv.stack, NULL);
	json_decref(databases);
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
