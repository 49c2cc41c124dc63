/* syntax: the textual forms of document values (DNS names, Kubernetes quantities, image
 * references, keys and names), checked without allocating; see include/syntax.h. */
#include "syntax.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "util.h"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* true when all n bytes of s are in the set accepted by ok. */
static bool all_chars(const char *s, size_t n, bool (*ok)(char))
{
	for (size_t i = 0; i < n; i++)
		if (!ok(s[i]))
			return false;
	return true;
}

/* n > 0 bytes, each accepted by end or '-', the first and the last by end. */
static bool is_dashed(const char *s, size_t n, bool (*end)(char))
{
	if (n == 0 || !end(s[0]) || !end(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!end(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* true when every part of the n bytes of s between the separators sep (the empty text is
 * one empty part) is accepted by ok. */
static bool all_parts(const char *s, size_t n, char sep, bool (*ok)(const char *, size_t))
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != sep)
			continue;
		if (!ok(s + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

#define DNS_LABEL_RULE                                                                     \
	"must be a DNS label: lowercase letters, digits and '-', starting and ending with a " \
	"letter or digit, at most 63 characters"

const char *syntax_dns_label(const char *s)
{
	return util_is_dns_label(s) ? NULL : DNS_LABEL_RULE;
}

const char *syntax_dns_label_or_empty(const char *s)
{
	return *s ? syntax_dns_label(s) : NULL;
}

const char *syntax_service_name(const char *s)
{
	if (!util_is_dns_label(s) || !(s[0] >= 'a' && s[0] <= 'z'))
		return DNS_LABEL_RULE " (a service name must also start with a letter)";
	return NULL;
}

/* A DNS label of n bytes: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
static bool is_label_n(const char *s, size_t n)
{
	return n <= 63 && is_dashed(s, n, is_lower_alnum);
}

/* RFC 1123 subdomain of n bytes: DNS labels joined by '.', at most 253 characters. */
static bool is_subdomain_n(const char *s, size_t n)
{
	return n > 0 && n <= 253 && all_parts(s, n, '.', is_label_n);
}

static bool is_dns_subdomain(const char *s)
{
	return is_subdomain_n(s, strlen(s));
}

const char *syntax_host(const char *s)
{
	if (!*s)
		return NULL;
	const char *name = strncmp(s, "*.", 2) == 0 ? s + 2 : s;
	if (!is_dns_subdomain(name))
		return "must be a DNS name such as \"shop.example.com\" (lowercase labels of letters, "
		       "digits and '-', joined by '.'), optionally starting with \"*.\", or \"\" for any host";
	return NULL;
}

const char *syntax_class_name(const char *s)
{
	if (*s && !is_dns_subdomain(s))
		return "must be a StorageClass name (lowercase letters, digits, '-' and '.') or \"\" "
		       "for the cluster default";
	return NULL;
}

/* Kubernetes quantity: <sign?><digits[.digits]><suffix>, suffix one of the SI, binary SI
 * or e/E exponent forms. On success *ret_value is the number it stands for. */
struct suffix {
	const char *text;
	int exp10;
	int exp2;
};

static const struct suffix quantity_suffixes[] = {
	{"", 0, 0},    {"m", -3, 0},  {"k", 3, 0},   {"M", 6, 0},   {"G", 9, 0},
	{"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},  {"Ki", 0, 10}, {"Mi", 0, 20},
	{"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
};

static int quantity_exponent(const char *s, int *ret_exp10)
{
	if (*s != 'e' && *s != 'E')
		return -EINVAL;
	long long v;
	if (util_parse_int(s + 1, -999, 999, &v) < 0)
		return -EINVAL;
	*ret_exp10 = (int)v;
	return 0;
}

static int quantity_suffix(const char *s, int *ret_exp10, int *ret_exp2)
{
	for (size_t i = 0; i < sizeof quantity_suffixes / sizeof quantity_suffixes[0]; i++) {
		const char *t = quantity_suffixes[i].text;
		if (s[0] == t[0] && (!s[0] || strcmp(s + 1, t + 1) == 0)) {
			*ret_exp10 = quantity_suffixes[i].exp10;
			*ret_exp2 = quantity_suffixes[i].exp2;
			return 0;
		}
	}
	*ret_exp2 = 0;
	return quantity_exponent(s, ret_exp10);
}

int syntax_quantity_value(const char *s, long double *ret_value)
{
	if (strlen(s) > 64)
		return -EINVAL;
	const char *p = s;
	bool negative = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	long double v = 0;
	int digits = 0, exp10 = 0, exp2 = 0;
	for (; is_digit(*p); p++, digits++)
		v = v * 10 + (*p - '0');
	if (*p == '.')
		for (p++; is_digit(*p); p++, digits++, exp10--)
			v = v * 10 + (*p - '0');
	int suffix10;
	if (digits == 0 || quantity_suffix(p, &suffix10, &exp2) < 0)
		return -EINVAL;
	exp10 += suffix10;
	for (; exp10 > 0; exp10--)
		v *= 10;
	for (; exp10 < 0; exp10++)
		v /= 10;
	for (; exp2 > 0; exp2--)
		v *= 2;
	*ret_value = negative ? -v : v;
	return 0;
}

const char *syntax_quantity(const char *s)
{
	long double v;
	if (syntax_quantity_value(s, &v) < 0)
		return "must be a Kubernetes quantity: a number with an optional suffix (m, k, M, G, "
		       "T, P, E, Ki, Mi, Gi, Ti, Pi, Ei) or exponent, e.g. \"250m\", \"0.5\", \"512Mi\"";
	if (!(v > 0))
		return "must be greater than zero";
	return NULL;
}

/* Image reference pieces (the distribution/reference grammar). */
static bool is_path_component(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (!is_lower_alnum(s[i]))
			return false;
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == n)
			return true;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		else
			while (i < n && s[i] == '-')
				i++;
		if (i == n)
			return false;
	}
	return n > 0;
}

static bool is_path(const char *s, size_t n)
{
	return n > 0 && n <= 255 && all_parts(s, n, '/', is_path_component);
}

static bool is_domain_component(const char *s, size_t n)
{
	return is_dashed(s, n, is_alnum);
}

/* host[:port] where host is domain components joined by '.'. */
static bool is_domain(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t host = colon ? (size_t)(colon - s) : n;
	if (colon && (n - host < 2 || n - host > 6 || !all_chars(colon + 1, n - host - 1, is_digit)))
		return false;
	return host > 0 && all_parts(s, host, '.', is_domain_component);
}

/* domain[:port] optionally followed by /path. */
static bool is_registry(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	size_t first = slash ? (size_t)(slash - s) : n;
	if (!is_domain(s, first))
		return false;
	return !slash || is_path(slash + 1, n - first - 1);
}

const char *syntax_registry(const char *s)
{
	if (*s && (strlen(s) > 255 || !is_registry(s, strlen(s))))
		return "must be a registry such as \"ghcr.io/acme\" or \"localhost:5000\" (a host name, "
		       "an optional :port, then optional lowercase path components), or \"\"";
	return NULL;
}

const char *syntax_repository(const char *s)
{
	if (!is_path(s, strlen(s)))
		return "must be an image repository such as \"order-service\" or \"team/order-service\": "
		       "lowercase letters and digits, separated by '.', '_', '__', '-' or '/'";
	return NULL;
}

static bool is_tag_char(char c)
{
	return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

#define TAG_RULE                                                                            \
	"must be an image tag: letters, digits, '_', '.' and '-', not starting with '.' or '-', " \
	"at most 128 characters"

/* The problem with the n-byte tag at s, or NULL. */
static const char *tag_problem(const char *s, size_t n)
{
	if (n == 0 || n > 128 || !(is_alnum(s[0]) || s[0] == '_') || !all_chars(s, n, is_tag_char))
		return TAG_RULE;
	if (n == 6 && memcmp(s, "latest", 6) == 0)
		return "must not be \"latest\": a moving tag makes the same bundle deploy different "
		       "images; pin a version such as \"1.4.2\"";
	return NULL;
}

const char *syntax_tag(const char *s)
{
	return tag_problem(s, strlen(s));
}

static bool is_lower_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool is_digest(const char *s)
{
	return strncmp(s, "sha256:", 7) == 0 && strlen(s) == 71 && all_chars(s + 7, 64, is_lower_hex);
}

const char *syntax_digest(const char *s)
{
	if (*s && !is_digest(s))
		return "must be \"sha256:\" followed by 64 lowercase hex digits, or \"\"";
	return NULL;
}

/* [domain[:port]/]path: the first component is a domain when it has '.' or ':' or is
 * "localhost" (and more components follow), as docker reads it. */
static bool is_image_name(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	size_t first = slash ? (size_t)(slash - s) : n;
	bool has_domain = slash && (memchr(s, '.', first) || memchr(s, ':', first) ||
				    (first == 9 && memcmp(s, "localhost", 9) == 0));
	return n <= 255 && (has_domain ? is_registry(s, n) : is_path(s, n));
}

/* A full image reference name:tag[@digest]; the tag is required. */
const char *syntax_image_ref(const char *s)
{
	size_t n = strlen(s);
	const char *at = strchr(s, '@');
	if (at && !is_digest(at + 1))
		return "must be an image reference such as \"mysql:8.0.36\"; a digest after '@' is "
		       "\"sha256:\" and 64 lowercase hex digits";
	n = at ? (size_t)(at - s) : n;
	const char *last_slash = memrchr(s, '/', n);
	const char *after = last_slash ? last_slash + 1 : s;
	const char *colon = memrchr(after, ':', n - (size_t)(after - s));
	size_t name = colon ? (size_t)(colon - s) : n;
	if (!is_image_name(s, name))
		return "must be an image reference such as \"mysql:8.0.36\" or "
		       "\"registry.example.com/team/mysql:8.0.36\"";
	if (!colon)
		return "must include a tag, e.g. \"mysql:8.0.36\": an image without one runs whatever "
		       "\"latest\" is today";
	return tag_problem(colon + 1, n - name - 1);
}

const char *syntax_http_path(const char *s)
{
	if (s[0] != '/')
		return "must be a URL path starting with '/'";
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return "must be a URL path without spaces or control characters";
	return NULL;
}

static bool is_key_char(char c)
{
	return is_alnum(c) || c == '-' || c == '.' || c == '_';
}

const char *syntax_key(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253 || !all_chars(s, n, is_key_char) || !strcmp(s, ".") || !strcmp(s, ".."))
		return "must be a key of letters, digits, '-', '.' and '_', at most 253 characters";
	return NULL;
}

static bool is_env_char(char c)
{
	return is_alnum(c) || c == '_';
}

const char *syntax_env_name(const char *s)
{
	if (!(s[0] == '_' || (is_alnum(s[0]) && !is_digit(s[0]))) || !all_chars(s, strlen(s), is_env_char))
		return "must be an environment variable name: letters, digits and '_', not starting "
		       "with a digit";
	return NULL;
}

static bool is_db_char(char c)
{
	return is_lower_alnum(c) || c == '_';
}

const char *syntax_db_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || !all_chars(s, n, is_db_char))
		return "must be a MySQL database name: 1 to 64 lowercase letters, digits and '_'";
	return NULL;
}

const char *syntax_db_user(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32 || !all_chars(s, n, is_db_char))
		return "must be a MySQL user name: 1 to 32 lowercase letters, digits and '_'";
	return NULL;
}

const char *syntax_rabbitmq_user(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || !all_chars(s, n, is_key_char))
		return "must be 1 to 64 letters, digits, '_', '.' and '-'";
	return NULL;
}

/* A Go duration of whole units: "1h", "30m", "1h30m", "90s". */
const char *syntax_duration(const char *s)
{
	static const char *const bad = "must be a duration such as \"1h\", \"30m\" or \"1h30m\" "
				       "(units h, m, s)";
	size_t i = 0, n = strlen(s);
	if (n == 0 || n > 32)
		return bad;
	while (i < n) {
		size_t d = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, d++;
		if (d == 0 || i == n || (s[i] != 'h' && s[i] != 'm' && s[i] != 's'))
			return bad;
		i++;
	}
	return NULL;
}

static bool is_annotation_name(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	return all_chars(s, n, is_key_char);
}

const char *syntax_annotation_key(const char *s)
{
	static const char bad[] = "must be an annotation key: an optional DNS prefix and '/', then "
				  "up to 63 letters, digits, '-', '_' and '.', e.g. "
				  "\"nginx.ingress.kubernetes.io/proxy-body-size\"";
	const char *slash = strchr(s, '/');
	if (!slash)
		return is_annotation_name(s, strlen(s)) ? NULL : bad;
	bool ok = is_subdomain_n(s, (size_t)(slash - s)) && is_annotation_name(slash + 1, strlen(slash + 1));
	return ok ? NULL : bad;
}

const char *syntax_label_key(const char *s)
{
	return syntax_annotation_key(s) ? "must be a label or annotation key: an optional DNS prefix "
					  "and '/', then up to 63 letters, digits, '-', '_' and '.', "
					  "starting and ending with a letter or digit"
					: NULL;
}

const char *syntax_label_value(const char *s)
{
	return *s && !is_annotation_name(s, strlen(s))
		       ? "must be a label value: at most 63 letters, digits, '-', '_' and '.', starting "
			 "and ending with a letter or digit"
		       : NULL;
}

const char *syntax_object_name(const char *s)
{
	return is_dns_subdomain(s) ? NULL
				   : "must be an object name: lowercase letters, digits, '-' and '.', "
				     "starting and ending with a letter or digit, at most 253 characters";
}

/* A path with no control characters (nor ':' when colon is false). */
static bool is_clean_path(const char *s, bool colon)
{
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f || (!colon && *c == ':'))
			return false;
	return true;
}

