/* score_resources: the Score importer's resources (components and the workloads' uses,
 * services, dns, routes as Ingress rules, volumes, environment) and its placeholders
 * (include/score_conv.h; the mapping is described in include/import_score.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "importkit.h"
#include "model.h"
#include "score_conv.h"
#include "syntax.h"
#include "util.h"

#define KAFKA_PARTITIONS 3 /* what Score's kafka-topic provisioners make */

/* Score resource types that are components of a built-in type. */
static const struct {
	const char *score;
	const char *type;
} component_types[] = {
	{"postgres", "postgres"}, {"mysql", "mysql"}, {"mariadb", "mariadb"},   {"redis", "redis"},
	{"mongodb", "mongodb"},   {"amqp", "rabbitmq"}, {"rabbitmq", "rabbitmq"}, {"kafka-topic", "kafka"},
	{"kafka", "kafka"},       {"memcached", "memcached"},
};

/* Score output names -> ours; type NULL: any type; ours NULL: a literal (see literal()). */
static const struct {
	const char *type;
	const char *score;
	const char *ours;
} output_names[] = {
	{"redis", "username", NULL}, {"kafka", "name", NULL},     {"kafka", "topic", NULL},
	{"kafka", "num_partitions", NULL}, {NULL, "host", "host"}, {NULL, "hostname", "host"},
	{NULL, "port", "port"},      {NULL, "username", "username"}, {NULL, "user", "username"},
	{NULL, "password", "password"}, {NULL, "name", "database"}, {NULL, "database", "database"},
	{NULL, "uri", "url"},        {NULL, "url", "url"},        {NULL, "connection", "url"},
	{NULL, "vhost", "vhost"},    {NULL, "bootstrap_servers", "bootstrapServers"},
};

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const char *component_type(const char *score)
{
	for (size_t i = 0; i < sizeof component_types / sizeof component_types[0]; i++)
		if (strcmp(component_types[i].score, score) == 0)
			return component_types[i].type;
	return NULL;
}

static const json_t *type_doc(const char *type)
{
	const struct catalog *c = catalog_builtin();
	const struct catalog_type *t = c ? catalog_find(c, type) : NULL;
	return t ? t->doc : NULL;
}

/* A name that is a DNS label starting with a letter and neither a service nor a component:
 * first (with '.' -> '-'), else WORKLOAD-second. "" when neither fits. */
static void free_name(struct sconv *cv, const struct swl *wl, const char *first, const char *second, char out[64])
{
	importkit_service_name(first, out);
	if (out[0] && !json_object_get(cv->services, out) && !json_object_get(cv->components, out))
		return;
	char both[160];
	(void)snprintf(both, sizeof both, "%s-%s", wl->name, second);
	importkit_service_name(strlen(both) < 64 ? both : "", out);
	if (out[0] && (json_object_get(cv->services, out) || json_object_get(cv->components, out)))
		out[0] = '\0';
}

/* "${name}" in text replaced by name, into out. */
static int with_name(const char *text, const char *name, struct buf *out)
{
	const char *hit = strstr(text, "${name}");
	buf_reset(out);
	if (!hit)
		return buf_puts(out, text);
	int r = buf_append(out, text, (size_t)(hit - text));
	if (r == 0)
		r = BUF_PUTS(out, name, hit + 7);
	return r;
}

/* The secrets the type keeps, declared with the placeholder value (reported once). */
static void component_secrets(struct sconv *cv, struct swl *wl, const char *rn, const char *name, const json_t *doc)
{
	const char *sname;
	json_t *s;
	struct buf key, keys;
	buf_init(&key, BUF_NO_MAX);
	buf_init(&keys, BUF_NO_MAX);
	json_object_foreach(json_object_get(doc, "secrets"), sname, s) {
		const char *def = str(s, "default");
		if (!def || json_is_true(json_object_get(s, "optional")))
			continue;
		(void)sconv_oom(cv, with_name(def, name, &key));
		sconv_set(cv, sconv_child(cv, cv->stack, "secrets"), buf_cstr(&key), json_string(""));
		sconv_set(cv, sconv_child(cv, cv->env, "secrets"), buf_cstr(&key), json_string(MODEL_PLACEHOLDER));
		(void)sconv_oom(cv, BUF_PUTS(&keys, keys.len ? ", " : "", "'", buf_cstr(&key), "'"));
	}
	if (keys.len)
		sconv_report(cv, wl, "resources", rn, NULL, NULL,
			     "the component '%s' keeps its credentials in the secrets %s, set to \"%s\": set the real ones in the environment",
			     name, buf_cstr(&keys), MODEL_PLACEHOLDER);
	buf_release(&key);
	buf_release(&keys);
}

