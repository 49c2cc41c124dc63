/* applysh: writes apply.sh from the rendered objects. Only names that pass a strict
 * character check reach the script, always single-quoted; the rest is fixed text. */
#include "applysh.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT "300s"
#define MAX_NAME 253

enum phase {
	PHASE_NAMESPACE,
	PHASE_CONFIG,
	PHASE_STATEFUL,
	PHASE_JOBS,
	PHASE_APPS,
	PHASE_INGRESS,
	PHASE_COUNT,
};

static const char *const phase_titles[PHASE_COUNT] = {
	"namespace", "configuration", "stateful services", "jobs", "applications", "ingress",
};

/* Waits, in the order they run inside a phase: kind, the script function, its resource. */
static const struct {
	const char *kind;
	const char *call;
} waits[] = {
	{ "StatefulSet", "wait_rollout statefulset" },
	{ "Job", "wait_job" },
	{ "Deployment", "wait_rollout deployment" },
	{ "DaemonSet", "wait_rollout daemonset" },
};

/* Kinds --prune always looks at, besides those in the bundle ("kind.group", as
 * `kubectl get -o name` prints them). Namespaces and volume claims are never pruned. */
static const char *const prune_always[] = {
	"configmap", "cronjob.batch", "daemonset.apps", "deployment.apps",
	"horizontalpodautoscaler.autoscaling", "ingress.networking.k8s.io", "job.batch",
	"networkpolicy.networking.k8s.io", "poddisruptionbudget.policy", "secret", "service",
	"serviceaccount", "statefulset.apps",
};

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* The n bytes at s are a DNS-1123 subdomain: [a-z0-9]([-.a-z0-9]*[a-z0-9])?, at most
 * 253 characters. */
static bool is_safe_name_n(const char *s, size_t n)
{
	if (n == 0 || n > MAX_NAME || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

static bool is_safe_name(const char *s)
{
	return s && is_safe_name_n(s, strlen(s));
}

/* A file name: [A-Za-z0-9][A-Za-z0-9._-]*, at most 255 characters. */
static bool is_safe_file(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 255 || !is_alnum(s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* A kind: [A-Z][A-Za-z0-9]*, at most 63 characters. */
static bool is_safe_kind(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 63 || s[0] < 'A' || s[0] > 'Z')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]))
			return false;
	return true;
}

/* An apiVersion: "v1" or "group/version" with a DNS-subdomain group and [a-z0-9]+ version. */
static bool is_safe_api_version(const char *s)
{
	if (!s)
		return false;
	const char *slash = strchr(s, '/');
	const char *version = slash ? slash + 1 : s;
	if (slash && !is_safe_name_n(s, (size_t)(slash - s)))
		return false;
	if (version[0] != 'v' || version[1] == '\0')
		return false;
	for (const char *p = version; *p; p++)
		if (!is_lower_alnum(*p))
			return false;
	return true;
}

/* Every object of the NODE_SEQ seq, as const struct node *obj (seq not NULL). */
#define FOREACH_OBJECT(seq, obj)                                                          \
	for (const struct node_item *it_ = (seq)->v.list.first; it_; it_ = it_->next)     \
		for (const struct node *obj = it_->val; obj; obj = NULL)

static const char *obj_string(const struct node *obj, const char *parent, const char *key)
{
	return node_string(node_get(parent ? node_get(obj, parent) : obj, key));
}

static enum phase kind_phase(const char *kind)
{
	if (strcmp(kind, "Namespace") == 0)
		return PHASE_NAMESPACE;
	if (strcmp(kind, "StatefulSet") == 0)
		return PHASE_STATEFUL;
	if (strcmp(kind, "Job") == 0)
		return PHASE_JOBS;
	if (strcmp(kind, "Deployment") == 0 || strcmp(kind, "DaemonSet") == 0)
		return PHASE_APPS;
	if (strcmp(kind, "Ingress") == 0)
		return PHASE_INGRESS;
	return PHASE_CONFIG;
}

