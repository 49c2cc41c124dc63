/* test_components: instances of catalog types expanded into services by model_resolve
 * (components.c): params completed and written back, the workload and the provisioning
 * ConfigMap and Job, uses completed, waits, outputs into env (secretKeyRefs, hidden
 * variables, ${components.NAME.OUTPUT}), optional secrets, every problem at once; and
 * what the rendered objects do on day 2 (a new consumer or a changed password changes
 * the Job, not the database). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "renderutil.h"
#include "suites.h"

#define AT renderutil_at
#define STR renderutil_str
#define FIND renderutil_find

#define SECRETS "'secrets': {'db-root-password': 'r00t', 'db-password': 'pw', 'cache-password': 'c'}"
#define API(uses, env)                                                                              \
	"'api': {'image': {'repository': 'api', 'tag': '1.0'}, 'port': 8080, 'uses': " uses ", 'env': " env "}"
#define STACK(components, services) "{" SECRETS ", 'components': " components ", 'services': {" services "}}"
#define PG "{'db': {'type': 'postgres', 'storage': {'size': '2Gi'}}}"

/* The problems model_resolve reports for stack <- env as "POINTER: detail" lines. */
static char *problems(const char *stack, const char *env)
{
	json_t *s = renderutil_json(stack), *e = env ? renderutil_json(env) : NULL, *doc = NULL;
	struct model_errors errs;
	struct buf b;
	model_errors_init(&errs);
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(model_resolve("shop", s, "prod", e, NULL, &errs, &doc), MODEL_EINVALID);
	for (size_t i = 0; i < errs.count; i++)
		ck_assert_int_eq(BUF_PUTS(&b, errs.items[i].pointer, ": ", errs.items[i].detail, "\n"), 0);
	model_errors_release(&errs);
	json_decref(s);
	json_decref(e);
	char *text = buf_detach(&b, NULL);
	ck_assert_ptr_nonnull(text);
	return text;
}

static void expect_problem(const char *text, const char *want)
{
	ck_assert_msg(strstr(text, want), "want\n  %s\ngot\n%s", want, text);
}

START_TEST(instances_become_services)
{
	json_t *doc = renderutil_resolve(STACK(PG, API("{'db': {}}", "{}")), NULL);
	/* the params written back, resolved: defaults and the secrets' keys */
	renderutil_assert_json(AT(doc, "/components/db/storage"), "{'size': '2Gi', 'className': ''}");
	ck_assert_str_eq(STR(doc, "/components/db/image/tag"), "16.4");
	ck_assert_str_eq(STR(doc, "/components/db/rootPasswordSecret"), "db-root-password");
	ck_assert_str_eq(STR(doc, "/components/db/passwordSecret"), "db-password");
	ck_assert(json_is_true(AT(doc, "/components/db/enabled")));
	/* the workload: a StatefulSet of the type's image, uid and probe, no registry inherited */
	ck_assert_str_eq(STR(doc, "/services/db/kind"), "StatefulSet");
	ck_assert_str_eq(STR(doc, "/services/db/image/repository"), "postgres");
	ck_assert_str_eq(STR(doc, "/services/db/image/registry"), "");
	ck_assert_int_eq(json_integer_value(AT(doc, "/services/db/securityContext/runAsUser")), 999);
	ck_assert_str_eq(STR(doc, "/services/db/volumes/data/persistent/size"), "2Gi");
	ck_assert_str_eq(STR(doc, "/services/db/probes/readiness/exec/command/0"), "pg_isready");
	ck_assert_str_eq(STR(doc, "/services/db/env/POSTGRES_PASSWORD/secret"), "db-root-password");
	ck_assert_str_eq(STR(doc, "/services/db/labels/app.kubernetes.io~1component"), "database");
	/* the consumer's params completed: its database and role are its name */
	renderutil_assert_json(AT(doc, "/services/api/uses/db"),
			       "{'database': 'api', 'user': 'api', 'passwordSecret': 'db-password'}");
	/* it waits for the database first */
	ck_assert_str_eq(STR(doc, "/services/api/initContainers/wait-for-db/env/WAIT_PORT/value"), "5432");
	/* provisioning: the files in a ConfigMap, a Job reading them and the credentials */
	const char *sql = STR(doc, "/extraObjects/db-provision/data/01-databases.sql");
	ck_assert_ptr_nonnull(strstr(sql, "CREATE DATABASE \"api\""));
	const char *sh = STR(doc, "/extraObjects/db-provision/data/02-roles.sh");
	ck_assert_ptr_nonnull(strstr(sh, "provision 'api' 'api' 'db-password'\n"));
	ck_assert_ptr_nonnull(strstr(sh, "\"$credentials\"/'db-root-password'"));
	ck_assert_str_eq(STR(doc, "/services/db-provision/kind"), "Job");
	ck_assert_str_eq(STR(doc, "/services/db-provision/volumes/provision/configMap/name"), "db-provision");
	renderutil_assert_json(AT(doc, "/services/db-provision/volumes/credentials/files"),
			       "{'db-root-password': {'secret': 'db-root-password', 'mode': '0440'},"
			       " 'db-password': {'secret': 'db-password', 'mode': '0440'}}");
	ck_assert_ptr_nonnull(AT(doc, "/services/db-provision/initContainers/wait-for-db"));
	ck_assert_uint_eq(strlen(STR(doc, "/services/db-provision/podAnnotations/checksum~1provision")), 64);
	json_decref(doc);
}
END_TEST