/* The database or user name made of a shared resource's id ("orders.db" -> "orders_db"). */
static void snake(const char *id, char out[64])
{
	size_t n = 0;
	for (; id[n] && n < 63; n++)
		out[n] = id[n] == '-' || id[n] == '.' ? '_' : id[n];
	out[n] = '\0';
}

/* One consumer param from a Score param, or false when the type has none of that name. */
static bool consumer_param(struct sconv *cv, const json_t *consumer_def, const char *k, json_t *v, json_t *consumer)
{
	static const struct {
		const char *score, *ours;
	} aliases[] = {{"name", "database"}, {"username", "user"}, {"num_partitions", "partitions"}};
	const char *key = k;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcmp(k, aliases[i].score) == 0 && json_object_get(consumer_def, aliases[i].ours))
			key = aliases[i].ours;
	if (!json_object_get(consumer_def, key) || strcmp(key, "passwordSecret") == 0)
		return false;
	sconv_set(cv, consumer, key, json_incref(v));
	return true;
}

/* The consumer params of the workload's use, the topic and partitions into entry. */
static json_t *consumer(struct sconv *cv, struct swl *wl, const char *rn, const json_t *def, const char *type,
			const json_t *doc, json_t *instance, json_t *entry)
{
	const json_t *cdef = json_object_get(doc, "consumer"), *pdef = json_object_get(doc, "params");
	json_t *out = json_object();
	const char *k, *id = str(def, "id");
	json_t *v;
	bool kafka = strcmp(type, "kafka") == 0;
	json_object_foreach(json_object_get(def, "params"), k, v) {
		if (kafka && strcmp(k, "name") == 0)
			continue;
		if (consumer_param(cv, cdef, k, v, out))
			continue;
		if (instance && json_object_get(pdef, k) && strcmp(k, "image") != 0)
			sconv_set(cv, instance, k, json_incref(v));
		else if (!instance && json_object_get(pdef, k))
			continue; /* the instance took the first workload's params */
		else
			sconv_report(cv, wl, "resources", rn, "params", k, "has no counterpart in the %s component: not mapped",
				     type);
	}
	char name[64];
	if (id && json_object_get(cdef, "database") && !json_object_get(out, "database")) {
		snake(id, name);
		if (!syntax_db_name(name))
			sconv_set(cv, out, "database", json_string(name));
	}
	if (id && json_object_get(cdef, "user") && !json_object_get(out, "user") && strcmp(type, "rabbitmq") != 0) {
		snake(id, name);
		if (!syntax_db_user(name))
			sconv_set(cv, out, "user", json_string(name));
	}
	if (kafka) {
		const char *topic = str(json_object_get(def, "params"), "name");
		topic = topic ? topic : id ? id : rn;
		if (syntax_kafka_topic(topic)) {
			sconv_report(cv, wl, "resources", rn, NULL, NULL, "'%s' is not a Kafka topic name: the topic '%s' is used",
				     topic, wl->name);
			topic = wl->name;
		}
		if (!json_object_get(out, "partitions"))
			sconv_set(cv, out, "partitions", json_integer(KAFKA_PARTITIONS));
		sconv_set(cv, out, "topics", json_pack("[s]", topic));
		sconv_set(cv, entry, "topic", json_string(topic));
		sconv_set(cv, entry, "partitions", json_incref(json_object_get(out, "partitions")));
	}
	return out;
}