/* The index in waits of kind's wait, or -1 when objects of kind are not waited for. */
static int kind_wait(const char *kind)
{
	for (size_t w = 0; w < sizeof(waits) / sizeof(waits[0]); w++)
		if (strcmp(kind, waits[w].kind) == 0)
			return (int)w;
	return -1;
}

/* What the script needs of one object, read from its tree once (strings borrowed). */
struct object_info {
	const char *name;
	const char *ingress_class; /* spec.ingressClassName of an Ingress, else NULL */
	size_t resource;           /* offset of its "kind.group" text in plan.resources */
	int wait;                  /* index in waits, or -1 */
	bool prunable;             /* neither a Namespace nor a PersistentVolumeClaim */
};

/* The checked input, indexed once: every later step is a walk over these arrays. */
struct plan {
	const struct render_meta *meta;
	const char *namespace;
	const struct applysh_file *files;
	size_t n;
	struct object_info *objects; /* in file order */
	size_t object_count;
	size_t *first;       /* n + 1: the objects of file i are [first[i], first[i + 1]) */
	enum phase *phases;  /* n: the phase of each file (that of its latest kind) */
	bool used[PHASE_COUNT];
	struct buf resources; /* every object's resource, NUL-terminated, one after another */
};

static void plan_release(struct plan *p)
{
	free(p->objects);
	free(p->first);
	free(p->phases);
	buf_release(&p->resources);
}

/* Appends the resource of an object as `kubectl get -o name` prints it, and a NUL:
 * lowercase kind, then ".group" unless it is the core group (both already checked). */
static int put_resource(struct buf *out, const char *kind, const char *api)
{
	char text[64 + 1 + MAX_NAME + 1];
	size_t len = 0;
	const char *slash = strchr(api, '/');
	for (const char *p = kind; *p; p++)
		text[len++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
	if (slash) {
		text[len++] = '.';
		memcpy(text + len, api, (size_t)(slash - api));
		len += (size_t)(slash - api);
	}
	text[len++] = '\0';
	return buf_append(out, text, len);
}

/* Checks obj and fills info (its resource appended to p->resources); 0 or -EINVAL. */
static int add_object(struct plan *p, const struct node *obj, struct object_info *info,
		      enum phase *file_phase)
{
	const char *kind = obj_string(obj, NULL, "kind");
	const char *api = obj_string(obj, NULL, "apiVersion");
	const char *name = obj_string(obj, "metadata", "name");
	const char *cls = obj_string(obj, "spec", "ingressClassName");
	if (obj->kind != NODE_MAP || !is_safe_kind(kind) || !is_safe_api_version(api) ||
	    !is_safe_name(name) || (cls && !is_safe_name(cls)))
		return -EINVAL;
	enum phase k = kind_phase(kind);
	if (k > *file_phase)
		*file_phase = k;
	info->name = name;
	info->ingress_class = strcmp(kind, "Ingress") == 0 ? cls : NULL;
	info->resource = p->resources.len;
	info->wait = kind_wait(kind);
	info->prunable = k != PHASE_NAMESPACE && strcmp(kind, "PersistentVolumeClaim") != 0;
	return put_resource(&p->resources, kind, api);
}

/* Checks the files and counts their objects; 0 or -EINVAL. */
static int count_objects(const struct applysh_file *files, size_t n, size_t *ret_count)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_safe_file(files[i].name) || !files[i].objects || files[i].objects->kind != NODE_SEQ)
			return -EINVAL;
		count += files[i].objects->v.list.count;
	}
	if (count == 0)
		return -EINVAL;
	*ret_count = count;
	return 0;
}

/* Checks every value that will reach the script and indexes it into p (released by the
 * caller in any case). 0, -EINVAL or -ENOMEM. */
