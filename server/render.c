/* render: a resolved document -> the bundle's files (include/render.h): plans the files,
 * derives once what they share (hashes, checksums, each service's data), has the objects
 * checked (render_check), and builds a file on demand with the builder modules. */
#include "render.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "docview.h"
#include "render_check.h"
#include "render_common.h"
#include "render_extra.h"
#include "render_ingress.h"
#include "render_netpol.h"
#include "render_pod.h"
#include "render_workload.h"
#include "util.h"

/* ---- 00 namespace, 10 config, 11 secrets ---------------------------------------------- */

static int build_namespace(struct arena *a, const struct render *r, struct node *out)
{
	return render_push(out, render_object(a, r, "v1", "Namespace", r->view.namespace,
					      render_labels(a, r, r->meta.stack, NULL, NULL), NULL));
}

/* The provenance: what made the bundle, in one object that changes alone. */
static struct node *provenance(struct arena *a, const struct render *r)
{
	struct node *data = NODE_MAP(a, {"stack", node_str(a, r->meta.stack)},
				     {"environment", node_str(a, r->meta.environment)},
				     {"namespace", node_str(a, r->view.namespace)}, {"revision", node_str(a, r->revision)},
				     {"bundleHash", node_str(a, r->hash)},
				     {"manifestdVersion", node_str(a, MANIFESTD_VERSION)});
	struct node *cm = render_object(a, r, "v1", "ConfigMap", r->provenance_name,
					render_labels(a, r, r->meta.stack, "bundle", NULL), NULL);
	return node_set(cm, "data", data);
}

static int build_config(struct arena *a, const struct render *r, struct node *out)
{
	struct node *cm = render_object(a, r, "v1", "ConfigMap", r->config_name,
					render_labels(a, r, r->meta.stack, "config", NULL), NULL);
	int rc = render_push(out, node_set(cm, "data", node_from_json(a, r->config_data)));
	return rc ? rc : render_push(out, provenance(a, r));
}

/* secretSource externalSecret: an external-secrets.io ExternalSecret that makes the Secret
 * from the store, one data entry per key of /secrets (property = the key). */
static int build_external_secret(struct arena *a, const struct render *r, struct node *out)
{
	const struct secret_source_view *src = &r->view.secret_source;
	const char **keys = NULL;
	size_t n = 0;
	if (render_sorted_keys(r->view.secrets, &keys, &n) < 0)
		return -ENOMEM;
	struct node *data = node_seq(a);
	for (size_t i = 0; i < n; i++)
		data = node_push(data, NODE_MAP(a, {"secretKey", node_str(a, keys[i])},
						{"remoteRef", NODE_MAP(a, {"key", node_str(a, src->remote_key)},
								       {"property", node_str(a, keys[i])})}));
	free(keys);
	struct node *spec = NODE_MAP(
		a, {"refreshInterval", node_str(a, src->refresh_interval)},
		{"secretStoreRef", NODE_MAP(a, {"name", node_str(a, src->secret_store)},
					    {"kind", node_str(a, src->secret_store_kind)})},
		{"target", NODE_MAP(a, {"name", node_str(a, r->secrets_name)}, {"creationPolicy", node_str(a, "Owner")})},
		{"data", data});
	struct node *es = render_object(a, r, "external-secrets.io/v1beta1", "ExternalSecret", r->secrets_name,
					render_labels(a, r, r->meta.stack, "config", NULL), NULL);
	return render_push(out, node_set(es, "spec", spec));
}

static int build_secrets(struct arena *a, const struct render *r, struct node *out)
{
	if (strcmp(r->view.secret_source.type, "externalSecret") == 0)
		return build_external_secret(a, r, out);
	struct node *s = render_object(a, r, "v1", "Secret", r->secrets_name,
				       render_labels(a, r, r->meta.stack, "config", NULL), NULL);
	return render_push(out, node_set(node_set(s, "type", node_str(a, "Opaque")), "data",
					 node_from_json(a, r->secrets_data)));
}

