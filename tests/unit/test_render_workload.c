/* test_render_workload: the file of a service (render_workload.c): the workload of each
 * kind, its Services, ServiceAccount, files ConfigMap, HPA and PDB, and their labels. */
#include <stdlib.h>
#include <string.h>

#include "renderutil.h"
#include "suites.h"

#define J renderutil_json
#define AT renderutil_at
#define STR renderutil_str
#define FIND renderutil_find

#define STACK(services)                                                                           \
	"{'image': {'registry': 'r.example.com', 'tag': '1.0'}, 'config': {'a': 'one'},"          \
	" 'services': {" services "}}"

/* "Kind/name" of every object of file, joined by ", ". */
static char *kinds_of(const json_t *files, const char *file)
{
	size_t i;
	json_t *o;
	size_t len = 0;
	char *out = calloc(1, 4096);
	ck_assert_ptr_nonnull(out);
	json_array_foreach(json_object_get(files, file), i, o)
		len += (size_t)snprintf(out + len, 4096 - len, "%s%s/%s", i ? ", " : "", STR(o, "/kind"),
					STR(o, "/metadata/name"));
	return out;
}

START_TEST(deployment_strategies)
{
	json_t *files = renderutil_bundle(STACK(
		"'one': {'image': {'repository': 'one'}, 'port': 80},"
		"'many': {'image': {'repository': 'many'}, 'port': 80, 'replicas': 3},"
		"'recreate': {'image': {'repository': 'recreate'}, 'port': 80, 'replicas': 2, 'strategy': 'Recreate'},"
		"'scaled': {'image': {'repository': 'scaled'}, 'port': 80, 'autoscaling': {'enabled': true, 'maxReplicas': 4}}"),
		NULL);
	json_t *one = FIND(files, "Deployment", "one");
	ck_assert_int_eq(json_integer_value(AT(one, "/spec/replicas")), 1);
	ck_assert_ptr_null(AT(one, "/spec/strategy"));
	renderutil_assert_json(AT(FIND(files, "Deployment", "many"), "/spec/strategy"),
		    "{'type': 'RollingUpdate', 'rollingUpdate': {'maxUnavailable': 0, 'maxSurge': 1}}");
	renderutil_assert_json(AT(FIND(files, "Deployment", "recreate"), "/spec/strategy"), "{'type': 'Recreate'}");
	json_t *scaled = FIND(files, "Deployment", "scaled");
	ck_assert_ptr_null(AT(scaled, "/spec/replicas"));
	renderutil_assert_json(AT(FIND(files, "HorizontalPodAutoscaler", "scaled"), "/spec/scaleTargetRef"),
		    "{'apiVersion': 'apps/v1', 'kind': 'Deployment', 'name': 'scaled'}");
	/* a PDB for more than one pod */
	ck_assert_ptr_null(FIND(files, "PodDisruptionBudget", "one"));
	ck_assert_ptr_nonnull(FIND(files, "PodDisruptionBudget", "many"));
	ck_assert_ptr_nonnull(FIND(files, "PodDisruptionBudget", "scaled"));
	json_decref(files);
}
END_TEST

