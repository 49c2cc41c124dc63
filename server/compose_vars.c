/* compose_vars: docker compose interpolation with no variable set (include/compose_vars.h). */
#include "compose_vars.h"

#include <ctype.h>
#include <string.h>

/* Defaults nested deeper than this are copied as written (a hostile file cannot make
 * the expansion recurse without bound). */
#define MAX_NESTING 16

struct expansion {
	enum compose_vars_mode mode;
	struct buf *out;
	struct compose_vars_info *info;
};

static int expand_range(const struct expansion *x, const char *s, const char *end, int depth);

/* The length of the variable name at s ([A-Za-z_][A-Za-z0-9_]*, before end); 0 for none. */
static size_t name_len(const char *s, const char *end)
{
	size_t n = 0;
	if (s < end && (isalpha((unsigned char)*s) || *s == '_'))
		for (n = 1; s + n < end && (isalnum((unsigned char)s[n]) || s[n] == '_'); n++)
			;
	return n;
}

/* The '}' that closes a "${" whose text starts at s (nested ${...} counted), or NULL. */
static const char *closing(const char *s, const char *end)
{
	int depth = 0;
	for (; s < end; s++) {
		if (*s == '$' && s + 1 < end && (s[1] == '$' || s[1] == '{')) {
			depth += s[1] == '{';
			s++;
		} else if (*s == '}' && depth-- == 0) {
			return s;
		}
	}
	return NULL;
}

/* A variable without a default: written as it is in the file (span), or its name. */
static int unresolved(const struct expansion *x, const char *name, size_t n, const char *span, size_t span_len)
{
	x->info->unresolved++;
	if (x->mode == COMPOSE_VARS_KEEP)
		return buf_append(x->out, span, span_len);
	for (size_t i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)name[i]);
		int r = buf_append(x->out, &c, 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* "${" at p whose '}' is close: appends what it stands for. */
static int braced(const struct expansion *x, const char *p, const char *close, int depth)
{
	const char *name = p + 2;
	size_t n = name_len(name, close);
	const char *op = name + n;
	bool colon = op < close && *op == ':';
	char kind = op + colon < close ? op[colon] : '\0';
	if (n == 0 || (op < close && (!kind || !strchr("-+?", kind) || depth >= MAX_NESTING)))
		return buf_append(x->out, p, (size_t)(close + 1 - p));
	if (op == close || kind == '?')
		return unresolved(x, name, n, p, (size_t)(close + 1 - p));
	x->info->defaults++;
	return kind == '+' ? 0 : expand_range(x, op + colon + 1, close, depth + 1);
}

static int expand_range(const struct expansion *x, const char *s, const char *end, int depth)
{
	int r = 0;
	while (r == 0 && s < end) {
		const char *dollar = memchr(s, '$', (size_t)(end - s));
		if (!dollar)
			return buf_append(x->out, s, (size_t)(end - s));
		r = buf_append(x->out, s, (size_t)(dollar - s));
		const char *close = dollar + 1 < end && dollar[1] == '{' ? closing(dollar + 2, end) : NULL;
		size_t n = name_len(dollar + 1, end);
		if (r < 0) {
			break;
		} else if (close) {
			r = braced(x, dollar, close, depth);
			s = close + 1;
		} else if (n) {
			r = unresolved(x, dollar + 1, n, dollar, n + 1);
			s = dollar + 1 + n;
		} else {
			size_t lit = dollar + 1 < end && dollar[1] == '$' ? 2 : 1;
			r = buf_append(x->out, dollar, lit);
			s = dollar + lit;
		}
	}
	return r;
}

int compose_vars_expand(const char *s, enum compose_vars_mode mode, struct buf *out,
			struct compose_vars_info *info)
{
	*info = (struct compose_vars_info){0};
	const struct expansion x = {mode, out, info};
	return expand_range(&x, s, s + strlen(s), 0);
}
