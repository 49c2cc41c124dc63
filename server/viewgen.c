/* viewgen: build-time tool. Writes the typed views of the resolved document (docview)
 * from server/schema.json, so that the shape render reads is declared only there:
 *   viewgen SCHEMA.json OUT_TYPES.h OUT_FIELDS.inc
 * OUT_TYPES.h declares one struct per "view" name of schema.json (plus a _list struct for
 * views that are map values or array items); OUT_FIELDS.inc defines, for docview.c, the
 * table of each struct's members (key, kind, offset) docview_read walks.
 *
 * C types by schema type: string, scalar, secret -> const char *; integer -> json_int_t
 * (a nullable one -> struct opt_int); boolean -> bool (a nullable one -> struct opt_bool); intOrString -> struct int_or_string;
 * object -> struct VIEW (a pointer when nullable or one of a oneOf); a map or array of
 * objects -> struct VIEW_list; any other map (of strings, checked so), array, raw or
 * any -> const json_t *.
 * Properties marked inputOnly are not in the views (model_resolve folds them away). */
#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gen {
	const json_t *defs;
	json_t *done;  /* view names already written */
	json_t *lists; /* view names that need a _list */
	FILE *types, *fields;
	int failed;
};

static void fail(struct gen *g, const char *what, const char *name)
{
	fprintf(stderr, "viewgen: %s: %s\n", what, name);
	g->failed = 1;
}

/* The def a node refers to, or the node itself. */
static const json_t *target(const struct gen *g, const json_t *desc)
{
	const char *ref = json_string_value(json_object_get(desc, "$ref"));
	const json_t *def = ref ? json_object_get(g->defs, ref) : NULL;
	return def ? target(g, def) : desc;
}

/* A member of desc, looked for in desc and then in the def it refers to. */
static const json_t *attr(const struct gen *g, const json_t *desc, const char *key)
{
	const json_t *v = json_object_get(desc, key);
	if (v)
		return v;
	const char *ref = json_string_value(json_object_get(desc, "$ref"));
	const json_t *def = ref ? json_object_get(g->defs, ref) : NULL;
	return def ? attr(g, def, key) : NULL;
}

static const char *type_of(const struct gen *g, const json_t *desc)
{
	const char *t = json_string_value(attr(g, desc, "type"));
	return t ? t : "";
}

static bool is_object_type(const struct gen *g, const json_t *desc)
{
	return strcmp(type_of(g, desc), "object") == 0;
}

/* The values (map) or items (array) node, or NULL. */
static const json_t *inner(const struct gen *g, const json_t *desc)
{
	const json_t *v = attr(g, desc, "values");
	return v ? v : attr(g, desc, "items");
}

static const char *view_of(struct gen *g, const json_t *desc, const char *prop)
{
	const char *v = json_string_value(attr(g, desc, "view"));
	if (!v)
		fail(g, "an object has no view name", prop);
	return v ? v : "invalid";
}

/* camelCase -> snake_case ("targetCPUUtilization" -> "target_cpu_utilization"). */
static void c_name(const char *name, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; name[i] && o + 2 < cap; i++) {
		bool upper = isupper((unsigned char)name[i]);
		bool prev_lower = i > 0 && !isupper((unsigned char)name[i - 1]);
		bool next_lower = name[i + 1] && islower((unsigned char)name[i + 1]);
		if (upper && i > 0 && (prev_lower || next_lower))
			out[o++] = '_';
		out[o++] = (char)tolower((unsigned char)name[i]);
	}
	out[o] = '\0';
}

static bool listed(const json_t *list, const char *name)
{
	for (size_t i = 0; i < json_array_size(list); i++)
		if (strcmp(json_string_value(json_array_get(list, i)), name) == 0)
			return true;
	return false;
}

/* What docview_read does with one member. */
enum kind { STR, INT, OPT_INT, BOOL, OPT_BOOL, IOS, OBJ, OBJ_PTR, LIST, ARRAY, STRMAP, JSON };

static const char *const kind_names[] = {"VF_STR", "VF_INT", "VF_OPT_INT", "VF_BOOL", "VF_OPT_BOOL",
					 "VF_IOS", "VF_OBJ", "VF_OBJ_PTR", "VF_LIST", "VF_ARRAY", "VF_STRMAP", "VF_JSON"};

