/* test_applysh: the generated apply.sh on a sample of every kind the plan treats apart
 * (StatefulSets, Jobs, Deployments, DaemonSets, CronJobs, Pods, several Ingresses, the
 * makers of Secrets): phase order, the data it derives from the objects (references,
 * replicas, volume claims), unsafe names refused, output limits, bash -n and shellcheck.
 * Its behaviour against a fake kubectl, on bundles rendered by the real binary, is tested
 * in tests/js/applysh.test.mjs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applysh.h"
#include "buf.h"
#include "fsutil.h"
#include "suites.h"

/* The sample bundle, one JSON array per file, in a deliberately scrambled file order. */
static const char *const sample_names[] = {
	"90-ingress.yaml", "50-api.yaml", "51-worker.yaml", "31-db-init.yaml",
	"30-db.yaml", "10-config.yaml", "00-namespace.yaml",
};
#define SAMPLE_FILES (sizeof(sample_names) / sizeof(sample_names[0]))

static const char *const sample_json[SAMPLE_FILES] = {
	"[{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"Ingress\", \"metadata\": {\"name\": \"web\"},"
	"  \"spec\": {\"ingressClassName\": \"nginx\", \"tls\": [{\"secretName\": \"web-tls\"}]}},"
	" {\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"Ingress\", \"metadata\": {\"name\": \"api\","
	"  \"annotations\": {\"cert-manager.io/cluster-issuer\": \"letsencrypt\"}},"
	"  \"spec\": {\"ingressClassName\": \"nginx\", \"tls\": [{\"secretName\": \"api-tls\"}]}}]",

	"[{\"apiVersion\": \"v1\", \"kind\": \"ServiceAccount\", \"metadata\": {\"name\": \"api\"},"
	"  \"imagePullSecrets\": [{\"name\": \"sa-pull\"}]},"
	" {\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\", \"metadata\": {\"name\": \"api\"},"
	"  \"spec\": {\"replicas\": 2, \"template\": {\"spec\": {\"serviceAccountName\": \"api\","
	"   \"imagePullSecrets\": [{\"name\": \"regcred\"}],"
	"   \"containers\": [{\"name\": \"api\", \"env\": ["
	"     {\"name\": \"A\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"db\", \"key\": \"k\"}}},"
	"     {\"name\": \"B\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"cfg\", \"key\": \"k\"}}},"
	"     {\"name\": \"C\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"opt\", \"key\": \"k\", \"optional\": true}}}],"
	"    \"envFrom\": [{\"secretRef\": {\"name\": \"shared\"}}]}],"
	"   \"volumes\": [{\"name\": \"a\", \"secret\": {\"secretName\": \"certs\"}},"
	"    {\"name\": \"b\", \"projected\": {\"sources\": [{\"configMap\": {\"name\": \"extra\"}}]}},"
	"    {\"name\": \"c\", \"persistentVolumeClaim\": {\"claimName\": \"uploads\"}}]}}}},"
	" {\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"api\"}}]",

	"[{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\", \"metadata\": {\"name\": \"worker\"},"
	"  \"spec\": {\"template\": {\"spec\": {\"containers\": [{\"name\": \"w\"}]}}}},"
	" {\"apiVersion\": \"apps/v1\", \"kind\": \"DaemonSet\", \"metadata\": {\"name\": \"agent\"},"
	"  \"spec\": {\"updateStrategy\": {\"type\": \"OnDelete\"}, \"template\": {\"spec\": {\"containers\": [{\"name\": \"a\"}]}}}},"
	" {\"apiVersion\": \"batch/v1\", \"kind\": \"CronJob\", \"metadata\": {\"name\": \"nightly\"},"
	"  \"spec\": {\"jobTemplate\": {\"spec\": {\"template\": {\"spec\": {\"containers\": [{\"name\": \"n\","
	"   \"env\": [{\"name\": \"X\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"Bad_Name'$(id)\", \"key\": \"k\"}}},"
	"    {\"name\": \"Y\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"nightly-creds\", \"key\": \"k\"}}}]}]}}}}}},"
	" {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"debug\"},"
	"  \"spec\": {\"containers\": [{\"name\": \"d\", \"envFrom\": [{\"configMapRef\": {\"name\": \"cfg\"}}]}]}}]",

	"[{\"apiVersion\": \"batch/v1\", \"kind\": \"Job\", \"metadata\": {\"name\": \"db-init-1\"}}]",

	"[{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"db\"}},"
	" {\"apiVersion\": \"apps/v1\", \"kind\": \"StatefulSet\", \"metadata\": {\"name\": \"db\"},"
	"  \"spec\": {\"replicas\": 1, \"serviceName\": \"db-headless\","
	"   \"volumeClaimTemplates\": [{\"metadata\": {\"name\": \"data\"}, \"spec\": {\"accessModes\": [\"ReadWriteOnce\"],"
	"    \"resources\": {\"requests\": {\"storage\": \"1Gi\"}}}}],"
	"   \"template\": {\"spec\": {\"containers\": [{\"name\": \"db\", \"env\": ["
	"     {\"name\": \"P\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"es-made\", \"key\": \"k\"}}}]}]}}}},"
	" {\"apiVersion\": \"apps/v1\", \"kind\": \"StatefulSet\", \"metadata\": {\"name\": \"cache\"},"
	"  \"spec\": {\"updateStrategy\": {\"type\": \"OnDelete\"}, \"template\": {\"spec\": {\"containers\": [{\"name\": \"c\"}]}}}}]",

	"[{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"cfg\"}},"
	" {\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"sec\"}, \"data\": {\"a\": \"eA==\"}},"
	" {\"apiVersion\": \"external-secrets.io/v1beta1\", \"kind\": \"ExternalSecret\", \"metadata\": {\"name\": \"es\"},"
	"  \"spec\": {\"target\": {\"name\": \"es-made\"}}},"
	" {\"apiVersion\": \"cert-manager.io/v1\", \"kind\": \"Certificate\", \"metadata\": {\"name\": \"cert\"},"
	"  \"spec\": {\"secretName\": \"web-tls\"}},"
	" {\"apiVersion\": \"bitnami.com/v1alpha1\", \"kind\": \"SealedSecret\", \"metadata\": {\"name\": \"sealed\"}}]",

	"[{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"shop-dev\"}}]",
};

