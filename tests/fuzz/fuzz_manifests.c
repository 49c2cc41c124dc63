/* fuzz_manifests: libFuzzer harness for the Kubernetes YAML import: yamlin's stream reading
 * (YAML 1.1 scalars, limits, aliases), the mapping of workloads, Services, Ingresses,
 * ConfigMaps, Secrets, HPAs, PDBs and the rest into a stack, an environment, patches and
 * extra objects, then what a save does with the result: the shape check, model_resolve
 * and, when it validates, render of every file (or its refusal: a patch that does not
 * apply). Input: Kubernetes YAML. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "import_manifests.h"
#include "model.h"
#include "render.h"

static void render_all(const json_t *doc)
{
	struct render *r = NULL;
	struct render_meta meta = {"imported", "dev", 1};
	int rc = render_new(doc, &meta, NULL, &r);
	if (rc == MODEL_EINVALID)
		return; /* a save refuses it (a patch that does not apply, a name clash) */
	if (rc != 0)
		abort(); /* a resolved document renders or is refused */
	for (size_t i = 0; i < render_file_count(r); i++) {
		json_t *objects = NULL;
		if (render_file_objects(r, i, &objects) == 0)
			json_decref(objects);
	}
	render_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err;
	buf_init(&err, 4096);
	struct import_manifests_result res = {0};
	if (import_manifests((const char *)data, size, "imported", &err, &res) == 0) {
		if (!json_is_object(res.stack) || !json_is_object(res.environment) || !json_is_array(res.report))
			abort(); /* a successful import gives all three */
		struct model_errors errs;
		model_errors_init(&errs);
		json_t *doc = NULL;
		if (model_check_shape(res.stack, &errs) == 0 && model_check_shape(res.environment, &errs) == 0 &&
		    model_resolve("imported", res.stack, "dev", res.environment, NULL, &errs, &doc) == 0)
			render_all(doc);
		json_decref(doc);
		model_errors_release(&errs);
	} else if (res.stack || err.len == 0) {
		abort(); /* a failure says why and gives nothing */
	}
	import_manifests_result_release(&res);
	buf_release(&err);
	return 0;
}
