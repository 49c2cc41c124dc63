/* render_ingress: the stack's one Ingress, rules grouped by host and TLS by secret
 * (include/render_ingress.h). At most a few hundred rules: groups are found by looking
 * back over the rules. */
#include "render_ingress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The number of the backend's port that rule names (by name or number). */
static json_int_t backend_port(const struct render *r, const struct rule_view *rule)
{
	const struct service_view *s = docview_find_service(&r->view, rule->service);
	if (!rule->port.str || !s)
		return rule->port.num;
	for (size_t i = 0; i < s->ports.count; i++)
		if (strcmp(s->ports.items[i].name, rule->port.str) == 0)
			return s->ports.items[i].port;
	return 0;
}

static struct node *path_of(struct arena *a, const struct render *r, const struct rule_view *rule)
{
	struct node *port = NODE_MAP(a, {"number", node_int(a, backend_port(r, rule))});
	struct node *backend = NODE_MAP(a, {"service", NODE_MAP(a, {"name", node_str(a, rule->service)}, {"port", port})});
	return NODE_MAP(a, {"path", node_str(a, rule->path)}, {"pathType", node_str(a, rule->path_type)},
			{"backend", backend});
}

static bool has_tls(const struct rule_view *rule)
{
	return rule->tls.enabled && *rule->host;
}

/* Whether a rule before i has the same host (tls false) or TLS secret (tls true). */
static bool seen(const struct rule_view_list *rules, size_t i, bool tls)
{
	const struct rule_view *rule = &rules->items[i];
	for (size_t j = 0; j < i; j++) {
		const struct rule_view *o = &rules->items[j];
		if (tls ? has_tls(o) && strcmp(o->tls.secret_name, rule->tls.secret_name) == 0
			: strcmp(o->host, rule->host) == 0)
			return true;
	}
	return false;
}

/* {host (unless ""), http: {paths}} for each host, in the order hosts first appear. */
static struct node *rules_of(struct arena *a, const struct render *r)
{
	const struct rule_view_list *rules = &r->view.ingress.rules;
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < rules->count; i++) {
		const char *host = rules->items[i].host;
		if (seen(rules, i, false))
			continue;
		struct node *paths = node_seq(a);
		for (size_t j = i; j < rules->count; j++)
			if (strcmp(rules->items[j].host, host) == 0)
				paths = node_push(paths, path_of(a, r, &rules->items[j]));
		struct node *rule = *host ? NODE_MAP(a, {"host", node_str(a, host)}) : node_map(a);
		seq = node_push(seq, node_set(rule, "http", NODE_MAP(a, {"paths", paths})));
	}
	return seq;
}

/* The hosts served with TLS secret, sorted and distinct (names: room for every rule). */
static struct node *tls_hosts(struct arena *a, const struct rule_view_list *rules, const char *secret,
			      const char **names)
{
	size_t n = 0;
	for (size_t i = 0; i < rules->count; i++)
		if (has_tls(&rules->items[i]) && strcmp(rules->items[i].tls.secret_name, secret) == 0)
			names[n++] = rules->items[i].host;
	qsort(names, n, sizeof *names, render_cmp_str);
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
			seq = node_push(seq, node_str(a, names[i]));
	return seq;
}

/* {hosts, secretName} for each TLS secret, in the order secrets first appear. */
static struct node *tls_of(struct arena *a, const struct render *r, const char **names)
{
	const struct rule_view_list *rules = &r->view.ingress.rules;
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < rules->count; i++) {
		const char *secret = rules->items[i].tls.secret_name;
		if (has_tls(&rules->items[i]) && !seen(rules, i, true))
			seq = node_push(seq, NODE_MAP(a, {"hosts", tls_hosts(a, rules, secret, names)},
						      {"secretName", node_str(a, secret)}));
	}
	return seq;
}

int ingress_build(struct arena *a, const struct render *r, struct node *out)
{
	size_t n = r->view.ingress.rules.count;
	const char **names = calloc(n ? n : 1, sizeof *names);
	if (!names)
		return -ENOMEM;
	struct node *spec = NODE_MAP(a, {"ingressClassName", node_str(a, r->view.ingress.class_name)});
	struct node *tls = tls_of(a, r, names);
	free(names);
	if (!tls || tls->v.list.count)
		spec = node_set(spec, "tls", tls);
	spec = node_set(spec, "rules", rules_of(a, r));
	struct node *ing = render_object(a, r, "networking.k8s.io/v1", "Ingress", r->meta.stack,
					 render_labels(a, r, r->meta.stack, "ingress", NULL), r->view.ingress.annotations);
	return render_push(out, node_set(ing, "spec", spec));
}