START_TEST(stateful_set_with_storage)
{
	json_t *files = renderutil_bundle(STACK(
		"'db': {'image': {'repository': 'db'}, 'ports': {'sql': {'port': 5432}}, 'replicas': 3,"
		"  'disruptionBudget': {'maxUnavailable': '50%'}, 'annotations': {'example.com/a': 'b'},"
		"  'volumes': {'data': {'mountPath': '/data', 'persistent': {'size': '10Gi', 'className': 'fast'}},"
		"              'wal': {'mountPath': '/wal', 'persistent': {'size': '1Gi', 'accessMode': 'ReadWriteOncePod'}}}},"
		"'scaled': {'kind': 'StatefulSet', 'image': {'repository': 'scaled'},"
		"  'autoscaling': {'enabled': true}, 'probes': {'readiness': null, 'liveness': null}}"),
		NULL);
	char *list = kinds_of(files, "50-db.yaml");
	ck_assert_str_eq(list, "ServiceAccount/db, StatefulSet/db, Service/db, Service/db-headless, PodDisruptionBudget/db");
	free(list);
	json_t *set = FIND(files, "StatefulSet", "db");
	ck_assert_str_eq(STR(set, "/spec/serviceName"), "db-headless");
	ck_assert_int_eq(json_integer_value(AT(set, "/spec/replicas")), 3);
	ck_assert_str_eq(STR(set, "/metadata/annotations/example.com~1a"), "b");
	renderutil_assert_json(AT(set, "/spec/volumeClaimTemplates"),
		    "[{'metadata': {'name': 'data'}, 'spec': {'accessModes': ['ReadWriteOnce'], 'storageClassName': 'fast',"
		    "   'resources': {'requests': {'storage': '10Gi'}}}},"
		    " {'metadata': {'name': 'wal'}, 'spec': {'accessModes': ['ReadWriteOncePod'],"
		    "   'resources': {'requests': {'storage': '1Gi'}}}}]");
	/* claims are mounted, never pod volumes */
	ck_assert_str_eq(STR(set, "/spec/template/spec/containers/0/volumeMounts/0/name"), "data");
	ck_assert_str_eq(STR(set, "/spec/template/spec/volumes/0/name"), "tmp");
	json_t *headless = FIND(files, "Service", "db-headless");
	ck_assert_str_eq(STR(headless, "/spec/clusterIP"), "None");
	ck_assert(json_is_true(AT(headless, "/spec/publishNotReadyAddresses")));
	ck_assert_ptr_null(AT(FIND(files, "Service", "db"), "/spec/clusterIP"));
	ck_assert_str_eq(STR(FIND(files, "PodDisruptionBudget", "db"), "/spec/maxUnavailable"), "50%");
	/* a StatefulSet of a worker: no client Service, a headless one without ports */
	list = kinds_of(files, "50-scaled.yaml");
	ck_assert_str_eq(list, "ServiceAccount/scaled, StatefulSet/scaled, Service/scaled-headless, "
			       "HorizontalPodAutoscaler/scaled, PodDisruptionBudget/scaled");
	free(list);
	ck_assert_ptr_null(AT(FIND(files, "Service", "scaled-headless"), "/spec/ports"));
	ck_assert_ptr_null(AT(FIND(files, "StatefulSet", "scaled"), "/spec/replicas"));
	ck_assert_ptr_null(AT(FIND(files, "StatefulSet", "scaled"), "/spec/volumeClaimTemplates"));
	ck_assert_str_eq(STR(FIND(files, "HorizontalPodAutoscaler", "scaled"), "/spec/scaleTargetRef/kind"), "StatefulSet");
	json_decref(files);
}
END_TEST

START_TEST(daemon_set)
{
	json_t *files = renderutil_bundle(STACK(
		"'agent': {'kind': 'DaemonSet', 'image': {'repository': 'agent'}, 'ports': {'metrics': {'port': 9100}},"
		"  'replicas': 5}"), NULL);
	char *list = kinds_of(files, "50-agent.yaml");
	ck_assert_str_eq(list, "ServiceAccount/agent, DaemonSet/agent, Service/agent");
	free(list);
	json_t *ds = FIND(files, "DaemonSet", "agent");
	renderutil_assert_json(AT(ds, "/spec/updateStrategy"), "{'type': 'RollingUpdate', 'rollingUpdate': {'maxUnavailable': 1}}");
	ck_assert_ptr_null(AT(ds, "/spec/replicas"));
	ck_assert_ptr_null(AT(ds, "/spec/template/spec/topologySpreadConstraints"));
	json_decref(files);
}
END_TEST

/* The name of the Job of service in files. */
static char *job_name(const json_t *files, const char *file)
{
	json_t *job = json_array_get(json_object_get(files, file), 1);
	ck_assert_str_eq(STR(job, "/kind"), "Job");
	return strdup(STR(job, "/metadata/name"));
}

#define JOBS                                                                                      \
	STACK("'migrate': {'kind': 'Job', 'image': {'repository': 'migrate'}, 'args': ['up'],"    \
	      "  'env': {'A': {'config': 'a'}},"                                                       \
	      "  'job': {'backoffLimit': 2, 'activeDeadlineSeconds': 60, 'restartPolicy': 'Never'}},"  \
	      "'nightly': {'kind': 'CronJob', 'image': {'repository': 'nightly'},"                     \
	      "  'cron': {'schedule': '@daily', 'timeZone': 'UTC', 'concurrencyPolicy': 'Replace',"    \
	      "           'startingDeadlineSeconds': 100}, 'job': {'parallelism': 3}}")

