/* test_import_manifests: Kubernetes YAML -> stack, environment, report, rule by rule on
 * small inputs (include/import_manifests.h lists the rules), every report case, hostile
 * and wrong input, allocation failures, and the real applications of tests/data/apps,
 * which must validate and render (their patches applied).
 * Every import checks that each report path names something in the input and that no
 * secret value reaches the stack document. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fsutil.h"
#include "import_manifests.h"
#include "model.h"
#include "render.h"
#include "suites.h"
#include "yamlin.h"

/* RFC 6901 evaluation of ptr in doc (ptr "" is doc; without a leading '/' it is taken as
 * if it had one); NULL when it names nothing. */
static const json_t *pointer(const json_t *doc, const char *ptr)
{
	const json_t *v = doc;
	if (*ptr && *ptr != '/')
		ptr--; /* the caller's string starts right after a virtual '/' */
	while (v && *ptr) {
		ptr++;
		struct buf tok;
		buf_init(&tok, BUF_NO_MAX);
		for (; *ptr && *ptr != '/'; ptr++) {
			char c = *ptr;
			if (c == '~') {
				ptr++;
				c = *ptr == '0' ? '~' : '/';
			}
			ck_assert_int_eq(buf_append(&tok, &c, 1), 0);
		}
		char *end;
		unsigned long i = strtoul(buf_cstr(&tok), &end, 10);
		v = json_is_array(v) ? (*end ? NULL : json_array_get(v, i)) : json_object_get(v, buf_cstr(&tok));
		buf_release(&tok);
	}
	return v;
}

static const json_t *at(const json_t *doc, const char *path)
{
	static char slash[4096];
	(void)snprintf(slash, sizeof slash, "/%s", path);
	return pointer(doc, slash);
}

static void assert_json(const json_t *got, const char *want_text)
{
	json_error_t e;
	json_t *want = json_loads(want_text, JSON_DECODE_ANY, &e);
	ck_assert_msg(want != NULL, "bad expectation %s: %s", want_text, e.text);
	char *g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
	ck_assert_msg(json_equal(got, want), "got %s\nwant %s", g ? g : "(nothing)", want_text);
	free(g);
	json_decref(want);
}

#define ASSERT_AT(doc, path, want) assert_json(at((doc), (path)), (want))

/* Every string value of v into out (a set), but for Secrets' data and stringData and the
 * literal values of variables named like secrets (in_secret: v is such a place). */
static void strings_of(const json_t *v, bool in_secret, json_t *out)
{
	if (json_is_string(v) && !in_secret) {
		json_object_set_new(out, json_string_value(v), json_true());
		return;
	}
	const char *kind = json_string_value(json_object_get(v, "kind"));
	bool secret_obj = kind && strcmp(kind, "Secret") == 0;
	const char *name = json_string_value(json_object_get(v, "name"));
	bool secret_var = name && (strstr(name, "PASS") || strstr(name, "SECRET") || strstr(name, "TOKEN") || strstr(name, "KEY"));
	const char *key;
	json_t *m;
	size_t i;
	json_object_foreach((json_t *)v, key, m)
		strings_of(m, in_secret || (secret_obj && (strcmp(key, "data") == 0 || strcmp(key, "stringData") == 0)) ||
				      (secret_var && strcmp(key, "value") == 0), out);
	json_array_foreach(v, i, m)
		strings_of(m, in_secret, out);
}

/* Every report path names something in the stream; no secret value is in the stack
 * (where the input does not write it in the open too). */
static void assert_sound(const char *text, size_t len, const struct import_manifests_result *res)
{
	static const struct yamlin_opts opts = {IMPORT_MANIFESTS_MAX_BYTES, IMPORT_MANIFESTS_MAX_DEPTH,
						IMPORT_MANIFESTS_MAX_NODES, YAMLIN_YAML11};
	struct buf err;
	buf_init(&err, 1024);
	json_t *docs = NULL;
	ck_assert_int_eq(yamlin_parse_stream(text, len, &opts, &err, &docs, NULL), 0);
	size_t i;
	json_t *item;
	json_array_foreach(res->report, i, item) {
		const char *p = json_string_value(json_object_get(item, "path"));
		const char *detail = json_string_value(json_object_get(item, "detail"));
		ck_assert_msg(p && pointer(docs, p) != NULL, "report path %s is not in the input", p);
		ck_assert_msg(detail && strlen(detail) > 10, "report %s says too little", p);
		ck_assert_ptr_nonnull(json_string_value(json_object_get(item, "object")));
	}
	json_t *open_text = json_object(), *in_stack = json_object();
	size_t k;
	json_t *d;
	json_array_foreach(docs, k, d)
		strings_of(d, false, open_text);
	strings_of(res->stack, false, in_stack);
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(res->environment, "secrets"), key, v) {
		const char *value = json_string_value(v);
		ck_assert_msg(!json_object_get(in_stack, value) || json_object_get(open_text, value),
			      "the value of secret %s is in the stack", key);
		ck_assert_str_eq(json_string_value(json_object_get(at(res->stack, "secrets"), key)), "");
	}
	json_decref(open_text);
	json_decref(in_stack);
	json_decref(docs);
	buf_release(&err);
}

/* Imports text; datastores stay workloads unless as_components. */
static void import_with(const char *text, bool as_components, struct import_manifests_result *res)
{
	struct buf err;
	buf_init(&err, 1024);
	const struct import_manifests_opts opts = {.keep_datastores = !as_components};
	int r = import_manifests(text, strlen(text), "shop", &opts, &err, res);
	ck_assert_msg(r == 0, "import failed (%d): %s", r, buf_cstr(&err));
	assert_sound(text, strlen(text), res);
	buf_release(&err);
}

/* Most cases here are about workloads: their datastore images stay workloads. */
static void import_ok(const char *text, struct import_manifests_result *res)
{
	import_with(text, false, res);
}

/* The detail of the report entry at path (containing needle when not NULL), or NULL. */
static const char *reported(const struct import_manifests_result *res, const char *path, const char *needle)
{
	size_t i;
	json_t *item;
	json_array_foreach(res->report, i, item) {
		const char *detail = json_string_value(json_object_get(item, "detail"));
		if (strcmp(json_string_value(json_object_get(item, "path")), path) == 0 && (!needle || strstr(detail, needle)))
			return detail;
	}
	return NULL;
}

#define ASSERT_REPORTED(res, path, needle) \
	ck_assert_msg(reported((res), (path), (needle)), "no report at %s saying '%s'", (path), (needle) ? (needle) : "")

#define DEPLOY(name, labels, containers)                                                                   \
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " name "\nspec:\n  selector:\n    matchLabels: " \
	labels "\n  template:\n    metadata:\n      labels: " labels "\n    spec:\n      containers:\n" containers

/* ---- the stream ---- */

START_TEST(stream_forms)
{
	const char *text = "# a comment only\n---\n---\n"
			   "# Source: chart/templates/web.yaml\n" DEPLOY("web", "{app: web}", "      - name: web\n        image: nginx:1.27\n")
			   "---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: loose}\n  data: {a: b}\n"
			   "- just a string\n---\n- not an object\n---\nkind: NoApiVersion\n";
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	ck_assert_ptr_nonnull(at(res.stack, "services/web"));
	ASSERT_AT(res.stack, "services/web/kind", "\"Deployment\"");
	/* the List's ConfigMap is nobody's: an extra object; the string item is reported */
	ASSERT_AT(res.stack, "extraObjects/configmap-loose/data", "{\"a\": \"b\"}");
	/* documents: 0 the empty one between the two "---", 1 the Deployment, 2 the List... */
	ASSERT_REPORTED(&res, "/2/items/0", "extraObjects/configmap-loose");
	ASSERT_REPORTED(&res, "/2/items/1", "not a Kubernetes object");
	ASSERT_REPORTED(&res, "/3", "not a Kubernetes object");
	ASSERT_REPORTED(&res, "/4", "not a Kubernetes object");
	/* helm's Source comment names the file of each entry of its document */
	size_t i;
	json_t *item;
	bool sourced = false;
	json_array_foreach(res.report, i, item) {
		const char *p = json_string_value(json_object_get(item, "path"));
		if (strncmp(p, "/1/", 3) == 0 || strcmp(p, "/1") == 0) {
			ck_assert_str_eq(json_string_value(json_object_get(item, "source")), "chart/templates/web.yaml");
			sourced = true;
		} else {
			ck_assert_ptr_null(json_object_get(item, "source"));
		}
	}
	ck_assert(sourced);
	import_manifests_result_release(&res);
}
END_TEST

