/* metrics: process-wide counters and histograms for /metrics (Prometheus text format
 * 0.0.4). Thread-safe; counting never fails (a full table drops the new series and
 * counts it in manifestd_metrics_dropped_total). */
#ifndef MANIFESTD_METRICS_H
#define MANIFESTD_METRICS_H

#include <stdint.h>

#include "buf.h"

/* One finished HTTP request: route pattern (borrowed, static: the routing table's, or
 * "unmatched"), method, status and duration. */
void metrics_request(const char *route, const char *method, unsigned status, uint64_t ns);
/* One render (resolve + build) of format (static name) that took ns. */
void metrics_render(const char *format, uint64_t ns);
/* Bytes of a bundle sent in format (static name). */
void metrics_bundle_bytes(const char *format, uint64_t bytes);

/* Appends the exposition text; db_errors is the store's error count. 0 or buf errors. */
int metrics_write(struct buf *out, unsigned long long db_errors);

#endif