/* The kind of property prop of an object whose oneOf/atMostOneOf lists are alts. */
static enum kind kind_of(const struct gen *g, const json_t *prop, bool alternative)
{
	const char *t = type_of(g, prop);
	bool nullable = json_is_true(attr(g, prop, "nullable"));
	if (!strcmp(t, "string") || !strcmp(t, "scalar") || !strcmp(t, "secret"))
		return STR;
	if (!strcmp(t, "integer"))
		return nullable ? OPT_INT : INT;
	if (!strcmp(t, "boolean"))
		return nullable ? OPT_BOOL : BOOL;
	if (!strcmp(t, "intOrString"))
		return IOS;
	if (!strcmp(t, "object"))
		return nullable || alternative ? OBJ_PTR : OBJ;
	if ((!strcmp(t, "map") || !strcmp(t, "array")) && is_object_type(g, inner(g, prop)))
		return !strcmp(t, "map") ? LIST : ARRAY;
	const char *it = !strcmp(t, "map") ? type_of(g, inner(g, prop)) : "";
	return !strcmp(it, "string") || !strcmp(it, "scalar") || !strcmp(it, "secret") ? STRMAP : JSON;
}

/* A property may be missing from the resolved document. */
static bool optional(const struct gen *g, const json_t *prop, bool alternative, enum kind k)
{
	if (alternative)
		return true;
	if (k == OBJ || json_is_true(attr(g, prop, "nullable")) || json_is_true(attr(g, prop, "required")) || attr(g, prop, "default") ||
	    attr(g, prop, "defaultFrom"))
		return false;
	return k != LIST; /* maps default to {} */
}

static void gen_view(struct gen *g, const json_t *desc, const char *view);

/* The C declaration of one member. */
static void gen_member(struct gen *g, const json_t *prop, const char *cname, enum kind k)
{
	const json_t *in = inner(g, prop);
	switch (k) {
	case STR:
		fprintf(g->types, "\tconst char *%s;\n", cname);
		break;
	case INT:
		fprintf(g->types, "\tjson_int_t %s;\n", cname);
		break;
	case OPT_INT:
		fprintf(g->types, "\tstruct opt_int %s;\n", cname);
		break;
	case BOOL:
		fprintf(g->types, "\tbool %s;\n", cname);
		break;
	case OPT_BOOL:
		fprintf(g->types, "\tstruct opt_bool %s;\n", cname);
		break;
	case IOS:
		fprintf(g->types, "\tstruct int_or_string %s;\n", cname);
		break;
	case OBJ:
		fprintf(g->types, "\tstruct %s %s;\n", view_of(g, prop, cname), cname);
		break;
	case OBJ_PTR:
		fprintf(g->types, "\tconst struct %s *%s;\n", view_of(g, prop, cname), cname);
		break;
	case LIST:
	case ARRAY:
		fprintf(g->types, "\tstruct %s_list %s;\n", view_of(g, in, cname), cname);
		break;
	case STRMAP:
	case JSON:
		fprintf(g->types, "\tconst json_t *%s;\n", cname);
		break;
	}
}

/* The views a view's members use are written first. */
static void gen_dependencies(struct gen *g, const json_t *props)
{
	const char *name;
	json_t *prop;
	json_object_foreach((json_t *)props, name, prop) {
		if (json_is_true(attr(g, prop, "inputOnly")))
			continue;
		const json_t *in = inner(g, prop);
		if (is_object_type(g, prop))
			gen_view(g, target(g, prop), view_of(g, prop, name));
		else if (in && is_object_type(g, in)) {
			json_object_set_new(g->lists, view_of(g, in, name), json_true());
			gen_view(g, target(g, in), view_of(g, in, name));
		}
	}
}

static void gen_fields(struct gen *g, const json_t *desc, const char *view)
{
	const json_t *props = attr(g, desc, "properties");
	const json_t *one = attr(g, desc, "oneOf"), *most = attr(g, desc, "atMostOneOf");
	const char *name;
	json_t *prop;
	char cname[128];
	fprintf(g->fields, "static const struct view_field %s_fields[] = {\n", view);
	json_object_foreach((json_t *)props, name, prop) {
		if (json_is_true(attr(g, prop, "inputOnly")))
			continue;
		bool alt = listed(one, name) || listed(most, name);
		enum kind k = kind_of(g, prop, alt);
		const char *sub = k == OBJ || k == OBJ_PTR ? view_of(g, prop, name)
				  : k == LIST || k == ARRAY ? view_of(g, inner(g, prop), name)
							   : NULL;
		c_name(name, cname, sizeof cname);
		fprintf(g->fields, "\t{\"%s\", %zu, %s, %s, %s, offsetof(struct %s, %s), ", name, strlen(name),
			kind_names[k], optional(g, prop, alt, k) ? "true" : "false",
			json_is_true(attr(g, prop, "nullable")) ? "true" : "false", view, cname);
		if (sub)
			fprintf(g->fields, "%s_fields, sizeof %s_fields / sizeof *%s_fields, sizeof(struct %s)},\n",
				sub, sub, sub, sub);
		else
			fprintf(g->fields, "NULL, 0, 0},\n");
	}
	fprintf(g->fields, "};\n\n");
}