static int plan_build(struct plan *p, const struct render_meta *meta, const char *namespace,
		      const struct applysh_file *files, size_t n)
{
	size_t count = 0, o = 0;
	*p = (struct plan){ .meta = meta, .namespace = namespace, .files = files, .n = n };
	buf_init(&p->resources, BUF_NO_MAX);
	if (!meta || !is_safe_name(meta->stack) || !is_safe_name(meta->environment) ||
	    !is_safe_name(namespace) || n == 0 || count_objects(files, n, &count) < 0)
		return -EINVAL;
	p->objects = calloc(count, sizeof(*p->objects));
	p->first = calloc(n + 1, sizeof(*p->first));
	p->phases = calloc(n, sizeof(*p->phases));
	if (!p->objects || !p->first || !p->phases)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		p->first[i] = o;
		p->phases[i] = PHASE_NAMESPACE;
		FOREACH_OBJECT(files[i].objects, obj) {
			int r = o < count ? add_object(p, obj, &p->objects[o++], &p->phases[i]) : -EINVAL;
			if (r < 0)
				return r;
		}
		p->used[p->phases[i]] = true;
	}
	p->first[n] = o;
	p->object_count = o;
	return 0;
}

/* The resource text of object o of p (valid until p->resources changes). */
static const char *plan_resource(const struct plan *p, size_t o)
{
	return p->resources.data + p->objects[o].resource;
}

static const char script_head[] =
	"#!/usr/bin/env bash\n"
	"# apply.sh: applies this bundle's Kubernetes manifests in order and waits for each\n"
	"# phase: namespace, configuration, stateful services (rollout), jobs (completion),\n"
	"# applications (rollout), ingress. Run ./apply.sh --help for the options.\n"
	"# Generated by manifestd " MANIFESTD_VERSION "; regenerate the bundle instead of editing.\n"
	"#\n"
	"# Exit codes: 0 done, 1 differences found (--diff), 2 usage error, 3 kubectl not\n"
	"# found, 4 cluster unreachable, 5 a kubectl apply, delete or diff failed,\n"
	"# 6 a rollout or job did not finish within the timeout.\n"
	"set -euo pipefail\n"
	"\n";

