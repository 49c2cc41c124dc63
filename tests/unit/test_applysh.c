/* test_applysh: the generated apply.sh: unsafe names refused, phase order, shellcheck,
 * and its behaviour run against a fake kubectl that logs what it is asked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "applysh.h"
#include "buf.h"
#include "suites.h"
#include "fsutil.h"

static json_t *obj(const char *api, const char *kind, const char *name)
{
	return json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", api, "kind", kind, "metadata", "name", name);
}

/* A small bundle in a deliberately scrambled file order: built and edited as JSON,
 * handed to applysh as nodes (sample_files). */
struct sample {
	struct applysh_file files[6];
	json_t *arrays[6];
	struct arena *arena;
};

static void sample_init(struct sample *s)
{
	json_t *ing = obj("networking.k8s.io/v1", "Ingress", "web");
	json_object_set_new(ing, "spec", json_pack("{s:s}", "ingressClassName", "nginx"));
	s->arrays[0] = json_pack("[o]", ing);
	s->arrays[1] = json_pack("[o,o,o]", obj("v1", "ServiceAccount", "api"), obj("apps/v1", "Deployment", "api"),
				 obj("v1", "Service", "api"));
	s->arrays[2] = json_pack("[o]", obj("batch/v1", "Job", "db-init-1"));
	s->arrays[3] = json_pack("[o,o]", obj("v1", "Service", "db"), obj("apps/v1", "StatefulSet", "db"));
	s->arrays[4] = json_pack("[o,o]", obj("v1", "ConfigMap", "cfg"), obj("v1", "Secret", "sec"));
	s->arrays[5] = json_pack("[o]", obj("v1", "Namespace", "shop-dev"));
	const char *names[] = { "90-ingress.yaml", "50-api.yaml", "31-db-init.yaml", "30-db.yaml",
				"10-config.yaml", "00-namespace.yaml" };
	for (size_t i = 0; i < 6; i++) {
		ck_assert_ptr_nonnull(s->arrays[i]);
		s->files[i].name = names[i];
	}
	s->arena = arena_new();
	ck_assert_ptr_nonnull(s->arena);
}

/* s->files with their objects converted from the arrays as they are now. */
static const struct applysh_file *sample_files(struct sample *s)
{
	arena_reset(s->arena);
	for (size_t i = 0; i < 6; i++) {
		s->files[i].objects = node_from_json(s->arena, s->arrays[i]);
		ck_assert_ptr_nonnull(s->files[i].objects);
	}
	return s->files;
}

static void sample_release(struct sample *s)
{
	for (size_t i = 0; i < 6; i++)
		json_decref(s->arrays[i]);
	arena_free(s->arena);
}

static const struct render_meta sample_meta = { "shop", "dev", 3 };

static void write_sample(struct buf *out)
{
	struct sample s;
	sample_init(&s);
	ck_assert_int_eq(applysh_write_files(&sample_meta, "shop-dev", sample_files(&s), 6, out), 0);
	sample_release(&s);
}

/* Position of needle in hay; fails the test when absent. */
static size_t pos(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);
	ck_assert_msg(p != NULL, "'%s' not in the script", needle);
	return (size_t)(p - hay);
}