static void map_component(struct sconv *cv, struct swl *wl, const char *rn, const json_t *def, const char *type)
{
	const json_t *doc = type_doc(type);
	const char *id = str(def, "id"), *class = str(def, "class");
	struct buf key;
	buf_init(&key, BUF_NO_MAX);
	(void)sconv_oom(cv, buf_printf(&key, "%s/%s/%s%s%s", type, class ? class : "", id ? "" : wl->name, id ? "" : ".",
				       id ? id : rn));
	const char *known = str(cv->shared, buf_cstr(&key));
	char name[64] = "";
	json_t *instance = NULL;
	if (known) {
		(void)snprintf(name, sizeof name, "%s", known);
	} else if (doc) {
		free_name(cv, wl, id ? id : rn, rn, name);
	}
	if (!name[0]) {
		sconv_report(cv, wl, "resources", rn, NULL, NULL,
			     "cannot be named here (a component's name is a DNS label starting with a letter, unique): not mapped");
		sconv_set(cv, wl->res, rn, json_pack("{s:s}", "kind", "other"));
		buf_release(&key);
		return;
	}
	if (!known) {
		instance = json_pack("{s:s}", "type", type);
		sconv_set(cv, cv->shared, buf_cstr(&key), json_string(name));
		sconv_set(cv, cv->components, name, instance);
		component_secrets(cv, wl, rn, name, doc);
		if (class)
			sconv_report(cv, wl, "resources", rn, "class", NULL,
				     "'%s' has no counterpart: the component '%s' is the %s type's default instance", class,
				     name, type);
	}
	json_t *entry = json_pack("{s:s, s:s, s:s}", "kind", "component", "name", name, "type", type);
	json_t *use = consumer(cv, wl, rn, def, type, doc, instance, entry);
	sconv_set(cv, sconv_child(cv, wl->svc, "uses"), name, use);
	sconv_set(cv, wl->res, rn, entry);
	if (json_object_get(def, "metadata"))
		sconv_report(cv, wl, "resources", rn, "metadata", NULL, "is not mapped");
	buf_release(&key);
}

/* service: another workload (by the resource's id or name); service-port: params.workload
 * and the number of its params.port. */
static void map_service(struct sconv *cv, struct swl *wl, const char *rn, const json_t *def, bool port)
{
	const json_t *params = json_object_get(def, "params");
	const char *target = port ? str(params, "workload") : str(def, "id") ? str(def, "id") : rn;
	struct swl *other = sconv_workload(cv, target);
	char name[64] = "";
	json_t *entry = json_pack("{s:s}", "kind", "service");
	if (other)
		(void)snprintf(name, sizeof name, "%s", other->name);
	else if (target)
		importkit_service_name(target, name);
	if (name[0])
		sconv_set(cv, entry, "name", json_string(name));
	if (!other)
		sconv_report(cv, wl, "resources", rn, NULL, NULL,
			     "names the workload '%s', which is not among the imported ones%s",
			     target ? target : "", name[0] ? ": its name is used as written" : "");
	const json_t *p = json_object_get(json_object_get(json_object_get(other ? other->in : NULL, "service"), "ports"),
					  str(params, "port") ? str(params, "port") : "");
	if (port && json_is_integer(json_object_get(p, "port"))) {
		char text[24];
		(void)snprintf(text, sizeof text, "%lld", (long long)json_integer_value(json_object_get(p, "port")));
		sconv_set(cv, entry, "port", json_string(text));
	}
	sconv_set(cv, wl->res, rn, entry);
}