static const char script_body[] =
	"\n"
	"usage() {\n"
	"\tcat <<EOF\n"
	"Usage: ./apply.sh [OPTION]...\n"
	"Applies the bundle $BUNDLE (namespace $NAMESPACE) in order: namespace,\n"
	"configuration, stateful services (waits for their rollout), jobs (waits for\n"
	"completion), applications (waits for every rollout), ingress.\n"
	"\n"
	"Options:\n"
	"  --context NAME       use this kubectl context (default: the current one)\n"
	"  --dry-run[=MODE]     MODE is client (default) or server: show what would be\n"
	"                       applied; nothing changes and nothing is waited for\n"
	"  --timeout DURATION   how long each wait may take, e.g. 90s, 10m, 1h\n"
	"                       (default $DEFAULT_TIMEOUT)\n"
	"  --diff               show what would change (kubectl diff); exit 0 when\n"
	"                       nothing would, 1 when something would\n"
	"  --delete             delete the bundle's objects in reverse order and wait;\n"
	"                       this deletes the namespace with its volume claims (data)\n"
	"  --prune              after applying, delete the objects labelled with this\n"
	"                       bundle's stack and environment that are no longer in it\n"
	"                       (volume claims and namespaces are kept)\n"
	"  -h, --help           show this help\n"
	"\n"
	"Without ordering and waits, 'kubectl apply -k .' applies the same objects.\n"
	"\n"
	"Exit codes: 0 done, 1 differences found (--diff), 2 usage error, 3 kubectl not\n"
	"found, 4 cluster unreachable, 5 a kubectl apply, delete or diff failed, 6 a\n"
	"rollout or job did not finish within the timeout.\n"
	"EOF\n"
	"}\n"
	"\n"
	"die() {\n"
	"\tlocal code=$1\n"
	"\tshift\n"
	"\tprintf 'apply.sh: %s\\n' \"$*\" >&2\n"
	"\texit \"$code\"\n"
	"}\n"
	"\n"
	"note() {\n"
	"\tprintf '==> %s\\n' \"$*\"\n"
	"}\n"
	"\n"
	"warn() {\n"
	"\tprintf 'apply.sh: warning: %s\\n' \"$*\" >&2\n"
	"}\n"
	"\n"
	"context=''\n"
	"dry_run=''\n"
	"timeout=$DEFAULT_TIMEOUT\n"
	"action=apply\n"
	"prune=0\n"
	"\n"
	"set_action() {\n"
	"\t[ \"$action\" = apply ] || die 2 \"--$action and --$1 exclude each other\"\n"
	"\taction=$1\n"
	"}\n"
	"\n"
	"parse_args() {\n"
	"\twhile [ $# -gt 0 ]; do\n"
	"\t\tcase $1 in\n"
	"\t\t--context)\n"
	"\t\t\t[ $# -ge 2 ] || die 2 '--context needs a NAME'\n"
	"\t\t\tcontext=$2\n"
	"\t\t\tshift\n"
	"\t\t\t;;\n"
	"\t\t--context=*) context=${1#*=} ;;\n"
	"\t\t--dry-run | --dry-run=client) dry_run=client ;;\n"
	"\t\t--dry-run=server) dry_run=server ;;\n"
	"\t\t--dry-run=*) die 2 \"--dry-run takes client or server, not '${1#*=}'\" ;;\n"
	"\t\t--timeout)\n"
	"\t\t\t[ $# -ge 2 ] || die 2 '--timeout needs a DURATION'\n"
	"\t\t\ttimeout=$2\n"
	"\t\t\tshift\n"
	"\t\t\t;;\n"
	"\t\t--timeout=*) timeout=${1#*=} ;;\n"
	"\t\t--diff) set_action diff ;;\n"
	"\t\t--delete) set_action delete ;;\n"
	"\t\t--prune) prune=1 ;;\n"
	"\t\t-h | --help)\n"
	"\t\t\tusage\n"
	"\t\t\texit 0\n"
	"\t\t\t;;\n"
	"\t\t*)\n"
	"\t\t\tusage >&2\n"
	"\t\t\tdie 2 \"unknown option '$1'\"\n"
	"\t\t\t;;\n"
	"\t\tesac\n"
	"\t\tshift\n"
	"\tdone\n"
	"\t[[ $timeout =~ ^[1-9][0-9]*[smh]$ ]] || die 2 \"--timeout takes a duration such as 300s or 10m, not '$timeout'\"\n"
	"\tif [ \"$action\" != apply ] && { [ -n \"$dry_run\" ] || [ \"$prune\" -eq 1 ]; }; then\n"
	"\t\tdie 2 \"--$action cannot be combined with --dry-run or --prune\"\n"
	"\tfi\n"
	"}\n"
	"\n"
	"kc() {\n"
	"\tif [ -n \"$context\" ]; then\n"
	"\t\tkubectl --context \"$context\" \"$@\"\n"
	"\telse\n"
	"\t\tkubectl \"$@\"\n"
	"\tfi\n"
	"}\n"
	"\n"
	"check_cluster() {\n"
	"\tcommand -v kubectl >/dev/null 2>&1 || die 3 'kubectl not found in PATH (see https://kubernetes.io/docs/tasks/tools/)'\n"
	"\tif ! kc cluster-info --request-timeout=15s >/dev/null 2>&1; then\n"
	"\t\tdie 4 \"cannot reach the cluster of context '${context:-(current)}'; see 'kubectl cluster-info'\"\n"
	"\tfi\n"
	"}\n"
	"\n"
	"phase() {\n"
	"\tnote \"$1\"\n"
	"}\n"
	"\n"
	"apply_file() {\n"
	"\tif [ -n \"$dry_run\" ]; then\n"
	"\t\tkc apply --dry-run=\"$dry_run\" -f \"$1\" || die 5 \"kubectl apply --dry-run=$dry_run -f $1 failed\"\n"
	"\telse\n"
	"\t\tkc apply -f \"$1\" || die 5 \"kubectl apply -f $1 failed\"\n"
	"\tfi\n"
	"}\n"
	"\n"
	"wait_rollout() {\n"
	"\tif [ -n \"$dry_run\" ]; then\n"
	"\t\tnote \"would wait for the rollout of $1/$2\"\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\tkc -n \"$NAMESPACE\" rollout status \"$1/$2\" --timeout=\"$timeout\" ||\n"
	"\t\tdie 6 \"$1/$2 did not finish its rollout within $timeout\"\n"
	"}\n"
	"\n"
	"wait_job() {\n"
	"\tif [ -n \"$dry_run\" ]; then\n"
	"\t\tnote \"would wait for job/$1 to complete\"\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\tkc -n \"$NAMESPACE\" wait --for=condition=complete \"job/$1\" --timeout=\"$timeout\" ||\n"
	"\t\tdie 6 \"job/$1 did not complete within $timeout (see: kubectl -n $NAMESPACE logs job/$1)\"\n"
	"}\n"
	"\n"
	"check_ingress_class() {\n"
	"\tif ! kc get ingressclass \"$1\" >/dev/null 2>&1; then\n"
	"\t\twarn \"the cluster has no IngressClass '$1': the Ingress is not served until an ingress controller for it is installed (ingress-nginx; on minikube: minikube addons enable ingress)\"\n"
	"\tfi\n"
	"}\n"
	"\n"
	"delete_file() {\n"
	"\tkc delete -f \"$1\" --ignore-not-found --wait=true --timeout=\"$timeout\" || die 5 \"kubectl delete -f $1 failed\"\n"
	"}\n"
	"\n"
	"diff_all() {\n"
	"\tlocal args=() file rc=0\n"
	"\tfor file in \"${FILES[@]}\"; do\n"
	"\t\targs+=(-f \"$file\")\n"
	"\tdone\n"
	"\tkc diff \"${args[@]}\" || rc=$?\n"
	"\tcase $rc in\n"
	"\t0) note 'no differences' ;;\n"
	"\t1) exit 1 ;;\n"
	"\t*) die 5 \"kubectl diff failed (exit $rc)\" ;;\n"
	"\tesac\n"
	"}\n"
	"\n"
	"in_bundle() {\n"
	"\tlocal object\n"
	"\tfor object in \"${BUNDLE_OBJECTS[@]}\"; do\n"
	"\t\t[ \"$object\" != \"$1\" ] || return 0\n"
	"\tdone\n"
	"\treturn 1\n"
	"}\n"
	"\n"
	"prune_all() {\n"
	"\tlocal resource objects object\n"
	"\tphase 'prune'\n"
	"\tfor resource in \"${PRUNE_RESOURCES[@]}\"; do\n"
	"\t\tif ! objects=$(kc -n \"$NAMESPACE\" get \"$resource\" -l \"$SELECTOR\" -o name 2>/dev/null); then\n"
	"\t\t\twarn \"cannot list $resource; not pruned\"\n"
	"\t\t\tcontinue\n"
	"\t\tfi\n"
	"\t\twhile IFS= read -r object; do\n"
	"\t\t\tif [ -z \"$object\" ] || in_bundle \"$object\"; then\n"
	"\t\t\t\tcontinue\n"
	"\t\t\tfi\n"
	"\t\t\tif [ -n \"$dry_run\" ]; then\n"
	"\t\t\t\tnote \"would delete $object (no longer in the bundle)\"\n"
	"\t\t\t\tcontinue\n"
	"\t\t\tfi\n"
	"\t\t\tnote \"deleting $object (no longer in the bundle)\"\n"
	"\t\t\tkc -n \"$NAMESPACE\" delete \"$object\" --ignore-not-found --wait=true --timeout=\"$timeout\" ||\n"
	"\t\t\t\tdie 5 \"kubectl delete $object failed\"\n"
	"\t\tdone <<<\"$objects\"\n"
	"\tdone\n"
	"}\n";