int render_build_file(struct arena *a, const struct render *r, size_t i, struct node *out)
{
	const struct render_file *f = &r->files[i];
	switch (f->kind) {
	case RENDER_FILE_NAMESPACE:
		return build_namespace(a, r, out);
	case RENDER_FILE_CONFIG:
		return build_config(a, r, out);
	case RENDER_FILE_SECRETS:
		return build_secrets(a, r, out);
	case RENDER_FILE_NETWORK:
		return netpol_build(a, r, out);
	case RENDER_FILE_EXTRA:
		return extra_build(a, r, out);
	case RENDER_FILE_SERVICE:
		return workload_build(a, r, f->service, out);
	case RENDER_FILE_INGRESS:
		return ingress_build(a, r, out);
	}
	return -EINVAL;
}

/* ---- planning ---------------------------------------------------------------------------- */

/* The most files a bundle has: 6 fixed ones and one per enabled service. */
#define FIXED_FILES 6

/* Appends a file named name (malloc'd, taken; NULL: out of memory) to r->files, which
 * plan_files made with room for FIXED_FILES + nservices. 0 or -ENOMEM. */
static int add_named(struct render *r, enum render_file_kind kind, const struct render_service *service, char *name)
{
	if (!name)
		return -ENOMEM;
	r->files[r->nfiles++] = (struct render_file){.kind = kind, .service = service, .name = name};
	return 0;
}

static int add_file(struct render *r, enum render_file_kind kind, bool wanted, const char *name)
{
	return wanted ? add_named(r, kind, NULL, strdup(name)) : 0;
}

static int plan_files(struct render *r)
{
	const struct doc_view *v = &r->view;
	r->files = calloc(FIXED_FILES + r->nservices, sizeof *r->files);
	int rc = r->files ? add_file(r, RENDER_FILE_NAMESPACE, true, "00-namespace.yaml") : -ENOMEM;
	if (rc == 0)
		rc = add_file(r, RENDER_FILE_CONFIG, true, "10-config.yaml");
	/* secretSource existing: the Secret is in the cluster already; nothing to render */
	if (rc == 0)
		rc = add_file(r, RENDER_FILE_SECRETS, strcmp(v->secret_source.type, "existing") != 0, "11-secrets.yaml");
	if (rc == 0)
		rc = add_file(r, RENDER_FILE_NETWORK, v->network_policies.enabled, "12-network.yaml");
	if (rc == 0)
		rc = add_file(r, RENDER_FILE_EXTRA, r->nextras > 0, "20-extra.yaml");
	for (size_t i = 0; rc == 0 && i < r->nservices; i++)
		rc = add_named(r, RENDER_FILE_SERVICE, &r->services[i],
			       render_concat("50-", r->services[i].v->name, ".yaml"));
	if (rc == 0)
		rc = add_file(r, RENDER_FILE_INGRESS, v->ingress.enabled && v->ingress.rules.count > 0, "90-ingress.yaml");
	return rc;
}

/* Sets obj[key] = val (val stolen). 0, or -ENOMEM when val is NULL or out of memory. */
static int set_new(json_t *obj, const char *key, json_t *val)
{
	return json_object_set_new_nocheck(obj, key, val) < 0 ? -ENOMEM : 0;
}

/* The bundle hash: the digest of {document, stack, environment, revision, manifestd}
 * (the document borrowed, not copied). */
static int bundle_hash(struct render *r)
{
	json_t *id = json_object();
	int rc = id ? set_new(id, "document", json_incref(r->doc)) : -ENOMEM;
	if (rc == 0)
		rc = set_new(id, "stack", json_string_nocheck(r->meta.stack));
	if (rc == 0)
		rc = set_new(id, "environment", json_string_nocheck(r->meta.environment));
	if (rc == 0)
		rc = set_new(id, "revision", json_integer(r->meta.revision));
	if (rc == 0)
		rc = set_new(id, "manifestd", json_string_nocheck(MANIFESTD_VERSION));
	if (rc == 0)
		rc = digest_json(id, r->hash);
	json_decref(id);
	return rc;
}