const char *syntax_abs_path(const char *s)
{
	if (s[0] != '/' || strlen(s) > 4096 || !is_clean_path(s, false))
		return "must be an absolute path: starting with '/', without ':' or control characters";
	return NULL;
}

static bool is_dot_dot(const char *s, size_t n)
{
	return n == 2 && s[0] == '.' && s[1] == '.';
}

static bool not_dot_dot(const char *s, size_t n)
{
	return !is_dot_dot(s, n);
}

const char *syntax_rel_path(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 4096 || s[0] == '/' || !is_clean_path(s, true) || !all_parts(s, n, '/', not_dot_dot))
		return "must be a relative path: no leading '/', no '..' component, no control characters";
	return NULL;
}

const char *syntax_env_prefix(const char *s)
{
	return strlen(s) > 128 || syntax_env_name(s)
		       ? "must be letters, digits and '_', not starting with a digit, at most 128 characters"
		       : NULL;
}

/* IANA service name: 1-15 of [a-z0-9-], at least one letter, no '-' at an end or twice in a row. */
static bool is_iana_name(const char *s, size_t n)
{
	bool letter = false;
	if (n == 0 || n > 15 || !is_dashed(s, n, is_lower_alnum) || strstr(s, "--"))
		return false;
	for (size_t i = 0; i < n; i++)
		letter |= s[i] >= 'a' && s[i] <= 'z';
	return letter;
}