static const char script_main[] =
	"\n"
	"main() {\n"
	"\tparse_args \"$@\"\n"
	"\tcd -- \"$(dirname -- \"${BASH_SOURCE[0]}\")\" || die 2 'cannot enter the bundle folder'\n"
	"\tcheck_cluster\n"
	"\tcase $action in\n"
	"\tdiff) diff_all ;;\n"
	"\tdelete)\n"
	"\t\tdelete_all\n"
	"\t\tnote \"deleted $BUNDLE\"\n"
	"\t\t;;\n"
	"\t*)\n"
	"\t\tapply_all\n"
	"\t\tif [ \"$prune\" -eq 1 ]; then\n"
	"\t\t\tprune_all\n"
	"\t\tfi\n"
	"\t\tif [ -n \"$dry_run\" ]; then\n"
	"\t\t\tnote \"dry run ($dry_run) of $BUNDLE done; nothing was changed\"\n"
	"\t\telse\n"
	"\t\t\tnote \"$BUNDLE applied to namespace $NAMESPACE\"\n"
	"\t\tfi\n"
	"\t\t;;\n"
	"\tesac\n"
	"}\n"
	"\n"
	"main \"$@\"\n";

/* readonly NAME=(... 'item' ...) from a NULL-terminated list. */
static int put_constants(struct buf *out, const struct plan *p)
{
	const char *stack = p->meta->stack, *env = p->meta->environment;
	return BUF_PUTS(out, "readonly BUNDLE='", stack, "-", env, "'\n",
		   "readonly NAMESPACE='", p->namespace, "'\n",
		   "readonly SELECTOR='" APPLYSH_LABEL_STACK "=", stack,
		   "," APPLYSH_LABEL_ENVIRONMENT "=", env, "'\n",
		   "readonly DEFAULT_TIMEOUT='" DEFAULT_TIMEOUT "'\n");
}