START_TEST(wrong_input)
{
	static const struct {
		const char *text;
		int code;
		const char *says;
	} bad[] = {
		{"a: [1, 2\n", -EINVAL, "not valid YAML"},
		{"", -EINVAL, "empty"},
		{"- a\n- b\n", -EINVAL, "not Kubernetes"},
		{"services:\n  web:\n    image: nginx\n", -EINVAL, "docker-compose"},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", -EINVAL, "no workload"},
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n", -EINVAL, "no workload"},
		{"a: 1\na: 2\n", -EINVAL, "duplicate key"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct buf err;
		buf_init(&err, 1024);
		struct import_manifests_result res = {0};
		int r = import_manifests(bad[i].text, strlen(bad[i].text), NULL, NULL, &err, &res);
		ck_assert_msg(r == bad[i].code, "case %zu gave %d", i, r);
		ck_assert_msg(strstr(buf_cstr(&err), bad[i].says), "case %zu: '%s' does not say '%s'", i, buf_cstr(&err), bad[i].says);
		ck_assert_ptr_null(res.stack);
		buf_release(&err);
	}
}
END_TEST

START_TEST(hostile_yaml)
{
	struct buf b, err;
	buf_init(&b, BUF_NO_MAX);
	buf_init(&err, 1024);
	struct import_manifests_result res = {0};
	/* an alias bomb: 10^9 nodes once expanded */
	ck_assert_int_eq(buf_puts(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"), 0);
	for (int i = 1; i < 10; i++) {
		ck_assert_int_eq(buf_printf(&b, "a%d: &a%d [", i, i), 0);
		for (int k = 0; k < 10; k++)
			ck_assert_int_eq(buf_printf(&b, "%s*a%d", k ? ", " : "", i - 1), 0);
		ck_assert_int_eq(buf_puts(&b, "]\n"), 0);
	}
	ck_assert_int_eq(import_manifests(buf_cstr(&b), b.len, NULL, NULL, &err, &res), -E2BIG);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "nodes"));
	/* deep nesting */
	buf_reset(&b);
	buf_reset(&err);
	for (int i = 0; i <= IMPORT_MANIFESTS_MAX_DEPTH; i++)
		ck_assert_int_eq(buf_puts(&b, "{a: "), 0);
	ck_assert_int_eq(import_manifests(buf_cstr(&b), b.len, NULL, NULL, &err, &res), -E2BIG);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "deeper"));
	/* too large */
	buf_reset(&b);
	while (b.len <= IMPORT_MANIFESTS_MAX_BYTES)
		ck_assert_int_eq(buf_puts(&b, "# padding padding padding padding padding padding padding\n"), 0);
	ck_assert_int_eq(import_manifests(buf_cstr(&b), b.len, NULL, NULL, &err, &res), -E2BIG);
	/* binary junk */
	const char junk[] = "\x01\x02\xff\xfe\x00kind";
	ck_assert_int_eq(import_manifests(junk, sizeof junk - 1, NULL, NULL, &err, &res), -EINVAL);
	ck_assert_ptr_null(res.stack);
	buf_release(&b);
	buf_release(&err);
}
END_TEST

/* ---- workloads ---- */

START_TEST(workload_kinds_and_settings)
{
	const char *text =
		DEPLOY("web", "{app: web}", "      - name: web\n        image: ghcr.io/acme/web:1.0\n")
		"  replicas: 3\n  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 2}}\n  revisionHistoryLimit: 10\n  minReadySeconds: 5\n"
		"---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  serviceName: db\n  replicas: 2\n"
		"  podManagementPolicy: Parallel\n  selector: {matchLabels: {app: db}}\n"
		"  template:\n    metadata: {labels: {app: db}}\n    spec:\n      containers: [{name: db, image: 'postgres:16'}]\n"
		"---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  selector: {matchLabels: {app: agent}}\n"
		"  template:\n    metadata: {labels: {app: agent}}\n    spec:\n      containers: [{name: a, image: 'ghcr.io/acme/agent:1.0'}]\n"
		"---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\nspec:\n  backoffLimit: 2\n  activeDeadlineSeconds: 600\n"
		"  completions: 3\n  parallelism: 2\n  completionMode: Indexed\n"
		"  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: 'ghcr.io/acme/migrate:1.0', args: [up]}]\n"
		"---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: report}\nspec:\n  schedule: '0 3 * * *'\n  timeZone: Europe/Paris\n"
		"  successfulJobsHistoryLimit: 1\n  suspend: true\n  jobTemplate:\n    spec:\n      ttlSecondsAfterFinished: 60\n"
		"      template:\n        spec:\n          restartPolicy: OnFailure\n          containers: [{name: r, image: 'ghcr.io/acme/report:1.0'}]\n"
		"---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: legacy}\nspec:\n  selector: {matchLabels: {app: legacy}}\n"
		"  template:\n    metadata: {labels: {app: legacy}}\n    spec:\n      containers: [{name: l, image: 'ghcr.io/acme/legacy:1.0'}]\n";
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack;
	ASSERT_AT(s, "services/web/kind", "\"Deployment\"");
	ASSERT_AT(s, "services/web/replicas", "3");
	ASSERT_AT(s, "patches/web-merge", "{\"target\": {\"kind\": \"Deployment\", \"name\": \"web\"}, \"merge\": "
					   "{\"spec\": {\"strategy\": {\"rollingUpdate\": {\"maxSurge\": 2}}, \"minReadySeconds\": 5}}}");
	ASSERT_REPORTED(&res, "/0/spec/minReadySeconds", "web-merge");
	ck_assert_ptr_null(reported(&res, "/0/spec/revisionHistoryLimit", NULL)); /* Kubernetes' default */
	ASSERT_AT(s, "services/db/kind", "\"StatefulSet\"");
	ASSERT_AT(s, "services/db/replicas", "2");
	/* its serviceName names no headless Service of the input: manifestd's db-headless governs it */
	ASSERT_AT(s, "patches/db-merge/merge", "{\"spec\": {\"podManagementPolicy\": \"Parallel\"}}");
	ASSERT_REPORTED(&res, "/1/spec/serviceName", "is not in the input");
	ASSERT_AT(s, "services/agent/kind", "\"DaemonSet\"");
	ck_assert_ptr_null(at(s, "services/agent/replicas"));
	ASSERT_AT(s, "services/migrate/kind", "\"Job\"");
	ASSERT_AT(s, "services/migrate/job", "{\"backoffLimit\": 2, \"activeDeadlineSeconds\": 600, \"completions\": 3, "
					   "\"parallelism\": 2, \"restartPolicy\": \"Never\"}");
	ASSERT_AT(s, "services/migrate/args", "[\"up\"]");
	ASSERT_AT(s, "patches/migrate-merge/merge", "{\"spec\": {\"completionMode\": \"Indexed\"}}");
	ASSERT_REPORTED(&res, "/3/spec", "deleted after a day");
	ASSERT_AT(s, "services/report/kind", "\"CronJob\"");
	ASSERT_AT(s, "services/report/cron", "{\"schedule\": \"0 3 * * *\", \"timeZone\": \"Europe/Paris\", "
					    "\"concurrencyPolicy\": \"Allow\", \"successfulJobsHistoryLimit\": 1, \"suspend\": true}");
	ASSERT_AT(s, "services/report/job", "{\"ttlSecondsAfterFinished\": 60}");
	ASSERT_AT(s, "services/legacy/kind", "\"Deployment\"");
	ASSERT_REPORTED(&res, "/5/kind", "Deployment");
	/* no Service and no ports: nothing to expose, probes null (the input has none) */
	ck_assert_ptr_null(at(s, "services/web/ports"));
	ASSERT_AT(s, "services/web/probes", "{\"readiness\": null, \"liveness\": null}");
	import_manifests_result_release(&res);
}
END_TEST

START_TEST(names_and_duplicates)
{
	const char *text =
		DEPLOY("Web_App.v2", "{app: web}", "      - name: w\n        image: nginx:1.27\n        ports: [{containerPort: 80}]\n")
		"---\napiVersion: v1\nkind: Service\nmetadata: {name: frontend}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n"
		"---\n" DEPLOY("9lives", "{app: cat}", "      - name: c\n        image: nginx:1.27\n")
		"---\n" DEPLOY("9lives", "{app: cat}", "      - name: c\n        image: nginx:1.28\n");
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	/* named like its Service, which other pods reach it by */
	ck_assert_ptr_nonnull(at(res.stack, "services/frontend"));
	ASSERT_REPORTED(&res, "/0/metadata/name", "like its Service");
	/* a name that cannot be one becomes a DNS label starting with a letter */
	ck_assert_ptr_nonnull(at(res.stack, "services/x9lives"));
	ASSERT_REPORTED(&res, "/3/metadata/name", "x9lives");
	/* the same object twice: the later one wins */
	ASSERT_REPORTED(&res, "/2", "replaces it");
	ASSERT_AT(res.stack, "services/x9lives/image/tag", "\"1.28\"");
	ck_assert_uint_eq(json_object_size(json_object_get(res.stack, "services")), 2);
	import_manifests_result_release(&res);
}
END_TEST

/* ---- images ---- */