START_TEST(phases_are_in_order)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	write_sample(&b);
	const char *s = buf_cstr(&b);
	const char *order[] = {
		"apply_file '00-namespace.yaml'", "apply_file '10-config.yaml'", "apply_file '30-db.yaml'",
		"wait_rollout statefulset 'db'", "apply_file '31-db-init.yaml'", "wait_job 'db-init-1'",
		"apply_file '50-api.yaml'", "wait_rollout deployment 'api'", "check_ingress_class 'nginx'",
		"apply_file '90-ingress.yaml'", "delete_file '90-ingress.yaml'", "delete_file '50-api.yaml'",
		"delete_file '31-db-init.yaml'", "delete_file '30-db.yaml'", "delete_file '10-config.yaml'",
		"delete_file '00-namespace.yaml'",
	};
	for (size_t i = 1; i < sizeof(order) / sizeof(order[0]); i++)
		ck_assert_msg(pos(s, order[i - 1]) < pos(s, order[i]), "'%s' should come before '%s'",
			      order[i - 1], order[i]);
	ck_assert_uint_eq(strncmp(s, "#!/usr/bin/env bash\n", 20), 0);
	pos(s, "set -euo pipefail\n");
	pos(s, "'deployment.apps/api'");
	pos(s, "'job.batch/db-init-1'");
	pos(s, "readonly SELECTOR='manifestd.io/stack=shop,manifestd.io/environment=dev'");
	buf_release(&b);
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
		for (int where = 0; where < 7; where++) {
			struct sample s;
			struct render_meta meta = sample_meta;
			const char *ns = "shop-dev";
			sample_init(&s);
			json_t *first = json_array_get(s.arrays[1], 1);
			switch (where) {
			case 0: meta.stack = bad[i]; break;
			case 1: meta.environment = bad[i]; break;
			case 2: ns = bad[i]; break;
			case 3: s.files[2].name = bad[i]; break;
			case 4: json_object_set_new(json_object_get(first, "metadata"), "name", json_string(bad[i])); break;
			case 5: json_object_set_new(first, "kind", json_string(bad[i])); break;
			case 6:
				json_object_set_new(json_object_get(json_array_get(s.arrays[0], 0), "spec"),
						    "ingressClassName", json_string(bad[i]));
				break;
			}
			if (!((where == 3 || where == 5) && strcmp(bad[i], "Up") == 0))
				ck_assert_msg(applysh_write_files(&meta, ns, sample_files(&s), 6, &b) == -EINVAL,
					      "'%s' accepted at %d", bad[i], where);
			ck_assert_str_eq(buf_cstr(&b), "keep");
			sample_release(&s);
		}
	}
	struct sample s;
	sample_init(&s);
	json_object_set_new(json_array_get(s.arrays[1], 1), "apiVersion", json_string("apps/v1'"));
	ck_assert_int_eq(applysh_write_files(&sample_meta, "shop-dev", sample_files(&s), 6, &b), -EINVAL);
	json_object_del(json_array_get(s.arrays[1], 1), "kind");
	ck_assert_int_eq(applysh_write_files(&sample_meta, "shop-dev", sample_files(&s), 6, &b), -EINVAL);
	ck_assert_int_eq(applysh_write_files(&sample_meta, "shop-dev", sample_files(&s), 0, &b), -EINVAL);
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
	ck_assert_int_eq(applysh_write_files(&sample_meta, "shop-dev", sample_files(&s), 6, &b), -E2BIG);
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
	for (size_t max = 4; max < full.len + 4; max += 7) {
		size_t limit = max < full.len + 4 ? max : full.len + 4;
		buf_init(&b, limit);
		ck_assert_int_eq(buf_puts(&b, "keep"), 0);
		ck_assert_int_eq(applysh_write_files(&sample_meta, "shop-dev", sample_files(&s), 6, &b), -E2BIG);
		ck_assert_str_eq(buf_cstr(&b), "keep");
		buf_release(&b);
	}
	buf_init(&b, full.len + 4);
	ck_assert_int_eq(buf_puts(&b, "keep"), 0);
	ck_assert_int_eq(applysh_write_files(&sample_meta, "shop-dev", sample_files(&s), 6, &b), 0);
	ck_assert_str_eq(buf_cstr(&b) + 4, buf_cstr(&full));
	buf_release(&b);
	sample_release(&s);
	buf_release(&full);
}
END_TEST

/* The lines of the shell array `readonly NAME=(` in script s, as one string. */
static char *array_lines(const char *s, const char *name)
{
	struct buf head;
	buf_init(&head, BUF_NO_MAX);
	ck_assert_int_eq(buf_printf(&head, "readonly %s=(\n", name), 0);
	const char *start = s + pos(s, buf_cstr(&head)) + head.len;
	const char *end = strstr(start, "\n)\n");
	ck_assert_ptr_nonnull(end);
	buf_release(&head);
	return strndup(start, (size_t)(end - start) + 1);
}