/* The sample, built and edited as JSON, handed to applysh as nodes (sample_files). */
struct sample {
	struct applysh_file files[SAMPLE_FILES];
	json_t *arrays[SAMPLE_FILES];
	struct arena *arena;
};

static void sample_init(struct sample *s)
{
	for (size_t i = 0; i < SAMPLE_FILES; i++) {
		json_error_t err;
		s->arrays[i] = json_loads(sample_json[i], 0, &err);
		ck_assert_msg(s->arrays[i] != NULL, "sample %zu: %s", i, err.text);
		s->files[i].name = sample_names[i];
	}
	s->arena = arena_new();
	ck_assert_ptr_nonnull(s->arena);
}

/* s->files with their objects converted from the arrays as they are now. */
static const struct applysh_file *sample_files(struct sample *s)
{
	arena_reset(s->arena);
	for (size_t i = 0; i < SAMPLE_FILES; i++) {
		s->files[i].objects = node_from_json(s->arena, s->arrays[i]);
		ck_assert_ptr_nonnull(s->files[i].objects);
	}
	return s->files;
}

static void sample_release(struct sample *s)
{
	for (size_t i = 0; i < SAMPLE_FILES; i++)
		json_decref(s->arrays[i]);
	arena_free(s->arena);
}

static const struct render_meta sample_meta = { "shop", "dev", 3 };

static int write_sample_to(struct sample *s, struct buf *out)
{
	return applysh_write_files(&sample_meta, "shop-dev", sample_files(s), SAMPLE_FILES, out);
}

static void write_sample(struct buf *out)
{
	struct sample s;
	sample_init(&s);
	ck_assert_int_eq(write_sample_to(&s, out), 0);
	sample_release(&s);
}

/* Position of needle in hay; fails the test when absent. */
static size_t pos(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);
	ck_assert_msg(p != NULL, "'%s' not in the script", needle);
	return (size_t)(p - hay);
}

/* The text between `start` and the next `end` in s, as a new string. */
static char *between(const char *s, const char *start, const char *end)
{
	const char *from = s + pos(s, start) + strlen(start);
	const char *to = strstr(from, end);
	ck_assert_ptr_nonnull(to);
	return strndup(from, (size_t)(to - from));
}