START_TEST(jobs_and_cron_jobs)
{
	json_t *files = renderutil_bundle(JOBS, NULL);
	char *name = job_name(files, "50-migrate.yaml");
	ck_assert_uint_eq(strlen(name), strlen("migrate-") + 8);
	ck_assert(strncmp(name, "migrate-", 8) == 0);
	json_t *job = FIND(files, "Job", name);
	ck_assert_str_eq(STR(job, "/metadata/labels/app.kubernetes.io~1component"), "job");
	json_t *spec = AT(job, "/spec");
	ck_assert_int_eq(json_integer_value(AT(spec, "/backoffLimit")), 2);
	ck_assert_int_eq(json_integer_value(AT(spec, "/activeDeadlineSeconds")), 60);
	ck_assert_int_eq(json_integer_value(AT(spec, "/ttlSecondsAfterFinished")), 86400);
	ck_assert_str_eq(STR(spec, "/template/spec/restartPolicy"), "Never");
	ck_assert_ptr_null(AT(spec, "/template/spec/containers/0/readinessProbe"));
	ck_assert_ptr_null(FIND(files, "Service", "migrate"));
	json_t *cron = FIND(files, "CronJob", "nightly");
	ck_assert_ptr_nonnull(cron);
	spec = AT(cron, "/spec");
	ck_assert_str_eq(STR(spec, "/schedule"), "@daily");
	ck_assert_str_eq(STR(spec, "/timeZone"), "UTC");
	ck_assert_str_eq(STR(spec, "/concurrencyPolicy"), "Replace");
	ck_assert_int_eq(json_integer_value(AT(spec, "/startingDeadlineSeconds")), 100);
	ck_assert(json_is_false(AT(spec, "/suspend")));
	ck_assert_int_eq(json_integer_value(AT(spec, "/jobTemplate/spec/parallelism")), 3);
	ck_assert_ptr_null(AT(spec, "/jobTemplate/spec/activeDeadlineSeconds"));
	ck_assert_str_eq(STR(spec, "/jobTemplate/spec/template/spec/restartPolicy"), "OnFailure");
	/* parallel pods are spread */
	ck_assert_ptr_nonnull(AT(spec, "/jobTemplate/spec/template/spec/topologySpreadConstraints"));
	/* the same spec, the same name; a change to what the Job reads, a new Job */
	json_t *same = renderutil_bundle(JOBS, "{'config': {'other': 'x'}}");
	json_t *changed = renderutil_bundle(JOBS, "{'config': {'a': 'two'}}");
	char *same_name = job_name(same, "50-migrate.yaml"), *changed_name = job_name(changed, "50-migrate.yaml");
	ck_assert_str_eq(same_name, name);
	ck_assert_str_ne(changed_name, name);
	free(same_name);
	free(changed_name);
	free(name);
	json_decref(same);
	json_decref(changed);
	json_decref(files);
}
END_TEST

START_TEST(services_by_expose_type)
{
	json_t *files = renderutil_bundle(STACK(
		"'np': {'image': {'repository': 'np'}, 'expose': {'type': 'NodePort'},"
		"  'ports': {'web': {'port': 80, 'targetPort': 8080, 'nodePort': 30080, 'appProtocol': 'http'},"
		"            'dns': {'port': 53, 'protocol': 'UDP'}}},"
		"'lb': {'image': {'repository': 'lb'}, 'port': 443,"
		"  'expose': {'type': 'LoadBalancer', 'annotations': {'example.com/lb': 'internal'}}},"
		"'hl': {'image': {'repository': 'hl'}, 'port': 7000, 'expose': {'type': 'Headless'}},"
		"'worker': {'image': {'repository': 'worker'}}"), NULL);
	json_t *np = FIND(files, "Service", "np");
	ck_assert_str_eq(STR(np, "/spec/type"), "NodePort");
	renderutil_assert_json(AT(np, "/spec/ports"),
		    "[{'name': 'web', 'port': 80, 'targetPort': 'web', 'protocol': 'TCP', 'appProtocol': 'http', 'nodePort': 30080},"
		    " {'name': 'dns', 'port': 53, 'targetPort': 'dns', 'protocol': 'UDP'}]");
	renderutil_assert_json(AT(FIND(files, "Deployment", "np"), "/spec/template/spec/containers/0/ports"),
		    "[{'name': 'web', 'containerPort': 8080, 'protocol': 'TCP'}, {'name': 'dns', 'containerPort': 53, 'protocol': 'UDP'}]");
	json_t *lb = FIND(files, "Service", "lb");
	ck_assert_str_eq(STR(lb, "/spec/type"), "LoadBalancer");
	renderutil_assert_json(AT(lb, "/metadata/annotations"), "{'example.com/lb': 'internal'}");
	json_t *hl = FIND(files, "Service", "hl");
	ck_assert_str_eq(STR(hl, "/spec/type"), "ClusterIP");
	ck_assert_str_eq(STR(hl, "/spec/clusterIP"), "None");
	ck_assert_ptr_null(AT(hl, "/spec/publishNotReadyAddresses"));
	char *list = kinds_of(files, "50-worker.yaml");
	ck_assert_str_eq(list, "ServiceAccount/worker, Deployment/worker");
	free(list);
	ck_assert_str_eq(STR(FIND(files, "Deployment", "worker"), "/metadata/labels/app.kubernetes.io~1component"), "worker");
	ck_assert_str_eq(STR(FIND(files, "Deployment", "np"), "/metadata/labels/app.kubernetes.io~1component"), "service");
	json_decref(files);
}
END_TEST