/* PRUNE_RESOURCES: the fixed kinds and the bundle's own, sorted and each once, never a
 * Namespace or a volume claim; BUNDLE_OBJECTS: every object once, in file order. */
START_TEST(prune_resources_sorted_once)
{
	struct sample s;
	struct buf b;
	sample_init(&s);
	ck_assert_int_eq(json_array_append_new(s.arrays[3], obj("v1", "PersistentVolumeClaim", "data-db-0")), 0);
	ck_assert_int_eq(json_array_append_new(s.arrays[4], obj("example.com/v1alpha1", "WidgetSet", "w")), 0);
	ck_assert_int_eq(json_array_append_new(s.arrays[4], obj("example.com/v1alpha1", "WidgetSet", "w2")), 0);
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(applysh_write_files(&sample_meta, "shop-dev", sample_files(&s), 6, &b), 0);
	char *prune = array_lines(buf_cstr(&b), "PRUNE_RESOURCES");
	char *objects = array_lines(buf_cstr(&b), "BUNDLE_OBJECTS");
	size_t lines = 0;
	const char *prev = NULL;
	for (const char *line = prune; *line; line = strchr(line, '\n') + 1, lines++) {
		/* "\t'name'\n": a quote sorts before every character a resource may have */
		size_t len = (size_t)(strchr(line, '\n') - line);
		if (prev)
			ck_assert_msg(strncmp(prev, line, len) < 0, "PRUNE_RESOURCES not sorted or repeated at '%.*s'",
				      (int)len, line);
		prev = line;
	}
	ck_assert_uint_eq(lines, 14); /* the 13 fixed ones and widgetset.example.com */
	pos(prune, "\t'widgetset.example.com'\n");
	pos(prune, "\t'deployment.apps'\n");
	ck_assert_ptr_null(strstr(prune, "persistentvolumeclaim"));
	ck_assert_ptr_null(strstr(prune, "namespace"));
	ck_assert_str_eq(objects, "\t'ingress.networking.k8s.io/web'\n\t'serviceaccount/api'\n"
				  "\t'deployment.apps/api'\n\t'service/api'\n\t'job.batch/db-init-1'\n"
				  "\t'service/db'\n\t'statefulset.apps/db'\n\t'persistentvolumeclaim/data-db-0'\n"
				  "\t'configmap/cfg'\n\t'secret/sec'\n\t'widgetset.example.com/w'\n"
				  "\t'widgetset.example.com/w2'\n\t'namespace/shop-dev'\n");
	free(prune);
	free(objects);
	sample_release(&s);
	buf_release(&b);
}
END_TEST

/* The sample script written into a fresh folder; returns the folder (caller frees). */
static char *script_in_dir(void)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	write_sample(&b);
	char *dir = fsutil_tmpdir();
	fsutil_write(dir, "apply.sh", buf_cstr(&b), 0755);
	buf_release(&b);
	return dir;
}

START_TEST(passes_shellcheck_and_bash_n)
{
	char *dir = script_in_dir();
	ck_assert_int_eq(fsutil_sh("cd '%s' && bash -n apply.sh", dir), 0);
	if (fsutil_sh("command -v shellcheck >/dev/null") == 0)
		ck_assert_int_eq(fsutil_sh("cd '%s' && shellcheck apply.sh", dir), 0);
	else
		fputs("test_applysh: shellcheck not installed, skipped\n", stderr);
	fsutil_rmtree(dir);
	free(dir);
}
END_TEST

/* A fake kubectl in <dir>/bin that appends its arguments to <dir>/log. It exits with
 * FAKE_CLUSTER for cluster-info, FAKE_DIFF for diff, FAKE_WAIT for rollout and wait,
 * FAKE_CLASS for `get ingressclass`, 1 for `apply -f $FAKE_FAIL`; `get RESOURCE` prints
 * <dir>/get-RESOURCE when there is one. */
