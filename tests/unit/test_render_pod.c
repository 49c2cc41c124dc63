/* test_render_pod: the pods of services (render_pod.c, render_container.c), read back
 * from rendered bundles: containers, probes of every kind, env, volumes and mounts,
 * security, scheduling, and checksums of exactly what each pod reads. */
#include <stdlib.h>
#include <string.h>

#include "renderutil.h"
#include "suites.h"

#define J renderutil_json
#define AT renderutil_at
#define STR renderutil_str

/* A stack of the given services, with config and secrets to read. */
#define STACK(services)                                                                           \
	"{'image': {'registry': 'r.example.com/team', 'tag': '1.0'},"                             \
	" 'config': {'a': 'one', 'b': 'two', 'app.yaml': 'x: 1'},"                                \
	" 'secrets': {'s1': 'secret-one', 's2': 'secret-two'},"                                   \
	" 'services': {" services "}}"

/* The pod spec of the workload of kind and name. */
static json_t *pod_of(json_t *files, const char *kind, const char *name)
{
	json_t *w = renderutil_find(files, kind, name);
	ck_assert_msg(w != NULL, "no %s %s", kind, name);
	json_t *spec = AT(w, strcmp(kind, "CronJob") == 0 ? "/spec/jobTemplate/spec/template/spec" : "/spec/template/spec");
	ck_assert_ptr_nonnull(spec);
	return spec;
}

START_TEST(probes_of_every_kind)
{
	json_t *files = renderutil_bundle(STACK(
		"'api': {'image': {'repository': 'api'},"
		"  'ports': {'web': {'port': 443, 'targetPort': 8443}, 'rpc': {'port': 9000, 'appProtocol': 'grpc'}},"
		"  'probes': {"
		"    'readiness': {'httpGet': {'path': '/ready', 'scheme': 'HTTPS', 'headers': {'X-A': 'b'}},"
		"                  'successThreshold': 2, 'initialDelaySeconds': 4},"
		"    'liveness': {'grpc': {'service': 'api.Health'}, 'periodSeconds': 20},"
		"    'startup': {'exec': {'command': ['check', '--start']}, 'failureThreshold': 30}}},"
		"'tcp': {'image': {'repository': 'tcp'}, 'ports': {'db': {'port': 5432}}},"
		"'rpc': {'image': {'repository': 'rpc'}, 'ports': {'rpc': {'port': 9000}},"
		"  'probes': {'readiness': {'grpc': {}}, 'liveness': {'tcpSocket': {'port': 9000}}}},"
		"'worker': {'image': {'repository': 'worker'}}"), NULL);
	json_t *c = AT(pod_of(files, "Deployment", "api"), "/containers/0");
	renderutil_assert_json(AT(c, "/readinessProbe"),
		    "{'httpGet': {'path': '/ready', 'port': 'web', 'scheme': 'HTTPS', 'httpHeaders': [{'name': 'X-A', 'value': 'b'}]},"
		    " 'initialDelaySeconds': 4, 'periodSeconds': 10, 'timeoutSeconds': 2, 'failureThreshold': 3,"
		    " 'successThreshold': 2}");
	renderutil_assert_json(AT(c, "/livenessProbe"), "{'grpc': {'port': 8443, 'service': 'api.Health'}, 'initialDelaySeconds': 0,"
					     " 'periodSeconds': 20, 'timeoutSeconds': 2, 'failureThreshold': 3}");
	renderutil_assert_json(AT(c, "/startupProbe/exec"), "{'command': ['check', '--start']}");
	ck_assert_int_eq(json_integer_value(AT(c, "/startupProbe/failureThreshold")), 30);
	/* without a kind: a TCP check of the first TCP port, by name */
	c = AT(pod_of(files, "Deployment", "tcp"), "/containers/0");
	renderutil_assert_json(AT(c, "/readinessProbe/tcpSocket"), "{'port': 'db'}");
	renderutil_assert_json(AT(c, "/livenessProbe/tcpSocket"), "{'port': 'db'}");
	ck_assert_ptr_null(AT(c, "/startupProbe"));
	ck_assert_ptr_null(AT(c, "/readinessProbe/successThreshold"));
	/* gRPC takes the first port's number; a TCP port may be a number */
	c = AT(pod_of(files, "Deployment", "rpc"), "/containers/0");
	renderutil_assert_json(AT(c, "/readinessProbe/grpc"), "{'port': 9000}");
	renderutil_assert_json(AT(c, "/livenessProbe/tcpSocket"), "{'port': 9000}");
	/* a worker has no port to check: no probes, no ports */
	c = AT(pod_of(files, "Deployment", "worker"), "/containers/0");
	ck_assert_ptr_null(AT(c, "/readinessProbe"));
	ck_assert_ptr_null(AT(c, "/livenessProbe"));
	ck_assert_ptr_null(AT(c, "/ports"));
	json_decref(files);
}
END_TEST