/* The text between the line `head` made of fmt and name and the next `end` in s, as a new
 * string. */
static char *section(const char *s, const char *fmt, const char *name, const char *end)
{
	struct buf head;
	buf_init(&head, BUF_NO_MAX);
	ck_assert_int_eq(buf_printf(&head, fmt, name), 0);
	char *text = between(s, buf_cstr(&head), end);
	buf_release(&head);
	return text;
}

/* The lines of the shell array `readonly NAME=(` in script s, as one string. */
static char *array_lines(const char *s, const char *name)
{
	return section(s, "readonly %s=(\n", name, ")\n");
}

/* The body of the shell function name() in script s, as a new string. */
static char *function_body(const char *s, const char *name)
{
	return section(s, "\n%s() {\n", name, "}\n");
}

START_TEST(apply_all_in_phase_order)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	write_sample(&b);
	char *plan = function_body(buf_cstr(&b), "apply_all");
	ck_assert_str_eq(plan,
			 "\tphase 'namespace'\n"
			 "\tapply_namespace '00-namespace.yaml'\n"
			 "\tphase 'configuration'\n"
			 "\tapply_file '10-config.yaml'\n"
			 "\tphase 'stateful services'\n"
			 "\tfit_statefulset 'db' 'db-headless|data::[\"ReadWriteOnce\"]:1Gi;'\n"
			 "\town_replicas statefulset 'db' 1\n"
			 "\tfit_statefulset 'cache' '|'\n"
			 "\tkeep_replicas 'apps/v1' 'StatefulSet' 'statefulset.apps' 'cache'\n"
			 "\tapply_file '30-db.yaml'\n"
			 "\twait_rollout statefulset 'db'\n"
			 "\tnot_waited statefulset 'cache'\n"
			 "\tphase 'jobs'\n"
			 "\tapply_file '31-db-init.yaml'\n"
			 "\twait_job 'db-init-1'\n"
			 "\tphase 'applications'\n"
			 "\town_replicas deployment 'api' 2\n"
			 "\tapply_file '50-api.yaml'\n"
			 "\tkeep_replicas 'apps/v1' 'Deployment' 'deployment.apps' 'worker'\n"
			 "\tapply_file '51-worker.yaml'\n"
			 "\twait_rollout deployment 'api'\n"
			 "\twait_rollout deployment 'worker'\n"
			 "\tnot_waited daemonset 'agent'\n"
			 "\tphase 'ingress'\n"
			 "\tbefore_ingress\n"
			 "\tcheck_ingress_class 'nginx'\n"
			 "\tapply_file '90-ingress.yaml'\n");
	free(plan);
	const char *s = buf_cstr(&b);
	ck_assert_uint_eq(strncmp(s, "#!/usr/bin/env bash\n", 20), 0);
	pos(s, "set -euo pipefail\n");
	pos(s, "readonly SELECTOR='manifestd.io/stack=shop,manifestd.io/environment=dev,"
	       "app.kubernetes.io/managed-by=manifestd'\n");
	ck_assert(pos(s, "\ncheck_references() {") < pos(s, "\napply_all() {"));
	ck_assert(pos(s, "\napply_all() {") < pos(s, "\nmain() {"));
	ck_assert_ptr_null(strstr(s, "#@PLAN@"));
	ck_assert_ptr_null(strstr(s, "embedded at build time")); /* the template's own header */
	buf_release(&b);
}
END_TEST

/* What the bundle references and does not hold: each once, sorted, with the strongest way
 * to check it; what a controller of the bundle makes is only reported; unsafe names are
 * left out. */