START_TEST(images_split_and_hoisted)
{
	const char *text =
		DEPLOY("a", "{app: a}", "      - name: a\n        image: us-docker.pkg.dev/proj/shop/a:v1\n")
		"---\n" DEPLOY("b", "{app: b}", "      - name: b\n        image: us-docker.pkg.dev/proj/shop/b:v1\n        imagePullPolicy: Always\n")
		"---\n" DEPLOY("c", "{app: c}", "      - name: c\n        image: redis:7\n      imagePullSecrets: [{name: regcred}]\n")
		"---\n" DEPLOY("d", "{app: d}", "      - name: d\n        image: localhost:5000/team/d@sha256:"
					"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n")
		"---\n" DEPLOY("e", "{app: e}", "      - name: e\n        image: busybox\n"
					 "      - name: side\n        image: busybox:latest\n");
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack;
	ASSERT_AT(s, "image", "{\"registry\": \"us-docker.pkg.dev/proj/shop\", \"pullSecret\": \"regcred\"}");
	ASSERT_AT(res.environment, "image/tag", "\"v1\"");
	ASSERT_AT(s, "services/a/image", "{\"repository\": \"a\"}");
	ASSERT_AT(s, "services/b/image", "{\"repository\": \"b\", \"pullPolicy\": \"Always\"}");
	ASSERT_AT(s, "services/c/image", "{\"repository\": \"redis\", \"registry\": \"\", \"tag\": \"7\"}");
	ASSERT_AT(s, "services/d/image", "{\"repository\": \"d\", \"registry\": \"localhost:5000/team\", \"tag\": \"\", "
					 "\"digest\": \"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}");
	/* no tag, or latest: a placeholder tag the patch replaces with the input's image */
	ASSERT_AT(s, "services/e/image", "{\"repository\": \"busybox\", \"registry\": \"\", \"tag\": \"untagged\", \"pullPolicy\": \"Always\"}");
	ASSERT_AT(s, "services/e/sidecars/side/image", "\"busybox:untagged\"");
	ASSERT_AT(s, "patches/e-json/jsonPatch",
		  "[{\"op\": \"test\", \"path\": \"/spec/template/spec/containers/0/name\", \"value\": \"e\"},"
		  " {\"op\": \"replace\", \"path\": \"/spec/template/spec/containers/0/image\", \"value\": \"busybox\"},"
		  " {\"op\": \"test\", \"path\": \"/spec/template/spec/containers/1/name\", \"value\": \"side\"},"
		  " {\"op\": \"add\", \"path\": \"/spec/template/spec/containers/1/image\", \"value\": \"busybox:latest\"}]");
	ASSERT_REPORTED(&res, "/4/spec/template/spec/containers/0/image", "untagged");
	ASSERT_REPORTED(&res, "/4/spec/template/spec/containers/1/image", "untagged");
	import_manifests_result_release(&res);
}
END_TEST

/* ---- Services and ports ---- */

START_TEST(services_and_ports)
{
	const char *text =
		DEPLOY("api", "{app: api, tier: web, app.kubernetes.io/name: api}",
		       "      - name: api\n        image: ghcr.io/acme/api:1.0\n        ports:\n"
		       "        - {name: http, containerPort: 8080}\n        - {name: metrics, containerPort: 9090}\n"
		       "        - {containerPort: 5353, protocol: UDP}\n"
		       "      - name: proxy\n        image: envoyproxy/envoy:v1.30.1\n        ports: [{name: admin, containerPort: 9901}]\n")
		"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  labels: {app: api, team: shop, app.kubernetes.io/name: api}\n"
		"  annotations: {service.beta.kubernetes.io/aws-load-balancer-type: nlb}\nspec:\n  type: LoadBalancer\n"
		"  sessionAffinity: ClientIP\n  selector: {app: api}\n  ports:\n"
		"  - {name: web, port: 80, targetPort: http, appProtocol: http, nodePort: 30080}\n"
		"  - {name: Admin_Port, port: 9901}\n  - {name: extra, port: 7000}\n  - {name: broken, port: 7001, targetPort: nope}\n"
		"---\napiVersion: v1\nkind: Service\nmetadata: {name: api-internal}\nspec:\n  selector: {app.kubernetes.io/name: api, tier: web}\n"
		"  ports: [{port: 8080}]\n"
		"---\n" DEPLOY("db", "{app: db}", "      - name: db\n        image: postgres:16\n")
		"---\napiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  clusterIP: None\n  selector: {app: db}\n  ports: [{port: 5432}]\n"
		"---\napiVersion: v1\nkind: Service\nmetadata: {name: both}\nspec:\n  selector: {}\n  ports: [{port: 1}]\n";
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack;
	ASSERT_AT(s, "services/api/ports", "{\"web\": {\"port\": 80, \"targetPort\": 8080, \"appProtocol\": \"http\", \"nodePort\": 30080},"
					   " \"extra\": {\"port\": 7000}, \"metrics\": {\"port\": 9090}, \"udp-5353\": {\"port\": 5353, \"protocol\": \"UDP\"}}");
	ASSERT_AT(s, "services/api/sidecars/proxy/ports", "{\"admin\": {\"port\": 9901}}");
	ASSERT_AT(s, "services/api/expose", "{\"type\": \"LoadBalancer\", \"annotations\": {\"service.beta.kubernetes.io/aws-load-balancer-type\": \"nlb\"}}");
	ASSERT_REPORTED(&res, "/1/spec/ports/1", "called 'admin'");
	ASSERT_REPORTED(&res, "/1/spec/ports/2", "do not declare");
	ASSERT_REPORTED(&res, "/1/spec/ports/3", "not mapped");
	ASSERT_REPORTED(&res, "/0/spec/template/spec/containers/0/ports/1", "offers it too");
	/* labels the service has no place for, and Service fields, by a patch on the Service */
	/* (the Deployment has no labels of its own, which its Service would have too) */
	ASSERT_AT(s, "patches/api-service", "{\"target\": {\"kind\": \"Service\", \"name\": \"api\"}, \"merge\": "
					     "{\"spec\": {\"sessionAffinity\": \"ClientIP\"}, \"metadata\": {\"labels\": {\"app\": \"api\", \"team\": \"shop\"}}}}");
	/* a second Service of the same pods: an extra object, its manifestd-owned selector fixed */
	ASSERT_AT(s, "extraObjects/service-api-internal/spec/selector", "{\"tier\": \"web\", \"app.kubernetes.io/name\": \"api\"}");
	ck_assert_ptr_null(at(s, "extraObjects/service-api-internal/metadata/namespace"));
	ASSERT_AT(s, "services/db/expose", "{\"type\": \"Headless\"}");
	ASSERT_AT(s, "services/db/ports", "{\"port-5432\": {\"port\": 5432}}");
	/* an empty selector selects no workload here */
	ck_assert_ptr_nonnull(at(s, "extraObjects/service-both"));
	import_manifests_result_release(&res);
}
END_TEST

/* ---- env ---- */

START_TEST(env_sources)
{
	const char *text =
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {LOG_LEVEL: info, MODE: fast, app.conf: 'x = 1'}\n"
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {MODE: slow, EXTRA: '1'}\n"
		"---\napiVersion: v1\nkind: Secret\nmetadata: {name: creds}\ntype: Opaque\ndata: {password: czNjcjN0, token: dDBrM24=}\n"
		"stringData: {token: plain-token}\n"
		"---\n" DEPLOY("api", "{app: api, app.kubernetes.io/component: backend}",
			       "      - name: api\n        image: ghcr.io/acme/api:1.0\n        envFrom:\n"
			       "        - configMapRef: {name: other}\n          prefix: O_\n        - secretRef: {name: outside, optional: true}\n"
			       "        env:\n        - {name: LEVEL, valueFrom: {configMapKeyRef: {name: app, key: LOG_LEVEL}}}\n"
			       "        - {name: MODE, valueFrom: {configMapKeyRef: {name: other, key: MODE}}}\n"
			       "        - {name: PASS, valueFrom: {secretKeyRef: {name: creds, key: password}}}\n"
			       "        - {name: EXT, valueFrom: {secretKeyRef: {name: vault-made, key: k}}}\n"
			       "        - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}\n"
			       "        - {name: COMPONENT, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['app.kubernetes.io/component']\"}}}\n"
			       "        - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory}}}\n"
			       "        - {name: DB_PASSWORD, value: hunter22}\n        - {name: API_KEY, value: '$(PASS)-x'}\n"
			       "        - {name: EMPTY_TOKEN, value: ''}\n        - {name: PLAIN}\n        - {name: PLAIN, value: again}\n"
			       "        - {name: bad.name, value: x}\n        - {name: OPT, valueFrom: {configMapKeyRef: {name: gone, key: k, optional: true}}}\n"
			       "        - {name: admin.password, value: 0p3n-s3same}\n");
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack, *env = at(s, "services/api/env");
	ASSERT_AT(s, "config", "{\"LOG_LEVEL\": \"info\", \"MODE\": \"fast\", \"app.conf\": \"x = 1\", \"other-MODE\": \"slow\", \"EXTRA\": \"1\"}");
	ASSERT_REPORTED(&res, "/1/data/MODE", "other-MODE");
	/* envFrom of a mapped ConfigMap: one variable per key, the prefix kept */
	ASSERT_AT(env, "O_MODE", "{\"config\": \"other-MODE\"}");
	ASSERT_AT(env, "O_EXTRA", "{\"config\": \"EXTRA\"}");
	ASSERT_REPORTED(&res, "/3/spec/template/spec/containers/0/envFrom/0", "each of its keys");
	/* envFrom of an object not in the input: by name */
	ASSERT_AT(s, "services/api/envFrom", "{\"outside\": {\"secret\": \"outside\", \"optional\": true}}");
	ASSERT_AT(env, "LEVEL", "{\"config\": \"LOG_LEVEL\"}");
	ASSERT_AT(env, "MODE", "{\"config\": \"other-MODE\"}");
	ASSERT_AT(env, "PASS", "{\"secret\": \"password\"}");
	ASSERT_AT(env, "EXT", "{\"secret\": \"k\", \"from\": \"vault-made\"}");
	ASSERT_AT(env, "POD", "{\"field\": \"metadata.name\"}");
	ASSERT_AT(env, "COMPONENT", "{\"value\": \"backend\"}");
	ASSERT_REPORTED(&res, "/3/spec/template/spec/containers/0/env/5", "backend");
	/* a literal that looks secret moves to the environment's secrets */
	ASSERT_AT(env, "DB_PASSWORD", "{\"secret\": \"db-password\"}");
	ASSERT_AT(res.environment, "secrets/db-password", "\"hunter22\"");
	ASSERT_REPORTED(&res, "/3/spec/template/spec/containers/0/env/7", "moved");
	ASSERT_AT(env, "API_KEY", "{\"value\": \"$(PASS)-x\"}");
	ASSERT_AT(env, "EMPTY_TOKEN", "{\"value\": \"\"}");
	ASSERT_AT(env, "PLAIN", "{\"value\": \"again\"}");
	ASSERT_REPORTED(&res, "/3/spec/template/spec/containers/0/env/11", "twice");
	/* Secret values: base64 decoded, stringData winning, into the environment only */
	ASSERT_AT(res.environment, "secrets/password", "\"s3cr3t\"");
	ASSERT_AT(res.environment, "secrets/token", "\"plain-token\"");
	ASSERT_AT(s, "secrets/password", "\"\"");
	/* what the document cannot say goes back in its place */
	ASSERT_AT(s, "patches/api-json/jsonPatch",
		  "[{\"op\": \"test\", \"path\": \"/spec/template/spec/containers/0/name\", \"value\": \"api\"},"
		  " {\"op\": \"add\", \"path\": \"/spec/template/spec/containers/0/env/8\", \"value\": "
		  "{\"name\": \"MEM\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"limits.memory\"}}}},"
		  " {\"op\": \"test\", \"path\": \"/spec/template/spec/containers/0/name\", \"value\": \"api\"},"
		  " {\"op\": \"add\", \"path\": \"/spec/template/spec/containers/0/env/13\", \"value\": {\"name\": \"bad.name\", \"value\": \"x\"}},"
		  " {\"op\": \"test\", \"path\": \"/spec/template/spec/containers/0/name\", \"value\": \"api\"},"
		  " {\"op\": \"add\", \"path\": \"/spec/template/spec/containers/0/env/14\", \"value\": "
		  "{\"name\": \"OPT\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"gone\", \"key\": \"k\", \"optional\": true}}}},"
		  " {\"op\": \"test\", \"path\": \"/spec/template/spec/containers/0/name\", \"value\": \"api\"},"
		  " {\"op\": \"add\", \"path\": \"/spec/template/spec/containers/0/env/15\", \"value\": "
		  "{\"name\": \"admin.password\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"shop-secrets\", \"key\": \"admin.password\"}}}}]");
	/* a secret-looking literal the patch carries is read from the stack's Secret */
	ASSERT_AT(res.environment, "secrets/admin.password", "\"0p3n-s3same\"");
	ASSERT_REPORTED(&res, "/3/spec/template/spec/containers/0/env/14", "shop-secrets");
	ASSERT_REPORTED(&res, "/3/spec/template/spec/containers/0/env/6", "patch");
	/* the Secret is read: rendered as the stack's (Opaque) Secret; nothing says otherwise */
	ck_assert_ptr_null(reported(&res, "/2", NULL));
	import_manifests_result_release(&res);
}
END_TEST

