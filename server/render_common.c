/* render_common: the pieces every rendered object shares (labels, the object header) and
 * the small node helpers of render's builder modules (include/render_common.h). */
#include "render_common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsoniter.h"

int render_push(struct node *seq, struct node *val)
{
	return node_push(seq, val) ? 0 : -ENOMEM;
}

struct node *render_replace(struct node *map, const char *key, struct node *val)
{
	if (!map || !val || map->kind != NODE_MAP)
		return NULL;
	for (struct node_item *it = map->v.list.first; it; it = it->next)
		if (strcmp(it->key, key) == 0) {
			it->val = val;
			return map;
		}
	return node_set(map, key, val);
}

struct node *render_map_with(struct arena *a, struct node *base, const json_t *extra)
{
	if (!base || json_object_size(extra) == 0)
		return base;
	struct node *m = node_map(a);
	for (const struct node_item *it = base->v.list.first; it; it = it->next)
		m = node_setn(m, it->key, it->key_len, it->val);
	const char *key;
	json_t *v;
	EACH_MEMBER(extra, key, v) {
		if (!node_get(base, key))
			m = node_setn(m, key, MEMBER_KEY_LEN(), node_strn(a, json_string_value(v), json_string_length(v)));
	}
	return m;
}

/* A Kubernetes label value: <= 63 of [A-Za-z0-9_.-], alphanumeric at both ends. */
static bool is_label_value(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && ((i == 0 || i == n - 1) || !strchr("-_.", c)))
			return false;
	}
	return true;
}

const char *render_label_version(const char *tag)
{
	return tag && is_label_value(tag) ? tag : NULL;
}

struct node *render_labels(struct arena *a, const struct render *r, const char *name, const char *component,
			   const char *version)
{
	struct node *l = NODE_MAP(a, {"app.kubernetes.io/name", node_str(a, name)},
				  {"app.kubernetes.io/instance", node_str(a, r->instance)});
	if (version)
		l = node_set(l, "app.kubernetes.io/version", node_str(a, version));
	if (component)
		l = node_set(l, "app.kubernetes.io/component", node_str(a, component));
	l = node_set(l, "app.kubernetes.io/part-of", node_str(a, r->meta.stack));
	l = node_set(l, "app.kubernetes.io/managed-by", node_str(a, RENDER_MANAGED_BY));
	l = node_set(l, "manifestd.io/stack", node_str(a, r->meta.stack));
	return node_set(l, "manifestd.io/environment", node_str(a, r->meta.environment));
}

struct node *render_selector(struct arena *a, const struct render *r, const char *name)
{
	return NODE_MAP(a, {"app.kubernetes.io/name", node_str(a, name)},
			{"app.kubernetes.io/instance", node_str(a, r->instance)});
}

struct render_workload render_workload(struct arena *a, const struct render *r, const char *name,
				       const char *component, const char *version, const json_t *extra,
				       const json_t *pod_extra)
{
	struct node *labels = render_map_with(a, render_labels(a, r, name, component, version), extra);
	return (struct render_workload){name, labels, render_selector(a, r, name),
					render_map_with(a, labels, pod_extra)};
}

struct node *render_object(struct arena *a, const struct render *r, const char *api, const char *kind,
			   const char *name, struct node *labels, const json_t *annotations)
{
	struct node *meta = NODE_MAP(a, {"name", node_str(a, name)});
	if (strcmp(kind, "Namespace") != 0)
		meta = node_set(meta, "namespace", node_str(a, r->view.namespace));
	meta = node_set(meta, "labels", labels);
	if (json_object_size(annotations) > 0)
		meta = node_set(meta, "annotations", node_from_json(a, annotations));
	return NODE_MAP(a, {"apiVersion", node_str(a, api)}, {"kind", node_str(a, kind)}, {"metadata", meta});
}

struct node *render_seccomp(struct arena *a)
{
	return NODE_MAP(a, {"type", node_str(a, "RuntimeDefault")});
}

struct node *render_set_items(struct node *map, const char *key, struct node *seq)
{
	if (!seq)
		return NULL;
	return seq->v.list.count ? node_set(map, key, seq) : map;
}

struct node *render_cpu_memory(struct arena *a, const char *cpu, const char *memory)
{
	return NODE_MAP(a, {"cpu", node_str(a, cpu)}, {"memory", node_str(a, memory)});
}

struct node *render_resources(struct arena *a, const struct resources_view *res)
{
	return NODE_MAP(a, {"requests", render_cpu_memory(a, res->requests.cpu, res->requests.memory)},
			{"limits", render_cpu_memory(a, res->limits.cpu, res->limits.memory)});
}

struct node *render_strings(struct arena *a, const json_t *array)
{
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < json_array_size(array); i++) {
		const json_t *s = json_array_get(array, i);
		seq = node_push(seq, node_strn(a, json_string_value(s), json_string_length(s)));
	}
	return seq;
}

int render_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int render_sorted_keys(const json_t *obj, const char ***ret_keys, size_t *ret_n)
{
	size_t n = json_object_size(obj), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof *keys);
	if (!keys)
		return -ENOMEM;
	const char *key;
	json_t *v;
	EACH_MEMBER(obj, key, v) {
		(void)v;
		keys[i++] = key;
	}
	qsort(keys, n, sizeof *keys, render_cmp_str);
	*ret_keys = keys;
	*ret_n = n;
	return 0;
}

char *render_concat(const char *a, const char *b, const char *c)
{
	struct buf s;
	buf_init(&s, BUF_NO_MAX);
	if (BUF_PUTS(&s, a, b, c) < 0) {
		buf_release(&s);
		return NULL;
	}
	char *text = buf_detach(&s, NULL);
	buf_release(&s);
	return text;
}