const char *syntax_port_name(const char *s)
{
	return is_iana_name(s, strlen(s)) ? NULL
					  : "must be a port name: at most 15 lowercase letters, digits "
					    "and single '-' inside, with at least one letter";
}

static bool is_upper_or_underscore(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

const char *syntax_capability(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 32 || !(s[0] >= 'A' && s[0] <= 'Z') || !all_chars(s, n, is_upper_or_underscore))
		return "must be a capability name without the CAP_ prefix, e.g. \"NET_BIND_SERVICE\"";
	return NULL;
}

static bool is_cron_char(char c)
{
	return (unsigned char)c > ' ' && (unsigned char)c < 0x7f;
}

const char *syntax_cron(const char *s)
{
	static const char *const macros[] = {"@yearly", "@annually", "@monthly", "@weekly", "@daily",
					     "@midnight", "@hourly"};
	static const char bad[] = "must be a cron schedule: five fields separated by single spaces "
				  "(minute hour day-of-month month day-of-week) or @hourly, @daily, "
				  "@weekly, @monthly, @yearly";
	for (size_t i = 0; i < sizeof macros / sizeof *macros; i++)
		if (strcmp(s, macros[i]) == 0)
			return NULL;
	size_t n = strlen(s), fields = 1;
	if (n == 0 || n > 256 || s[0] == ' ' || s[n - 1] == ' ')
		return bad;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' && s[i + 1] == ' ')
			return bad;
		if (s[i] == ' ')
			fields++;
		else if (!is_cron_char(s[i]))
			return bad;
	}
	return fields == 5 ? NULL : bad;
}

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