/* data of the ConfigMap (the values of src, shared) or the Secret (values base64), keys
 * sorted: a new object; NULL on allocation failure. */
static json_t *sorted_data(const json_t *src, bool base64)
{
	const char **keys = NULL;
	size_t n = 0;
	if (render_sorted_keys(src, &keys, &n) < 0)
		return NULL;
	json_t *data = json_object();
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	for (size_t i = 0; i < n && data; i++) {
		json_t *val = json_object_get(src, keys[i]);
		const char *v = json_string_value(val);
		buf_reset(&b);
		/* keys are names the resolved document already validated as UTF-8; base64 is ASCII */
		if ((base64 && util_base64_append(&b, v, strlen(v)) < 0) ||
		    json_object_set_new_nocheck(data, keys[i], base64 ? json_string_nocheck(buf_cstr(&b))
								       : json_incref(val)) < 0) {
			json_decref(data);
			data = NULL;
		}
	}
	buf_release(&b);
	free(keys);
	return data;
}

/* What the files share: the ConfigMap and Secret data, then each service's (render_pod's
 * pod_prepare). */
static int shared_data(struct render *r, struct model_errors *errs)
{
	r->config_data = sorted_data(r->view.config, false);
	r->secrets_data = sorted_data(r->view.secrets, true);
	int rc = r->config_data && r->secrets_data ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < r->nservices; i++)
		rc = pod_prepare(r, &r->services[i], errs);
	return rc;
}

/* Services in the order of their files' names ("50-<name>.yaml"): a name that starts
 * another ("db", "db-provision") comes after it, as "db.yaml" after "db-provision.yaml"
 * (names are DNS labels: no '.' in them). */
static int cmp_service(const void *a, const void *b)
{
	const char *x = ((const struct render_service *)a)->v->name, *y = ((const struct render_service *)b)->v->name;
	for (; *x && *x == *y; x++, y++)
		;
	unsigned char cx = *x ? (unsigned char)*x : '.', cy = *y ? (unsigned char)*y : '.';
	return cx - cy;
}

/* r->services: the enabled services, sorted by their file names; r->extra_ids. */
static int list_parts(struct render *r)
{
	const struct service_view_list *all = &r->view.services;
	r->services = calloc(all->count ? all->count : 1, sizeof *r->services);
	if (!r->services)
		return -ENOMEM;
	for (size_t i = 0; i < all->count; i++)
		if (all->items[i].enabled)
			r->services[r->nservices++].v = &all->items[i];
	qsort(r->services, r->nservices, sizeof *r->services, cmp_service);
	return render_sorted_keys(r->view.extra_objects, &r->extra_ids, &r->nextras);
}

static bool meta_ok(const struct render_meta *meta)
{
	return meta && meta->stack && meta->environment && util_is_dns_label(meta->stack) &&
	       util_is_dns_label(meta->environment) &&
	       strlen(meta->stack) + 1 + strlen(meta->environment) <= 63; /* instance label */
}

/* The names render derives from meta and the document. */
static int names(struct render *r)
{
	struct buf decimal;
	buf_init(&decimal, BUF_NO_MAX);
	r->revision = buf_printf(&decimal, "%lld", r->meta.revision) == 0 ? buf_detach(&decimal, NULL) : NULL;
	buf_release(&decimal);
	r->instance = render_concat(r->meta.stack, "-", r->meta.environment);
	r->config_name = render_concat(r->meta.stack, "-config", "");
	r->provenance_name = render_concat(r->meta.stack, "-bundle", "");
	r->secrets_name = render_concat(r->view.secret_source.name, "", "");
	return r->instance && r->config_name && r->provenance_name && r->secrets_name && r->revision ? 0 : -ENOMEM;
}

