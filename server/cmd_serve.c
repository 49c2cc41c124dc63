/* cmd_serve: `manifestd serve`: flags and MANIFESTD_* environment variables, opening the
 * store, starting the HTTP server, and graceful shutdown on SIGTERM/SIGINT. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <netdb.h>
#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "catalog.h"
#include "cmd.h"
#include "http.h"
#include "schema.h"
#include "secretbox.h"
#include "store.h"
#include "util.h"

static const char usage[] =
	"usage: manifestd serve [options]\n"
	"\n"
	"Runs the HTTP service: REST API, rendering and the web form, over a SQLite database or\n"
	"a PostgreSQL database that several replicas share.\n"
	"Every option can also be set by the environment variable in brackets; a flag wins.\n"
	"\n"
	"  --listen ADDR:PORT      listen address [MANIFESTD_LISTEN] (127.0.0.1:8080; port 0 picks\n"
	"                          a free port; [::1]:8080 for IPv6)\n"
	"  --db PATH_OR_URL        the database [MANIFESTD_DB]: a SQLite file (default\n"
	"                          ./data/manifestd.db; its directory is created), or PostgreSQL\n"
	"                          as postgres://USER@HOST/DB or 'host=H dbname=DB user=U'\n"
	"  --static-dir DIR        serve the web form from DIR instead of the built-in copy\n"
	"                          [MANIFESTD_STATIC_DIR]\n"
	"  --max-body BYTES        largest request body [MANIFESTD_MAX_BODY] (1048576)\n"
	"  --max-body-total BYTES  memory all request bodies in flight may hold together;\n"
	"                          beyond it 503 with Retry-After [MANIFESTD_MAX_BODY_TOTAL]\n"
	"                          (16777216; at least --max-body)\n"
	"  --max-connections N     concurrent connections [MANIFESTD_MAX_CONNECTIONS] (1024)\n"
	"  --max-connections-per-ip N  concurrent connections from one client address, 0 for\n"
	"                          no limit [MANIFESTD_MAX_CONNECTIONS_PER_IP] (128)\n"
	"  --timeout SECONDS       idle connection timeout [MANIFESTD_TIMEOUT] (30)\n"
	"  --request-timeout SECONDS  how long a client may pause in the middle of sending a\n"
	"                          request [MANIFESTD_REQUEST_TIMEOUT] (3; used when below\n"
	"                          --timeout)\n"
	"  --threads N             worker threads [MANIFESTD_THREADS] (number of CPUs)\n"
	"  --log-format text|json  access log format on stderr [MANIFESTD_LOG_FORMAT] (text)\n"
	"  --shutdown-grace SECONDS  how long SIGTERM waits for requests in flight\n"
	"                          [MANIFESTD_SHUTDOWN_GRACE] (10)\n"
	"  --cache-size BYTES      memory for rendered bundles [MANIFESTD_CACHE_SIZE] (16777216;\n"
	"                          0 turns the render cache off)\n"
	"  --key-file PATH         key that encrypts secrets at rest [MANIFESTD_KEY_FILE]\n"
	"                          (manifestd.key next to the database; created 0600 when\n"
	"                          missing). MANIFESTD_SECRET_KEY (32 bytes, base64 or hex)\n"
	"                          is used instead when set. With PostgreSQL one of the two\n"
	"                          is required and never created: every replica needs the key\n"
	"  --no-auth               no bearer tokens: every request may do anything; only\n"
	"                          when listening on a loopback address\n"
	"  -h, --help              show this help\n"
	"\n"
	"The first line on stderr is 'manifestd: listening on http://ADDR:PORT'. When the\n"
	"database has no API token, an admin token is created and printed once on stderr.\n";

struct serve_config {
	char address[256];
	long long port;
	const char *db;
	const char *static_dir;
	long long max_body;
	long long max_body_total;
	long long max_connections;
	long long max_connections_per_ip;
	long long timeout;
	long long request_timeout;
	long long threads;
	long long grace;
	long long cache_size;
	enum http_log_format log_format;
	const char *key_file; /* NULL: next to the database */
	bool no_auth;
};

enum { OPT_LISTEN = 256, OPT_DB, OPT_STATIC, OPT_MAX_BODY, OPT_MAX_CONN, OPT_TIMEOUT,
       OPT_THREADS, OPT_LOG_FORMAT, OPT_GRACE, OPT_MAX_CONN_IP, OPT_CACHE_SIZE, OPT_KEY_FILE,
       OPT_NO_AUTH, OPT_MAX_BODY_TOTAL, OPT_REQUEST_TIMEOUT };