static void gen_view(struct gen *g, const json_t *desc, const char *view)
{
	if (json_object_get(g->done, view))
		return;
	json_object_set_new(g->done, view, json_true());
	const json_t *props = attr(g, desc, "properties");
	const json_t *one = attr(g, desc, "oneOf"), *most = attr(g, desc, "atMostOneOf");
	gen_dependencies(g, props);
	const char *name;
	json_t *prop;
	char cname[128];
	bool has_name = json_object_get(props, "name") != NULL;
	if (has_name && json_object_get(g->lists, view))
		fail(g, "a map value or array item has a property called name", view);
	fprintf(g->types, "struct %s {\n", view);
	if (!has_name)
		fprintf(g->types, "\tconst char *name; /* its key, when it is a map's value */\n");
	json_object_foreach((json_t *)props, name, prop) {
		if (json_is_true(attr(g, prop, "inputOnly")))
			continue;
		c_name(name, cname, sizeof cname);
		gen_member(g, prop, cname, kind_of(g, prop, listed(one, name) || listed(most, name)));
	}
	fprintf(g->types, "};\n\n");
	gen_fields(g, desc, view);
}

static const char types_head[] =
	"/* Generated from server/schema.json by server/viewgen.c: do not edit. */\n"
	"#ifndef MANIFESTD_DOCVIEW_TYPES_H\n#define MANIFESTD_DOCVIEW_TYPES_H\n\n"
	"#include <jansson.h>\n#include <stdbool.h>\n#include <stddef.h>\n\n"
	"/* An integer that may be null (set false). */\n"
	"struct opt_int {\n\tbool set;\n\tjson_int_t value;\n};\n\n"
	"/* A boolean that may be null (set false). */\n"
	"struct opt_bool {\n\tbool set;\n\tbool value;\n};\n\n"
	"/* An integer or a string: str is NULL for an integer. */\n"
	"struct int_or_string {\n\tconst char *str;\n\tjson_int_t num;\n};\n\n";

/* Every _list struct is declared before the views, which use them by value. */
static void gen_lists(struct gen *g, FILE *out)
{
	const char *view;
	json_t *v;
	json_object_foreach(g->lists, view, v) {
		(void)v;
		fprintf(out, "struct %s;\nstruct %s_list {\n\tsize_t count;\n\tstruct %s *items; /* NULL when "
			     "count is 0 */\n\tbool present; /* false: the member was absent */\n};\n\n",
			view, view, view);
	}
}

/* The lists are found while writing the views: write them to memory first. */
static int generate(const json_t *schema, FILE *types, FILE *fields)
{
	char *body = NULL;
	size_t body_len = 0;
	FILE *mem = open_memstream(&body, &body_len);
	struct gen g = {.defs = json_object_get(schema, "defs"), .done = json_object(), .lists = json_object(),
			.types = mem, .fields = fields};
	if (!mem || !g.done || !g.lists)
		return 1;
	fprintf(fields, "/* Generated from server/schema.json by server/viewgen.c: do not edit. */\n\n");
	gen_view(&g, json_object_get(schema, "document"), "doc_view");
	fclose(mem);
	fputs(types_head, types);
	gen_lists(&g, types);
	fwrite(body, 1, body_len, types);
	fputs("#endif\n", types);
	free(body);
	json_decref(g.done);
	json_decref(g.lists);
	return g.failed;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: viewgen SCHEMA.json OUT_TYPES.h OUT_FIELDS.inc\n");
		return 2;
	}
	json_error_t err;
	json_t *schema = json_load_file(argv[1], 0, &err);
	if (!schema) {
		fprintf(stderr, "viewgen: %s:%d: %s\n", argv[1], err.line, err.text);
		return 1;
	}
	FILE *types = fopen(argv[2], "w"), *fields = fopen(argv[3], "w");
	int r = types && fields ? generate(schema, types, fields) : 1;
	if ((types && fclose(types) != 0) || (fields && fclose(fields) != 0))
		r = 1;
	json_decref(schema);
	if (r)
		fprintf(stderr, "viewgen: cannot write the views\n");
	return r;
}
