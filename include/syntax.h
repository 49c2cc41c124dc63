/* syntax: is a document value written in the form it must have? Pure string checks of
 * names and values the renderer puts into Kubernetes objects.
 *
 * Every syntax_X() takes a NUL-terminated string and returns NULL when it is well formed,
 * else a static English rule it breaks ("must be a DNS label: ..."), which the caller
 * puts after the field's JSON Pointer in a validation message. No allocation, no I/O;
 * safe from any thread. Where a form also accepts "" it says so below. */
#ifndef MANIFESTD_SYNTAX_H
#define MANIFESTD_SYNTAX_H

/* DNS label (RFC 1123): lowercase letters, digits and '-', alphanumeric at both ends,
 * 1 to 63 characters. */
const char *syntax_dns_label(const char *s);
/* A DNS label, or "". */
const char *syntax_dns_label_or_empty(const char *s);
/* A DNS label that starts with a letter (a service name). */
const char *syntax_service_name(const char *s);
/* An Ingress host: a DNS subdomain, optionally "*." first; "" (any host) passes. */
const char *syntax_host(const char *s);
/* A StorageClass name (DNS subdomain), or "" (the cluster default). */
const char *syntax_class_name(const char *s);

/* A Kubernetes quantity ("250m", "0.5", "512Mi", "1e3") greater than zero. */
const char *syntax_quantity(const char *s);
/* The number a Kubernetes quantity stands for (of any sign) in *ret_value (written only on
 * success; "1Ki" -> 1024, "250m" -> 0.25). 0, or -EINVAL when s is not a quantity (or is
 * longer than 64 bytes). */
int syntax_quantity_value(const char *s, long double *ret_value);

/* An image registry: host[:port] then optional lowercase path components
 * ("ghcr.io/acme", "localhost:5000"), or "". */
const char *syntax_registry(const char *s);
/* An image repository path ("order-service", "team/order-service"). */
const char *syntax_repository(const char *s);
/* An image tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, and not "latest". */
const char *syntax_tag(const char *s);
/* "sha256:" and 64 lowercase hex digits, or "". */
const char *syntax_digest(const char *s);
/* A full image reference [registry/]name:tag[@digest]; the tag is required (and checked
 * as syntax_tag). */
const char *syntax_image_ref(const char *s);

/* A URL path: starts with '/', no spaces or control characters. */
const char *syntax_http_path(const char *s);
/* A ConfigMap/Secret key: letters, digits, '-', '.', '_', 1 to 253, not "." or "..". */
const char *syntax_key(const char *s);
/* An environment variable name: letters, digits and '_', not starting with a digit. */
const char *syntax_env_name(const char *s);
/* A MySQL database name (1 to 64 of [a-z0-9_]) / user name (1 to 32 of them). */
const char *syntax_db_name(const char *s);
const char *syntax_db_user(const char *s);
/* A RabbitMQ user: 1 to 64 letters, digits, '_', '.' and '-'. */
const char *syntax_rabbitmq_user(const char *s);
/* A Go duration of whole h/m/s units ("1h", "30m", "1h30m"), at most 32 characters. */
const char *syntax_duration(const char *s);
/* An annotation key: an optional DNS-subdomain prefix and '/', then a name of 1 to 63
 * letters, digits, '-', '_' and '.', alphanumeric at both ends. */
const char *syntax_annotation_key(const char *s);

#endif