/* Option table: flag, its environment variable. */
static const struct {
	struct option opt;
	const char *env;
} options[] = {
	{{"listen", required_argument, NULL, OPT_LISTEN}, "MANIFESTD_LISTEN"},
	{{"db", required_argument, NULL, OPT_DB}, "MANIFESTD_DB"},
	{{"static-dir", required_argument, NULL, OPT_STATIC}, "MANIFESTD_STATIC_DIR"},
	{{"max-body", required_argument, NULL, OPT_MAX_BODY}, "MANIFESTD_MAX_BODY"},
	{{"max-body-total", required_argument, NULL, OPT_MAX_BODY_TOTAL}, "MANIFESTD_MAX_BODY_TOTAL"},
	{{"max-connections", required_argument, NULL, OPT_MAX_CONN}, "MANIFESTD_MAX_CONNECTIONS"},
	{{"max-connections-per-ip", required_argument, NULL, OPT_MAX_CONN_IP},
	 "MANIFESTD_MAX_CONNECTIONS_PER_IP"},
	{{"timeout", required_argument, NULL, OPT_TIMEOUT}, "MANIFESTD_TIMEOUT"},
	{{"request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT}, "MANIFESTD_REQUEST_TIMEOUT"},
	{{"threads", required_argument, NULL, OPT_THREADS}, "MANIFESTD_THREADS"},
	{{"log-format", required_argument, NULL, OPT_LOG_FORMAT}, "MANIFESTD_LOG_FORMAT"},
	{{"shutdown-grace", required_argument, NULL, OPT_GRACE}, "MANIFESTD_SHUTDOWN_GRACE"},
	{{"cache-size", required_argument, NULL, OPT_CACHE_SIZE}, "MANIFESTD_CACHE_SIZE"},
	{{"key-file", required_argument, NULL, OPT_KEY_FILE}, "MANIFESTD_KEY_FILE"},
	/* no variable: turning authentication off is always explicit on the command line */
	{{"no-auth", no_argument, NULL, OPT_NO_AUTH}, NULL},
};
#define NOPTIONS (sizeof options / sizeof options[0])

/* "host:port", "[v6]:port" -> address and port. */
static int parse_listen(const char *s, struct serve_config *cfg)
{
	const char *colon = strrchr(s, ':');
	if (!colon)
		return -EINVAL;
	const char *host = s;
	size_t hl = (size_t)(colon - s);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof cfg->address)
		return -EINVAL;
	if (util_parse_int(colon + 1, 0, 65535, &cfg->port) < 0)
		return -EINVAL;
	memcpy(cfg->address, host, hl);
	cfg->address[hl] = '\0';
	return 0;
}

static int set_option(struct serve_config *cfg, int id, const char *value)
{
	switch (id) {
	case OPT_LISTEN:
		return parse_listen(value, cfg);
	case OPT_DB:
		cfg->db = value;
		return *value ? 0 : -EINVAL;
	case OPT_STATIC:
		cfg->static_dir = *value ? value : NULL;
		return 0;
	case OPT_MAX_BODY:
		return util_parse_int(value, 1, 1LL << 32, &cfg->max_body);
	case OPT_MAX_BODY_TOTAL:
		return util_parse_int(value, 1, 1LL << 40, &cfg->max_body_total);
	case OPT_MAX_CONN:
		return util_parse_int(value, 1, 1000000, &cfg->max_connections);
	case OPT_MAX_CONN_IP:
		return util_parse_int(value, 0, 1000000, &cfg->max_connections_per_ip);
	case OPT_TIMEOUT:
		return util_parse_int(value, 1, 86400, &cfg->timeout);
	case OPT_REQUEST_TIMEOUT:
		return util_parse_int(value, 1, 86400, &cfg->request_timeout);
	case OPT_THREADS:
		return util_parse_int(value, 1, 1024, &cfg->threads);
	case OPT_KEY_FILE:
		cfg->key_file = *value ? value : NULL;
		return 0;
	case OPT_NO_AUTH:
		cfg->no_auth = true;
		return 0;
	case OPT_GRACE:
		return util_parse_int(value, 0, 3600, &cfg->grace);
	case OPT_CACHE_SIZE:
		return util_parse_int(value, 0, 1LL << 40, &cfg->cache_size);
	case OPT_LOG_FORMAT:
		if (strcmp(value, "text") == 0)
			cfg->log_format = HTTP_LOG_TEXT;
		else if (strcmp(value, "json") == 0)
			cfg->log_format = HTTP_LOG_JSON;
		else
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

static const char *option_name(int id)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (options[i].opt.val == id)
			return options[i].opt.name;
	return "?";
}

/* Defaults, then environment variables, then flags. 0, 1 (help shown) or -EINVAL. */
static int configure(int argc, char **argv, struct serve_config *cfg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	*cfg = (struct serve_config){.address = "127.0.0.1", .port = 8080,
				     .db = "./data/manifestd.db", .max_body = 1024 * 1024,
				     .max_body_total = 16 * 1024 * 1024,
				     .max_connections = 1024, .max_connections_per_ip = 128,
				     .timeout = 30, .request_timeout = 3,
				     .threads = cpus > 0 ? cpus : 1, .grace = 10,
				     .cache_size = 16 * 1024 * 1024};
	for (size_t i = 0; i < NOPTIONS; i++) {
		const char *v = options[i].env ? getenv(options[i].env) : NULL;
		if (v && set_option(cfg, options[i].opt.val, v) < 0) {
			fprintf(stderr, "manifestd serve: invalid %s '%s'\n", options[i].env, v);
			return -EINVAL;
		}
	}
	struct option longopts[NOPTIONS + 2];
	for (size_t i = 0; i < NOPTIONS; i++)
		longopts[i] = options[i].opt;
	longopts[NOPTIONS] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[NOPTIONS + 1] = (struct option){0};
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (c == '?' || set_option(cfg, c, optarg) < 0) {
			if (c != '?')
				fprintf(stderr, "manifestd serve: invalid --%s '%s'\n", option_name(c), optarg);
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "manifestd serve: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (cfg->max_body_total < cfg->max_body) {
		fprintf(stderr, "manifestd serve: --max-body-total (%lld) is below --max-body (%lld): "
			"no body of the largest size could ever be read\n", cfg->max_body_total,
			cfg->max_body);
		return -EINVAL;
	}
	return 0;
}

/* malloc for a long-running server with few threads: one arena per worker (glibc's
 * default of 8 per core keeps memory in arenas no thread uses), and blocks up to 1 MiB
 * from the heap, kept there up to 4 MiB free, instead of an mmap/munmap (and fresh page
 * faults) for every zip entry's 256 KiB deflate state. Measured in bench/results. */
static void tune_malloc(long long threads)
{
	(void)mallopt(M_ARENA_MAX, (int)threads + 1);
	(void)mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
}

/* true when every address host resolves to is a loopback address. */
static bool is_loopback(const char *host)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return false;
	bool all = true;
	for (const struct addrinfo *a = res; a; a = a->ai_next) {
		if (a->ai_family == AF_INET) {
			const struct sockaddr_in *in = (const void *)a->ai_addr;
			all = all && (ntohl(in->sin_addr.s_addr) >> 24) == 127;
		} else if (a->ai_family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const void *)a->ai_addr;
			all = all && IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		} else {
			all = false;
		}
	}
	freeaddrinfo(res);
	return all;
}