START_TEST(references_from_every_pod_spec_and_ingress)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	write_sample(&b);
	const char *s = buf_cstr(&b);
	char *refs = function_body(s, "check_references");
	ck_assert_str_eq(refs,
			 "\tref_required configmap 'extra' volume 'Deployment/api'\n"
			 "\tref_required persistentvolumeclaim 'uploads' claim 'Deployment/api'\n"
			 "\tref_made secret 'api-tls' 'cert-manager' 'Ingress/api'\n"
			 "\tref_required secret 'certs' volume 'Deployment/api'\n"
			 "\tref_required secret 'db' env 'Deployment/api'\n"
			 "\tref_made secret 'es-made' 'the External Secrets Operator' 'ExternalSecret/es'\n"
			 "\tref_required secret 'nightly-creds' env 'CronJob/nightly'\n"
			 "\tref_optional secret 'opt' env 'Deployment/api'\n"
			 "\tref_required secret 'regcred' pull 'Deployment/api'\n"
			 "\tref_required secret 'sa-pull' pull 'ServiceAccount/api'\n"
			 "\tref_made secret 'sealed' 'the Sealed Secrets controller' 'SealedSecret/sealed'\n"
			 "\tref_required secret 'shared' env 'Deployment/api'\n"
			 "\tref_made secret 'web-tls' 'cert-manager' 'Certificate/cert'\n");
	char *referenced = array_lines(buf_cstr(&b), "REFERENCED");
	ck_assert_str_eq(referenced,
			 "\t'configmap/extra'\n\t'persistentvolumeclaim/uploads'\n\t'secret/api-tls'\n"
			 "\t'secret/certs'\n\t'secret/db'\n\t'secret/es-made'\n\t'secret/nightly-creds'\n"
			 "\t'secret/opt'\n\t'secret/regcred'\n\t'secret/sa-pull'\n\t'secret/sealed'\n"
			 "\t'secret/shared'\n\t'secret/web-tls'\n");
	ck_assert_ptr_null(strstr(buf_cstr(&b), "Bad_Name"));
	char *scaled = array_lines(buf_cstr(&b), "SCALED");
	ck_assert_str_eq(scaled, "\t'deployment/api'\n\t'statefulset/db'\n");
	free(scaled);
	char *claims = array_lines(buf_cstr(&b), "CLAIM_PREFIXES");
	ck_assert_str_eq(claims, "\t'data-db-'\n");
	char *secret_files = array_lines(buf_cstr(&b), "SECRET_FILES");
	ck_assert_str_eq(secret_files, "\t'10-config.yaml'\n");
	char *ns_files = array_lines(buf_cstr(&b), "NAMESPACE_FILES");
	ck_assert_str_eq(ns_files, "\t'00-namespace.yaml'\n");
	free(refs);
	free(referenced);
	free(claims);
	free(secret_files);
	free(ns_files);
	buf_release(&b);
}
END_TEST

/* A bundle that references nothing outside itself still gets valid functions and arrays. */
START_TEST(nothing_referenced)
{
	struct arena *a = arena_new();
	json_t *objs = json_loads("[{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"c\"}}]", 0, NULL);
	struct applysh_file f = { "10-config.yaml", node_from_json(a, objs) };
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(applysh_write_files(&sample_meta, "shop-dev", &f, 1, &b), 0);
	pos(buf_cstr(&b), "\ncheck_references() {\n\t:\n}\n");
	pos(buf_cstr(&b), "readonly REFERENCED=(\n)\n");
	pos(buf_cstr(&b), "readonly SECRET_FILES=(\n)\n");
	ck_assert_ptr_null(strstr(buf_cstr(&b), "before_ingress\n\t"));
	char *dir = fsutil_tmpdir();
	fsutil_write(dir, "apply.sh", buf_cstr(&b), 0755);
	ck_assert_int_eq(fsutil_sh("cd '%s' && bash -n apply.sh", dir), 0);
	if (fsutil_sh("command -v shellcheck >/dev/null") == 0)
		ck_assert_int_eq(fsutil_sh("cd '%s' && shellcheck apply.sh", dir), 0);
	fsutil_rmtree(dir);
	free(dir);
	buf_release(&b);
	json_decref(objs);
	arena_free(a);
}
END_TEST

START_TEST(secret_values_detected)
{
	static const struct {
		const char *json;
		bool holds;
	} cases[] = {
		{ "[{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"data\": {\"a\": \"eA==\"}}]", true },
		{ "[{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\"}, {\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"stringData\": {\"a\": \"x\"}}]", true },
		{ "[{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"data\": {}}]", false },
		{ "[{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"type\": \"kubernetes.io/tls\"}]", false },
		{ "[{\"apiVersion\": \"external-secrets.io/v1beta1\", \"kind\": \"ExternalSecret\", \"data\": {\"a\": 1}}]", false },
		{ "[{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"data\": {\"a\": \"x\"}}]", false },
		{ "[]", false },
	};
	struct arena *a = arena_new();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = json_loads(cases[i].json, 0, NULL);
		ck_assert_ptr_nonnull(v);
		ck_assert_msg(applysh_holds_secret_values(node_from_json(a, v)) == cases[i].holds, "case %zu", i);
		json_decref(v);
	}
	ck_assert(!applysh_holds_secret_values(NULL));
	arena_free(a);
}
END_TEST