static void map_volume_resource(struct sconv *cv, struct swl *wl, const char *rn, const json_t *def)
{
	const json_t *params = json_object_get(def, "params");
	const char *size = str(params, "size"), *class = str(def, "class");
	char name[64];
	importkit_service_name(rn, name);
	if (!name[0]) {
		sconv_report(cv, wl, "resources", rn, NULL, NULL, "cannot be a volume name here: not mapped");
		sconv_set(cv, wl->res, rn, json_pack("{s:s}", "kind", "other"));
		return;
	}
	json_t *entry = json_pack("{s:s, s:s}", "kind", "volume", "name", name);
	if (size && !syntax_quantity(size)) {
		sconv_set(cv, entry, "size", json_string(size));
		if (class && !syntax_object_name(class))
			sconv_set(cv, entry, "className", json_string(class));
	} else {
		sconv_report(cv, wl, "resources", rn, NULL, NULL,
			     "is an emptyDir here: its data lives as long as the pod; give params.size (a quantity) for a persistent volume");
	}
	sconv_set(cv, wl->res, rn, entry);
}

void score_map_resources(struct sconv *cv, struct swl *wl)
{
	const char *rn;
	json_t *def;
	json_object_foreach(json_object_get(wl->in, "resources"), rn, def) {
		const char *type = str(def, "type"), *comp = type ? component_type(type) : NULL;
		if (comp)
			map_component(cv, wl, rn, def, comp);
		else if (type && (strcmp(type, "service") == 0 || strcmp(type, "service-port") == 0))
			map_service(cv, wl, rn, def, strcmp(type, "service-port") == 0);
		else if (type && strcmp(type, "dns") == 0)
			sconv_set(cv, wl->res, rn, json_pack("{s:s, s:o}", "kind", "dns", "host",
							     str(json_object_get(def, "params"), "host")
								     ? json_incref(json_object_get(json_object_get(def, "params"), "host"))
								     : json_null()));
		else if (type && strcmp(type, "route") == 0)
			sconv_set(cv, wl->res, rn, json_pack("{s:s}", "kind", "route"));
		else if (type && strcmp(type, "volume") == 0)
			map_volume_resource(cv, wl, rn, def);
		else if (type && strcmp(type, "environment") == 0)
			sconv_set(cv, wl->res, rn, json_pack("{s:s}", "kind", "environment"));
		else {
			sconv_report(cv, wl, "resources", rn, NULL, NULL,
				     "has the type '%s', which has no counterpart here: not mapped; placeholders naming it are kept as text",
				     type ? type : "(none)");
			sconv_set(cv, wl->res, rn, json_pack("{s:s}", "kind", "other"));
		}
	}
}

/* ==== placeholders ==== */

struct ref {
	const char *at[4];
	enum sctx ctx;
	bool alone;       /* the placeholder is the whole value */
	json_t *whole;    /* what it stands for as a whole env source, or NULL */
};

/* The Score output of a component as ours (or a literal into out); false when none. */
static bool component_output(struct sconv *cv, const json_t *entry, const char *out_name, struct ref *rf,
			     struct buf *out, const char **ret_reason)
{
	const char *type = str(entry, "type"), *name = str(entry, "name");
	for (size_t i = 0; i < sizeof output_names / sizeof output_names[0]; i++) {
		if (strcmp(output_names[i].score, out_name) != 0 || (output_names[i].type && strcmp(output_names[i].type, type) != 0))
			continue;
		const char *ours = output_names[i].ours;
		char tmp[32];
		if (!ours) { /* a literal */
			const char *lit = str(entry, "topic");
			if (strcmp(type, "redis") == 0)
				lit = "default"; /* the user of a Redis with only a password */
			else if (strcmp(out_name, "num_partitions") == 0)
				lit = sconv_scalar(json_object_get(entry, "partitions"), tmp, sizeof tmp);
			if (lit)
				(void)sconv_oom(cv, buf_puts(out, lit));
			return lit != NULL;
		}
		if (!json_object_get(json_object_get(type_doc(type), "outputs"), ours)) {
			*ret_reason = "the component has no such output";
			return false;
		}
		if (rf->ctx != SCTX_ENV) {
			*ret_reason = "a component's outputs go into env variables only";
			return false;
		}
		(void)sconv_oom(cv, BUF_PUTS(out, "${components.", name, ".", ours, "}"));
		if (rf->alone)
			rf->whole = json_pack("{s:s, s:s}", "component", name, "output", ours);
		return true;
	}
	*ret_reason = "Score's output has no counterpart here";
	return false;
}