/* The secret key (MANIFESTD_SECRET_KEY, or the key file, created when missing). */
static int load_key(const struct serve_config *cfg, unsigned char key[SECRETBOX_KEY_BYTES],
		    struct buf *err, struct buf *ret_created)
{
	struct buf path;
	buf_init(&path, 4096);
	bool created = false;
	int r = secretbox_key_for(cfg->db, store_kind_of(cfg->db) != STORE_POSTGRES, cfg->key_file, true, key,
				  &created, &path, err);
	if (r == 0 && created)
		r = buf_puts(ret_created, buf_cstr(&path));
	buf_release(&path);
	return r;
}

/* Opens the store with the secret key. A key file created on the way is named in
 * created (to be said after the first line). */
static int open_store(const struct serve_config *cfg, struct buf *err, struct buf *created,
		      struct store **ret)
{
	unsigned char key[SECRETBOX_KEY_BYTES];
	struct store_options so = {cfg->db, (size_t)cfg->threads + 1, NULL, key};
	struct store *probe = NULL;
	/* Open once without a key first: it creates the directory and migrates. */
	int r = store_open(&(struct store_options){cfg->db, 1, NULL, NULL}, err, &probe);
	store_free(probe);
	if (r == 0)
		r = load_key(cfg, key, err, created);
	if (r == 0)
		r = store_open(&so, err, ret);
	sodium_memzero(key, sizeof key);
	return r;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_config cfg;
	int r = configure(argc, argv, &cfg);
	if (r != 0)
		return r > 0 ? 0 : 2;