START_TEST(account_labels_and_annotations)
{
	json_t *files = renderutil_bundle(STACK(
		"'own': {'image': {'repository': 'own'}, 'port': 80,"
		"  'serviceAccount': {'name': 'own-sa', 'automountToken': true, 'annotations': {'example.com/role': 'r'}},"
		"  'labels': {'team': 'a', 'app.kubernetes.io/name': 'forged'}, 'annotations': {'example.com/w': 'x'},"
		"  'podLabels': {'pod': 'yes', 'team': 'b'}, 'podAnnotations': {'example.com/p': 'q'}},"
		"'borrowed': {'image': {'repository': 'borrowed'}, 'port': 80,"
		"  'serviceAccount': {'create': false, 'name': 'default'}}"), NULL);
	json_t *sa = FIND(files, "ServiceAccount", "own-sa");
	ck_assert_ptr_nonnull(sa);
	ck_assert(json_is_true(AT(sa, "/automountServiceAccountToken")));
	ck_assert_str_eq(STR(sa, "/metadata/annotations/example.com~1role"), "r");
	ck_assert_str_eq(STR(sa, "/metadata/labels/team"), "a");
	json_t *dep = FIND(files, "Deployment", "own");
	ck_assert_str_eq(STR(dep, "/spec/template/spec/serviceAccountName"), "own-sa");
	ck_assert(json_is_true(AT(dep, "/spec/template/spec/automountServiceAccountToken")));
	/* the recommended labels win; the selector never changes */
	ck_assert_str_eq(STR(dep, "/metadata/labels/app.kubernetes.io~1name"), "own");
	ck_assert_str_eq(STR(dep, "/metadata/labels/team"), "a");
	renderutil_assert_json(AT(dep, "/metadata/annotations"), "{'example.com/w': 'x'}");
	renderutil_assert_json(AT(dep, "/spec/selector/matchLabels"), "{'app.kubernetes.io/name': 'own', 'app.kubernetes.io/instance': 'shop-prod'}");
	json_t *pod = AT(dep, "/spec/template/metadata");
	ck_assert_str_eq(STR(pod, "/labels/pod"), "yes");
	ck_assert_str_eq(STR(pod, "/labels/team"), "a");
	renderutil_assert_json(AT(pod, "/annotations"), "{'example.com/p': 'q'}");
	ck_assert_ptr_null(AT(FIND(files, "Service", "own"), "/metadata/annotations"));
	ck_assert_str_eq(STR(FIND(files, "Service", "own"), "/metadata/labels/team"), "a");
	/* an existing account: none rendered */
	char *list = kinds_of(files, "50-borrowed.yaml");
	ck_assert_str_eq(list, "Deployment/borrowed, Service/borrowed");
	free(list);
	ck_assert_str_eq(STR(FIND(files, "Deployment", "borrowed"), "/spec/template/spec/serviceAccountName"), "default");
	json_decref(files);
}
END_TEST

Suite *render_workload_suite(void)
{
	Suite *s = suite_create("render_workload");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, deployment_strategies);
	tcase_add_test(tc, stateful_set_with_storage);
	tcase_add_test(tc, daemon_set);
	tcase_add_test(tc, jobs_and_cron_jobs);
	tcase_add_test(tc, services_by_expose_type);
	tcase_add_test(tc, account_labels_and_annotations);
	suite_add_tcase(s, tc);
	return s;
}