/* An output of an environment resource: a config key, or a secret key when it looks like one. */
static bool environment_output(struct sconv *cv, struct swl *wl, const char *key, struct ref *rf,
			       const char **ret_reason)
{
	if (rf->ctx != SCTX_ENV || !rf->alone || syntax_key(key)) {
		*ret_reason = "an environment output is mapped only as a whole variable";
		return false;
	}
	if (importkit_secret_name(key)) {
		struct buf k;
		buf_init(&k, BUF_NO_MAX);
		(void)sconv_oom(cv, importkit_secret_key(sconv_child(cv, cv->env, "secrets"), wl->name, key,
							 MODEL_PLACEHOLDER, false, &k));
		sconv_set(cv, sconv_child(cv, cv->stack, "secrets"), buf_cstr(&k), json_string(""));
		rf->whole = json_pack("{s:s}", "secret", buf_cstr(&k));
		buf_release(&k);
	} else {
		if (!json_object_get(json_object_get(cv->stack, "config"), key))
			sconv_set(cv, sconv_child(cv, cv->stack, "config"), key, json_string(""));
		rf->whole = json_pack("{s:s}", "config", key);
	}
	sconv_report(cv, wl, rf->at[0], rf->at[1], rf->at[2], rf->at[3],
		     "comes from the environment: it reads the %s '%s', declared empty; set its value",
		     importkit_secret_name(key) ? "secret" : "config key", key);
	return true;
}

/* The resource placeholder ID[.OUTPUT] appended to out; false (reason) when it stays text. */
static bool resource_ref(struct sconv *cv, struct swl *wl, char *path, struct ref *rf, struct buf *out,
			 const char **ret_reason)
{
	char *dot = strchr(path, '.');
	const char *output = dot ? dot + 1 : "";
	if (dot)
		*dot = '\0';
	const json_t *entry = json_object_get(wl->res, path);
	const char *kind = str(entry, "kind");
	*ret_reason = "the workload has no such resource";
	if (!kind)
		return false;
	*ret_reason = "the resource has no counterpart here";
	if (strcmp(kind, "component") == 0)
		return component_output(cv, entry, output, rf, out, ret_reason);
	if (strcmp(kind, "environment") == 0)
		return environment_output(cv, wl, output, rf, ret_reason);
	const char *text = NULL;
	if (strcmp(kind, "service") == 0 && (!*output || strcmp(output, "name") == 0 || strcmp(output, "hostname") == 0 ||
					     strcmp(output, "host") == 0))
		text = str(entry, "name");
	else if (strcmp(kind, "service") == 0 && strcmp(output, "port") == 0)
		text = str(entry, "port");
	else if (strcmp(kind, "dns") == 0 && strcmp(output, "host") == 0)
		text = str(entry, "host");
	if (strcmp(kind, "dns") == 0 && !text)
		*ret_reason = "the host is made by Score's dns provisioner; give the dns resource params.host";
	if (!text)
		return false;
	(void)sconv_oom(cv, buf_puts(out, text));
	return true;
}

/* One placeholder (its path, n bytes) appended to out. */
static void placeholder(struct sconv *cv, struct swl *wl, const char *s, size_t n, struct ref *rf, struct buf *out)
{
	char *path = strndup(s, n);
	const char *reason = "it names nothing Score defines";
	bool done = false;
	if (!path) {
		(void)sconv_oom(cv, -ENOMEM);
		return;
	}
	const json_t *annotations = json_object_get(json_object_get(wl->in, "metadata"), "annotations");
	if (strcmp(path, "metadata.name") == 0)
		done = sconv_oom(cv, buf_puts(out, wl->name)) == 0;
	else if (strncmp(path, "metadata.annotations.", 21) == 0 && str(annotations, path + 21))
		done = sconv_oom(cv, buf_puts(out, str(annotations, path + 21))) == 0;
	else if (strncmp(path, "resources.", 10) == 0)
		done = resource_ref(cv, wl, path + 10, rf, out, &reason);
	if (!done) {
		(void)sconv_oom(cv, buf_printf(out, "${%.*s}", (int)n, s));
		sconv_report(cv, wl, rf->at[0], rf->at[1], rf->at[2], rf->at[3], "keeps ${%.*s} as text: %s", (int)n, s,
			     reason);
	}
	free(path);
}