static int put_files(struct buf *out, const struct plan *p)
{
	int r = buf_puts(out, "readonly FILES=(\n");
	for (size_t i = 0; i < p->n && r == 0; i++)
		r = BUF_PUTS(out, "\t'", p->files[i].name, "'\n");
	return r ? r : buf_puts(out, ")\n");
}

static int put_objects(struct buf *out, const struct plan *p)
{
	int r = buf_puts(out, "readonly BUNDLE_OBJECTS=(\n");
	for (size_t o = 0; o < p->object_count && r == 0; o++)
		r = BUF_PUTS(out, "\t'", plan_resource(p, o), "/", p->objects[o].name, "'\n");
	return r ? r : buf_puts(out, ")\n");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* PRUNE_RESOURCES: the fixed list and the bundle's own kinds, sorted, each once. */
static int put_prune_resources(struct buf *out, const struct plan *p)
{
	size_t fixed = sizeof(prune_always) / sizeof(prune_always[0]), count = 0;
	const char **set = calloc(fixed + p->object_count, sizeof(*set));
	int r = set ? buf_puts(out, "readonly PRUNE_RESOURCES=(\n") : -ENOMEM;
	if (r < 0)
		goto out;
	for (size_t i = 0; i < fixed; i++)
		set[count++] = prune_always[i];
	for (size_t o = 0; o < p->object_count; o++)
		if (p->objects[o].prunable)
			set[count++] = plan_resource(p, o);
	qsort(set, count, sizeof(*set), cmp_str);
	for (size_t i = 0; i < count && r == 0; i++)
		if (i == 0 || strcmp(set[i], set[i - 1]) != 0)
			r = BUF_PUTS(out, "\t'", set[i], "'\n");
	if (r == 0)
		r = buf_puts(out, ")\n");
out:
	free(set);
	return r;
}

/* Lines `check_ingress_class 'class'` for the Ingresses of the files of phase ph. */
static int put_ingress_checks(struct buf *out, const struct plan *p, enum phase ph)
{
	int r = 0;
	for (size_t i = 0; i < p->n && r == 0; i++)
		for (size_t o = p->first[i]; o < p->first[i + 1] && r == 0 && p->phases[i] == ph; o++)
			if (p->objects[o].ingress_class)
				r = BUF_PUTS(out, "\tcheck_ingress_class '", p->objects[o].ingress_class, "'\n");
	return r;
}

/* Lines `CALL 'name'` for every object with wait w in the files of phase ph. */
static int put_waits(struct buf *out, const struct plan *p, enum phase ph, int w)
{
	int r = 0;
	for (size_t i = 0; i < p->n && r == 0; i++)
		for (size_t o = p->first[i]; o < p->first[i + 1] && r == 0 && p->phases[i] == ph; o++)
			if (p->objects[o].wait == w)
				r = BUF_PUTS(out, "\t", waits[w].call, " '", p->objects[o].name, "'\n");
	return r;
}

static int put_phase(struct buf *out, const struct plan *p, enum phase ph)
{
	if (!p->used[ph])
		return 0;
	int r = BUF_PUTS(out, "\tphase '", phase_titles[ph], "'\n");
	if (r == 0 && ph == PHASE_INGRESS)
		r = put_ingress_checks(out, p, ph);
	for (size_t i = 0; i < p->n && r == 0; i++)
		if (p->phases[i] == ph)
			r = BUF_PUTS(out, "\tapply_file '", p->files[i].name, "'\n");
	for (size_t w = 0; w < sizeof(waits) / sizeof(waits[0]) && r == 0; w++)
		r = put_waits(out, p, ph, (int)w);
	return r;
}

static int put_apply_all(struct buf *out, const struct plan *p)
{
	int r = buf_puts(out, "\napply_all() {\n");
	for (int ph = 0; ph < PHASE_COUNT && r == 0; ph++)
		r = put_phase(out, p, (enum phase)ph);
	return r ? r : buf_puts(out, "}\n");
}

/* delete_all: every file in the reverse of the apply order. */
static int put_delete_all(struct buf *out, const struct plan *p)
{
	int r = buf_puts(out, "\ndelete_all() {\n\tphase 'delete'\n");
	for (int ph = PHASE_COUNT - 1; ph >= 0 && r == 0; ph--)
		for (size_t i = p->n; i-- > 0 && r == 0;)
			if (p->phases[i] == (enum phase)ph)
				r = BUF_PUTS(out, "\tdelete_file '", p->files[i].name, "'\n");
	return r ? r : buf_puts(out, "}\n");
}

static int put_script(struct buf *out, const struct plan *p)
{
	/* The fixed text alone: one allocation instead of a few doublings (and -E2BIG
	 * up front when even that does not fit). */
	int r = buf_reserve(out, sizeof(script_head) + sizeof(script_body) + sizeof(script_main));
	if (r == 0)
		r = buf_append(out, script_head, sizeof(script_head) - 1);
	if (r == 0)
		r = put_constants(out, p);
	if (r == 0)
		r = put_files(out, p);
	if (r == 0)
		r = put_objects(out, p);
	if (r == 0)
		r = put_prune_resources(out, p);
	if (r == 0)
		r = buf_append(out, script_body, sizeof(script_body) - 1);
	if (r == 0)
		r = put_apply_all(out, p);
	if (r == 0)
		r = put_delete_all(out, p);
	return r ? r : buf_append(out, script_main, sizeof(script_main) - 1);
}

int applysh_write_files(const struct render_meta *meta, const char *namespace,
			const struct applysh_file *files, size_t n, struct buf *out)
{
	size_t saved = out->len;
	struct plan p;
	int r = plan_build(&p, meta, namespace, files, n);
	if (r == 0)
		r = put_script(out, &p);
	plan_release(&p);
	if (r < 0 && out->data) {
		out->len = saved;
		out->data[saved] = '\0';
	}
	return r;
}

int applysh_write(struct render *r, struct buf *out)
{
	size_t n = render_file_count(r);
	struct applysh_file *files = calloc(n ? n : 1, sizeof(*files));
	struct arena *a = arena_new();
	int ret = files && a ? 0 : -ENOMEM;
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct node *objects = NULL;
		ret = render_file_nodes(r, i, a, &objects);
		if (ret == 0) {
			files[i].name = render_file_name(r, i);
			files[i].objects = objects;
		}
	}
	if (ret == 0)
		ret = applysh_write_files(render_meta(r), render_namespace(r), files, n, out);
	arena_free(a);
	free(files);
	return ret;
}