	/* Block the shutdown signals before any thread starts, so only sigwait sees them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	tune_malloc(cfg.threads);

	struct buf err;
	buf_init(&err, 4096);
	struct store *store = NULL;
	struct http_server *srv = NULL;
	struct cache *cache = NULL;
	int code = 1;
	struct buf token, key_created;
	buf_init(&token, 256);
	buf_init(&key_created, 4096);
	int issued = 0;
	if (cfg.no_auth && !is_loopback(cfg.address)) {
		fprintf(stderr, "manifestd: --no-auth is refused on '%s': without authentication "
			"listen on a loopback address only (127.0.0.1, ::1, localhost)\n", cfg.address);
		code = 2;
		goto out;
	}
	/* the schema and the built-in component types are read once here, not by the first
	 * request (reason on stderr) */
	if (!schema_document() || !catalog_builtin())
		goto out;
	if (open_store(&cfg, &err, &key_created, &store) < 0) {
		fprintf(stderr, "manifestd: %s\n", buf_cstr(&err));
		goto out;
	}
	if (!cfg.no_auth && (issued = auth_bootstrap(store, &token)) < 0) {
		fprintf(stderr, "manifestd: cannot create the first admin token: %s\n", strerror(-issued));
		goto out;
	}
	if (cfg.cache_size > 0 && cache_new((size_t)cfg.cache_size, &cache) < 0) {
		fprintf(stderr, "manifestd: out of memory\n");
		goto out;
	}
	struct api app = {.store = store, .static_dir = cfg.static_dir, .cache = cache};
	struct http_options ho = {
		.address = cfg.address, .port = (unsigned)cfg.port, .threads = (size_t)cfg.threads,
		.max_body = (size_t)cfg.max_body, .max_connections = (unsigned)cfg.max_connections,
		.timeout = (unsigned)cfg.timeout, .request_timeout = (unsigned)cfg.request_timeout,
		.log_format = cfg.log_format, .app = &app,
		.max_connections_per_ip = (unsigned)cfg.max_connections_per_ip,
		.tokens = cfg.no_auth ? NULL : store, .max_body_total = (size_t)cfg.max_body_total};
	ho.routes = api_routes(&ho.nroutes);
	if (http_start(&ho, &err, &srv) < 0) {
		fprintf(stderr, "manifestd: %s\n", buf_cstr(&err));
		goto out;
	}
	bool v6 = strchr(cfg.address, ':') != NULL;
	fprintf(stderr, "manifestd: listening on http://%s%s%s:%u\n", v6 ? "[" : "", cfg.address,
		v6 ? "]" : "", http_port(srv));
	if (key_created.len)
		fprintf(stderr, "manifestd: created the secret key file %s (mode 0600): back it up; "
			"without it the stored secrets cannot be read\n", buf_cstr(&key_created));
	if (issued)
		fprintf(stderr, "manifestd: created the admin token 'admin' (shown only this once): %s\n",
			buf_cstr(&token));
	if (cfg.no_auth)
		fprintf(stderr, "manifestd: WARNING: --no-auth: every request may read and change "
			"everything\n");
	/* a PostgreSQL URL may carry a password: only its kind is said */
	fprintf(stderr, "manifestd: database %s (schema version %lld), %lld threads\n",
		store_kind(store) == STORE_POSTGRES ? "PostgreSQL" : cfg.db,
		store_schema_version(store), cfg.threads);
	int sig = 0;
	while (sigwait(&stop, &sig) != 0)
		;
	fprintf(stderr, "manifestd: %s received, finishing requests in flight\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM");
	http_stop(srv, (unsigned)cfg.grace * 1000);
	srv = NULL;
	code = 0;
	fprintf(stderr, "manifestd: stopped\n");
out:
	http_stop(srv, 0);
	cache_free(cache);
	store_free(store);
	if (token.data)
		sodium_memzero(token.data, token.len);
	buf_release(&token);
	buf_release(&key_created);
	buf_release(&err);
	return code;
}
