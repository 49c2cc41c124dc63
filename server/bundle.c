/* bundle: turns a render into its output formats (zip, tar.gz, YAML stream, JSON List,
 * files JSON, folder) with deterministic bytes: fixed times and owners, sorted entries. */
#include "bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applysh.h"
#include "yamlout.h"
#include "zipout.h"

/* 1980-01-01T00:00:00Z, the mtime of every tar entry. Zip entries carry the earliest DOS
 * time, 1980-01-01 00:00, in any time zone (a zip time has no zone; readers take it as
 * local time) and no extended timestamp (zipout.h). */
#define BUNDLE_MTIME ((time_t)315532800)
#define MODE_FILE 0644
#define MODE_SECRET 0600 /* a manifest file with Secret values */
#define MODE_EXEC 0755
#define MODE_DIR 0755
#define KUSTOMIZATION_API "kustomize.config.k8s.io/v1beta1"

static const struct {
	const char *name;
	const char *mime;
	const char *suffix;
} formats[] = {
	[BUNDLE_ZIP] = { "zip", "application/zip", ".zip" },
	[BUNDLE_TARGZ] = { "tar.gz", "application/gzip", ".tar.gz" },
	[BUNDLE_YAML] = { "yaml", "application/yaml", ".yaml" },
	[BUNDLE_JSON] = { "json", "application/json", ".json" },
	[BUNDLE_DIR] = { "dir", "inode/directory", "" },
	[BUNDLE_FILES] = { "files", "application/json", ".json" },
};

#define FORMAT_COUNT (sizeof(formats) / sizeof(formats[0]))