START_TEST(container_command_image_env)
{
	json_t *files = renderutil_bundle(STACK(
		"'api': {'image': {'repository': 'api', 'registry': '', 'tag': '2.0',"
		"    'digest': 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'pullPolicy': 'Always'},"
		"  'port': 8080, 'command': ['/bin/api'], 'args': ['--x', '$(A)'], 'workingDir': '/srv',"
		"  'env': {'A': {'config': 'a'}, 'B': {'secret': 's1'}, 'C': {'value': 'c'}, 'D': {'field': 'status.podIP'},"
		"          'E': {'config': 'k', 'from': 'other-cm'}, 'F': {'secret': 'k', 'from': 'other-secret'}},"
		"  'envFrom': {'one': {'configMap': 'shop-config', 'prefix': 'CFG_'}, 'two': {'secret': 'shop-secrets', 'optional': true}}},"
		"'pinned': {'image': {'repository': 'pinned',"
		"    'digest': 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}}"),
		"{'image': {'tag': ''}}");
	json_t *c = AT(pod_of(files, "Deployment", "api"), "/containers/0");
	ck_assert_str_eq(STR(c, "/name"), "api");
	ck_assert_str_eq(STR(c, "/image"),
			 "api:2.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(STR(c, "/imagePullPolicy"), "Always");
	renderutil_assert_json(AT(c, "/command"), "['/bin/api']");
	renderutil_assert_json(AT(c, "/args"), "['--x', '$(A)']");
	ck_assert_str_eq(STR(c, "/workingDir"), "/srv");
	renderutil_assert_json(AT(c, "/ports"), "[{'name': 'http', 'containerPort': 8080, 'protocol': 'TCP'}]");
	renderutil_assert_json(AT(c, "/env"),
		    "[{'name': 'A', 'valueFrom': {'configMapKeyRef': {'name': 'shop-config', 'key': 'a'}}},"
		    " {'name': 'B', 'valueFrom': {'secretKeyRef': {'name': 'shop-secrets', 'key': 's1'}}},"
		    " {'name': 'C', 'value': 'c'},"
		    " {'name': 'D', 'valueFrom': {'fieldRef': {'fieldPath': 'status.podIP'}}},"
		    " {'name': 'E', 'valueFrom': {'configMapKeyRef': {'name': 'other-cm', 'key': 'k'}}},"
		    " {'name': 'F', 'valueFrom': {'secretKeyRef': {'name': 'other-secret', 'key': 'k'}}}]");
	renderutil_assert_json(AT(c, "/envFrom"), "[{'configMapRef': {'name': 'shop-config'}, 'prefix': 'CFG_'},"
				       " {'secretRef': {'name': 'shop-secrets', 'optional': true}}]");
	c = AT(pod_of(files, "Deployment", "pinned"), "/containers/0");
	ck_assert_str_eq(STR(c, "/image"),
			 "r.example.com/team/pinned@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	ck_assert_ptr_null(AT(c, "/command"));
	ck_assert_ptr_null(AT(c, "/env"));
	ck_assert_ptr_null(AT(c, "/workingDir"));
	json_decref(files);
}
END_TEST

START_TEST(volumes_files_and_mounts)
{
	json_t *files = renderutil_bundle(STACK(
		"'api': {'image': {'repository': 'api'}, 'port': 8080,"
		"  'volumes': {"
		"    'conf': {'mountPath': '/etc/api', 'readOnly': true, 'files': {"
		"       'app.yaml': {'config': 'app.yaml'}, 'keys/s1': {'secret': 's1'}, 'conf.d/x y.txt': {'content': 'hi', 'mode': '0600'}}},"
		"    'cache': {'mountPath': '/cache', 'subPath': 'c', 'emptyDir': {'medium': 'Memory', 'sizeLimit': '64Mi'}},"
		"    'plain': {'mountPath': '/plain', 'emptyDir': {}},"
		"    'shared': {'mountPath': '/shared', 'readOnly': true, 'claim': {'name': 'shared-pvc'}}}}"), NULL);
	json_t *spec = pod_of(files, "Deployment", "api");
	renderutil_assert_json(AT(spec, "/volumes"),
		    "[{'name': 'conf', 'projected': {'sources': ["
		    "   {'configMap': {'name': 'shop-config', 'items': [{'key': 'app.yaml', 'path': 'app.yaml', 'mode': 420}]}},"
		    "   {'secret': {'name': 'shop-secrets', 'items': [{'key': 's1', 'path': 'keys/s1', 'mode': 256}]}},"
		    "   {'configMap': {'name': 'api-files', 'items': [{'key': 'conf__conf.d__x_y.txt', 'path': 'conf.d/x y.txt', 'mode': 384}]}}]}},"
		    " {'name': 'cache', 'emptyDir': {'medium': 'Memory', 'sizeLimit': '64Mi'}},"
		    " {'name': 'plain', 'emptyDir': {}},"
		    " {'name': 'shared', 'persistentVolumeClaim': {'claimName': 'shared-pvc', 'readOnly': true}},"
		    " {'name': 'tmp', 'emptyDir': {}}]");
	renderutil_assert_json(AT(spec, "/containers/0/volumeMounts"),
		    "[{'name': 'conf', 'mountPath': '/etc/api', 'readOnly': true},"
		    " {'name': 'cache', 'mountPath': '/cache', 'subPath': 'c'},"
		    " {'name': 'plain', 'mountPath': '/plain'},"
		    " {'name': 'shared', 'mountPath': '/shared', 'readOnly': true},"
		    " {'name': 'tmp', 'mountPath': '/tmp'}]");
	/* the inline files are the data of <service>-files */
	renderutil_assert_json(AT(renderutil_find(files, "ConfigMap", "api-files"), "/data"), "{'conf__conf.d__x_y.txt': 'hi'}");
	json_decref(files);
}
END_TEST

START_TEST(tmp_volume_only_when_needed)
{
	json_t *files = renderutil_bundle(STACK(
		"'own': {'image': {'repository': 'own'}, 'port': 8080,"
		"  'volumes': {'scratch': {'mountPath': '/tmp', 'emptyDir': {}}}},"
		"'rw': {'image': {'repository': 'rw'}, 'port': 8080, 'securityContext': {'readOnlyRootFilesystem': false}}"),
		NULL);
	json_t *spec = pod_of(files, "Deployment", "own");
	renderutil_assert_json(AT(spec, "/volumes"), "[{'name': 'scratch', 'emptyDir': {}}]");
	spec = pod_of(files, "Deployment", "rw");
	ck_assert_ptr_null(AT(spec, "/volumes"));
	ck_assert_ptr_null(AT(spec, "/containers/0/volumeMounts"));
	ck_assert(json_is_false(AT(spec, "/containers/0/securityContext/readOnlyRootFilesystem")));
	json_decref(files);
}
END_TEST

START_TEST(init_containers_and_sidecars)
{
	json_t *stack = renderutil_json(STACK(
		"'api': {'image': {'repository': 'api'}, 'port': 8080, 'uses': {'mysql': {'database': 'apidb'}},"
		"  'securityContext': {'runAsUser': 2000, 'capabilities': ['NET_BIND_SERVICE']},"
		"  'volumes': {'data': {'mountPath': '/data', 'emptyDir': {}}},"
		"  'initContainers': {'migrate': {'image': 'r.example.com/migrate:1.0', 'args': ['up'],"
		"      'env': {'A': {'config': 'a'}}, 'volumeMounts': {'data': {'mountPath': '/work'}}}},"
		"  'sidecars': {'proxy': {'image': 'r.example.com/proxy:2.0', 'runAsUser': 101,"
		"      'ports': {'proxy': {'port': 8081}}, 'probes': {'readiness': {}, 'liveness': {'httpGet': {}}},"
		"      'volumeMounts': {'data': {'mountPath': '/tmp', 'readOnly': true}}}}}"));
	json_object_set_new(stack, "components", renderutil_json("{'mysql': {'type': 'mysql'}}"));
	json_object_set_new(json_object_get(stack, "secrets"), "mysql-root-password", json_string("r"));
	json_object_set_new(json_object_get(stack, "secrets"), "mysql-password", json_string("p"));
	char *text = json_dumps(stack, 0);
	json_t *files = renderutil_bundle(text, NULL);
	json_t *spec = pod_of(files, "Deployment", "api");
	/* it waits for the component it uses first, as nobody */
	ck_assert_str_eq(STR(spec, "/initContainers/0/name"), "wait-for-mysql");
	ck_assert_int_eq(json_integer_value(AT(spec, "/initContainers/0/securityContext/runAsUser")), 65534);
	json_t *init = AT(spec, "/initContainers/1");
	ck_assert_str_eq(STR(init, "/name"), "migrate");
	ck_assert_str_eq(STR(init, "/image"), "r.example.com/migrate:1.0");
	renderutil_assert_json(AT(init, "/volumeMounts"), "[{'name': 'data', 'mountPath': '/work'}, {'name': 'tmp', 'mountPath': '/tmp'}]");
	ck_assert_ptr_null(AT(init, "/readinessProbe"));
	ck_assert_ptr_null(AT(init, "/ports"));
	renderutil_assert_json(AT(init, "/securityContext/capabilities"), "{'drop': ['ALL']}");
	ck_assert_int_eq(json_integer_value(AT(init, "/securityContext/runAsUser")), 2000);
	/* the service's container first, its capability added; then the sidecar */
	ck_assert_str_eq(STR(spec, "/containers/0/name"), "api");
	renderutil_assert_json(AT(spec, "/containers/0/securityContext/capabilities"), "{'drop': ['ALL'], 'add': ['NET_BIND_SERVICE']}");
	json_t *side = AT(spec, "/containers/1");
	ck_assert_str_eq(STR(side, "/name"), "proxy");
	ck_assert_int_eq(json_integer_value(AT(side, "/securityContext/runAsUser")), 101);
	renderutil_assert_json(AT(side, "/ports"), "[{'name': 'proxy', 'containerPort': 8081, 'protocol': 'TCP'}]");
	renderutil_assert_json(AT(side, "/readinessProbe/tcpSocket"), "{'port': 'proxy'}");
	renderutil_assert_json(AT(side, "/livenessProbe/httpGet"), "{'path': '/', 'port': 'proxy'}");
	/* it mounts a volume at /tmp itself: no automatic one */
	renderutil_assert_json(AT(side, "/volumeMounts"), "[{'name': 'data', 'mountPath': '/tmp', 'readOnly': true}]");
	/* its port joins the Service */
	renderutil_assert_json(AT(renderutil_find(files, "Service", "api"), "/spec/ports"),
		    "[{'name': 'http', 'port': 8080, 'targetPort': 'http', 'protocol': 'TCP'},"
		    " {'name': 'proxy', 'port': 8081, 'targetPort': 'proxy', 'protocol': 'TCP'}]");
	free(text);
	json_decref(stack);
	json_decref(files);
}
END_TEST

START_TEST(security_contexts)
{
	json_t *files = renderutil_bundle(STACK(
		"'root': {'image': {'repository': 'root'}, 'port': 80,"
		"  'securityContext': {'runAsUser': 0, 'runAsNonRoot': false}},"
		"'ids': {'image': {'repository': 'ids'}, 'port': 80,"
		"  'securityContext': {'runAsUser': 10, 'runAsGroup': 20, 'fsGroup': 30}},"
		"'same': {'image': {'repository': 'same'}, 'port': 80, 'securityContext': {'runAsUser': 7}},"
		"'high': {'image': {'repository': 'high'}, 'port': 8080},"
		"'side': {'image': {'repository': 'side'}, 'port': 8080,"
		"  'sidecars': {'proxy': {'image': 'envoy:1.0', 'ports': {'web': {'port': 80}}}}}"), NULL);
	json_t *spec = pod_of(files, "Deployment", "root");
	renderutil_assert_json(AT(spec, "/securityContext"), "{'runAsNonRoot': false, 'runAsUser': 0, 'runAsGroup': 0, 'fsGroup': 0,"
						  " 'seccompProfile': {'type': 'RuntimeDefault'}}");
	ck_assert(json_is_false(AT(spec, "/containers/0/securityContext/runAsNonRoot")));
	spec = pod_of(files, "Deployment", "ids");
	/* not root on port 80: the pod lets it bind the port (root needs nor has that) */
	renderutil_assert_json(AT(spec, "/securityContext"), "{'runAsNonRoot': true, 'runAsUser': 10, 'runAsGroup': 20, 'fsGroup': 30,"
						  " 'seccompProfile': {'type': 'RuntimeDefault'},"
						  " 'sysctls': [{'name': 'net.ipv4.ip_unprivileged_port_start', 'value': '0'}]}");
	renderutil_assert_json(AT(spec, "/containers/0/securityContext"),
		    "{'runAsNonRoot': true, 'runAsUser': 10, 'allowPrivilegeEscalation': false, 'readOnlyRootFilesystem': true,"
		    " 'capabilities': {'drop': ['ALL']}, 'seccompProfile': {'type': 'RuntimeDefault'}}");
	/* runAsGroup and fsGroup default to runAsUser */
	spec = pod_of(files, "Deployment", "same");
	ck_assert_int_eq(json_integer_value(AT(spec, "/securityContext/fsGroup")), 7);
	ck_assert_ptr_null(AT(pod_of(files, "Deployment", "high"), "/securityContext/sysctls"));
	ck_assert_ptr_nonnull(AT(pod_of(files, "Deployment", "side"), "/securityContext/sysctls"));
	json_decref(files);
}
END_TEST

START_TEST(scheduling)
{
	json_t *files = renderutil_bundle(STACK(
		"'api': {'image': {'repository': 'api'}, 'port': 80, 'replicas': 3,"
		"  'scheduling': {'nodeSelector': {'disk': 'ssd'}, 'priorityClassName': 'high',"
		"    'terminationGracePeriodSeconds': 60, 'preStopSleepSeconds': 5, 'spread': 'hard',"
		"    'tolerations': [{'key': 'k', 'operator': 'Equal', 'value': 'v', 'effect': 'NoSchedule'},"
		"                    {'operator': 'Exists', 'tolerationSeconds': 30}],"
		"    'affinity': {'nodeAffinity': {'preferredDuringSchedulingIgnoredDuringExecution': []}}}},"
		"'one': {'image': {'repository': 'one'}, 'port': 80},"
		"'scaled': {'image': {'repository': 'scaled'}, 'port': 80, 'autoscaling': {'enabled': true}},"
		"'quiet': {'image': {'repository': 'quiet'}, 'port': 80, 'replicas': 2, 'scheduling': {'spread': 'none'}}"),
		NULL);
	json_t *spec = pod_of(files, "Deployment", "api");
	ck_assert_str_eq(STR(spec, "/priorityClassName"), "high");
	ck_assert_int_eq(json_integer_value(AT(spec, "/terminationGracePeriodSeconds")), 60);
	renderutil_assert_json(AT(spec, "/nodeSelector"), "{'disk': 'ssd'}");
	renderutil_assert_json(AT(spec, "/tolerations"), "[{'key': 'k', 'operator': 'Equal', 'value': 'v', 'effect': 'NoSchedule'},"
					      " {'operator': 'Exists', 'tolerationSeconds': 30}]");
	renderutil_assert_json(AT(spec, "/affinity"), "{'nodeAffinity': {'preferredDuringSchedulingIgnoredDuringExecution': []}}");
	renderutil_assert_json(AT(spec, "/topologySpreadConstraints"),
		    "[{'maxSkew': 1, 'topologyKey': 'kubernetes.io/hostname', 'whenUnsatisfiable': 'DoNotSchedule',"
		    "  'labelSelector': {'matchLabels': {'app.kubernetes.io/name': 'api', 'app.kubernetes.io/instance': 'shop-prod'}}}]");
	renderutil_assert_json(AT(spec, "/containers/0/lifecycle"), "{'preStop': {'exec': {'command': ['sleep', '5']}}}");
	/* one pod: nothing to spread, the default grace period is not written */
	spec = pod_of(files, "Deployment", "one");
	ck_assert_ptr_null(AT(spec, "/topologySpreadConstraints"));
	ck_assert_ptr_null(AT(spec, "/terminationGracePeriodSeconds"));
	ck_assert_ptr_null(AT(spec, "/containers/0/lifecycle"));
	ck_assert_str_eq(STR(pod_of(files, "Deployment", "scaled"), "/topologySpreadConstraints/0/whenUnsatisfiable"),
			 "ScheduleAnyway");
	ck_assert_ptr_null(AT(pod_of(files, "Deployment", "quiet"), "/topologySpreadConstraints"));
	json_decref(files);
}
END_TEST

/* The checksum annotations of the pod of a Deployment (NULL: none). */
static json_t *sums(json_t *files, const char *name)
{
	json_t *w = renderutil_find(files, "Deployment", name);
	ck_assert_ptr_nonnull(w);
	return AT(w, "/spec/template/metadata/annotations");
}

#define READERS                                                                                   \
	STACK("'a': {'image': {'repository': 'a'}, 'port': 80, 'env': {'A': {'config': 'a'}, 'S': {'secret': 's1'}}},"   \
	      "'b': {'image': {'repository': 'b'}, 'port': 80, 'volumes': {'f': {'mountPath': '/f', 'files': {"        \
	      "   'b.txt': {'config': 'b'}, 'inline.txt': {'content': 'x'}}}},"                                         \
	      "   'podAnnotations': {'example.com/x': 'y'}},"                                                            \
	      "'c': {'image': {'repository': 'c'}, 'port': 80, 'envFrom': {'all': {'configMap': 'shop-config'}}},"      \
	      "'d': {'image': {'repository': 'd'}, 'port': 80}")

/* A pod's checksums change exactly when a key it reads changes. */
START_TEST(checksums_cover_what_the_pod_reads)
{
	json_t *before = renderutil_bundle(READERS, NULL);
	json_t *after_b = renderutil_bundle(READERS, "{'config': {'b': 'changed'}}");
	json_t *after_s2 = renderutil_bundle(READERS, "{'secrets': {'s2': 'changed'}}");
	/* a reads a and s1: neither b nor s2 rolls it */
	ck_assert(json_equal(sums(before, "a"), sums(after_b, "a")));
	ck_assert(json_equal(sums(before, "a"), sums(after_s2, "a")));
	ck_assert_ptr_nonnull(AT(sums(before, "a"), "/checksum~1config"));
	ck_assert_ptr_nonnull(AT(sums(before, "a"), "/checksum~1secrets"));
	ck_assert_ptr_null(AT(sums(before, "a"), "/checksum~1files"));
	/* b reads b through a file, and its own inline file; then its pod annotations */
	ck_assert_str_ne(STR(sums(before, "b"), "/checksum~1config"), STR(sums(after_b, "b"), "/checksum~1config"));
	ck_assert_ptr_nonnull(AT(sums(before, "b"), "/checksum~1files"));
	ck_assert_ptr_null(AT(sums(before, "b"), "/checksum~1secrets"));
	ck_assert_str_eq(STR(sums(before, "b"), "/example.com~1x"), "y");
	/* c reads every key of the ConfigMap */
	ck_assert_str_ne(STR(sums(before, "c"), "/checksum~1config"), STR(sums(after_b, "c"), "/checksum~1config"));
	/* d reads nothing */
	ck_assert_ptr_null(sums(before, "d"));
	json_t *b_with_change = renderutil_bundle(READERS, "{'services': {'b': {'volumes': {'f': {'files': {'inline.txt': {'content': 'z'}}}}}}}");
	ck_assert_str_ne(STR(sums(before, "b"), "/checksum~1files"), STR(sums(b_with_change, "b"), "/checksum~1files"));
	ck_assert(json_equal(sums(before, "a"), sums(b_with_change, "a")));
	json_decref(b_with_change);
	json_decref(before);
	json_decref(after_b);
	json_decref(after_s2);
}
END_TEST

START_TEST(names_the_pod_cannot_take)
{
	char *e = renderutil_errors(STACK(
		"'api': {'image': {'repository': 'api'}, 'port': 80,"
		"  'volumes': {'tmp': {'mountPath': '/var/tmp', 'emptyDir': {}},"
		"              'f': {'mountPath': '/f', 'files': {'a b': {'content': '1'}, 'a_b': {'content': '2'}}}},"
		"  'initContainers': {'api': {'image': 'r.example.com/x:1'}}}"), NULL);
	ck_assert_msg(strstr(e, "/services/api/volumes/tmp: is the name of the automatic /tmp volume"), "%s", e);
	ck_assert_msg(strstr(e, "/services/api/volumes/f/files/a_b: gives the ConfigMap key \"f__a_b\""), "%s", e);
	ck_assert_msg(strstr(e, "/services/api/initContainers/api: is also the name of the service's own container"),
		      "%s", e);
	free(e);
}
END_TEST

Suite *render_pod_suite(void)
{
	Suite *s = suite_create("render_pod");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, probes_of_every_kind);
	tcase_add_test(tc, container_command_image_env);
	tcase_add_test(tc, volumes_files_and_mounts);
	tcase_add_test(tc, tmp_volume_only_when_needed);
	tcase_add_test(tc, init_containers_and_sidecars);
	tcase_add_test(tc, security_contexts);
	tcase_add_test(tc, scheduling);
	tcase_add_test(tc, checksums_cover_what_the_pod_reads);
	tcase_add_test(tc, names_the_pod_cannot_take);
	suite_add_tcase(s, tc);
	return s;
}