/* ---- probes, resources, security ---- */

START_TEST(probes_of_every_kind)
{
	const char *text =
		DEPLOY("api", "{app: api}",
		       "      - name: api\n        image: ghcr.io/acme/api:1.0\n        ports: [{name: http, containerPort: 8080}, {name: grpc, containerPort: 9000}]\n"
		       "        readinessProbe:\n          httpGet: {path: /ready, port: http, scheme: HTTPS, httpHeaders: [{name: X-Probe, value: '1'}]}\n"
		       "          periodSeconds: 5\n          successThreshold: 2\n"
		       "        livenessProbe: {grpc: {port: 9000, service: health}, initialDelaySeconds: 10, timeoutSeconds: 3}\n"
		       "        startupProbe: {exec: {command: [cat, /tmp/ok]}, failureThreshold: 30}\n"
		       "      - name: side\n        image: ghcr.io/acme/side:1.0\n"
		       "        readinessProbe: {tcpSocket: {port: 7000}}\n"
		       "        livenessProbe: {httpGet: {host: example.com, path: /, port: 80}}\n")
		"---\napiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  selector: {app: api}\n  ports: [{name: web, port: 80, targetPort: http}]\n"
		"---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n"
		"      containers:\n      - name: once\n        image: ghcr.io/acme/once:1.0\n        ports: [{name: http, containerPort: 8080}]\n"
		"        livenessProbe: {httpGet: {path: /, port: http}}\n";
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	const json_t *p = at(res.stack, "services/api/probes");
	/* the container port http is the document's port web */
	ASSERT_AT(p, "readiness", "{\"httpGet\": {\"port\": \"web\", \"path\": \"/ready\", \"scheme\": \"HTTPS\", \"headers\": {\"X-Probe\": \"1\"}},"
				  " \"periodSeconds\": 5, \"timeoutSeconds\": 1, \"successThreshold\": 2}");
	ASSERT_AT(p, "liveness", "{\"grpc\": {\"port\": 9000, \"service\": \"health\"}, \"initialDelaySeconds\": 10, \"timeoutSeconds\": 3}");
	ASSERT_AT(p, "startup", "{\"exec\": {\"command\": [\"cat\", \"/tmp/ok\"]}, \"timeoutSeconds\": 1, \"failureThreshold\": 30}");
	ASSERT_AT(res.stack, "services/api/sidecars/side/probes", "{\"readiness\": {\"tcpSocket\": {\"port\": 7000}, \"timeoutSeconds\": 1}}");
	/* a probe with a host: carried */
	ASSERT_REPORTED(&res, "/0/spec/template/spec/containers/1/livenessProbe", "api-json");
	/* a Job's probes are carried, its named port by number; its ports too */
	ASSERT_AT(res.stack, "services/once/probes", "{\"readiness\": null, \"liveness\": null}");
	ASSERT_AT(res.stack, "patches/once-json/jsonPatch/1/value", "[{\"name\": \"http\", \"containerPort\": 8080}]");
	ASSERT_AT(res.stack, "patches/once-json/jsonPatch/3", "{\"op\": \"add\", \"path\": \"/spec/template/spec/containers/0/livenessProbe\","
							   " \"value\": {\"httpGet\": {\"path\": \"/\", \"port\": 8080}}}");
	ck_assert_ptr_null(at(res.stack, "services/once/ports"));
	import_manifests_result_release(&res);
}
END_TEST

START_TEST(resources_and_security)
{
	const char *text =
		DEPLOY("a", "{app: a}",
		       "      - name: a\n        image: ghcr.io/acme/a:1.0\n        resources:\n"
		       "          requests: {cpu: 0.5, memory: 2Gi, ephemeral-storage: 1Gi}\n          limits: {cpu: 2, nvidia.com/gpu: 1}\n"
		       "        securityContext:\n          runAsUser: 0\n          capabilities: {add: [CAP_NET_ADMIN, SYS_TIME], drop: [NET_RAW]}\n"
		       "          privileged: true\n          readOnlyRootFilesystem: true\n")
		"      securityContext: {runAsUser: 1000, fsGroup: 2000, sysctls: [{name: net.core.somaxconn, value: '1024'}]}\n"
		"---\n" DEPLOY("b", "{app: b}",
			       "      - name: b\n        image: ghcr.io/acme/b:1.0\n"
			       "        resources: {requests: {cpu: 1, memory: 32Mi}, limits: {cpu: 250m, memory: 64Mi}}\n")
		"      securityContext: {runAsNonRoot: true}\n"
		"      initContainers:\n      - name: setup\n        image: busybox:1.36\n"
		"        securityContext: {readOnlyRootFilesystem: true}\n";
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack;
	/* an init container's own read-only root, where it differs from the service's */
	ASSERT_AT(s, "services/b/initContainers/setup/readOnlyRootFilesystem", "true");
	ck_assert_ptr_null(at(s, "patches/b-json"));
	/* no memory limit: the default, raised to the request */
	ASSERT_AT(s, "services/a/resources", "{\"requests\": {\"cpu\": \"0.5\", \"memory\": \"2Gi\"}, \"limits\": {\"cpu\": \"2\", \"memory\": \"2Gi\"}}");
	ASSERT_REPORTED(&res, "/0/spec/template/spec/containers/0/resources", "no memory limit");
	ASSERT_REPORTED(&res, "/0/spec/template/spec/containers/0/resources/requests/ephemeral-storage", "cpu and memory only");
	ASSERT_REPORTED(&res, "/0/spec/template/spec/containers/0/resources/limits/nvidia.com~1gpu", "cpu and memory only");
	/* the container's user wins over the pod's; root needs runAsNonRoot false */
	ASSERT_AT(s, "services/a/securityContext", "{\"runAsUser\": 0, \"fsGroup\": 2000, \"runAsNonRoot\": false, "
						  "\"readOnlyRootFilesystem\": true, \"capabilities\": [\"NET_ADMIN\", \"SYS_TIME\"]}");
	ASSERT_REPORTED(&res, "/0/spec/template/spec/containers/0/securityContext/capabilities", "every capability is dropped");
	ASSERT_REPORTED(&res, "/0/spec/template/spec/containers/0/securityContext/privileged", "a-json");
	ASSERT_REPORTED(&res, "/0/spec/template/spec/securityContext/sysctls", "a-merge");
	ASSERT_REPORTED(&res, "/0/spec/template/spec/containers/0/securityContext/readOnlyRootFilesystem", "/tmp");
	/* a request above its limit is the limit (reported) */
	ASSERT_AT(s, "services/b/resources", "{\"requests\": {\"cpu\": \"250m\", \"memory\": \"32Mi\"}, \"limits\": {\"cpu\": \"250m\", \"memory\": \"64Mi\"}}");
	ASSERT_REPORTED(&res, "/1/spec/template/spec/containers/0/resources", "cpu request is above its limit");
	/* no user named: manifestd's default, reported; the root filesystem stays writable */
	ASSERT_AT(s, "services/b/securityContext", "{\"readOnlyRootFilesystem\": false}");
	ASSERT_REPORTED(&res, "/1/spec/template/spec/containers/0", "uid 1000");
	json_t *ops = json_object_get(at(s, "patches/a-json"), "jsonPatch");
	char *text_ops = json_dumps(ops, 0);
	ck_assert_msg(strstr(text_ops, "\"path\": \"/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation\", \"value\": true") ||
			      strstr(text_ops, "\"path\":\"/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation\",\"value\":true"),
		      "privileged needs allowPrivilegeEscalation: %s", text_ops);
	free(text_ops);
	import_manifests_result_release(&res);
}
END_TEST

