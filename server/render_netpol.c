/* render_netpol: NetworkPolicies from what each workload of the document uses
 * (include/render_netpol.h). */
#include "render_netpol.h"

#include <errno.h>
#include <string.h>

#include "jsoniter.h"

/* A port of a workload's pods, by name. */
struct np_port {
	const char *name, *protocol;
};

/* A workload traffic may reach or come from: its name (the selector's) and its ports. */
struct np_end {
	const char *name;
	struct np_port *ports;
	size_t nports;
	const struct render_service *svc; /* NULL for the infrastructure (render_infra) */
};

struct np {
	struct arena *a;
	const struct render *r;
	struct np_end *ends;
	size_t n;
	bool *uses; /* n x n: uses[i * n + j] when i reaches j */
};

/* ---- who uses whom ------------------------------------------------------------------- */

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Whether text names host: a word of [a-z0-9.-] characters that is host, or starts with
 * host and a '.'. */
static bool names_host(const char *text, const char *host)
{
	size_t hl = strlen(host);
	for (const char *s = text; s && *s;) {
		while (*s && !host_char(*s))
			s++;
		const char *w = s;
		while (*s && host_char(*s))
			s++;
		size_t wl = (size_t)(s - w);
		if (wl >= hl && memcmp(w, host, hl) == 0 && (wl == hl || w[hl] == '.'))
			return true;
	}
	return false;
}

static const char *config_value(const struct render *r, const char *key)
{
	return json_string_value(json_object_get(r->view.config, key));
}

static bool env_names(const struct render *r, const struct env_view_list *env, const char *host)
{
	for (size_t i = 0; i < env->count; i++) {
		const struct env_view *e = &env->items[i];
		if (names_host(e->value, host) || (e->config && !e->from && names_host(config_value(r, e->config), host)))
			return true;
	}
	return false;
}

/* Whether envFrom takes the stack's ConfigMap, and one of its values names host. */
static bool env_from_names(const struct render *r, const struct env_from_view_list *from, const char *host)
{
	const char *key;
	json_t *v;
	for (size_t i = 0; i < from->count; i++) {
		if (!from->items[i].config_map || strcmp(from->items[i].config_map, r->config_name) != 0)
			continue;
		EACH_MEMBER(r->view.config, key, v) {
			if (names_host(json_string_value(v), host))
				return true;
		}
	}
	return false;
}

static bool array_names(const json_t *arr, const char *host)
{
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (names_host(json_string_value(json_array_get(arr, i)), host))
			return true;
	return false;
}

static bool files_name(const struct render *r, const struct service_view *s, const char *host)
{
	for (size_t i = 0; i < s->volumes.count; i++)
		for (size_t f = 0; f < s->volumes.items[i].files.count; f++) {
			const struct file_view *file = &s->volumes.items[i].files.items[f];
			if (names_host(file->content, host) || (file->config && names_host(config_value(r, file->config), host)))
				return true;
		}
	return false;
}

static bool container_names(const struct render *r, const struct container_view *c, const char *host)
{
	return env_names(r, &c->env, host) || env_from_names(r, &c->env_from, host) || array_names(c->command, host) ||
	       array_names(c->args, host);
}

/* Whether service s reads a value that names host (see render_netpol.h). */
static bool service_names(const struct render *r, const struct service_view *s, const char *host)
{
	if (env_names(r, &s->env, host) || env_from_names(r, &s->env_from, host) || array_names(s->command, host) ||
	    array_names(s->args, host) || files_name(r, s, host))
		return true;
	for (size_t i = 0; i < s->init_containers.count; i++)
		if (container_names(r, &s->init_containers.items[i], host))
			return true;
	for (size_t i = 0; i < s->sidecars.count; i++)
		if (container_names(r, &s->sidecars.items[i], host))
			return true;
	return (s->database && strcmp(host, "mysql") == 0) || (s->broker && strcmp(host, "rabbitmq") == 0);
}

/* Whether end i reaches end j. */
static bool uses(const struct np *np, size_t i, size_t j)
{
	const struct np_end *from = &np->ends[i], *to = &np->ends[j];
	if (i == j || to->nports == 0)
		return false;
	if (from->svc)
		return service_names(np->r, from->svc->v, to->name);
	return strcmp(from->name, "mysql-init") == 0 && strcmp(to->name, "mysql") == 0;
}

/* ---- the workloads ---------------------------------------------------------------------- */

static void add_ports(struct np_end *e, const struct port_view_list *ports)
{
	for (size_t i = 0; i < ports->count; i++)
		e->ports[e->nports++] = (struct np_port){ports->items[i].name, ports->items[i].protocol};
}