static void fake_kubectl(const char *dir)
{
	static const char fake[] =
		"#!/usr/bin/env bash\n"
		"printf '%s\\n' \"$*\" >>\"$FAKE_DIR/log\"\n"
		"args=(\"$@\")\n"
		"[ \"${args[0]}\" = --context ] && args=(\"${args[@]:2}\")\n"
		"[ \"${args[0]}\" = -n ] && args=(\"${args[@]:2}\")\n"
		"case ${args[0]} in\n"
		"cluster-info) exit \"${FAKE_CLUSTER:-0}\" ;;\n"
		"diff) exit \"${FAKE_DIFF:-0}\" ;;\n"
		"rollout | wait) exit \"${FAKE_WAIT:-0}\" ;;\n"
		"apply) [ \"${args[-1]}\" = \"${FAKE_FAIL:-}\" ] && exit 1 ;;\n"
		"get)\n"
		"\t[ \"${args[1]}\" = ingressclass ] && exit \"${FAKE_CLASS:-0}\"\n"
		"\tif [ -f \"$FAKE_DIR/get-${args[1]}\" ]; then cat \"$FAKE_DIR/get-${args[1]}\"; fi\n"
		"\t;;\n"
		"esac\n"
		"exit 0\n";
	struct buf bin;
	buf_init(&bin, BUF_NO_MAX);
	ck_assert_int_eq(buf_printf(&bin, "%s/bin", dir), 0);
	ck_assert_int_eq(mkdir(buf_cstr(&bin), 0755), 0);
	fsutil_write(buf_cstr(&bin), "kubectl", fake, 0755);
	buf_release(&bin);
}

/* Runs apply.sh of dir from another directory with the fake kubectl first on PATH;
 * returns its exit status. Output goes to <dir>/out. */
static int run_script(const char *dir, const char *env, const char *args)
{
	return fsutil_sh("cd / && rm -f '%s/log' && env FAKE_DIR='%s' PATH='%s/bin':/usr/bin:/bin %s "
			 "bash '%s/apply.sh' %s >'%s/out' 2>&1",
			 dir, dir, dir, env, dir, args, dir);
}