/* ---- volumes ---- */

/* A StatefulSet whose volumes have every kind of source (also the allocation test's input). */
static const char volumes_text[] =
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf}\ndata: {nginx.conf: 'events {}', extra.conf: x}\n"
		"---\napiVersion: v1\nkind: Secret\nmetadata: {name: tls}\ndata: {tls.crt: Y2VydA==, tls.key: a2V5}\n"
		"---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\nspec:\n  serviceName: web-headless\n"
		"  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n"
		"      containers:\n      - name: web\n        image: nginx:1.27\n        volumeMounts:\n"
		"        - {name: conf, mountPath: /etc/nginx/nginx.conf, subPath: nginx.conf, readOnly: true}\n"
		"        - {name: conf, mountPath: /etc/nginx/conf.d/extra.conf, subPath: extra.conf}\n"
		"        - {name: certs, mountPath: /certs}\n        - {name: cache, mountPath: /cache, mountPropagation: HostToContainer}\n"
		"        - {name: data, mountPath: /data}\n        - {name: logs, mountPath: /var/log/host}\n"
		"        - {name: both, mountPath: /both}\n        - {name: shared, mountPath: /shared}\n"
		"      - name: shipper\n        image: ghcr.io/acme/shipper:1.0\n        volumeMounts:\n"
		"        - {name: only-side, mountPath: /spool}\n        - {name: shared, mountPath: /in, readOnly: true}\n"
		"      volumes:\n      - {name: conf, configMap: {name: conf, defaultMode: 0640, items: [{key: nginx.conf, path: nginx.conf},"
		" {key: extra.conf, path: extra.conf, mode: 0600}]}}\n"
		"      - {name: certs, secret: {secretName: tls}}\n"
		"      - {name: cache, emptyDir: {medium: Memory, sizeLimit: 64Mi}}\n"
		"      - {name: logs, hostPath: {path: /var/log}}\n"
		"      - {name: both, projected: {sources: [{configMap: {name: conf, items: [{key: nginx.conf, path: a.conf}]}},"
		" {secret: {name: tls}}]}}\n"
		"      - {name: shared, persistentVolumeClaim: {claimName: shared-pvc}}\n"
		"      - {name: only-side, emptyDir: {}}\n      - {name: unused, emptyDir: {}}\n"
		"  volumeClaimTemplates:\n  - metadata:\n      name: data\n      annotations: {volume.beta.kubernetes.io/storage-class: fast}\n"
		"    spec: {accessModes: [ReadWriteOncePod], resources: {requests: {storage: 10Gi}}}\n";

START_TEST(volumes_of_every_source)
{
	const char *text = volumes_text;
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	const json_t *v = at(res.stack, "services/web/volumes");
	ASSERT_AT(v, "conf", "{\"files\": {\"nginx.conf\": {\"config\": \"nginx.conf\", \"mode\": \"0640\"}, "
			     "\"extra.conf\": {\"config\": \"extra.conf\", \"mode\": \"0600\"}}, "
			     "\"mountPath\": \"/etc/nginx/nginx.conf\", \"readOnly\": true, \"subPath\": \"nginx.conf\"}");
	/* a secret volume keeps Kubernetes' 0644 (the document's default for secrets is 0400) */
	ASSERT_AT(v, "certs", "{\"files\": {\"tls.crt\": {\"secret\": \"tls.crt\", \"mode\": \"0644\"}, "
			      "\"tls.key\": {\"secret\": \"tls.key\", \"mode\": \"0644\"}}, \"mountPath\": \"/certs\"}");
	ASSERT_AT(v, "cache", "{\"emptyDir\": {\"medium\": \"Memory\", \"sizeLimit\": \"64Mi\"}, \"mountPath\": \"/cache\"}");
	ASSERT_AT(v, "data", "{\"persistent\": {\"size\": \"10Gi\", \"className\": \"fast\", \"accessMode\": \"ReadWriteOncePod\"}, \"mountPath\": \"/data\"}");
	/* hostPath: an emptyDir here, replaced by the patch */
	ASSERT_AT(v, "logs", "{\"emptyDir\": {}, \"mountPath\": \"/var/log/host\"}");
	ASSERT_REPORTED(&res, "/2/spec/template/spec/volumes/3", "web-json");
	ASSERT_AT(v, "both", "{\"files\": {\"a.conf\": {\"config\": \"nginx.conf\", \"mode\": \"0644\"}, \"tls.crt\": {\"secret\": \"tls.crt\", "
			     "\"mode\": \"0644\"}, \"tls.key\": {\"secret\": \"tls.key\", \"mode\": \"0644\"}}, \"mountPath\": \"/both\"}");
	ASSERT_AT(v, "shared", "{\"claim\": {\"name\": \"shared-pvc\"}, \"mountPath\": \"/shared\"}");
	/* only the sidecar mounts it: the service mounts it too, the patch removes that mount */
	ASSERT_AT(v, "only-side", "{\"emptyDir\": {}, \"mountPath\": \"/spool\"}");
	ASSERT_AT(res.stack, "services/web/sidecars/shipper/volumeMounts",
		  "{\"only-side\": {\"mountPath\": \"/spool\"}, \"shared\": {\"mountPath\": \"/in\", \"readOnly\": true}}");
	ASSERT_REPORTED(&res, "/2/spec/template/spec/volumes/7", "no container mounts it");
	ASSERT_REPORTED(&res, "/2/spec/template/spec/containers/0/volumeMounts/1", "second mount");
	ASSERT_REPORTED(&res, "/2/spec/template/spec/containers/0/volumeMounts/3", "mount setting");
	const json_t *ops = at(res.stack, "patches/web-json/jsonPatch");
	ck_assert_ptr_nonnull(ops);
	/* the pod's volumes: conf certs cache (data is a claim template) logs -> index 3; the
	 * service container's mounts: every volume in order, cache at 2, only-side at 7 */
	char *dump = json_dumps(ops, JSON_COMPACT);
	ck_assert_msg(strstr(dump, "{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/volumeMounts/-\",\"value\":{\"name\":\"conf\","
				   "\"mountPath\":\"/etc/nginx/conf.d/extra.conf\",\"subPath\":\"extra.conf\"}}"), "%s", dump);
	ck_assert_msg(strstr(dump, "{\"op\":\"test\",\"path\":\"/spec/template/spec/volumes/3/name\",\"value\":\"logs\"},{\"op\":\"replace\","
				   "\"path\":\"/spec/template/spec/volumes/3\",\"value\":{\"name\":\"logs\",\"hostPath\":{\"path\":\"/var/log\"}}}"), "%s", dump);
	ck_assert_msg(strstr(dump, "{\"op\":\"test\",\"path\":\"/spec/template/spec/containers/0/volumeMounts/2/name\",\"value\":\"cache\"},"
				   "{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/volumeMounts/2/mountPropagation\",\"value\":\"HostToContainer\"}"), "%s", dump);
	ck_assert_msg(strstr(dump, "{\"op\":\"test\",\"path\":\"/spec/template/spec/containers/0/volumeMounts/7/name\",\"value\":\"only-side\"},"
				   "{\"op\":\"remove\",\"path\":\"/spec/template/spec/containers/0/volumeMounts/7\"}"), "%s", dump);
	free(dump);
	/* serviceName is manifestd's: no patch for it */
	ck_assert_ptr_null(at(res.stack, "patches/web-merge"));
	import_manifests_result_release(&res);
}
END_TEST

/* ---- config and secrets ---- */