START_TEST(outputs_into_env)
{
	json_t *doc = renderutil_resolve(
		"{" SECRETS ", 'config': {'cache-at': '${components.cache.host}:${components.cache.port}'},"
		" 'components': {'db': {'type': 'postgres'}, 'cache': {'type': 'redis'}},"
		" 'services': {" API("{'db': {'database': 'orders'}, 'cache': {}}",
				     "{'A': {'value': 'a'}, 'DATABASE_URL': {'component': 'db', 'output': 'url'},"
				     " 'DB_PASSWORD': {'component': 'db', 'output': 'password'},"
				     " 'JDBC': {'component': 'db', 'output': 'jdbcUrl'},"
				     " 'REDIS': {'value': 'redis://${components.cache.host}:${components.cache.port}'},"
				     " 'REDIS_URL': {'component': 'cache', 'output': 'url'}}") "}}",
		NULL);
	const json_t *env = AT(doc, "/services/api/env");
	/* in order, each hidden secretKeyRef variable right before the first value using it */
	const char *order[] = {"A", "MANIFESTD_DB_PASSWORD", "DATABASE_URL", "DB_PASSWORD", "JDBC", "REDIS",
			       "MANIFESTD_CACHE_PASSWORD", "REDIS_URL"};
	size_t i = 0;
	const char *var;
	json_t *src;
	json_object_foreach((json_t *)env, var, src) {
		ck_assert_uint_lt(i, 8);
		ck_assert_str_eq(var, order[i++]);
	}
	ck_assert_uint_eq(i, 8);
	ck_assert_str_eq(STR(env, "/MANIFESTD_DB_PASSWORD/secret"), "db-password");
	ck_assert_str_eq(STR(env, "/DATABASE_URL/value"), "postgresql://api:$(MANIFESTD_DB_PASSWORD)@db:5432/orders");
	ck_assert_str_eq(STR(env, "/DB_PASSWORD/secret"), "db-password");
	ck_assert_ptr_null(AT(env, "/DB_PASSWORD/value"));
	ck_assert_str_eq(STR(env, "/JDBC/value"), "jdbc:postgresql://db:5432/orders");
	ck_assert_str_eq(STR(env, "/REDIS/value"), "redis://cache:6379");
	ck_assert_str_eq(STR(env, "/REDIS_URL/value"), "redis://:$(MANIFESTD_CACHE_PASSWORD)@cache:6379/0");
	/* no secret value anywhere in the env */
	char *text = json_dumps(env, 0);
	ck_assert_ptr_null(strstr(text, "pw"));
	ck_assert_ptr_null(strstr(text, "\"c\""));
	free(text);
	ck_assert_str_eq(STR(doc, "/config/cache-at"), "cache:6379");
	json_decref(doc);
}
END_TEST

