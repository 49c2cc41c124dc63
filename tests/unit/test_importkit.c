/* test_importkit: the importers' shared decisions. */
#include <stdlib.h>
#include <string.h>

#include "importkit.h"
#include "suites.h"

START_TEST(secret_names)
{
	static const char *const yes[] = {"DB_PASSWORD", "passwd", "ClientSecret", "GITHUB_TOKEN", "API_KEY", "AWS_CREDENTIALS", "keycloak_url"};
	static const char *const no[] = {"PORT", "USER", "PASSPORT_NO", "HOST"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		ck_assert_msg(importkit_secret_name(yes[i]), "%s", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		ck_assert_msg(!importkit_secret_name(no[i]), "%s", no[i]);
}
END_TEST

START_TEST(secret_keys)
{
	json_t *values = json_object();
	struct buf key;
	buf_init(&key, BUF_NO_MAX);
	ck_assert_int_eq(importkit_secret_key(values, "api", "DB_PASSWORD", "one", true, &key), 0);
	ck_assert_str_eq(buf_cstr(&key), "db-password");
	/* the same value: the same key */
	ck_assert_int_eq(importkit_secret_key(values, "web", "OTHER_PASSWORD", "one", true, &key), 0);
	ck_assert_str_eq(buf_cstr(&key), "db-password");
	/* the same name, another value: the service's name first */
	ck_assert_int_eq(importkit_secret_key(values, "web", "DB_PASSWORD", "two", true, &key), 0);
	ck_assert_str_eq(buf_cstr(&key), "web-db-password");
	ck_assert_str_eq(json_string_value(json_object_get(values, "web-db-password")), "two");
	ck_assert_uint_eq(json_object_size(values), 2);
	buf_release(&key);
	json_decref(values);
}
END_TEST

/* The one image table: official images only, tags made to fit the type's workload. */
START_TEST(datastore_images)
{
	static const struct {
		const char *registry, *repository, *tag, *type, *want;
		bool changed;
	} cases[] = {
		{"", "postgres", "15-alpine", "postgres", "15", true},
		{"docker.io", "library/postgres", "16.4", "postgres", "16.4", false},
		{"", "mariadb", "10.6.4-focal", "mariadb", "10.6.4-focal", false},
		{"", "mariadb", "10.3", "mariadb", "", true},
		{"", "mongo", "4.2.0", "mongodb", "", true},
		{"", "mongo", "7.0", "mongodb", "7.0", false},
		{"", "rabbitmq", "3.12", "rabbitmq", "3.12-management", true},
		{"", "rabbitmq", "3.13-management-alpine", "rabbitmq", "3.13-management", true},
		{"", "rabbitmq", "3.6.8", "rabbitmq", "", true},
		{"", "redis", "alpine", "redis", "", true},
		{"", "redis", "", "redis", "", true},
		{"", "memcached", "1.6.21", "memcached", "1.6.21", false},
		{"", "openzipkin/zipkin", "3", "zipkin", "3", false},
		{"", "apache/kafka", "3.8.0", "kafka", "3.8.0", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct importkit_datastore ds;
		ck_assert_msg(importkit_datastore(cases[i].registry, cases[i].repository, cases[i].tag, &ds), "%zu", i);
		ck_assert_str_eq(ds.type, cases[i].type);
		ck_assert_str_eq(ds.tag, cases[i].want);
		ck_assert_msg((ds.why != NULL) == cases[i].changed, "%zu: why %s", i, ds.why ? ds.why : "(none)");
	}
	struct importkit_datastore ds;
	ck_assert(!importkit_datastore("", "bitnami/postgresql", "16", &ds));
	ck_assert(!importkit_datastore("ghcr.io", "postgres", "16", &ds));
	ck_assert(!importkit_datastore("", "weaveworksdemos/catalogue-db", "0.3.0", &ds));
	ck_assert(!importkit_datastore("", "nginx", "1.27", &ds));
}
END_TEST

START_TEST(most_counted)
{
	json_t *counts = json_object();
	ck_assert_ptr_null(importkit_most(counts, 1));
	ck_assert_int_eq(importkit_count(counts, "a"), 0);
	ck_assert_int_eq(importkit_count(counts, "b"), 0);
	ck_assert_str_eq(importkit_most(counts, 1), "a"); /* the first on ties */
	ck_assert_ptr_null(importkit_most(counts, 2));
	ck_assert_int_eq(importkit_count(counts, "b"), 0);
	ck_assert_str_eq(importkit_most(counts, 2), "b");
	json_decref(counts);
}
END_TEST

/* What the importers share about datastores: variable roles, secret keys, instances,
 * consumer params guessed from env, host names in values. */
START_TEST(datastore_components)
{
	ck_assert_int_eq(importkit_store_role("POSTGRES_PASSWORD"), IMPORTKIT_BOTH_PASSWORDS);
	ck_assert(importkit_role_sets(IMPORTKIT_BOTH_PASSWORDS, "rootPassword"));
	ck_assert(importkit_role_sets(IMPORTKIT_BOTH_PASSWORDS, "password"));
	ck_assert(!importkit_role_sets(IMPORTKIT_ROOT_PASSWORD, "password"));
	ck_assert_int_eq(importkit_store_role("RABBITMQ_DEFAULT_USER"), IMPORTKIT_ADMIN_USER);
	ck_assert_int_eq(importkit_store_role("PGDATA"), IMPORTKIT_OTHER);
	ck_assert(importkit_type_has("redis", "params", "auth"));
	ck_assert(!importkit_type_has("redis", "consumer", "database"));
	struct buf key;
	buf_init(&key, BUF_NO_MAX);
	ck_assert_int_eq(importkit_store_secret_key("db", "rootPassword", &key), 0);
	ck_assert_str_eq(buf_cstr(&key), "db-root-password");
	ck_assert_int_eq(importkit_store_secret_key("db", "password", &key), 0);
	ck_assert_str_eq(buf_cstr(&key), "db-password");
	buf_release(&key);
	struct importkit_datastore ds;
	ck_assert(importkit_datastore("", "postgres", "15-alpine", &ds));
	json_t *inst = importkit_store_instance(&ds, "postgres");
	char *text = json_dumps(inst, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(text, "{\"image\":{\"repository\":\"postgres\",\"tag\":\"15\"},\"type\":\"postgres\"}");
	free(text);
	json_decref(inst);
	struct importkit_db_guess g = {{0}, {0}};
	importkit_db_guess(&g, "SPRING_DATASOURCE_URL", "jdbc:postgresql://db:5432/orders?ssl=false");
	importkit_db_guess(&g, "DB_USER", "root");
	importkit_db_guess(&g, "SPRING_DATASOURCE_USERNAME", "shop");
	importkit_db_guess(&g, "APP_DB_NAME", "other");
	ck_assert_str_eq(g.name, "orders");
	ck_assert_str_eq(g.user, "shop");
	json_t *plan = json_pack("{s:s, s:s}", "database", "app", "user", "appuser");
	json_t *use = importkit_use("postgres", &g, plan);
	text = json_dumps(use, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(text, "{\"database\":\"orders\",\"user\":\"shop\"}");
	free(text);
	json_decref(use);
	struct importkit_db_guess none = {{0}, {0}};
	use = importkit_use("redis", &none, plan); /* a type without consumer params */
	ck_assert_uint_eq(json_object_size(use), 0);
	json_decref(use);
	json_decref(plan);
	ck_assert(importkit_names_host("postgres://u:p@db:5432/app", "db"));
	ck_assert(importkit_names_host("db", "db"));
	ck_assert(!importkit_names_host("mydb:5432", "db"));
	ck_assert(!importkit_names_host("db-replica", "db"));
	ck_assert(!importkit_names_host("anything", ""));
	struct importkit_image img;
	ck_assert(importkit_image_split("docker.io/library/redis:7.2@sha256:ab", &img));
	ck_assert_str_eq(img.registry, "");
	ck_assert_str_eq(img.repository, "redis");
	ck_assert_str_eq(img.tag, "7.2");
	ck_assert_str_eq(img.digest, "sha256:ab");
	ck_assert(importkit_image_split("localhost:5000/team/app", &img));
	ck_assert_str_eq(img.registry, "localhost:5000");
	ck_assert_str_eq(img.repository, "team/app");
	ck_assert_str_eq(img.tag, "");
}
END_TEST

Suite *importkit_suite(void)
{
	Suite *s = suite_create("importkit");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, secret_names);
	tcase_add_test(tc, secret_keys);
	tcase_add_test(tc, most_counted);
	tcase_add_test(tc, datastore_images);
	tcase_add_test(tc, datastore_components);
	suite_add_tcase(s, tc);
	return s;
}