START_TEST(config_and_secret_objects)
{
	const char *text =
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: read}\ndata: {port: 8080, name: shop}\n"
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: nobodys}\ndata: {x: y}\n"
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: bin}\nbinaryData: {b: AAEC}\n"
		"---\napiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {password: YWFh}\n"
		"---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\ndata: {password: YmJi, bin: //79, notb64: '!!'}\n"
		"---\napiVersion: v1\nkind: Secret\nmetadata: {name: site-tls}\ntype: kubernetes.io/tls\ndata: {tls.crt: Y2VydA==}\n"
		"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: token\n  annotations: {kubernetes.io/service-account.name: x}\n"
		"type: kubernetes.io/service-account-token\n"
		"---\n" DEPLOY("app", "{app: app}",
			       "      - name: app\n        image: ghcr.io/acme/app:1.0\n        env:\n"
			       "        - {name: PORT, valueFrom: {configMapKeyRef: {name: read, key: port}}}\n"
			       "        - {name: BIN, valueFrom: {configMapKeyRef: {name: bin, key: b}}}\n"
			       "        - {name: A, valueFrom: {secretKeyRef: {name: a, key: password}}}\n"
			       "        - {name: B, valueFrom: {secretKeyRef: {name: b, key: password}}}\n");
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack, *e = res.environment;
	ASSERT_AT(s, "config", "{\"port\": \"8080\", \"name\": \"shop\"}");
	ck_assert_ptr_nonnull(at(s, "extraObjects/configmap-nobodys"));
	ck_assert_ptr_nonnull(at(s, "extraObjects/configmap-bin"));
	ASSERT_REPORTED(&res, "/2/binaryData", "carried whole");
	ASSERT_AT(s, "services/app/env/BIN", "{\"config\": \"b\", \"from\": \"bin\"}");
	/* a key another Secret holds with another value: prefixed, and the reference follows */
	ASSERT_AT(e, "secrets/password", "\"aaa\"");
	ASSERT_AT(e, "secrets/b-password", "\"bbb\"");
	ASSERT_AT(s, "services/app/env/B", "{\"secret\": \"b-password\"}");
	ASSERT_REPORTED(&res, "/4/data/password", "b-password");
	/* not UTF-8 text, not base64: the text as written */
	ASSERT_AT(e, "secrets/bin", "\"//79\"");
	ASSERT_AT(e, "secrets/notb64", "\"!!\"");
	ASSERT_REPORTED(&res, "/4/data/bin", "as written");
	/* a Secret nobody reads: its values kept in the environment, the object not rendered */
	ASSERT_AT(e, "secrets/tls.crt", "\"cert\"");
	ASSERT_REPORTED(&res, "/5", "not read");
	ck_assert_ptr_null(at(s, "extraObjects/secret-site-tls"));
	/* a Secret without values is an extra object (the cluster fills it) */
	ck_assert_ptr_nonnull(at(s, "extraObjects/secret-token"));
	import_manifests_result_release(&res);
}
END_TEST

/* ---- entry points, autoscaling, budgets ---- */

#define WEB_AND_API                                                                                        \
	DEPLOY("web", "{app: web}", "      - name: web\n        image: ghcr.io/acme/web:1.0\n        ports: [{containerPort: 8080}]\n") \
	"---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{name: http, port: 80, targetPort: 8080}]\n" \
	"---\n" DEPLOY("api", "{app: api}", "      - name: api\n        image: ghcr.io/acme/api:1.0\n        ports: [{containerPort: 9000}]\n") \
	"  replicas: 3\n"                                                                                  \
	"---\napiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  selector: {app: api}\n  ports: [{name: grpc, port: 9000}]\n---\n"

START_TEST(ingresses)
{
	const char *text = WEB_AND_API
		"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: main\n  labels: {a: b}\n"
		"  annotations: {kubernetes.io/ingress.class: traefik, cert-manager.io/cluster-issuer: le}\n"
		"spec:\n  tls: [{hosts: [shop.example.com], secretName: shop-tls}, {hosts: [nowhere.example.com]}]\n  rules:\n"
		"  - host: shop.example.com\n    http:\n      paths:\n"
		"      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n"
		"      - {path: /api, pathType: Exact, backend: {service: {name: api, port: {name: grpc}}}}\n"
		"  - http:\n      paths:\n      - {path: /any, pathType: ImplementationSpecific, backend: {service: {name: web, port: {name: http}}}}\n"
		"---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: other-class}\nspec:\n  ingressClassName: nginx\n"
		"  rules: [{host: b.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]\n"
		"---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: default-backend}\nspec:\n"
		"  defaultBackend: {service: {name: web, port: {number: 80}}}\n"
		"---\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: legacy\n"
		"  annotations: {kubernetes.io/ingress.class: traefik, cert-manager.io/cluster-issuer: le}\n"
		"spec:\n  rules: [{host: old.example.com, http: {paths: [{path: /old, backend: {serviceName: api, servicePort: 9000}}]}}]\n"
		"---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: unknown-backend}\nspec:\n  ingressClassName: nginx\n"
		"  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: elsewhere, port: {number: 1}}}}]}}]\n";
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	const json_t *ing = at(res.stack, "ingress");
	ASSERT_AT(ing, "className", "\"traefik\"");
	ASSERT_AT(ing, "annotations", "{\"cert-manager.io/cluster-issuer\": \"le\"}");
	ASSERT_AT(ing, "rules", "{\"web\": {\"service\": \"web\", \"port\": \"http\", \"host\": \"shop.example.com\", "
				"\"tls\": {\"enabled\": true, \"secretName\": \"shop-tls\"}},"
				" \"api\": {\"service\": \"api\", \"port\": \"grpc\", \"host\": \"shop.example.com\", \"path\": \"/api\", "
				"\"pathType\": \"Exact\", \"tls\": {\"enabled\": true, \"secretName\": \"shop-tls\"}},"
				" \"web-2\": {\"service\": \"web\", \"port\": \"http\", \"path\": \"/any\", \"pathType\": \"ImplementationSpecific\"},"
				" \"api-2\": {\"service\": \"api\", \"port\": \"grpc\", \"host\": \"old.example.com\", \"path\": \"/old\", "
				"\"pathType\": \"ImplementationSpecific\"}}");
	ASSERT_REPORTED(&res, "/4/spec/tls/1", "no Secret");
	ASSERT_REPORTED(&res, "/4/spec/tls/1", "no rule");
	ASSERT_REPORTED(&res, "/4", "labels are not kept");
	ASSERT_REPORTED(&res, "/5", "class or annotations differ");
	ck_assert_ptr_nonnull(at(res.stack, "extraObjects/ingress-other-class"));
	ASSERT_REPORTED(&res, "/6", "default backend");
	ASSERT_REPORTED(&res, "/8", "not the Service of a mapped workload");
	import_manifests_result_release(&res);
}
END_TEST

START_TEST(ingress_without_class)
{
	const char *text = WEB_AND_API
		"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: main}\nspec:\n"
		"  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]\n";
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	ck_assert_ptr_null(at(res.stack, "ingress/className"));
	ASSERT_REPORTED(&res, "/4/spec", "nginx");
	ASSERT_AT(res.stack, "ingress/rules", "{\"web\": {\"service\": \"web\", \"port\": \"http\"}}");
	import_manifests_result_release(&res);
}
END_TEST

START_TEST(autoscalers_and_budgets)
{
	const char *text = WEB_AND_API
		"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: api-hpa}\nspec:\n"
		"  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}\n  maxReplicas: 10\n  metrics:\n"
		"  - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}}\n"
		"  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}\n"
		"---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n"
		"  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 4\n  metrics:\n"
		"  - {type: Resource, resource: {name: memory, target: {type: Utilization, averageUtilization: 70}}}\n"
		"---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: ghost}\nspec:\n"
		"  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ghost}\n  maxReplicas: 4\n"
		"---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: api}\nspec:\n  minAvailable: 2\n"
		"  selector: {matchLabels: {app: api}}\n"
		"---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web-pdb}\nspec:\n  maxUnavailable: 25%\n"
		"  selector: {matchLabels: {app: web}}\n";
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack;
	ASSERT_AT(s, "services/api/autoscaling", "{\"enabled\": true, \"minReplicas\": 1, \"maxReplicas\": 10, \"targetCPUUtilization\": 60}");
	ASSERT_AT(s, "patches/api-hpa/merge", "{\"spec\": {\"behavior\": {\"scaleDown\": {\"stabilizationWindowSeconds\": 60}}}}");
	ASSERT_REPORTED(&res, "/4/metadata/name", "named like it");
	/* no CPU target: the input's metrics replace the rendered ones */
	ASSERT_AT(s, "services/web/autoscaling", "{\"enabled\": true, \"minReplicas\": 2, \"maxReplicas\": 4}");
	ASSERT_AT(s, "patches/web-hpa/merge/spec/metrics/0/resource/name", "\"memory\"");
	ck_assert_ptr_nonnull(at(s, "extraObjects/horizontalpodautoscaler-ghost"));
	/* minAvailable: carried; a budget of a service that may run several pods */
	ASSERT_AT(s, "services/api/disruptionBudget", "{}");
	ASSERT_AT(s, "patches/api-pdb/merge", "{\"spec\": {\"minAvailable\": 2, \"maxUnavailable\": null}}");
	ASSERT_AT(s, "services/web/disruptionBudget", "{\"maxUnavailable\": \"25%\"}");
	import_manifests_result_release(&res);
}
END_TEST

START_TEST(budget_of_one_pod_stays_extra)
{
	const char *text =
		DEPLOY("db", "{app.kubernetes.io/name: database, app.kubernetes.io/instance: prod, tier: db}",
		       "      - name: db\n        image: postgres:16\n")
		"---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: db}\nspec:\n  maxUnavailable: 1\n"
		"  selector: {matchLabels: {app.kubernetes.io/name: database, app.kubernetes.io/instance: prod}}\n"
		"---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: lost}\nspec:\n  maxUnavailable: 1\n"
		"  selector: {matchLabels: {app.kubernetes.io/name: nothing}}\n";
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	/* manifestd's own labels are not the pods' any more: select the service by its name */
	ASSERT_AT(res.stack, "extraObjects/poddisruptionbudget-db/spec/selector/matchLabels", "{\"app.kubernetes.io/name\": \"db\"}");
	ASSERT_AT(res.stack, "services/db/podLabels", "{\"tier\": \"db\"}");
	ASSERT_REPORTED(&res, "/0/spec/template/metadata/labels", "set by manifestd");
	ASSERT_REPORTED(&res, "/2", "may select other pods");
	import_manifests_result_release(&res);
}
END_TEST

/* ---- accounts, namespace, extra objects, scheduling ---- */

/* Bare Pods: one that restarts (the default) becomes a Deployment of one pod, one that runs
 * to completion a Job; their labels are the pods', Services select them, secrets move to
 * the environment, and the report names places of the Pods themselves (/spec/..., not a
 * template's). */