START_TEST(consumer_own_password_and_order)
{
	json_t *doc = renderutil_resolve(
		"{'secrets': {'db-root-password': 'r', 'db-password': 'p', 'web-pw': 'w'},"
		" 'components': " PG ","
		" 'services': {'web': {'image': {'repository': 'web', 'tag': '1'}, 'port': 80,"
		"   'uses': {'db': {'passwordSecret': 'web-pw', 'user': 'web_user'}},"
		"   'env': {'P': {'component': 'db', 'output': 'password'}, 'U': {'component': 'db', 'output': 'url'}}},"
		"  " API("{'db': {}}", "{}") "}}",
		NULL);
	ck_assert_str_eq(STR(doc, "/services/web/env/P/secret"), "web-pw");
	ck_assert_str_eq(STR(doc, "/services/web/env/MANIFESTD_DB_PASSWORD/secret"), "web-pw");
	ck_assert_str_eq(STR(doc, "/services/web/env/U/value"), "postgresql://web_user:$(MANIFESTD_DB_PASSWORD)@db:5432/web");
	/* consumers in name order; each one's own password among the credentials */
	const char *sh = STR(doc, "/extraObjects/db-provision/data/02-roles.sh");
	const char *api = strstr(sh, "provision 'api' 'api' 'db-password'"), *web = strstr(sh, "provision 'web_user' 'web' 'web-pw'");
	ck_assert_ptr_nonnull(api);
	ck_assert_ptr_nonnull(web);
	ck_assert(api < web);
	ck_assert_ptr_nonnull(AT(doc, "/services/db-provision/volumes/credentials/files/web-pw"));
	json_decref(doc);
}
END_TEST

START_TEST(optional_secret_left_out)
{
	json_t *doc = renderutil_resolve(STACK(PG, API("{'db': {}}", "{}")), NULL);
	ck_assert_ptr_null(AT(doc, "/services/db-provision/volumes/credentials/files/db-root-password-previous"));
	json_decref(doc);
	doc = renderutil_resolve(STACK(PG, API("{'db': {}}", "{}")), "{'secrets': {'db-root-password-previous': 'old'}}");
	ck_assert_ptr_nonnull(AT(doc, "/services/db-provision/volumes/credentials/files/db-root-password-previous"));
	json_decref(doc);
}
END_TEST

START_TEST(disabled_instance_renders_nothing)
{
	json_t *doc = renderutil_resolve(STACK("{'db': {'type': 'postgres', 'enabled': false}}", API("{}", "{}")), NULL);
	ck_assert_ptr_null(AT(doc, "/services/db"));
	ck_assert_ptr_null(AT(doc, "/services/db-provision"));
	ck_assert_ptr_null(AT(doc, "/extraObjects/db-provision"));
	ck_assert(json_is_false(AT(doc, "/components/db/enabled")));
	json_decref(doc);
}
END_TEST

START_TEST(every_problem_at_once)
{
	char *got = problems(
		"{'secrets': {'db-root-password': '', 'cache-password': 'c', 'pg-root-password': 'r', 'pg-password': 'p',"
		"   'kv-password': 'k'},"
		" 'config': {'a': '${components.pg.url}', 'b': '${components.pg}', 'c': '${components.kv.password}'},"
		" 'components': {'db': {'type': 'postgress'}, 'cache': {'type': 'redis', 'maxMemoryMB': -1, 'bogus': 1},"
		"   'pg': {'type': 'postgres'}, 'off': {'type': 'redis', 'enabled': false}, 'web': {'type': 'redis'},"
		"   'root': {'type': 'postgres'}, 'kv': {'type': 'redis'}},"
		" 'services': {" API("{'pg': {'database': 'BAD'}, 'off': {}, 'missing': {}}",
				     "{'X': {'component': 'pg', 'output': 'urll'}, 'Y': {'component': 'pg'},"
				     " 'Z': {'component': 'other', 'output': 'url'}, 'W': {'value': 'x', 'output': 'url'}}") ","
		"   'web': {'image': {'repository': 'web', 'tag': '1'}, 'env': {'U': {'value': '${components.pg.host}'}}}}}",
		NULL);
	expect_problem(got, "/components/db/type: names the type \"postgress\", which is not in the catalog");
	expect_problem(got, "did you mean \"postgres\"?");
	expect_problem(got, "/components/cache/maxMemoryMB: must be an integer from 0 to 1048576, got -1");
	expect_problem(got, "/components/cache/bogus: is not a known field");
	expect_problem(got, "/components/root/rootPasswordSecret: names the secret \"root-root-password\", which is not defined in /secrets");
	expect_problem(got, "/components/web: is also the name of a service in /services");
	expect_problem(got, "/services/api/uses/pg/database: must be a database name");
	expect_problem(got, "/services/api/uses/off: names the component \"off\", which is disabled");
	expect_problem(got, "/services/api/uses/missing: names the component \"missing\", which is not defined in /components");
	expect_problem(got, "/services/api/env/X/output: names the output \"urll\", which a postgres component does not have");
	expect_problem(got, "/services/api/env/Y/output: is required with component");
	expect_problem(got, "/services/api/env/Z/component: names the component \"other\", which is not defined");
	expect_problem(got, "/services/api/env/W/output: only goes with component");
	expect_problem(got, "/services/web/env/U/value: names the component \"pg\", which this service does not use");
	expect_problem(got, "/config/a: takes the output \"url\" of component \"pg\", which depends on the service");
	expect_problem(got, "/config/b: has \"${components.pg}\", which is not ${components.NAME.OUTPUT}");
	expect_problem(got, "/config/c: takes the output \"password\" of component \"kv\", which holds a secret");
	free(got);
	/* a secret with no value in this environment */
	got = problems(STACK(PG, API("{}", "{}")), "{'secrets': {'db-password': ''}}");
	expect_problem(got, "/components/db/passwordSecret: names the secret \"db-password\", which has no value");
	free(got);
}
END_TEST