/* Every place a value reaches the script refuses anything but the safe characters. */
START_TEST(unsafe_values_are_refused)
{
	static const char *const bad[] = {
		"a'b", "a b", "$(id)", "a\nb", "`id`", "", "x;y", "-rf", "a\"b", "a\\b", "Up", "é",
	};
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(buf_puts(&b, "keep"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int where = 0; where < 8; where++) {
			struct sample s;
			struct render_meta meta = sample_meta;
			const char *ns = "shop-dev";
			sample_init(&s);
			json_t *api = json_array_get(s.arrays[1], 1);
			switch (where) {
			case 0: meta.stack = bad[i]; break;
			case 1: meta.environment = bad[i]; break;
			case 2: ns = bad[i]; break;
			case 3: s.files[2].name = bad[i]; break;
			case 4: json_object_set_new(json_object_get(api, "metadata"), "name", json_string(bad[i])); break;
			case 5: json_object_set_new(api, "kind", json_string(bad[i])); break;
			case 6:
				json_object_set_new(json_object_get(json_array_get(s.arrays[0], 0), "spec"),
						    "ingressClassName", json_string(bad[i]));
				break;
			case 7: json_object_set_new(api, "apiVersion", json_string(bad[i])); break;
			}
			if (!((where == 3 || where == 5) && strcmp(bad[i], "Up") == 0))
				ck_assert_msg(applysh_write_files(&meta, ns, sample_files(&s), SAMPLE_FILES, &b) == -EINVAL,
					      "'%s' accepted at %d", bad[i], where);
			ck_assert_str_eq(buf_cstr(&b), "keep");
			sample_release(&s);
		}
	}
	struct sample s;
	sample_init(&s);
	json_object_set_new(json_array_get(s.arrays[1], 1), "apiVersion", json_string("apps/v1'"));
	ck_assert_int_eq(write_sample_to(&s, &b), -EINVAL);
	json_object_del(json_array_get(s.arrays[1], 1), "kind");
	ck_assert_int_eq(write_sample_to(&s, &b), -EINVAL);
	ck_assert_int_eq(applysh_write_files(&sample_meta, "shop-dev", sample_files(&s), 0, &b), -EINVAL);
	ck_assert_str_eq(buf_cstr(&b), "keep");
	sample_release(&s);
	buf_release(&b);
}
END_TEST

START_TEST(out_buffer_limit)
{
	struct buf b;
	buf_init(&b, 2000);
	struct sample s;
	sample_init(&s);
	ck_assert_int_eq(write_sample_to(&s, &b), -E2BIG);
	ck_assert_uint_eq(b.len, 0);
	sample_release(&s);
	buf_release(&b);
}
END_TEST

/* Every prefix limit fails with -E2BIG and leaves out as it was; the exact size works and
 * gives the same bytes. Steps through each put_* of the script. */
START_TEST(out_limit_at_every_size)
{
	struct buf full, b;
	struct sample s;
	buf_init(&full, BUF_NO_MAX);
	write_sample(&full);
	sample_init(&s);
	for (size_t max = 4; max < full.len + 4; max += 13) {
		buf_init(&b, max);
		ck_assert_int_eq(buf_puts(&b, "keep"), 0);
		ck_assert_int_eq(write_sample_to(&s, &b), -E2BIG);
		ck_assert_str_eq(buf_cstr(&b), "keep");
		buf_release(&b);
	}
	buf_init(&b, full.len + 4);
	ck_assert_int_eq(buf_puts(&b, "keep"), 0);
	ck_assert_int_eq(write_sample_to(&s, &b), 0);
	ck_assert_str_eq(buf_cstr(&b) + 4, buf_cstr(&full));
	buf_release(&b);
	sample_release(&s);
	buf_release(&full);
}
END_TEST

/* KNOWN_RESOURCES: the fixed kinds and the bundle's own, sorted and each once, never a
 * Namespace; BUNDLE_OBJECTS: every object once, in apply order. */