START_TEST(bare_pods)
{
	const char *text =
		"apiVersion: v1\nkind: Pod\nmetadata: {name: mysql-pod, labels: {name: mysql}}\nspec:\n"
		"  containers:\n  - name: mysql\n    image: mysql:8.0.36\n    ports: [{containerPort: 3306}]\n"
		"    env: [{name: MYSQL_ROOT_PASSWORD, value: s3cret}]\n"
		"    volumeMounts: [{name: data, mountPath: /var/lib/mysql}]\n"
		"  volumes: [{name: data, emptyDir: {}}]\n"
		"---\napiVersion: v1\nkind: Service\nmetadata: {name: mysql}\nspec: {selector: {name: mysql}, ports: [{port: 3306}]}\n"
		"---\napiVersion: v1\nkind: Pod\nmetadata: {name: once}\nspec:\n  restartPolicy: Never\n"
		"  containers: [{name: once, image: 'busybox:1.36', command: [echo, hi]}]\n";
	struct import_manifests_result res = {0};
	import_ok(text, &res); /* datastores stay workloads here: the Pod's own mapping */
	const json_t *s = res.stack;
	ASSERT_AT(s, "services/mysql/kind", "\"Deployment\"");
	ASSERT_AT(s, "services/mysql/podLabels", "{\"name\": \"mysql\"}");
	ck_assert_ptr_null(at(s, "services/mysql/labels"));
	ASSERT_AT(s, "services/mysql/env/MYSQL_ROOT_PASSWORD", "{\"secret\": \"mysql-root-password\"}");
	ck_assert_ptr_nonnull(at(s, "services/mysql/ports"));
	ASSERT_REPORTED(&res, "/0/kind", "bare Pod");
	ASSERT_AT(s, "services/once/kind", "\"Job\"");
	ASSERT_AT(s, "services/once/job/restartPolicy", "\"Never\"");
	ASSERT_REPORTED(&res, "/2/kind", "runs to completion");
	size_t i;
	json_t *e;
	json_array_foreach(res.report, i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		ck_assert_msg(!strstr(path, "/template"), "a Pod has no template: %s", path);
	}
	import_manifests_result_release(&res);
}
END_TEST

START_TEST(accounts_namespace_and_extras)
{
	const char *text =
		"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {istio-injection: enabled, kubernetes.io/metadata.name: shop}\n"
		"---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app-sa\n  namespace: shop\n"
		"  annotations: {eks.amazonaws.com/role-arn: 'arn:aws:iam::1:role/x'}\nimagePullSecrets: [{name: reg}]\n"
		"---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: unused, namespace: shop}\n"
		"---\n" DEPLOY("a", "{app: a}", "      - name: a\n        image: ghcr.io/acme/a:1.0\n")
		"      serviceAccountName: app-sa\n"
		"---\n" DEPLOY("b", "{app: b}", "      - name: b\n        image: ghcr.io/acme/b:1.0\n")
		"      serviceAccountName: app-sa\n      automountServiceAccountToken: false\n"
		"---\n" DEPLOY("c", "{app: c}", "      - name: c\n        image: ghcr.io/acme/c:1.0\n")
		"      serviceAccountName: made-elsewhere\n"
		"---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader, uid: 1234, resourceVersion: '7',"
		" annotations: {kubectl.kubernetes.io/last-applied-configuration: '{}'}}\nrules: []\nstatus: {}\n"
		"---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: a, namespace: elsewhere}\n"
		"spec: {selector: {matchLabels: {app: a}}}\n"
		"---\napiVersion: batch/v1\nkind: Job\nmetadata: {generateName: seed-}\nspec:\n  template:\n    spec:\n"
		"      restartPolicy: Never\n      containers: [{name: s, image: 'ghcr.io/acme/seed:1.0'}]\n"
		"---\napiVersion: v1\nkind: Pod\nmetadata: {generateName: debug-}\nspec: {containers: [{name: d, image: 'busybox:1.36'}]}\n"
		"---\napiVersion: rbac.authorization.k8s.io/v1beta1\nkind: Role\nmetadata: {name: old}\nrules: []\n"
		"---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: d, annotations: {x: z}}\n"
		"---\n" DEPLOY("d", "{app: d}", "      - name: d\n        image: ghcr.io/acme/d:1.0\n")
		"---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: e}\n"
		"---\n" DEPLOY("e", "{app: e}", "      - name: e\n        image: ghcr.io/acme/e:1.0\n")
		"---\n" DEPLOY("f", "{app: f}", "      - name: f\n        image: ghcr.io/acme/f:1.0\n")
		"      serviceAccountName: e\n";
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack;
	ASSERT_AT(res.environment, "namespace", "\"shop\"");
	ASSERT_AT(s, "patches/namespace", "{\"target\": {\"kind\": \"Namespace\", \"name\": \"shop\"}, \"merge\": "
					  "{\"metadata\": {\"labels\": {\"istio-injection\": \"enabled\"}}}}");
	ASSERT_REPORTED(&res, "/7/metadata/namespace", "moves from 'elsewhere'");
	/* the first service naming a declared account renders it; the others use it */
	ASSERT_AT(s, "services/a/serviceAccount", "{\"annotations\": {\"eks.amazonaws.com/role-arn\": \"arn:aws:iam::1:role/x\"}, "
						  "\"name\": \"app-sa\", \"automountToken\": true}");
	ASSERT_AT(s, "patches/a-account", "{\"target\": {\"kind\": \"ServiceAccount\", \"name\": \"app-sa\"}, \"merge\": "
					  "{\"imagePullSecrets\": [{\"name\": \"reg\"}]}}");
	ASSERT_AT(s, "services/b/serviceAccount", "{\"create\": false, \"name\": \"app-sa\", \"automountToken\": false}");
	ASSERT_AT(s, "services/c/serviceAccount", "{\"create\": false, \"name\": \"made-elsewhere\", \"automountToken\": true}");
	ck_assert_ptr_nonnull(at(s, "extraObjects/serviceaccount-unused"));
	/* extra objects lose what the cluster sets, and their namespace */
	ASSERT_AT(s, "extraObjects/clusterrole-reader", "{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRole\", "
							"\"metadata\": {\"name\": \"reader\", \"annotations\": {}}, \"rules\": []}");
	ASSERT_AT(s, "extraObjects/servicemonitor-a/metadata", "{\"name\": \"a\"}");
	/* generateName: a bundle is applied again and again, so a name */
	ck_assert_ptr_nonnull(at(s, "services/seed"));
	/* a bare Pod is a workload: a Deployment of one pod */
	ASSERT_AT(s, "services/debug/kind", "\"Deployment\"");
	ASSERT_REPORTED(&res, "/9/kind", "bare Pod");
	ASSERT_REPORTED(&res, "/9/metadata", "it is 'debug'");
	ASSERT_REPORTED(&res, "/8/metadata", "it is 'seed'");
	/* a removed beta API of the same shape is written with today's */
	ASSERT_AT(s, "extraObjects/role-old/apiVersion", "\"rbac.authorization.k8s.io/v1\"");
	ASSERT_REPORTED(&res, "/10/apiVersion", "not served any more");
	/* an account named like a service whose pods name none: that service's own; unless
	 * other pods use it, when the service keeps the namespace's default account */
	ASSERT_AT(s, "services/d/serviceAccount", "{\"annotations\": {\"x\": \"z\"}, \"automountToken\": false}");
	ASSERT_REPORTED(&res, "/11", "own account");
	ASSERT_AT(s, "services/e/serviceAccount", "{\"create\": false, \"name\": \"default\", \"automountToken\": true}");
	ASSERT_REPORTED(&res, "/14/spec/template/spec", "default one");
	ASSERT_AT(s, "services/f/serviceAccount", "{\"name\": \"e\", \"automountToken\": true}");
	ck_assert_ptr_null(at(s, "extraObjects/serviceaccount-d"));
	ck_assert_ptr_null(at(s, "extraObjects/serviceaccount-e"));
	import_manifests_result_release(&res);
}
END_TEST

START_TEST(scheduling_and_pod_fields)
{
	const char *text =
		DEPLOY("a", "{app: a}",
		       "      - name: a\n        image: ghcr.io/acme/a:1.0\n        lifecycle: {preStop: {exec: {command: [sleep, '15']}}}\n"
		       "        tty: true\n        terminationMessagePath: /dev/termination-log\n")
		"      nodeSelector: {kubernetes.io/os: linux}\n      tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]\n"
		"      affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions:"
		" [{key: zone, operator: In, values: [a]}]}]}}}\n"
		"      priorityClassName: high\n      terminationGracePeriodSeconds: 60\n      hostNetwork: true\n      dnsPolicy: ClusterFirst\n"
		"      topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: a}}}]\n"
		"---\n" DEPLOY("b", "{app: b}", "      - name: b\n        image: ghcr.io/acme/b:1.0\n        lifecycle: {postStart: {exec: {command: [touch, /x]}}}\n");
	struct import_manifests_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack;
	ASSERT_AT(s, "services/a/scheduling/nodeSelector", "{\"kubernetes.io/os\": \"linux\"}");
	ASSERT_AT(s, "services/a/scheduling/tolerations", "[{\"key\": \"dedicated\", \"operator\": \"Equal\", \"value\": \"gpu\", \"effect\": \"NoSchedule\"}]");
	ASSERT_AT(s, "services/a/scheduling/priorityClassName", "\"high\"");
	ASSERT_AT(s, "services/a/scheduling/terminationGracePeriodSeconds", "60");
	ASSERT_AT(s, "services/a/scheduling/preStopSleepSeconds", "15");
	ASSERT_AT(s, "services/a/scheduling/spread", "\"none\"");
	ck_assert_ptr_nonnull(at(s, "services/a/scheduling/affinity/nodeAffinity"));
	ASSERT_AT(s, "patches/a-merge/merge/spec/template/spec/hostNetwork", "true");
	ck_assert_ptr_nonnull(at(s, "patches/a-merge/merge/spec/template/spec/topologySpreadConstraints"));
	ck_assert_ptr_null(at(s, "patches/a-merge/merge/spec/template/spec/dnsPolicy"));
	ASSERT_REPORTED(&res, "/0/spec/template/spec/containers/0/tty", "a-json");
	ck_assert_ptr_null(reported(&res, "/0/spec/template/spec/containers/0/terminationMessagePath", NULL));
	ASSERT_REPORTED(&res, "/1/spec/template/spec/containers/0/lifecycle", "preStop sleep only");
	import_manifests_result_release(&res);
}
END_TEST