const char *syntax_file_mode(const char *s)
{
	size_t n = strlen(s);
	if ((n == 3 || (n == 4 && s[0] == '0')) && all_chars(s, n, is_octal))
		return NULL;
	return "must be an octal file mode in quotes, e.g. \"0644\" or \"0400\"";
}

/* v1, v1beta1, v2alpha3 */
static bool is_version(const char *s)
{
	size_t i = 1, d = 0;
	if (s[0] != 'v')
		return false;
	while (is_digit(s[i]))
		i++, d++;
	if (d == 0 || s[1] == '0')
		return false;
	if (s[i] == '\0')
		return true;
	size_t q = strncmp(s + i, "alpha", 5) == 0 ? 5 : strncmp(s + i, "beta", 4) == 0 ? 4 : 0;
	if (q == 0 || !is_digit(s[i + q]))
		return false;
	for (i += q; is_digit(s[i]); i++)
		;
	return s[i] == '\0';
}

const char *syntax_api_version(const char *s)
{
	const char *slash = strchr(s, '/');
	bool ok = slash ? is_subdomain_n(s, (size_t)(slash - s)) && is_version(slash + 1) : is_version(s);
	return ok ? NULL : "must be an apiVersion such as \"v1\", \"apps/v1\" or \"cert-manager.io/v1\"";
}

