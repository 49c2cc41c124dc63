/* cmd_schema: `manifestd schema` prints the JSON Schema of documents (what GET
 * /api/v1/schema serves, for editors without a server), or with --markdown the field
 * reference of docs/schema.md, both from server/schema.json. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "schema.h"

static const char usage[] =
	"usage: manifestd schema [--markdown]\n"
	"\n"
	"Prints the JSON Schema (draft 2020-12) of stack and environment documents, or with\n"
	"--markdown the field reference of docs/schema.md (tests/regen-docs puts it there).\n";

/* The sections already written (a view is described once, where it first appears). */
struct md {
	struct buf out;
	const char *done[128];
	size_t ndone;
};

static bool described(struct md *m, const char *view)
{
	for (size_t i = 0; i < m->ndone; i++)
		if (strcmp(m->done[i], view) == 0)
			return true;
	return false;
}

/* The object node a property leads to (itself, or its map's values / array's items). */
static const struct schema_node *section_of(const struct schema_node *n)
{
	const struct schema_node *in = n->type == SCHEMA_MAP ? n->values : n->type == SCHEMA_ARRAY ? n->items : n;
	return in && in->type == SCHEMA_OBJECT && in->view ? in : NULL;
}

static int put_format(struct buf *b, const struct schema_node *n)
{
	if (n->enums) {
		int r = 0;
		for (size_t i = 0; r == 0 && i < n->nenums; i++)
			r = BUF_PUTS(b, i ? ", " : "", "`\"", n->enums[i], "\"`");
		return r;
	}
	if (!n->format)
		return 0;
	return BUF_PUTS(b, n->format->text, n->empty_ok ? ", or `\"\"`" : "");
}

static int put_title(struct buf *b, const char *view);

/* "[title](#title)" after lead. */
static int put_link(struct buf *b, const char *lead, const char *view)
{
	int r = BUF_PUTS(b, lead, "[");
	if (r == 0 && view)
		r = put_title(b, view);
	if (r == 0)
		r = buf_puts(b, "](#");
	if (r == 0 && view)
		r = put_title(b, view);
	return r ? r : buf_puts(b, ")");
}

/* The type column: what values the field takes. */
static int put_type(struct buf *b, const struct schema_node *n);

static int put_type(struct buf *b, const struct schema_node *n)
{
	const struct schema_node *sec = section_of(n);
	switch (n->type) {
	case SCHEMA_STRING:
		return n->format || n->enums ? put_format(b, n) : buf_puts(b, "string");
	case SCHEMA_INTEGER:
		return n->min != LLONG_MIN ? buf_printf(b, "integer %lld-%lld", n->min, n->max) : buf_puts(b, "integer");
	case SCHEMA_BOOLEAN:
		return buf_puts(b, "boolean");
	case SCHEMA_SCALAR:
	case SCHEMA_SECRET:
		return buf_puts(b, "string (integers and booleans become text)");
	case SCHEMA_INT_OR_STRING:
		return buf_printf(b, "integer %lld-%lld or %s", n->min, n->max, n->format ? n->format->text : "string");
	case SCHEMA_OBJECT:
		return put_link(b, "object: ", n->view);
	case SCHEMA_MAP: {
		int r = BUF_PUTS(b, "object: name (", n->key_format->text, ") -> ");
		return r ? r : sec ? put_link(b, "", sec->view) : put_type(b, n->values);
	}
	case SCHEMA_ARRAY:
		if (sec)
			return put_link(b, "array of ", sec->view);
		return BUF_PUTS(b, "array of ", n->items->format ? n->items->format->text : "strings");
	case SCHEMA_RAW:
		return buf_puts(b, "object (as in Kubernetes)");
	case SCHEMA_ANY:
		return buf_puts(b, "any JSON value");
	}
	return 0;
}

static int put_default(struct buf *b, const struct schema_node *n)
{
	if (n->default_text)
		return buf_puts(b, n->default_text);
	if (n->default_from)
		return BUF_PUTS(b, n->default_from[0] == '/' ? "`" : "its `", n->default_from, "`");
	if (n->required)
		return buf_puts(b, "**required**");
	if (!n->def)
		return buf_puts(b, n->nullable ? "`null`" : "");
	char *text = json_dumps(n->def, JSON_ENCODE_ANY | JSON_COMPACT);
	int r = text ? BUF_PUTS(b, "`", text, "`") : -1;
	free(text);
	return r;
}