static int add_service(struct np *np, const struct render_service *rs)
{
	const struct service_view *s = rs->v;
	size_t n = s->ports.count;
	for (size_t i = 0; i < s->sidecars.count; i++)
		n += s->sidecars.items[i].ports.count;
	struct np_end *e = &np->ends[np->n++];
	*e = (struct np_end){s->name, arena_alloc(np->a, (n ? n : 1) * sizeof *e->ports), 0, rs};
	if (!e->ports)
		return -ENOMEM;
	add_ports(e, &s->ports);
	for (size_t i = 0; i < s->sidecars.count; i++)
		add_ports(e, &s->sidecars.items[i].ports);
	return 0;
}

/* The infrastructure of render_infra, with the ports of its pods. */
static void add_infra(struct np *np)
{
	static struct np_port mysql[] = {{"mysql", "TCP"}};
	static struct np_port rabbitmq[] = {{"amqp", "TCP"}, {"management", "TCP"}};
	static struct np_port zipkin[] = {{"http", "TCP"}};
	const struct doc_view *v = &np->r->view;
	if (v->mysql.enabled) {
		np->ends[np->n++] = (struct np_end){"mysql", mysql, 1, NULL};
		np->ends[np->n++] = (struct np_end){"mysql-init", NULL, 0, NULL};
	}
	if (v->rabbitmq.enabled)
		np->ends[np->n++] = (struct np_end){"rabbitmq", rabbitmq, 2, NULL};
	if (v->zipkin.enabled)
		np->ends[np->n++] = (struct np_end){"zipkin", zipkin, 1, NULL};
}

static int np_init(struct np *np, struct arena *a, const struct render *r)
{
	size_t max = r->nservices + 4;
	*np = (struct np){a, r, arena_alloc(a, max * sizeof *np->ends), 0, NULL};
	if (!np->ends)
		return -ENOMEM;
	for (size_t i = 0; i < r->nservices; i++)
		if (add_service(np, &r->services[i]) < 0)
			return -ENOMEM;
	add_infra(np);
	np->uses = arena_alloc(a, np->n * np->n * sizeof *np->uses + 1);
	if (!np->uses)
		return -ENOMEM;
	for (size_t i = 0; i < np->n; i++)
		for (size_t j = 0; j < np->n; j++)
			np->uses[i * np->n + j] = uses(np, i, j);
	return 0;
}

/* ---- the objects -------------------------------------------------------------------------- */

/* A NetworkPolicy for the pods of selector, of the policyTypes types, with the rules
 * (a NODE_SEQ) under key when key is not NULL. */
static struct node *policy(struct arena *a, const struct render *r, const char *name, struct node *selector,
			   struct node *types, const char *key, struct node *rules)
{
	struct node *spec = NODE_MAP(a, {"podSelector", NODE_MAP(a, {"matchLabels", selector})}, {"policyTypes", types});
	if (key)
		spec = node_set(spec, key, rules);
	struct node *labels = render_labels(a, r, r->meta.stack, "network", NULL);
	return node_set(render_object(a, r, "networking.k8s.io/v1", "NetworkPolicy", name, labels, NULL), "spec", spec);
}

/* The pods of the environment: every object render makes carries these labels. */
static struct node *environment_pods(struct arena *a, const struct render *r)
{
	return NODE_MAP(a, {"manifestd.io/stack", node_str(a, r->meta.stack)},
			{"manifestd.io/environment", node_str(a, r->meta.environment)});
}

static struct node *default_deny(struct arena *a, const struct render *r)
{
	return policy(a, r, RENDER_PRINTF(a, "%s-default-deny", r->meta.stack), environment_pods(a, r),
		      NODE_SEQ(a, node_str(a, "Ingress"), node_str(a, "Egress")), NULL, NULL);
}

static struct node *dns(struct arena *a, const struct render *r)
{
	struct node *to = NODE_MAP(
		a, {"namespaceSelector", NODE_MAP(a, {"matchLabels", NODE_MAP(a, {"kubernetes.io/metadata.name",
									     node_str(a, "kube-system")})})},
		{"podSelector", NODE_MAP(a, {"matchLabels", NODE_MAP(a, {"k8s-app", node_str(a, "kube-dns")})})});
	struct node *ports = NODE_SEQ(a, NODE_MAP(a, {"protocol", node_str(a, "UDP")}, {"port", node_int(a, 53)}),
				      NODE_MAP(a, {"protocol", node_str(a, "TCP")}, {"port", node_int(a, 53)}));
	return policy(a, r, RENDER_PRINTF(a, "%s-dns", r->meta.stack), environment_pods(a, r),
		      NODE_SEQ(a, node_str(a, "Egress")), "egress",
		      NODE_SEQ(a, NODE_MAP(a, {"to", NODE_SEQ(a, to)}, {"ports", ports})));
}

static struct node *port_list(struct arena *a, const struct np_port *ports, size_t n)
{
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < n; i++)
		seq = node_push(seq, NODE_MAP(a, {"protocol", node_str(a, ports[i].protocol)},
					      {"port", node_str(a, ports[i].name)}));
	return seq;
}

/* The ports of end e the ingress rules send traffic to (a rule's port by name, or the
 * port whose Service port is the rule's number), copied into out (room for e->nports);
 * returns how many. */
