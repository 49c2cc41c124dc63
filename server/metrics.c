/* metrics: the counters behind /metrics: requests by route/method/status, render
 * duration histogram, bundle bytes; written in the Prometheus text format. */
#include "metrics.h"

#include <pthread.h>
#include <string.h>

#define MAX_SERIES 256
#define MAX_FORMATS 8

static const double render_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
					0.01, 0.025, 0.05, 0.1, 0.25, 1.0};
#define NBUCKETS (sizeof render_buckets / sizeof render_buckets[0])

struct request_series {
	const char *route;
	const char *method;
	unsigned status;
	unsigned long long count;
	double seconds;
};

struct format_series {
	const char *format;
	unsigned long long buckets[NBUCKETS];
	unsigned long long count;
	double seconds;
	unsigned long long bytes;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct request_series requests[MAX_SERIES];
static size_t nrequests;
static struct format_series formats[MAX_FORMATS];
static size_t nformats;
static unsigned long long dropped;

/* Methods are counted by their canonical static names so no request text is kept. */
static const char *known_method(const char *m)
{
	static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
					    "OPTIONS"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(names[i], m) == 0)
			return names[i];
	return "other";
}

void metrics_request(const char *route, const char *method, unsigned status, uint64_t ns)
{
	method = known_method(method);
	pthread_mutex_lock(&lock);
	size_t i = 0;
	while (i < nrequests && !(requests[i].route == route && requests[i].method == method &&
				  requests[i].status == status))
		i++;
	if (i == nrequests) {
		if (nrequests == MAX_SERIES) {
			dropped++;
			goto out;
		}
		requests[i] = (struct request_series){route, method, status, 0, 0};
		nrequests++;
	}
	requests[i].count++;
	requests[i].seconds += (double)ns / 1e9;
out:
	pthread_mutex_unlock(&lock);
}

/* The series of format; NULL when the table is full. Called with the lock held. */
static struct format_series *format_series(const char *format)
{
	for (size_t i = 0; i < nformats; i++)
		if (strcmp(formats[i].format, format) == 0)
			return &formats[i];
	if (nformats == MAX_FORMATS) {
		dropped++;
		return NULL;
	}
	memset(&formats[nformats], 0, sizeof formats[nformats]);
	formats[nformats].format = format;
	return &formats[nformats++];
}

void metrics_render(const char *format, uint64_t ns)
{
	double s = (double)ns / 1e9;
	pthread_mutex_lock(&lock);
	struct format_series *f = format_series(format);
	if (f) {
		for (size_t b = 0; b < NBUCKETS; b++)
			if (s <= render_buckets[b])
				f->buckets[b]++;
		f->count++;
		f->seconds += s;
	}
	pthread_mutex_unlock(&lock);
}

void metrics_bundle_bytes(const char *format, uint64_t bytes)
{
	pthread_mutex_lock(&lock);
	struct format_series *f = format_series(format);
	if (f)
		f->bytes += bytes;
	pthread_mutex_unlock(&lock);
}

static int write_requests(struct buf *out)
{
	int r = buf_puts(out, "# HELP manifestd_http_requests_total HTTP requests by route, method and status.\n"
			      "# TYPE manifestd_http_requests_total counter\n");
	for (size_t i = 0; r == 0 && i < nrequests; i++)
		r = buf_printf(out, "manifestd_http_requests_total{route=\"%s\",method=\"%s\",status=\"%u\"} %llu\n",
			       requests[i].route, requests[i].method, requests[i].status,
			       requests[i].count);
	if (r == 0)
		r = buf_puts(out, "# HELP manifestd_http_request_duration_seconds_total Time spent answering, by route.\n"
				  "# TYPE manifestd_http_request_duration_seconds_total counter\n");
	for (size_t i = 0; r == 0 && i < nrequests; i++)
		r = buf_printf(out, "manifestd_http_request_duration_seconds_total{route=\"%s\",method=\"%s\",status=\"%u\"} %.6f\n",
			       requests[i].route, requests[i].method, requests[i].status,
			       requests[i].seconds);
	return r;
}

static int write_renders(struct buf *out)
{
	int r = buf_puts(out, "# HELP manifestd_render_duration_seconds Time to resolve, render and assemble a bundle.\n"
			      "# TYPE manifestd_render_duration_seconds histogram\n");
	for (size_t i = 0; r == 0 && i < nformats; i++) {
		const struct format_series *f = &formats[i];
		for (size_t b = 0; r == 0 && b < NBUCKETS; b++)
			r = buf_printf(out, "manifestd_render_duration_seconds_bucket{format=\"%s\",le=\"%g\"} %llu\n",
				       f->format, render_buckets[b], f->buckets[b]);
		if (r == 0)
			r = buf_printf(out, "manifestd_render_duration_seconds_bucket{format=\"%s\",le=\"+Inf\"} %llu\n"
					    "manifestd_render_duration_seconds_sum{format=\"%s\"} %.6f\n"
					    "manifestd_render_duration_seconds_count{format=\"%s\"} %llu\n",
				       f->format, f->count, f->format, f->seconds, f->format, f->count);
	}
	if (r == 0)
		r = buf_puts(out, "# HELP manifestd_bundle_bytes_total Bytes of bundles sent, by format.\n"
				  "# TYPE manifestd_bundle_bytes_total counter\n");
	for (size_t i = 0; r == 0 && i < nformats; i++)
		r = buf_printf(out, "manifestd_bundle_bytes_total{format=\"%s\"} %llu\n",
			       formats[i].format, formats[i].bytes);
	return r;
}

int metrics_write(struct buf *out, unsigned long long db_errors)
{
	pthread_mutex_lock(&lock);
	int r = write_requests(out);
	if (r == 0)
		r = write_renders(out);
	if (r == 0)
		r = buf_printf(out, "# HELP manifestd_db_errors_total SQLite failures.\n"
				    "# TYPE manifestd_db_errors_total counter\n"
				    "manifestd_db_errors_total %llu\n"
				    "# HELP manifestd_metrics_dropped_total Samples dropped because a series table was full.\n"
				    "# TYPE manifestd_metrics_dropped_total counter\n"
				    "manifestd_metrics_dropped_total %llu\n",
			       db_errors, dropped);
	pthread_mutex_unlock(&lock);
	return r;
}