/* The objects of file i that patches changed, replaced by what the patches made. */
static int put_patched(struct arena *a, const struct render *r, size_t i, struct node *out)
{
	for (size_t k = 0; k < r->npatched; k++) {
		const struct render_patched *p = &r->patched[k];
		struct node_item *it = out->v.list.first;
		for (size_t j = 0; p->file == i && it && j < p->index; j++)
			it = it->next;
		if (p->file == i && it && !(it->val = node_from_json(a, p->object)))
			return -ENOMEM;
	}
	return 0;
}

/* Everything render_new does once r has its document and meta. */
static int prepare(struct render *r, struct model_errors *errs)
{
	size_t before = errs->count;
	r->arena = arena_new();
	int rc = r->arena ? docview_read(r->doc, r->arena, &r->view) : -ENOMEM;
	if (rc == 0)
		rc = list_parts(r);
	if (rc == 0)
		rc = names(r);
	if (rc == 0)
		rc = bundle_hash(r);
	if (rc == 0)
		rc = shared_data(r, errs);
	if (rc == 0)
		rc = plan_files(r);
	if (rc == 0)
		rc = check_bundle(r, errs);
	for (size_t i = 0; rc == 0 && i < r->nfiles; i++)
		rc = put_patched(r->arena, r, i, r->objects[i]);
	if (rc == 0)
		rc = model_warnings(r->doc, &r->warnings);
	return rc == 0 && errs->count > before ? MODEL_EINVALID : rc;
}

int render_new(const json_t *doc, const struct render_meta *meta, struct model_errors *errs,
	       struct render **ret)
{
	if (!meta_ok(meta) || !json_is_object(doc))
		return -EINVAL;
	struct render *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	struct model_errors local;
	model_errors_init(&local);
	model_errors_init(&r->warnings);
	r->doc = json_incref((json_t *)doc);
	r->meta = *meta;
	int rc = prepare(r, errs ? errs : &local);
	model_errors_release(&local);
	if (rc < 0) {
		render_free(r);
		return rc;
	}
	*ret = r;
	return 0;
}

void render_free(struct render *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i].name);
	for (size_t i = 0; i < r->nservices; i++) {
		json_decref(r->services[i].files_data);
		free(r->services[i].files_name);
	}
	for (size_t i = 0; i < r->npatched; i++)
		json_decref(r->patched[i].object);
	free(r->patched);
	free(r->files);
	free(r->services);
	free(r->extra_ids);
	free(r->objects);
	arena_free(r->arena);
	free(r->instance);
	free(r->config_name);
	free(r->provenance_name);
	free(r->secrets_name);
	free(r->revision);
	json_decref(r->config_data);
	json_decref(r->secrets_data);
	model_errors_release(&r->warnings);
	json_decref(r->doc);
	free(r);
}

size_t render_file_count(const struct render *r)
{
	return r->nfiles;
}

const char *render_file_name(const struct render *r, size_t i)
{
	return i < r->nfiles ? r->files[i].name : NULL;
}

int render_file_nodes(const struct render *r, size_t i, const struct node **ret_objects)
{
	if (i >= r->nfiles)
		return -EINVAL;
	*ret_objects = r->objects[i];
	return 0;
}

int render_file_objects(const struct render *r, size_t i, json_t **ret_objects)
{
	const struct node *objects = NULL;
	int rc = render_file_nodes(r, i, &objects);
	json_t *out = rc == 0 ? node_to_json(objects) : NULL;
	if (rc < 0)
		return rc;
	if (!out)
		return -ENOMEM;
	*ret_objects = out;
	return 0;
}

const struct render_meta *render_meta(const struct render *r)
{
	return &r->meta;
}

const json_t *render_doc(const struct render *r)
{
	return r->doc;
}

const char *render_bundle_hash(const struct render *r)
{
	return r->hash;
}

const char *render_provenance_name(const struct render *r)
{
	return r->provenance_name;
}

const struct model_errors *render_warnings(const struct render *r)
{
	return &r->warnings;
}

const char *render_namespace(const struct render *r)
{
	return r->view.namespace;
}
