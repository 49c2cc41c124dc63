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

/* ---- forms of the general workload model (schema.json names each as a format) ---- */
/* A label or annotation key (syntax_annotation_key with a rule that says so). */
const char *syntax_label_key(const char *s);
/* A label value: "" or 1 to 63 of letters, digits, '-', '_', '.', alphanumeric at both ends. */
const char *syntax_label_value(const char *s);
/* An object name: a DNS subdomain (lowercase labels joined by '.'), at most 253. */
const char *syntax_object_name(const char *s);
/* An absolute path in a container: starts with '/', no ':' or control characters, <= 4096. */
const char *syntax_abs_path(const char *s);
/* A relative path: not empty, no leading '/', no ".." component, no control characters. */
const char *syntax_rel_path(const char *s);
/* An environment variable name prefix (an env name of at most 128 characters). */
const char *syntax_env_prefix(const char *s);
/* A port name (IANA service name): 1-15 of [a-z0-9-], a letter, no leading, trailing or double '-'. */
const char *syntax_port_name(const char *s);
/* A capability name without CAP_: 2 to 32 of [A-Z_], starting with a letter. */
const char *syntax_capability(const char *s);
/* A cron schedule: five space-separated fields, or @hourly, @daily, @weekly, @monthly,
 * @yearly, @annually, @midnight (the fields themselves are checked by Kubernetes). */
const char *syntax_cron(const char *s);
/* An octal file mode: "644" or "0644" (3 octal digits, optionally after a '0'). */
const char *syntax_file_mode(const char *s);
/* An apiVersion: v1, v1beta1, or a DNS-subdomain group, '/', and such a version. */
const char *syntax_api_version(const char *s);
/* A kind: a capital letter, then letters and digits, at most 63. */
const char *syntax_kind(const char *s);
/* An HTTP header field name (RFC 9110 token), at most 256. */
const char *syntax_http_header(const char *s);
/* An appProtocol: an IANA service name or a prefixed name ("kubernetes.io/ws"). */
const char *syntax_app_protocol(const char *s);
/* A percentage: 1 to 3 digits and '%'. */
const char *syntax_percent(const char *s);
/* An IANA time zone name: letters, digits, '_', '+', '-' in up to '/'-separated parts. */
const char *syntax_time_zone(const char *s);
/* A JSON Pointer (RFC 6901): "" or "/..." with '~' only in "~0" and "~1", at most 4096. */
const char *syntax_json_pointer(const char *s);

#endif