/* The object of kind and a name starting with prefix in a bundle (Jobs get a hash). */
static json_t *find_prefix(const json_t *files, const char *kind, const char *prefix)
{
	const char *file;
	json_t *objs, *o;
	size_t i;
	json_object_foreach((json_t *)files, file, objs) {
		json_array_foreach(objs, i, o) {
			const char *name = STR(o, "/metadata/name");
			if (!strcmp(STR(o, "/kind"), kind) && name && !strncmp(name, prefix, strlen(prefix)))
				return o;
		}
	}
	return NULL;
}

/* The rendered bundle before and after a change of the environment. */
struct day2 {
	json_t *before, *after;
};

static struct day2 day2(const char *stack, const char *env_before, const char *env_after)
{
	return (struct day2){renderutil_bundle(stack, env_before), renderutil_bundle(stack, env_after)};
}

static bool same(const struct day2 *d, const char *kind, const char *name)
{
	return json_equal(FIND(d->before, kind, name), FIND(d->after, kind, name));
}

static const char *job_name(const json_t *files)
{
	return STR(find_prefix(files, "Job", "db-provision-"), "/metadata/name");
}

START_TEST(day2_consumers_and_passwords)
{
	const char *stack = STACK(PG, API("{'db': {}}", "{'U': {'component': 'db', 'output': 'url'}}") ","
				      "'web': {'image': {'repository': 'web', 'tag': '1'}, 'port': 80}");
	/* a new consumer: a new Job and new files, the database left alone */
	struct day2 d = day2(stack, "{}", "{'services': {'web': {'uses': {'db': {}}}}}");
	ck_assert(same(&d, "StatefulSet", "db"));
	ck_assert(!same(&d, "ConfigMap", "db-provision"));
	ck_assert_str_ne(job_name(d.before), job_name(d.after));
	json_decref(d.before);
	json_decref(d.after);
	/* a consumer's password: a new Job applies it, the consumer restarts, the database does not */
	d = day2(stack, "{}", "{'secrets': {'db-password': 'new'}}");
	ck_assert(same(&d, "StatefulSet", "db"));
	ck_assert(same(&d, "ConfigMap", "db-provision"));
	ck_assert_str_ne(job_name(d.before), job_name(d.after));
	ck_assert(!same(&d, "Deployment", "api"));
	json_decref(d.before);
	json_decref(d.after);
	/* provisionRun runs the Job again, nothing else changes */
	d = day2(stack, "{}", "{'components': {'db': {'provisionRun': '2'}}}");
	ck_assert(same(&d, "StatefulSet", "db"));
	ck_assert(same(&d, "Deployment", "api"));
	ck_assert_str_ne(job_name(d.before), job_name(d.after));
	json_decref(d.before);
	json_decref(d.after);
	/* a bigger volume: the claim template grows, the Job is the same */
	d = day2(stack, "{}", "{'components': {'db': {'storage': {'size': '20Gi'}}}}");
	ck_assert(!same(&d, "StatefulSet", "db"));
	ck_assert_str_eq(job_name(d.before), job_name(d.after));
	json_decref(d.before);
	json_decref(d.after);
}
END_TEST

Suite *components_suite(void)
{
	Suite *s = suite_create("components");
	TCase *tc = tcase_create("components");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, instances_become_services);
	tcase_add_test(tc, outputs_into_env);
	tcase_add_test(tc, consumer_own_password_and_order);
	tcase_add_test(tc, optional_secret_left_out);
	tcase_add_test(tc, disabled_instance_renders_nothing);
	tcase_add_test(tc, every_problem_at_once);
	tcase_add_test(tc, day2_consumers_and_passwords);
	suite_add_tcase(s, tc);
	return s;
}