void score_expand(struct sconv *cv, struct swl *wl, const char *s, enum sctx ctx, struct buf *out,
		  json_t **ret_whole, const char *const at[4])
{
	struct ref rf = {{at[0], at[1], at[2], at[3]}, ctx, false, NULL};
	const char *close0 = strncmp(s, "${", 2) == 0 ? strchr(s, '}') : NULL;
	rf.alone = close0 && close0[1] == '\0';
	(void)sconv_oom(cv, buf_puts(out, ""));
	while (*s) {
		if (strncmp(s, "$${", 3) == 0) {
			(void)sconv_oom(cv, buf_puts(out, "${"));
			s += 3;
		} else if (strncmp(s, "${", 2) == 0 && strchr(s, '}')) {
			const char *close = strchr(s, '}');
			placeholder(cv, wl, s + 2, (size_t)(close - s - 2), &rf, out);
			s = close + 1;
		} else {
			size_t n = strcspn(s + 1, "$") + 1;
			(void)sconv_oom(cv, buf_append(out, s, n));
			s += n;
		}
	}
	if (ret_whole)
		*ret_whole = rf.whole;
	else
		json_decref(rf.whole);
}

json_t *score_volume(struct sconv *cv, struct swl *wl, const char *source, char ret_name[64])
{
	size_t n = strlen(source);
	if (n < 14 || strncmp(source, "${resources.", 12) != 0 || source[n - 1] != '}')
		return NULL;
	char id[128];
	if (n - 13 >= sizeof id)
		return NULL;
	memcpy(id, source + 12, n - 13);
	id[n - 13] = '\0';
	const json_t *entry = json_object_get(wl->res, id);
	if (!json_is_string(json_object_get(entry, "kind")) || strcmp(str(entry, "kind"), "volume") != 0)
		return NULL;
	(void)snprintf(ret_name, 64, "%s", str(entry, "name"));
	json_t *vol = str(entry, "size") ? json_pack("{s:{s:s}}", "persistent", "size", str(entry, "size"))
					 : json_pack("{s:{}}", "emptyDir");
	if (vol && str(entry, "className"))
		sconv_set(cv, json_object_get(vol, "persistent"), "className", json_string(str(entry, "className")));
	if (!vol)
		(void)sconv_oom(cv, -ENOMEM);
	return vol;
}

/* ==== routes ==== */

/* The document port name of a route's port (a number of a service port, or its Score
 * name); NULL when it names none. */
static const char *route_port(const struct swl *wl, const json_t *port)
{
	const char *k;
	json_t *p;
	long long n = 0;
	if (json_is_string(port) && json_object_get(wl->ports, json_string_value(port)))
		return str(json_object_get(wl->ports, json_string_value(port)), "name");
	if (json_is_integer(port))
		n = json_integer_value(port);
	else if (json_is_string(port) && util_parse_int(json_string_value(port), 1, 65535, &n) < 0)
		n = 0;
	json_object_foreach(wl->ports, k, p)
		if (n && json_integer_value(json_object_get(p, "port")) == n)
			return str(p, "name");
	return NULL;
}

/* Whether a rule of the Ingress has host and path already. */
static bool rule_taken(const struct sconv *cv, const char *host, const char *path)
{
	const char *k;
	json_t *rule;
	json_object_foreach(cv->rules, k, rule)
		if (strcmp(str(rule, "host"), host) == 0 && strcmp(str(rule, "path"), path) == 0)
			return true;
	return false;
}

/* The rule's host: params.host expanded. A dns resource without a host (Score's
 * provisioner makes one up) gives "" (any host), or WORKLOAD.localhost when another rule
 * has "" and the same path. */