/* A table cell: | characters escaped. */
static int put_cell(struct buf *b, const char *text)
{
	int r = 0;
	for (const char *c = text; r == 0 && *c; c++)
		r = *c == '|' ? buf_puts(b, "\\|") : buf_append(b, c, 1);
	return r;
}

static int put_row(struct buf *b, const struct schema_prop *p)
{
	struct buf type, def;
	buf_init(&type, BUF_NO_MAX);
	buf_init(&def, BUF_NO_MAX);
	int r = put_type(&type, p->node);
	if (r == 0)
		r = put_default(&def, p->node);
	if (r == 0)
		r = BUF_PUTS(b, "| `", p->name, "` | ");
	if (r == 0)
		r = put_cell(b, buf_cstr(&type));
	if (r == 0)
		r = buf_puts(b, " | ");
	if (r == 0)
		r = put_cell(b, buf_cstr(&def));
	if (r == 0)
		r = buf_puts(b, " | ");
	if (r == 0)
		r = put_cell(b, p->node->description ? p->node->description : "");
	buf_release(&type);
	buf_release(&def);
	return r ? r : buf_puts(b, " |\n");
}

/* The name of a section: the view's name without "_view" (its anchor too). */
static int put_title(struct buf *b, const char *view)
{
	size_t n = strlen(view);
	if (strcmp(view, "doc_view") == 0)
		return buf_puts(b, "document");
	return buf_append(b, view, n > 5 && strcmp(view + n - 5, "_view") == 0 ? n - 5 : n);
}

static int put_section(struct md *m, const struct schema_node *n)
{
	if (described(m, n->view) || m->ndone == sizeof m->done / sizeof *m->done)
		return 0;
	m->done[m->ndone++] = n->view;
	int r = buf_puts(&m->out, "\n### ");
	if (r == 0)
		r = put_title(&m->out, n->view);
	if (r == 0)
		r = buf_puts(&m->out, "\n\n");
	if (r == 0 && n->description)
		r = BUF_PUTS(&m->out, n->description, ".\n\n");
	if (r == 0 && n->one_of) {
		r = buf_puts(&m->out, n->exactly_one ? "Exactly one of " : "At most one of ");
		for (size_t i = 0; r == 0 && i < n->none_of; i++)
			r = BUF_PUTS(&m->out, i ? ", " : "", "`", n->one_of[i], "`");
		if (r == 0)
			r = buf_puts(&m->out, ".\n\n");
	}
	if (r == 0)
		r = buf_puts(&m->out, "| field | type | default | meaning |\n|---|---|---|---|\n");
	for (size_t i = 0; r == 0 && i < n->nprops; i++)
		r = put_row(&m->out, &n->props[i]);
	for (size_t i = 0; r == 0 && i < n->nprops; i++) {
		const struct schema_node *sec = section_of(n->props[i].node);
		if (sec && !n->props[i].node->input_only)
			r = put_section(m, sec);
	}
	return r;
}

int cmd_schema(int argc, char **argv)
{
	bool markdown = argc == 2 && strcmp(argv[1], "--markdown") == 0;
	if (argc > 2 || (argc == 2 && !markdown)) {
		fputs(usage, argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? stdout : stderr);
		return argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? 0 : 2;
	}
	const struct schema_node *doc = schema_document();
	const json_t *js = doc ? schema_json_schema() : NULL;
	if (!js)
		return 1;
	if (!markdown)
		return json_dumpf(js, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 && puts("") >= 0 ? 0 : 1;
	struct md m = {.ndone = 0};
	buf_init(&m.out, BUF_NO_MAX);
	int r = put_section(&m, doc);
	if (r == 0)
		r = fputs(buf_cstr(&m.out), stdout) < 0 ? -1 : 0;
	buf_release(&m.out);
	return r == 0 ? 0 : 1;
}