START_TEST(runs_in_order_against_kubectl)
{
	char *dir = script_in_dir();
	fake_kubectl(dir);
	ck_assert_int_eq(run_script(dir, "", "--timeout 90s --context 'my ctx'"), 0);
	char *log = fsutil_read(dir, "log");
	const char *order[] = {
		"--context my ctx cluster-info", "apply -f 00-namespace.yaml", "apply -f 10-config.yaml",
		"apply -f 30-db.yaml", "-n shop-dev rollout status statefulset/db --timeout=90s",
		"apply -f 31-db-init.yaml", "-n shop-dev wait --for=condition=complete job/db-init-1 --timeout=90s",
		"apply -f 50-api.yaml", "rollout status deployment/api", "get ingressclass nginx",
		"apply -f 90-ingress.yaml",
	};
	for (size_t i = 1; i < sizeof(order) / sizeof(order[0]); i++)
		ck_assert_msg(pos(log, order[i - 1]) < pos(log, order[i]), "'%s' should come before '%s' in\n%s",
			      order[i - 1], order[i], log);
	free(log);
	fsutil_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(dry_run_waits_for_nothing)
{
	char *dir = script_in_dir();
	fake_kubectl(dir);
	ck_assert_int_eq(run_script(dir, "", "--dry-run=server"), 0);
	char *log = fsutil_read(dir, "log");
	pos(log, "apply --dry-run=server -f 00-namespace.yaml");
	ck_assert_ptr_null(strstr(log, "rollout"));
	ck_assert_ptr_null(strstr(log, "wait"));
	ck_assert_ptr_null(strstr(log, "apply -f"));
	free(log);
	fsutil_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(prune_deletes_only_what_left_the_bundle)
{
	char *dir = script_in_dir();
	fake_kubectl(dir);
	/* the cluster holds one kept and one stale Deployment */
	fsutil_write(dir, "get-deployment.apps", "deployment.apps/api\ndeployment.apps/old\n", 0644);
	ck_assert_int_eq(run_script(dir, "", "--prune"), 0);
	char *log = fsutil_read(dir, "log");
	pos(log, "get deployment.apps -l manifestd.io/stack=shop,manifestd.io/environment=dev -o name");
	pos(log, "-n shop-dev delete deployment.apps/old");
	ck_assert_ptr_null(strstr(log, "delete deployment.apps/api"));
	free(log);
	fsutil_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(exit_codes)
{
	char *dir = script_in_dir();
	fake_kubectl(dir);
	ck_assert_int_eq(run_script(dir, "", "--help"), 0);
	ck_assert_int_eq(run_script(dir, "", "--bogus"), 2);
	ck_assert_int_eq(run_script(dir, "", "--timeout 5 minutes"), 2);
	ck_assert_int_eq(run_script(dir, "", "--dry-run=maybe"), 2);
	ck_assert_int_eq(run_script(dir, "", "--diff --delete"), 2);
	ck_assert_int_eq(fsutil_sh("cd / && env PATH=/nonexistent /bin/bash '%s/apply.sh' >/dev/null 2>&1", dir), 3);
	ck_assert_int_eq(run_script(dir, "FAKE_CLUSTER=1", ""), 4);
	ck_assert_int_eq(run_script(dir, "FAKE_DIFF=1", "--diff"), 1);
	ck_assert_int_eq(run_script(dir, "FAKE_DIFF=0", "--diff"), 0);
	ck_assert_int_eq(run_script(dir, "FAKE_DIFF=2", "--diff"), 5);
	/* a missing IngressClass is a warning, not a failure */
	ck_assert_int_eq(run_script(dir, "FAKE_CLASS=1", ""), 0);
	char *out = fsutil_read(dir, "out");
	pos(out, "no IngressClass 'nginx'");
	free(out);
	ck_assert_int_eq(run_script(dir, "", "--delete"), 0);
	char *log = fsutil_read(dir, "log");
	ck_assert(pos(log, "delete -f 90-ingress.yaml") < pos(log, "delete -f 00-namespace.yaml"));
	pos(log, "--ignore-not-found");
	free(log);
	fsutil_rmtree(dir);
	free(dir);
}
END_TEST

/* A failing apply stops the script with 5, a wait that times out with 6. */
START_TEST(failures_stop_with_their_code)
{
	char *dir = script_in_dir();
	fake_kubectl(dir);
	ck_assert_int_eq(run_script(dir, "FAKE_FAIL=30-db.yaml", ""), 5);
	char *log = fsutil_read(dir, "log");
	ck_assert_ptr_null(strstr(log, "31-db-init.yaml"));
	free(log);
	ck_assert_int_eq(run_script(dir, "FAKE_WAIT=1", ""), 6);
	log = fsutil_read(dir, "log");
	ck_assert_ptr_null(strstr(log, "31-db-init.yaml"));
	free(log);
	fsutil_rmtree(dir);
	free(dir);
}
END_TEST

Suite *applysh_suite(void)
{
	Suite *s = suite_create("applysh");
	TCase *tc = tcase_create("applysh");
	tcase_add_test(tc, phases_are_in_order);
	tcase_add_test(tc, unsafe_values_are_refused);
	tcase_add_test(tc, out_buffer_limit);
	tcase_add_test(tc, out_limit_at_every_size);
	tcase_add_test(tc, prune_resources_sorted_once);
	tcase_add_test(tc, passes_shellcheck_and_bash_n);
	tcase_add_test(tc, runs_in_order_against_kubectl);
	tcase_add_test(tc, dry_run_waits_for_nothing);
	tcase_add_test(tc, prune_deletes_only_what_left_the_bundle);
	tcase_add_test(tc, exit_codes);
	tcase_add_test(tc, failures_stop_with_their_code);
	suite_add_tcase(s, tc);
	return s;
}
