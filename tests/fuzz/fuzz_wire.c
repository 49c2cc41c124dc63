/* fuzz_wire: libFuzzer harness for the HTTP edge over a real socket. A server runs in this
 * process (started once, on 127.0.0.1, without authentication, over a migrated SQLite
 * database); each input is sent as it is on a fresh connection, then a last request that
 * asks for the close (libmicrohttpd 0.9 notices a client's half-close after a request
 * with a body only at the idle timeout), then the write side is shut, and everything the
 * server sends back is read to the close (or to a second of silence after an answer: a
 * request that swallowed the last one as its body keeps the connection until a timeout).
 * libmicrohttpd 0.9.75 sometimes arms no timer for a connection whose client shut its
 * side in the middle of a body: its loop then sleeps in epoll_wait() without a timeout
 * until another connection wakes it (the same with the server before issue 16). So a
 * connection silent for 10 s gets a second request on another connection as a wake-up;
 * it fails only when it stays silent after that too. That drives libmicrohttpd's parser,
 * the URI callback, the head checks (the walk over libmicrohttpd's buffer,
 * include/httpmsg.h), routing, bodies and the handlers, under ASan and UBSan in the
 * server's threads. An input fails when the server neither answers nor closes within 10 s
 * (and 10 s after the wake-up), or answers with a status of 500 or more other than 505
 * (libmicrohttpd's own answer to an HTTP major version other than 1). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "fuzzdb.h"
#include "http.h"
#include "store.h"

#define CLOSE_WITHIN_MS 10000
#define SILENCE_AFTER_ANSWER_MS 1000
#define LAST_REQUEST "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

static char dir[256];
static char db[300];
static struct store *store;
static struct http_server *srv;
static struct api app;

static void cleanup(void)
{
	http_stop(srv, 0);
	store_free(store);
	fuzzdb_remove(db);
	(void)rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The server's connections and the harness's share this process's descriptors. */
	struct rlimit files;
	if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
		files.rlim_cur = files.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &files);
	}
	fuzzdb_dir("wire", dir, sizeof dir);
	fuzzdb_path(dir, "wire.db", db, sizeof db);
	if (store_open(&(struct store_options){db, 2, NULL, NULL}, NULL, &store) < 0)
		abort();
	app = (struct api){.store = store};
	/* Short timeouts and room for connections: one the harness leaves after a silence
	 * stays open on the server's side until a timeout, and new connections would wait
	 * in the listen backlog once max_connections are taken. */
	struct http_options opt = {.address = "127.0.0.1", .threads = 1, .max_body = 65536,
				   .max_body_total = 1 << 20, .max_connections = 8192, .timeout = 3,
				   .request_timeout = 1, .log_format = HTTP_LOG_NONE, .app = &app};
	opt.routes = api_routes(&opt.nroutes);
	struct buf err;
	buf_init(&err, 256);
	if (http_start(&opt, &err, &srv) < 0) {
		fprintf(stderr, "%s\n", buf_cstr(&err));
		abort();
	}
	buf_release(&err);
	atexit(cleanup);
	return 0;
}

/* libFuzzer's SIGALRM (its -timeout watch) interrupts the blocking calls below: each one
 * goes on after EINTR, poll() for what is left of its time. */

/* poll() for events on fd for up to ms: true when they came. */
static bool wait_for(int fd, short events, int ms)
{
	struct timespec now, end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (long)(ms % 1000) * 1000000;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, ms);
		if (r >= 0 || errno != EINTR)
			return r == 1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long left = (end.tv_sec - now.tv_sec) * 1000LL + (end.tv_nsec - now.tv_nsec) / 1000000;
		ms = left > 0 ? (int)left : 0;
	}
}

/* connect() that completes a connection interrupted by a signal (POSIX: it goes on
 * asynchronously); 0 or -1 with errno. */
static int connect_to(int fd, const struct sockaddr_in *sa)
{
	if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0)
		return 0;
	if (errno != EINTR)
		return -1;
	int err = ETIMEDOUT;
	socklen_t len = sizeof err;
	if (wait_for(fd, POLLOUT, CLOSE_WITHIN_MS) && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	errno = err;
	return err ? -1 : 0;
}