static void route_host(struct sconv *cv, struct swl *wl, const char *rn, const char *host, const char *path,
		       struct buf *out)
{
	const char *const at[4] = {"resources", rn, "params", "host"};
	size_t n = host ? strlen(host) : 0;
	if (n > 13 && strncmp(host, "${resources.", 12) == 0 && host[n - 1] == '}') {
		char id[128];
		const char *dot = memchr(host + 12, '.', n - 13);
		size_t idn = dot ? (size_t)(dot - host - 12) : 0;
		const json_t *entry = NULL;
		if (idn && idn < sizeof id) {
			memcpy(id, host + 12, idn);
			id[idn] = '\0';
			entry = json_object_get(wl->res, id);
		}
		if (str(entry, "kind") && strcmp(str(entry, "kind"), "dns") == 0 && !str(entry, "host")) {
			bool taken = rule_taken(cv, "", path);
			if (taken)
				(void)sconv_oom(cv, BUF_PUTS(out, wl->name, ".localhost"));
			sconv_report(cv, wl, "resources", rn, "params", "host",
				     "is made by Score's dns provisioner: the rule answers %s%s; set its host in the environment",
				     taken ? "the host " : "any host", taken ? buf_cstr(out) : "");
			return;
		}
	}
	if (host)
		score_expand(cv, wl, host, SCTX_TEXT, out, NULL, at);
	if (out->len && syntax_host(buf_cstr(out))) {
		sconv_report(cv, wl, "resources", rn, "params", "host", "'%s' is not a host name: the rule answers any host",
			     buf_cstr(out));
		buf_reset(out);
	}
}

static void map_route(struct sconv *cv, struct swl *wl, const char *rn, const json_t *def)
{
	const json_t *params = json_object_get(def, "params");
	const char *port = route_port(wl, json_object_get(params, "port")), *path = str(params, "path");
	if (!port) {
		sconv_report(cv, wl, "resources", rn, "params", "port",
			     "names no port of the workload's service: no Ingress rule");
		return;
	}
	path = path ? path : "/";
	if (syntax_http_path(path)) {
		sconv_report(cv, wl, "resources", rn, "params", "path", "'%s' %s: no Ingress rule", path,
			     syntax_http_path(path));
		return;
	}
	char name[64], want[80];
	(void)snprintf(want, sizeof want, "%s%s%s", wl->name, wl->routed ? "-" : "", wl->routed ? rn : "");
	importkit_service_name(strlen(want) < 64 ? want : "", name);
	for (int i = 2; name[0] && json_object_get(cv->rules, name) && i < 100; i++) {
		(void)snprintf(want, sizeof want, "%.50s-%d", wl->name, i);
		importkit_service_name(want, name);
	}
	if (!name[0] || json_object_get(cv->rules, name)) {
		sconv_report(cv, wl, "resources", rn, NULL, NULL, "cannot be named as an Ingress rule: not mapped");
		return;
	}
	struct buf host;
	buf_init(&host, BUF_NO_MAX);
	route_host(cv, wl, rn, str(params, "host"), path, &host);
	json_t *rule = json_pack("{s:s, s:s, s:s, s:s}", "host", buf_cstr(&host), "path", path, "service", wl->name,
				 "port", port);
	if (rule && strpbrk(path, "[]()*+?^$|\\{}")) {
		sconv_set(cv, rule, "pathType", json_string("ImplementationSpecific"));
		sconv_report(cv, wl, "resources", rn, "params", "path",
			     "is a regular expression: the rule's pathType is ImplementationSpecific (what it means is the Ingress controller's)");
	}
	sconv_set(cv, cv->rules, name, rule);
	wl->routed = true;
	buf_release(&host);
}

void score_map_routes(struct sconv *cv, struct swl *wl)
{
	const char *rn;
	json_t *def;
	json_object_foreach(json_object_get(wl->in, "resources"), rn, def)
		if (str(def, "type") && strcmp(str(def, "type"), "route") == 0)
			map_route(cv, wl, rn, def);
}