static size_t entry_ports(const struct render *r, const struct np_end *e, struct np_port *out)
{
	size_t n = 0;
	const struct rule_view_list *rules = &r->view.ingress.rules;
	if (!r->view.ingress.enabled || !e->svc)
		return 0;
	for (size_t k = 0; k < e->nports; k++)
		for (size_t i = 0; i < rules->count; i++) {
			const struct rule_view *ru = &rules->items[i];
			const struct port_view_list *sp = &e->svc->v->ports;
			bool by_number = false;
			for (size_t q = 0; !ru->port.str && q < sp->count; q++)
				by_number |= sp->items[q].port == ru->port.num && strcmp(sp->items[q].name, e->ports[k].name) == 0;
			if (strcmp(ru->service, e->name) == 0 &&
			    ((ru->port.str && strcmp(ru->port.str, e->ports[k].name) == 0) || by_number)) {
				out[n++] = e->ports[k];
				break;
			}
		}
	return n;
}

static struct node *controller_peer(struct arena *a, const struct render *r)
{
	const struct netpol_view *v = &r->view.network_policies;
	return NODE_MAP(a, {"namespaceSelector", NODE_MAP(a, {"matchLabels", NODE_MAP(a, {"kubernetes.io/metadata.name",
										     node_str(a, v->ingress_namespace)})})},
			{"podSelector", NODE_MAP(a, {"matchLabels", node_from_json(a, v->ingress_pod_labels)})});
}

/* <name>-ingress for end j: from each end that uses it, and from the ingress controller
 * on the ports the rules name; NULL *ret when nothing may reach it. */
static int ingress_policy(struct np *np, size_t j, struct node **ret)
{
	struct arena *a = np->a;
	const struct np_end *e = &np->ends[j];
	struct node *from = node_seq(a), *rules = node_seq(a);
	*ret = NULL;
	for (size_t i = 0; i < np->n; i++)
		if (np->uses[i * np->n + j])
			from = node_push(from, NODE_MAP(a, {"podSelector", NODE_MAP(a, {"matchLabels",
										 render_selector(a, np->r, np->ends[i].name)})}));
	if (from && from->v.list.count)
		rules = node_push(rules, NODE_MAP(a, {"from", from}, {"ports", port_list(a, e->ports, e->nports)}));
	struct np_port *entry = e->nports ? arena_alloc(a, e->nports * sizeof *entry) : NULL;
	size_t nentry = entry ? entry_ports(np->r, e, entry) : 0;
	if (nentry)
		rules = node_push(rules, NODE_MAP(a, {"from", NODE_SEQ(a, controller_peer(a, np->r))},
						  {"ports", port_list(a, entry, nentry)}));
	if (!rules || !from || (e->nports && !entry))
		return -ENOMEM;
	if (rules->v.list.count == 0)
		return 0;
	*ret = policy(a, np->r, RENDER_PRINTF(a, "%s-ingress", e->name), render_selector(a, np->r, e->name),
		      NODE_SEQ(a, node_str(a, "Ingress")), "ingress", rules);
	return *ret ? 0 : -ENOMEM;
}

/* <name>-egress for end i: to each end it uses; NULL *ret when it uses none. */
static int egress_policy(struct np *np, size_t i, struct node **ret)
{
	struct arena *a = np->a;
	struct node *rules = node_seq(a);
	*ret = NULL;
	for (size_t j = 0; j < np->n; j++) {
		if (!np->uses[i * np->n + j])
			continue;
		struct node *to = NODE_SEQ(a, NODE_MAP(a, {"podSelector", NODE_MAP(a, {"matchLabels",
										      render_selector(a, np->r, np->ends[j].name)})}));
		rules = node_push(rules, NODE_MAP(a, {"to", to},
						  {"ports", port_list(a, np->ends[j].ports, np->ends[j].nports)}));
	}
	if (!rules)
		return -ENOMEM;
	if (rules->v.list.count == 0)
		return 0;
	*ret = policy(a, np->r, RENDER_PRINTF(a, "%s-egress", np->ends[i].name),
		      render_selector(a, np->r, np->ends[i].name), NODE_SEQ(a, node_str(a, "Egress")), "egress", rules);
	return *ret ? 0 : -ENOMEM;
}

int netpol_build(struct arena *a, const struct render *r, struct node *out)
{
	struct np np;
	int rc = np_init(&np, a, r);
	if (rc == 0)
		rc = render_push(out, default_deny(a, r));
	if (rc == 0)
		rc = render_push(out, dns(a, r));
	for (size_t k = 0; rc == 0 && k < 2 * np.n; k++) {
		struct node *p = NULL;
		rc = k < np.n ? ingress_policy(&np, k, &p) : egress_policy(&np, k - np.n, &p);
		if (rc == 0 && p)
			rc = render_push(out, p);
	}
	return rc;
}