const char *syntax_kind(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || !(s[0] >= 'A' && s[0] <= 'Z') || !all_chars(s, n, is_alnum))
		return "must be a Kubernetes kind: a capitalised name of letters and digits, e.g. \"ConfigMap\"";
	return NULL;
}

static bool is_token_char(char c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

const char *syntax_http_header(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 256 || !all_chars(s, n, is_token_char))
		return "must be an HTTP header name: letters, digits and !#$%&'*+-.^_`|~";
	return NULL;
}

const char *syntax_app_protocol(const char *s)
{
	return syntax_annotation_key(s) ? "must be an application protocol: an IANA service name "
					  "such as \"http\" or \"grpc\", or a prefixed name such as "
					  "\"kubernetes.io/ws\""
					: NULL;
}

const char *syntax_percent(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 4 || s[n - 1] != '%' || !all_chars(s, n - 1, is_digit))
		return "must be a percentage such as \"25%\"";
	return NULL;
}

static bool is_zone_char(char c)
{
	return is_alnum(c) || c == '_' || c == '+' || c == '-';
}

static bool is_zone_part(const char *s, size_t n)
{
	return n > 0 && all_chars(s, n, is_zone_char);
}

const char *syntax_time_zone(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || !(is_alnum(s[0]) && !is_digit(s[0])) || !all_parts(s, n, '/', is_zone_part))
		return "must be an IANA time zone name such as \"Europe/Paris\" or \"UTC\"";
	return NULL;
}

const char *syntax_json_pointer(const char *s)
{
	if (*s && *s != '/')
		return "must be a JSON Pointer such as \"/spec/template/spec/containers/0/args\"";
	for (const char *c = s; *c; c++)
		if (*c == '~' && c[1] != '0' && c[1] != '1')
			return "must be a JSON Pointer: '~' only as \"~0\" (a '~') or \"~1\" (a '/')";
	return strlen(s) > 4096 ? "must be a JSON Pointer of at most 4096 characters" : NULL;
}