START_TEST(known_resources_sorted_once)
{
	struct sample s;
	struct buf b;
	sample_init(&s);
	ck_assert_int_eq(json_array_append_new(s.arrays[5], json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "example.com/v1alpha1",
								      "kind", "WidgetSet", "metadata", "name", "w")), 0);
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(write_sample_to(&s, &b), 0);
	char *known = array_lines(buf_cstr(&b), "KNOWN_RESOURCES");
	char *objects = array_lines(buf_cstr(&b), "BUNDLE_OBJECTS");
	size_t lines = 0;
	const char *prev = NULL;
	for (const char *line = known; *line; line = strchr(line, '\n') + 1, lines++) {
		/* "\t'name'\n": a quote sorts before every character a resource may have */
		size_t len = (size_t)(strchr(line, '\n') - line);
		if (prev)
			ck_assert_msg(strncmp(prev, line, len) < 0, "KNOWN_RESOURCES not sorted or repeated at '%.*s'",
				      (int)len, line);
		prev = line;
	}
	/* the 15 fixed ones, and certificate, pod, sealedsecret and widgetset from the bundle */
	ck_assert_uint_eq(lines, 19);
	pos(known, "\t'widgetset.example.com'\n");
	pos(known, "\t'certificate.cert-manager.io'\n");
	pos(known, "\t'pod'\n");
	pos(known, "\t'persistentvolumeclaim'\n");
	ck_assert_ptr_null(strstr(known, "namespace"));
	ck_assert_str_eq(objects,
			 "\t'namespace/shop-dev'\n"
			 "\t'configmap/cfg'\n\t'secret/sec'\n\t'externalsecret.external-secrets.io/es'\n"
			 "\t'certificate.cert-manager.io/cert'\n\t'sealedsecret.bitnami.com/sealed'\n"
			 "\t'widgetset.example.com/w'\n"
			 "\t'service/db'\n\t'statefulset.apps/db'\n\t'statefulset.apps/cache'\n"
			 "\t'job.batch/db-init-1'\n"
			 "\t'serviceaccount/api'\n\t'deployment.apps/api'\n\t'service/api'\n"
			 "\t'deployment.apps/worker'\n\t'daemonset.apps/agent'\n\t'cronjob.batch/nightly'\n\t'pod/debug'\n"
			 "\t'ingress.networking.k8s.io/web'\n\t'ingress.networking.k8s.io/api'\n");
	free(known);
	free(objects);
	sample_release(&s);
	buf_release(&b);
}
END_TEST

START_TEST(passes_shellcheck_and_bash_n)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	write_sample(&b);
	char *dir = fsutil_tmpdir();
	fsutil_write(dir, "apply.sh", buf_cstr(&b), 0755);
	ck_assert_int_eq(fsutil_sh("cd '%s' && bash -n apply.sh", dir), 0);
	/* the options need no cluster: help and a refused option */
	ck_assert_int_eq(fsutil_sh("cd / && bash '%s/apply.sh' --help >/dev/null", dir), 0);
	ck_assert_int_eq(fsutil_sh("cd / && bash '%s/apply.sh' --bogus >/dev/null 2>&1", dir), 2);
	if (fsutil_sh("command -v shellcheck >/dev/null") == 0)
		ck_assert_int_eq(fsutil_sh("cd '%s' && shellcheck apply.sh", dir), 0);
	else
		fputs("test_applysh: shellcheck not installed, skipped\n", stderr);
	fsutil_rmtree(dir);
	free(dir);
	buf_release(&b);
}
END_TEST

Suite *applysh_suite(void)
{
	Suite *s = suite_create("applysh");
	TCase *tc = tcase_create("applysh");
	tcase_set_timeout(tc, 60); /* shellcheck takes seconds on a busy machine */
	tcase_add_test(tc, apply_all_in_phase_order);
	tcase_add_test(tc, references_from_every_pod_spec_and_ingress);
	tcase_add_test(tc, nothing_referenced);
	tcase_add_test(tc, secret_values_detected);
	tcase_add_test(tc, unsafe_values_are_refused);
	tcase_add_test(tc, out_buffer_limit);
	tcase_add_test(tc, out_limit_at_every_size);
	tcase_add_test(tc, known_resources_sorted_once);
	tcase_add_test(tc, passes_shellcheck_and_bash_n);
	suite_add_tcase(s, tc);
	return s;
}