int bundle_format_parse(const char *name, enum bundle_format *ret)
{
	if (!name)
		return -EINVAL;
	if (strcmp(name, "tgz") == 0) {
		*ret = BUNDLE_TARGZ;
		return 0;
	}
	for (size_t i = 0; i < FORMAT_COUNT; i++) {
		if (strcmp(name, formats[i].name) == 0) {
			*ret = (enum bundle_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

static size_t format_index(enum bundle_format f)
{
	return (size_t)f < FORMAT_COUNT ? (size_t)f : BUNDLE_ZIP;
}

const char *bundle_format_name(enum bundle_format f)
{
	return formats[format_index(f)].name;
}

const char *bundle_format_mime(enum bundle_format f)
{
	return formats[format_index(f)].mime;
}

const char *bundle_format_suffix(enum bundle_format f)
{
	return formats[format_index(f)].suffix;
}

/* ---- the files of a bundle ---- */

/* One file of the bundle folder. name is static or borrowed from the render. */
struct bfile {
	const char *name;
	struct buf content;
	unsigned mode;
};

/* Every file: the manifests in render order, then apply.sh, kustomization.yaml, README.md. */
struct bfiles {
	struct bfile *items;
	size_t count;
};

static void bfiles_release(struct bfiles *fs)
{
	for (size_t i = 0; fs->items && i < fs->count; i++)
		buf_release(&fs->items[i].content);
	free(fs->items);
	fs->items = NULL;
	fs->count = 0;
}

/* Points *y (created on first use, then owned by the caller) at out: one emitter writes
 * every YAML file of a bundle, each file into its own buffer. */
static int yaml_target(struct yamlout **y, struct buf *out)
{
	return *y ? yamlout_set_output(*y, out) : yamlout_new(out, y);
}

/* Appends one document per object of the NODE_SEQ objects to y's output. */
static int objects_yaml(struct yamlout *y, const struct node *objects)
{
	int r = 0;
	for (const struct node_item *it = objects->v.list.first; it && r == 0; it = it->next)
		r = yamlout_node(y, it->val);
	return r;
}

/* kustomization.yaml, through the YAML emitter like every other YAML byte: the file
 * names as a node sequence (borrowed from r) in a small arena. */
static int kustomization_yaml(const struct render *r, struct yamlout *y)
{
	struct arena *a = arena_new();
	if (!a)
		return -ENOMEM;
	struct node *files = node_seq(a);
	for (size_t i = 0; files && i < render_file_count(r); i++)
		files = node_push(files, node_str(a, render_file_name(r, i)));
	struct node *k = NODE_MAP(a, {"apiVersion", node_str(a, KUSTOMIZATION_API)},
				  {"kind", node_str(a, "Kustomization")}, {"resources", files});
	int ret = k ? yamlout_node(y, k) : -ENOMEM;
	arena_free(a);
	return ret;
}

/* "Kind/name, Kind/name" of the objects (a NODE_SEQ) of one file, for the README. */
static int objects_summary(const struct node *objects, struct buf *out)
{
	int r = 0;
	for (const struct node_item *it = objects->v.list.first; it && r == 0; it = it->next) {
		const char *kind = node_string(node_get(it->val, "kind"));
		const char *name = node_string(node_get(node_get(it->val, "metadata"), "name"));
		r = BUF_PUTS(out, it != objects->v.list.first ? ", " : "", kind ? kind : "?", "/",
			     name ? name : "?");
	}
	return r;
}

/* The description as one Markdown paragraph: line breaks become spaces. */
static int put_paragraph(struct buf *out, const char *text)
{
	int r = 0;
	for (const char *p = text; *p && r == 0;) {
		size_t line = strcspn(p, "\r\n");
		r = buf_append(out, p, line);
		p += line;
		if (r == 0 && *p) {
			r = buf_append(out, " ", 1);
			p++;
		}
	}
	return r ? r : buf_puts(out, "\n\n");
}

static int readme_head(const struct render *r, struct buf *out)
{
	const struct render_meta *m = render_meta(r);
	const char *desc = json_string_value(json_object_get(render_doc(r), "description"));
	int ret = BUF_PUTS(out, "# ", m->stack, "-", m->environment,
			   "\n\nKubernetes manifests of the stack `", m->stack, "`, environment `",
			   m->environment, "`, rendered by manifestd " MANIFESTD_VERSION
			   ". Regenerate the bundle rather than editing it.\n\n");
	if (ret == 0 && desc && desc[0])
		ret = put_paragraph(out, desc);
	if (ret == 0)
		ret = BUF_PUTS(out, "| | |\n|---|---|\n| stack | `", m->stack, "` |\n| environment | `",
			       m->environment, "` |\n| namespace | `", render_namespace(r), "` |\n");
	if (ret == 0 && m->revision > 0)
		ret = buf_printf(out, "| revision | %lld |\n", m->revision);
	if (ret == 0 && m->revision <= 0)
		ret = buf_puts(out, "| revision | none (rendered from files) |\n");
	if (ret == 0)
		ret = BUF_PUTS(out, "| bundle hash | `", render_bundle_hash(r),
			       "` |\n| manifestd | " MANIFESTD_VERSION " |\n\n");
	if (ret == 0)
		ret = BUF_PUTS(out, "The revision and the bundle hash are kept in the ConfigMap `",
			       render_provenance_name(r), "` (`10-config.yaml`) and on no other object, so a "
			       "change to one value changes only the objects it affects.\n\n");
	return ret;
}

/* What the document does that deserves a second look (render_warnings), when anything. */
static int readme_warnings(const struct render *r, struct buf *out)
{
	const struct model_errors *w = render_warnings(r);
	int ret = w->count ? buf_puts(out, "## Warnings\n\n") : 0;
	for (size_t i = 0; ret == 0 && i < w->count; i++)
		ret = BUF_PUTS(out, "- `", w->items[i].pointer, "` ", w->items[i].detail, "\n");
	return ret == 0 && w->count ? buf_puts(out, "\n") : ret;
}

static const char readme_apply[] =
	"## Apply\n\n"
	"    ./apply.sh                        # in order, waiting for every phase to be ready\n"
	"    ./apply.sh --dry-run=server       # what would be applied; changes nothing\n"
	"    ./apply.sh --diff                 # what would change (exit 1 when something would)\n"
	"    ./apply.sh --prune                # also delete what earlier bundles made and this one dropped\n"
	"    ./apply.sh --prune --prune-old-namespace   # and this environment in a namespace it left\n"
	"    ./apply.sh --delete --dry-run     # what --delete would delete\n"
	"    ./apply.sh --delete               # delete it: asks first (--yes in a pipeline)\n"
	"    ./apply.sh --context NAME         # another kubectl context\n"
	"    ./apply.sh --help                 # every option\n\n"
	"apply.sh needs bash and kubectl 1.26 or newer, and works from any directory. Without its\n"
	"ordering, waits and checks, kustomize applies the same objects: `kubectl apply -k .`\n\n"
	"### How it applies\n\n"
	"- **Server-side apply**, field manager `manifestd`, forcing conflicts: the bundle decides\n"
	"  every field it sets, whoever changed it since. On the first run over objects that earlier\n"
	"  bundles applied client-side, kubectl moves their fields over to `manifestd`, so a field\n"
	"  the bundle drops later is removed. Unlike client-side apply it keeps no copy of each\n"
	"  object in an annotation (at most 256 KiB), and `--diff` shows what the server would do.\n"
	"- **Autoscaling on or off never changes the running replica count by itself.** On: the\n"
	"  manifest stops setting `spec.replicas`, and the live count is first applied by a second\n"
	"  field manager, `manifestd-handover`, so dropping the field does not reset it to 1; the\n"
	"  autoscaler takes it over from there (Kubernetes' documented way to migrate a workload to\n"
	"  horizontal autoscaling). Off: the workload runs the document's `replicas` from that apply\n"
	"  on (the next apply would set them anyway), and the HorizontalPodAutoscaler an earlier\n"
	"  bundle made for it is deleted just before, or it would keep resizing the workload; the\n"
	"  live and new counts are printed. That deletion and the next are the only ones made\n"
	"  without `--prune`.\n"
	"- **A StatefulSet keeps its `serviceName` and volume claim templates for life** (the API\n"
	"  server refuses to change them). When the bundle's differ from the live set's, the set\n"
	"  is deleted with `--cascade=orphan` just before it is applied: its pods and volume claims\n"
	"  stay, and the new set takes them over. A claim template that grew has the set's claims\n"
	"  resized first (their StorageClass must allow expansion; a failure stops the run, exit 5,\n"
	"  before the set is touched). `--dry-run` only says so.\n"
	"- **Before anything is applied** the Secrets, ConfigMaps, service accounts and volume claims\n"
	"  the bundle references but does not hold (`secretSource` `existing`, an image pull secret,\n"
	"  an Ingress TLS Secret) must exist: a missing one stops the run with exit 7 and the list\n"
	"  (`--allow-missing-references` warns instead). A Secret that the bundle's ExternalSecret,\n"
	"  Certificate or SealedSecret makes, or that cert-manager makes for an annotated Ingress,\n"
	"  is only reported.\n"
	"- **Every run reports what earlier bundles left behind:** objects no longer in the bundle\n"
	"  (an ExternalSecret left by a change of secret source keeps overwriting its Secret), and\n"
	"  this environment still running in a namespace it used before, Ingress included.\n"
	"- **Waits:** `kubectl rollout status` for StatefulSets, Deployments and DaemonSets; Jobs\n"
	"  until they complete, and a failed Job stops the run at once with its logs; CronJobs are\n"
	"  not waited for.\n"
	"- **A deployer limited to the namespace** can apply: the reachability check is `kubectl auth\n"
	"  can-i` in the namespace, a namespace it may not change is left as it is, and what it may\n"
	"  not list (other namespaces, IngressClasses) is skipped with a note.\n"
	"- **On a first install** the API server refuses even a dry run in the namespace that does\n"
	"  not exist yet: `--dry-run=server` checks the Namespace on the server and the rest with\n"
	"  kubectl alone, and `--diff` shows every file as new, Secret values left out.\n\n"
	"### What --prune and --delete delete\n\n"
	"Only objects labelled `manifestd.io/stack`, `manifestd.io/environment` (this bundle's) and\n"
	"`app.kubernetes.io/managed-by=manifestd` that no other object owns, each deleted only while\n"
	"it still carries those labels.\n\n"
	"- `--prune`: those in the namespace that the bundle no longer holds; never one it references\n"
	"  (after `secretSource` changed to `existing`, the Secret an earlier bundle made stays),\n"
	"  never a PersistentVolumeClaim nor a Namespace. Objects other than workloads and Services\n"
	"  go with `--cascade=orphan`, so what they made stays (an ExternalSecret's Secret).\n"
	"- `--prune --prune-old-namespace`: also this environment's objects in namespaces it used\n"
	"  before: their Ingresses just before the new ones are applied (a controller refuses two for\n"
	"  one host), the rest after. Volume claims stay; the old namespace goes only when nothing\n"
	"  else is in it.\n"
	"- `--delete`: everything of this environment in the namespace, listed first, then only with\n"
	"  `--yes` or the namespace name typed on a terminal (`--dry-run` only lists). Volume claims\n"
	"  (data) stay unless `--delete-volumes`; a StatefulSet set to delete its claims with it is\n"
	"  switched to keep them first. The namespace goes only when manifestd created it (it is\n"
	"  labelled, and apply.sh did not find it there before: it marks such a namespace with\n"
	"  `manifestd.io/existed-before`) and nothing else is in it; else apply.sh says what keeps it.\n\n"
	"### Exit codes\n\n"
	"0 done; 1 `--diff` found differences; 2 usage error; 3 kubectl not found; 4 cluster\n"
	"unreachable or credentials refused; 5 a kubectl apply, delete or diff failed; 6 a rollout\n"
	"or Job did not finish within `--timeout` (default 300s), or a Job failed; 7 a referenced\n"
	"object is missing (nothing was applied); 8 `--delete` was not confirmed (nothing deleted).\n\n"
	"## Files\n\n";

/* README.md; summaries holds one "Kind/name, ..." line per manifest file. */
static int readme_md(const struct render *r, const struct buf *summaries, struct buf *out)
{
	const char *line = buf_cstr(summaries);
	int ret = readme_head(r, out);
	if (ret == 0)
		ret = readme_warnings(r, out);
	if (ret == 0)
		ret = buf_puts(out, readme_apply);
	for (size_t i = 0; ret == 0 && i < render_file_count(r); i++) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		ret = BUF_PUTS(out, "- `", render_file_name(r, i), "`: ");
		if (ret == 0)
			ret = buf_append(out, line, len);
		if (ret == 0)
			ret = buf_append(out, "\n", 1);
		line += end ? len + 1 : len;
	}
	if (ret == 0)
		ret = buf_puts(out,
			       "- `apply.sh`: the ordered apply script\n"
			       "- `kustomization.yaml`: the file list for `kubectl apply -k`\n"
			       "- `README.md`: this file\n");
	return ret;
}

static struct bfile *bfile_add(struct bfiles *fs, const char *name, unsigned mode)
{
	struct bfile *f = &fs->items[fs->count++];
	f->name = name;
	f->mode = mode;
	buf_init(&f->content, BUF_NO_MAX);
	return f;
}

/* Renders every manifest file into fs through *y (see yaml_target); af[i] keeps file i's
 * objects (borrowed from r) for apply.sh. */
static int collect_manifests(struct render *r, struct yamlout **y, struct bfiles *fs,
			     struct applysh_file *af, struct buf *summaries)
{
	for (size_t i = 0; i < render_file_count(r); i++) {
		const struct node *objects = NULL;
		struct bfile *f = bfile_add(fs, render_file_name(r, i), MODE_FILE);
		int ret = render_file_nodes(r, i, &objects);
		if (ret < 0)
			return ret;
		if (applysh_holds_secret_values(objects))
			f->mode = MODE_SECRET;
		af[i].name = f->name;
		af[i].objects = objects;
		ret = yaml_target(y, &f->content);
		if (ret == 0)
			ret = objects_yaml(*y, objects);
		if (ret == 0)
			ret = objects_summary(objects, summaries);
		if (ret == 0)
			ret = buf_puts(summaries, "\n");
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* kustomization.yaml into fs through *y, which ends its stream there. */
static int collect_kustomization(struct render *r, struct yamlout **y, struct bfiles *fs)
{
	int err = yaml_target(y, &bfile_add(fs, "kustomization.yaml", MODE_FILE)->content);
	if (err == 0)
		err = kustomization_yaml(r, *y);
	if (err == 0)
		err = yamlout_finish(*y);
	return err;
}

/* Builds every file of the bundle of r into *ret (released by the caller on success). */
static int collect(struct render *r, struct bfiles *ret)
{
	size_t n = render_file_count(r);
	struct bfiles fs = { calloc(n + 3, sizeof(struct bfile)), 0 };
	struct applysh_file *af = calloc(n ? n : 1, sizeof(*af));
	struct yamlout *y = NULL;
	struct buf summaries;
	int err = (fs.items && af) ? 0 : -ENOMEM;
	buf_init(&summaries, BUF_NO_MAX);
	if (err == 0)
		err = collect_manifests(r, &y, &fs, af, &summaries);
	if (err == 0)
		err = applysh_write_files(render_meta(r), render_namespace(r), af, n,
					  &bfile_add(&fs, "apply.sh", MODE_EXEC)->content);
	if (err == 0)
		err = collect_kustomization(r, &y, &fs);
	if (err == 0)
		err = readme_md(r, &summaries, &bfile_add(&fs, "README.md", MODE_FILE)->content);
	yamlout_free(y);
	free(af);
	buf_release(&summaries);
	if (err < 0) {
		bfiles_release(&fs);
		return err;
	}
	*ret = fs;
	return 0;
}

static int folder_name(const struct render *r, struct buf *out)
{
	const struct render_meta *m = render_meta(r);
	return buf_printf(out, "%s-%s", m->stack, m->environment);
}

/* ---- archives ---- */

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define DEFLATE_LEVEL STRINGIFY(BUNDLE_DEFLATE_LEVEL)

static int cmp_bfile(const void *a, const void *b)
{
	return strcmp((*(const struct bfile *const *)a)->name, (*(const struct bfile *const *)b)->name);
}

/* The files of fs sorted by name (bytewise): a new array the caller frees, NULL when out
 * of memory. */
static const struct bfile **sorted_files(const struct bfiles *fs)
{
	const struct bfile **sorted = calloc(fs->count ? fs->count : 1, sizeof(*sorted));
	for (size_t i = 0; sorted && i < fs->count; i++)
		sorted[i] = &fs->items[i];
	if (sorted)
		qsort(sorted, fs->count, sizeof(*sorted), cmp_bfile);
	return sorted;
}

/* path = "folder/name". */
static int entry_path(struct buf *path, const char *folder, const char *name)
{
	buf_reset(path);
	return BUF_PUTS(path, folder, "/", name);
}

/* Appends the zip of fs to out: the folder entry, then every file sorted by name
 * (zipout.h). */
static int write_zip(const struct bfiles *fs, const char *folder, struct buf *out)
{
	struct zipout *z = NULL;
	const struct bfile **sorted = sorted_files(fs);
	struct buf path;
	buf_init(&path, BUF_NO_MAX);
	int r = sorted ? zipout_new(out, BUNDLE_ZIP_LEVEL, BUNDLE_ZIP_STORE_BELOW, &z) : -ENOMEM;
	if (r == 0)
		r = entry_path(&path, folder, "");
	if (r == 0)
		r = zipout_dir(z, buf_cstr(&path), MODE_DIR);
	for (size_t i = 0; r == 0 && i < fs->count; i++) {
		const struct bfile *f = sorted[i];
		r = entry_path(&path, folder, f->name);
		if (r == 0)
			r = zipout_file(z, buf_cstr(&path), f->mode, f->content.data, f->content.len);
	}
	if (r == 0)
		r = zipout_finish(z);
	zipout_free(z);
	buf_release(&path);
	free(sorted);
	return r;
}

/* libarchive writes the tar.gz straight into the caller's buffer (no block buffer: bytes
 * per block 0). The sink never reports a failure, because libarchive leaks its deflate
 * state when a write fails half-way: after the first error (out full, no memory) it keeps
 * the error, drops the rest of the bytes, and the caller truncates out back. */
struct sink {
	struct buf *out;
	int err;
};

static la_ssize_t sink_write(struct archive *a, void *client, const void *data, size_t n)
{
	struct sink *s = client;
	(void)a;
	if (s->err == 0)
		s->err = buf_append(s->out, data, n);
	return (la_ssize_t)n;
}

/* Writes one tar header (and the data for a file) with the fixed time and owner. */
static int tar_put(struct archive *a, struct archive_entry *e, const char *path, unsigned type,
		   unsigned mode, const struct buf *data)
{
	archive_entry_clear(e);
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, mode);
	archive_entry_set_size(e, data ? (la_int64_t)data->len : 0);
	archive_entry_set_mtime(e, BUNDLE_MTIME, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	if (archive_write_header(a, e) != ARCHIVE_OK)
		return -EIO;
	if (data && data->len && archive_write_data(a, data->data, data->len) != (la_ssize_t)data->len)
		return -EIO;
	return 0;
}

/* tar (restricted pax: plain ustar headers unless an entry needs a pax one), gzipped. */
static int tar_configure(struct archive *a)
{
	bool ok = archive_write_set_bytes_per_block(a, 0) == ARCHIVE_OK &&
		  archive_write_set_format_pax_restricted(a) == ARCHIVE_OK &&
		  archive_write_add_filter_gzip(a) == ARCHIVE_OK &&
		  archive_write_set_options(a, "gzip:!timestamp,gzip:compression-level=" DEFLATE_LEVEL) == ARCHIVE_OK;
	return ok ? 0 : -EIO;
}

/* The folder entry, then every file sorted by name. */
static int tar_entries(struct archive *a, const struct bfiles *fs, const char *folder)
{
	struct archive_entry *e = archive_entry_new();
	const struct bfile **sorted = sorted_files(fs);
	struct buf path;
	int r = (e && sorted) ? 0 : -ENOMEM;
	buf_init(&path, BUF_NO_MAX);
	if (r == 0)
		r = entry_path(&path, folder, "");
	if (r == 0)
		r = tar_put(a, e, buf_cstr(&path), AE_IFDIR, MODE_DIR, NULL);
	for (size_t i = 0; r == 0 && i < fs->count; i++) {
		r = entry_path(&path, folder, sorted[i]->name);
		if (r == 0)
			r = tar_put(a, e, buf_cstr(&path), AE_IFREG, sorted[i]->mode, &sorted[i]->content);
	}
	buf_release(&path);
	free(sorted);
	archive_entry_free(e);
	return r;
}

/* Appends the tar.gz of fs to out. */
static int write_targz(const struct bfiles *fs, const char *folder, struct buf *out)
{
	struct sink sink = { out, 0 };
	struct archive *a = archive_write_new();
	int ret = a ? tar_configure(a) : -ENOMEM;
	if (ret == 0 && archive_write_open(a, &sink, NULL, sink_write, NULL) != ARCHIVE_OK)
		ret = -EIO;
	if (ret == 0)
		ret = tar_entries(a, fs, folder);
	if (ret == 0 && archive_write_close(a) != ARCHIVE_OK)
		ret = -EIO;
	if (sink.err < 0)
		ret = sink.err;
	archive_write_free(a);
	return ret;
}

/* Appends the archive to out; out is unchanged on failure. */
static int build_archive(struct render *r, enum bundle_format f, struct buf *out)
{
	struct bfiles fs = { NULL, 0 };
	struct buf folder;
	size_t saved = out->len;
	int ret;
	buf_init(&folder, BUF_NO_MAX);
	ret = collect(r, &fs);
	if (ret == 0)
		ret = folder_name(r, &folder);
	if (ret == 0)
		ret = f == BUNDLE_ZIP ? write_zip(&fs, buf_cstr(&folder), out) : write_targz(&fs, buf_cstr(&folder), out);
	if (ret < 0 && out->data) {
		out->len = saved;
		out->data[saved] = '\0';
	}
	bfiles_release(&fs);
	buf_release(&folder);
	return ret;
}

/* ---- JSON formats ---- */

struct dump_ctx {
	struct buf *out;
	int err;
};

static int dump_cb(const char *data, size_t n, void *client)
{
	struct dump_ctx *c = client;
	c->err = buf_append(c->out, data, n);
	return c->err == 0 ? 0 : -1;
}

/* Pretty JSON of v plus a newline; out is unchanged on failure. */
static int dump_json(const json_t *v, struct buf *out)
{
	struct dump_ctx c = { out, 0 };
	size_t saved = out->len;
	int r = json_dump_callback(v, dump_cb, &c, JSON_INDENT(2)) == 0 ? 0 : (c.err ? c.err : -ENOMEM);
	if (r == 0)
		r = buf_puts(out, "\n");
	if (r < 0 && out->data) {
		out->len = saved;
		out->data[saved] = '\0';
	}
	return r;
}

static int build_list(struct render *r, struct buf *out)
{
	json_t *list = json_pack("{s:s, s:s, s:[]}", "apiVersion", "v1", "kind", "List", "items");
	json_t *items = json_object_get(list, "items");
	int ret = list ? 0 : -ENOMEM;
	for (size_t i = 0; ret == 0 && i < render_file_count(r); i++) {
		json_t *objects = NULL;
		ret = render_file_objects(r, i, &objects);
		if (ret == 0 && json_array_extend(items, objects) < 0)
			ret = -ENOMEM;
		json_decref(objects);
	}
	if (ret == 0)
		ret = dump_json(list, out);
	json_decref(list);
	return ret;
}

/* {"files": [...]}: manifests, apply.sh, kustomization.yaml, README.md. */
static int build_files(struct render *r, struct buf *out)
{
	struct bfiles fs = { NULL, 0 };
	json_t *doc = NULL, *arr;
	int ret = collect(r, &fs);
	if (ret < 0)
		return ret;
	doc = json_pack("{s:[]}", "files");
	arr = json_object_get(doc, "files");
	ret = doc ? 0 : -ENOMEM;
	for (size_t i = 0; ret == 0 && i < fs.count; i++) {
		const struct bfile *f = &fs.items[i];
		json_t *item = json_pack("{s:s, s:s%}", "name", f->name, "content", f->content.data ? f->content.data : "", f->content.len);
		if (!item || json_array_append_new(arr, item) < 0)
			ret = -ENOMEM;
	}
	if (ret == 0)
		ret = dump_json(doc, out);
	json_decref(doc);
	bfiles_release(&fs);
	return ret;
}

/* ---- the YAML stream ---- */

struct bundle_stream {
	struct render *r;
	struct yamlout *y; /* one YAML stream writing every file into cur */
	size_t next; /* next file to render */
	bool ended; /* the YAML stream's end is in cur */
	struct buf cur; /* bytes of the current file */
	size_t off; /* bytes of cur already read */
};

int bundle_stream_new(struct render *r, struct bundle_stream **ret)
{
	struct bundle_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	buf_init(&s->cur, BUF_NO_MAX);
	int err = yamlout_new(&s->cur, &s->y);
	if (err < 0) {
		bundle_stream_free(s);
		return err;
	}
	s->r = r;
	*ret = s;
	return 0;
}

/* Renders the next file into cur, or after the last one ends the YAML stream there.
 * 0, 1 at the end, or a negative error. */
static int stream_next_file(struct bundle_stream *s)
{
	const struct node *objects = NULL;
	int r;
	if (s->ended)
		return 1;
	buf_reset(&s->cur);
	s->off = 0;
	if (s->next >= render_file_count(s->r)) {
		r = yamlout_finish(s->y);
		s->ended = r == 0;
		return r;
	}
	r = render_file_nodes(s->r, s->next, &objects);
	if (r == 0)
		r = objects_yaml(s->y, objects);
	if (r == 0)
		s->next++;
	return r;
}

ssize_t bundle_stream_read(struct bundle_stream *s, char *dst, size_t max)
{
	while (s->off >= s->cur.len) {
		int r = stream_next_file(s);
		if (r != 0)
			return r > 0 ? 0 : r;
	}
	size_t n = s->cur.len - s->off;
	if (n > max)
		n = max;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	memcpy(dst, s->cur.data + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

void bundle_stream_free(struct bundle_stream *s)
{
	if (!s)
		return;
	yamlout_free(s->y);
	buf_release(&s->cur);
	free(s);
}

/* Reads the next chunk of s into out; the count, 0 at the end, or a negative error
 * (-E2BIG when out is full and the stream has more). */
static ssize_t stream_chunk(struct bundle_stream *s, struct buf *out)
{
	size_t room = out->max - out->len;
	char probe;
	if (room == 0) {
		ssize_t n = bundle_stream_read(s, &probe, 1);
		return n > 0 ? -E2BIG : n;
	}
	size_t want = room < 4096 ? room : 4096;
	int r = buf_reserve(out, want);
	if (r < 0)
		return r;
	ssize_t n = bundle_stream_read(s, out->data + out->len, want);
	if (n > 0) {
		out->len += (size_t)n;
		out->data[out->len] = '\0';
	}
	return n;
}

/* The whole stream into out, through the same code the streamed response uses. */
static int build_yaml(struct render *r, struct buf *out)
{
	struct bundle_stream *s = NULL;
	size_t saved = out->len;
	ssize_t n;
	int ret = bundle_stream_new(r, &s);
	if (ret < 0)
		return ret;
	while ((n = stream_chunk(s, out)) > 0)
		;
	ret = n < 0 ? (int)n : 0;
	if (ret < 0 && out->data) {
		out->len = saved;
		out->data[saved] = '\0';
	}
	bundle_stream_free(s);
	return ret;
}

int bundle_build(struct render *r, enum bundle_format f, struct buf *out)
{
	switch (f) {
	case BUNDLE_ZIP:
	case BUNDLE_TARGZ:
		return build_archive(r, f, out);
	case BUNDLE_YAML:
		return build_yaml(r, out);
	case BUNDLE_JSON:
		return build_list(r, out);
	case BUNDLE_FILES:
		return build_files(r, out);
	case BUNDLE_DIR:
		break;
	}
	return -EINVAL;
}

/* ---- the folder ---- */

static int make_dir(const char *path)
{
	if (mkdir(path, MODE_DIR) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

/* Writes path through path.tmp and rename, with exactly the given mode. */
static int write_file(const char *path, const char *tmp, const struct buf *data, unsigned mode)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r = 0;
	if (fd < 0)
		return -errno;
	for (size_t off = 0; r == 0 && off < data->len;) {
		ssize_t n = write(fd, data->data + off, data->len - off);
		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

static int write_files(const struct bfiles *fs, const char *dir)
{
	struct buf path, tmp;
	int r = 0;
	buf_init(&path, BUF_NO_MAX);
	buf_init(&tmp, BUF_NO_MAX);
	for (size_t i = 0; r == 0 && i < fs->count; i++) {
		buf_reset(&path);
		buf_reset(&tmp);
		r = buf_printf(&path, "%s/%s", dir, fs->items[i].name);
		if (r == 0)
			r = buf_printf(&tmp, "%s/.%s.tmp", dir, fs->items[i].name);
		if (r == 0)
			r = write_file(buf_cstr(&path), buf_cstr(&tmp), &fs->items[i].content, fs->items[i].mode);
	}
	buf_release(&path);
	buf_release(&tmp);
	return r;
}

int bundle_write_dir(struct render *r, const char *parent)
{
	struct bfiles fs = { NULL, 0 };
	struct buf dir;
	int ret;
	buf_init(&dir, BUF_NO_MAX);
	ret = collect(r, &fs);
	if (ret == 0)
		ret = make_dir(parent);
	if (ret == 0)
		ret = buf_printf(&dir, "%s/", parent);
	if (ret == 0)
		ret = folder_name(r, &dir);
	if (ret == 0)
		ret = make_dir(buf_cstr(&dir));
	if (ret == 0)
		ret = write_files(&fs, buf_cstr(&dir));
	bfiles_release(&fs);
	buf_release(&dir);
	return ret;
}