/* Sends n bytes (the server may answer and close before it read them all). */
static void send_all(int fd, const void *data, size_t n)
{
	for (size_t sent = 0; sent < n;) {
		ssize_t r = send(fd, (const char *)data + sent, n - sent, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		sent += (size_t)r;
	}
}

static void exchange(const uint8_t *data, size_t size, struct buf *out, bool wake);

/* Binds fd to the next of 65,534 loopback addresses (127.1.0.1 up), any port. Each exchange
 * leaves its client port in TIME_WAIT for a minute; thousands of inputs a second from one
 * address would run out of the ~28,000 ephemeral ports towards the server's one port. */
static int bind_next_source(int fd)
{
	static uint32_t next;
	next = next % 65534 + 1;
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f010000u + next)};
	int one = 1; /* the port is chosen by connect(), knowing the destination */
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0)
		return -1;
	return bind(fd, (struct sockaddr *)&src, sizeof src);
}

/* Waits for fd to become readable: true when it did within CLOSE_WITHIN_MS, after a
 * wake-up request when needed. */
static bool wait_answer(int fd, bool wake)
{
	if (wait_for(fd, POLLIN, CLOSE_WITHIN_MS))
		return true;
	if (!wake)
		return false;
	struct buf other;
	buf_init(&other, BUF_NO_MAX);
	exchange((const uint8_t *)"", 0, &other, false);
	buf_release(&other);
	return wait_for(fd, POLLIN, CLOSE_WITHIN_MS);
}

/* Sends data and LAST_REQUEST, shuts the write side, reads the answer to the close. */
static void exchange(const uint8_t *data, size_t size, struct buf *out, bool wake)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)http_port(srv)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || bind_next_source(fd) < 0 || connect_to(fd, &sa) < 0) {
		fprintf(stderr, "cannot connect to the server: %s\n", strerror(errno));
		abort();
	}
	send_all(fd, data, size);
	send_all(fd, LAST_REQUEST, strlen(LAST_REQUEST));
	(void)shutdown(fd, SHUT_WR);
	char block[16384];
	for (;;) {
		if (out->len && !wait_for(fd, POLLIN, SILENCE_AFTER_ANSWER_MS))
			break;
		if (!out->len && !wait_answer(fd, wake)) {
			fprintf(stderr, "the server neither answered nor closed within %d ms\n", CLOSE_WITHIN_MS);
			abort();
		}
		ssize_t n = recv(fd, block, sizeof block, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf_append(out, block, (size_t)n) < 0)
			abort();
	}
	close(fd);
}

/* The status of every response in text (len bytes) that can be told apart; aborts on a
 * server error. Parsing stops at the first piece that is not a response it can frame. */
static void check_statuses(const char *text, size_t len)
{
	size_t at = 0;
	while (at + 12 <= len && memcmp(text + at, "HTTP/1.1 ", 9) == 0) {
		unsigned status = (unsigned)((text[at + 9] - '0') * 100 + (text[at + 10] - '0') * 10 +
					     (text[at + 11] - '0'));
		if (status >= 500 && status != 505) {
			fprintf(stderr, "server error %u:\n%.*s\n", status, (int)(len - at > 2000 ? 2000 : len - at),
				text + at);
			abort();
		}
		const char *end = memmem(text + at, len - at, "\r\n\r\n", 4);
		if (!end)
			return;
		size_t head_end = (size_t)(end - text) + 4;
		unsigned long long body = 0;
		for (const char *h = text + at; h < end; h++) {
			if (strncasecmp(h, "\r\nContent-Length: ", 18) == 0)
				body = strtoull(h + 18, NULL, 10);
			else if (strncasecmp(h, "\r\nTransfer-Encoding: chunked", 28) == 0)
				return; /* streamed: the last response */
		}
		at = status < 200 ? head_end : head_end + body;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out;
	buf_init(&out, BUF_NO_MAX);
	exchange(data, size, &out, true);
	check_statuses(out.data ? out.data : "", out.len);
	buf_release(&out);
	return 0;
}