/* What a document cannot hold (a value over MODEL_MAX_STRING bytes, objects nested too
 * deep) is not kept, and said so; references to it stay, to an object in the cluster. */
START_TEST(beyond_document_limits)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(buf_puts(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: huge}\ndata:\n  big: '"), 0);
	for (int i = 0; i < 70000; i++)
		ck_assert_int_eq(buf_puts(&b, "x"), 0);
	ck_assert_int_eq(buf_puts(&b, "'\n---\n" DEPLOY("a", "{app: a}", "      - name: a\n        image: ghcr.io/acme/a:1.0\n"
									"        env: [{name: BIG, valueFrom: {configMapKeyRef: {name: huge, key: big}}}]\n")), 0);
	ck_assert_int_eq(buf_puts(&b, "---\napiVersion: example.com/v1\nkind: Deep\nmetadata: {name: deep}\nspec: "), 0);
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(buf_puts(&b, "{a: "), 0);
	ck_assert_int_eq(buf_puts(&b, "1"), 0);
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(buf_puts(&b, "}"), 0);
	ck_assert_int_eq(buf_puts(&b, "\n"), 0);
	struct import_manifests_result res = {0};
	import_ok(buf_cstr(&b), &res);
	ASSERT_REPORTED(&res, "/0", "longer than 65536 bytes");
	ASSERT_AT(res.stack, "services/a/env/BIG", "{\"config\": \"big\", \"from\": \"huge\"}");
	ck_assert_ptr_null(at(res.stack, "config"));
	ck_assert_ptr_null(at(res.stack, "extraObjects"));
	ASSERT_REPORTED(&res, "/2", "larger than a document holds");
	import_manifests_result_release(&res);
	buf_release(&b);
}
END_TEST

/* ---- real applications ---- */

/* The result validates (stack <- environment) and renders, patches applied. */
static void assert_renders(const char *app, const struct import_manifests_result *res)
{
	struct model_errors errs;
	model_errors_init(&errs);
	json_t *doc = NULL;
	int r = model_check_shape(res->stack, &errs);
	if (r == 0)
		r = model_check_shape(res->environment, &errs);
	if (r == 0)
		r = model_resolve(app, res->stack, "dev", res->environment, NULL, &errs, &doc);
	struct render *rd = NULL;
	struct render_meta meta = {app, "dev", 1};
	if (r == 0)
		r = render_new(doc, &meta, &errs, &rd);
	json_t *errs_json = model_errors_json(&errs);
	char *errors = json_dumps(errs_json, 0);
	json_decref(errs_json);
	ck_assert_msg(r == 0, "%s does not render: %s", app, errors);
	free(errors);
	for (size_t i = 0; i < render_file_count(rd); i++) {
		json_t *objs = NULL;
		ck_assert_int_eq(render_file_objects(rd, i, &objs), 0);
		json_decref(objs);
	}
	render_free(rd);
	json_decref(doc);
	model_errors_release(&errs);
}

static char *read_app(const char *app, size_t *ret_len)
{
	struct buf dir, text;
	buf_init(&dir, 4096);
	buf_init(&text, BUF_NO_MAX);
	ck_assert_int_eq(buf_printf(&dir, "%s/tests/data/apps/%s", TEST_SOURCE_DIR, app), 0);
	char *list = NULL;
	struct buf cmd;
	buf_init(&cmd, 4096);
	ck_assert_int_eq(buf_printf(&cmd, "ls %s | grep -E '\\.ya?ml$' > %s/.list", buf_cstr(&dir), buf_cstr(&dir)), 0);
	ck_assert_int_eq(fsutil_sh("%s", buf_cstr(&cmd)), 0);
	list = fsutil_read(buf_cstr(&dir), ".list");
	fsutil_sh("rm -f %s/.list", buf_cstr(&dir));
	for (char *line = list; *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *content = fsutil_read(buf_cstr(&dir), line);
		ck_assert_int_eq(BUF_PUTS(&text, "---\n", content, "\n"), 0);
		free(content);
		line = nl ? nl + 1 : line + strlen(line);
	}
	free(list);
	buf_release(&cmd);
	buf_release(&dir);
	return buf_detach(&text, ret_len);
}

START_TEST(real_applications)
{
	static const struct {
		const char *app;
		size_t services, components; /* with datastores as components (and not: their sum) */
	} apps[] = {{"online-boutique", 11, 1}, {"aks-store", 8, 1}, {"aks-store-ingress", 3, 1}, {"voting-app", 3, 2},
		    {"sock-shop", 10, 4}, {"cassandra", 1, 0}, {"tensorflow-serving", 1, 0}, {"fluentd", 1, 0},
		    {"descheduler-cronjob", 1, 0}, {"descheduler-job", 1, 0}, {"otel-demo", 25, 0}};
	for (size_t i = 0; i < sizeof apps / sizeof apps[0]; i++) {
		size_t len = 0;
		char *text = read_app(apps[i].app, &len);
		struct buf err;
		buf_init(&err, 1024);
		for (int keep = 0; keep < 2; keep++) {
			struct import_manifests_result res = {0};
			const struct import_manifests_opts opts = {.keep_datastores = keep};
			int r = import_manifests(text, len, apps[i].app, &opts, &err, &res);
			ck_assert_msg(r == 0, "%s: %s", apps[i].app, buf_cstr(&err));
			assert_sound(text, len, &res);
			assert_renders(apps[i].app, &res);
			size_t services = json_object_size(json_object_get(res.stack, "services"));
			size_t components = json_object_size(json_object_get(res.stack, "components"));
			ck_assert_msg(services == apps[i].services + (keep ? apps[i].components : 0) &&
					      components == (keep ? 0 : apps[i].components),
				      "%s: %zu services, %zu components", apps[i].app, services, components);
			import_manifests_result_release(&res);
		}
		buf_release(&err);
		free(text);
	}
}
END_TEST

/* jansson allocations fail one after the other: every run fails cleanly or succeeds. */
static size_t alloc_budget;

static void *budget_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	alloc_budget--;
	return malloc(n);
}

/* Every allocation fails in turn over volumes_text; over a real application, one in seven. */
static void fail_allocations(const char *text, size_t len, size_t step)
{
	bool succeeded = false;
	size_t budget;
	for (budget = 0; budget < 1000000 && !succeeded; budget += step) {
		alloc_budget = budget;
		json_set_alloc_funcs(budget_malloc, free);
		struct buf err;
		buf_init(&err, 1024);
		struct import_manifests_result res = {0};
		int r = import_manifests(text, len, NULL, NULL, &err, &res);
		json_set_alloc_funcs(malloc, free);
		ck_assert_msg(r == 0 || r == -ENOMEM, "budget %zu gave %d (%s)", budget, r, buf_cstr(&err));
		succeeded = r == 0;
		if (r == -ENOMEM)
			ck_assert_ptr_null(res.stack);
		import_manifests_result_release(&res);
		buf_release(&err);
	}
	ck_assert(succeeded);
	ck_assert_uint_gt(budget, 100);
}

START_TEST(allocation_failures)
{
	fail_allocations(volumes_text, strlen(volumes_text), 1);
	size_t len = 0;
	char *text = read_app("voting-app", &len);
	fail_allocations(text, len, 7);
	free(text);
}
END_TEST

Suite *import_manifests_suite(void)
{
	Suite *s = suite_create("import_manifests");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, stream_forms);
	tcase_add_test(tc, wrong_input);
	tcase_add_test(tc, hostile_yaml);
	tcase_add_test(tc, bare_pods);
	tcase_add_test(tc, workload_kinds_and_settings);
	tcase_add_test(tc, names_and_duplicates);
	tcase_add_test(tc, images_split_and_hoisted);
	tcase_add_test(tc, services_and_ports);
	tcase_add_test(tc, env_sources);
	tcase_add_test(tc, probes_of_every_kind);
	tcase_add_test(tc, resources_and_security);
	tcase_add_test(tc, volumes_of_every_source);
	tcase_add_test(tc, config_and_secret_objects);
	tcase_add_test(tc, ingresses);
	tcase_add_test(tc, ingress_without_class);
	tcase_add_test(tc, autoscalers_and_budgets);
	tcase_add_test(tc, budget_of_one_pod_stays_extra);
	tcase_add_test(tc, accounts_namespace_and_extras);
	tcase_add_test(tc, scheduling_and_pod_fields);
	tcase_add_test(tc, beyond_document_limits);
	tcase_add_test(tc, real_applications);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}
