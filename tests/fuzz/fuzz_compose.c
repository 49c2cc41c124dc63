/* fuzz_compose: libFuzzer harness for the docker-compose import: the YAML reader (limits,
 * aliases, merge keys), the mapping to a stack and an environment, and then what a save
 * does with the result: the shape check, model_resolve of stack <- environment and, when
 * it validates, render of every file. Input: a docker-compose file. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "compose.h"
#include "model.h"
#include "render.h"

static void render_all(const json_t *doc)
{
	struct render *r = NULL;
	struct render_meta meta = {"imported", "dev", 1};
	int rc = render_new(doc, &meta, NULL, &r);
	if (rc == MODEL_EINVALID)
		return; /* a save refuses it, as it refuses what model_resolve does */
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
	struct compose_result res = {0};
	if (compose_import((const char *)data, size, &err, &res) == 0) {
		struct model_errors errs;
		model_errors_init(&errs);
		json_t *doc = NULL;
		if (model_check_shape(res.stack, &errs) == 0 &&
		    model_check_shape(res.environment, &errs) == 0 &&
		    model_resolve("imported", res.stack, "dev", res.environment, NULL, &errs, &doc) == 0)
			render_all(doc);
		json_decref(doc);
		model_errors_release(&errs);
	}
	compose_result_release(&res);
	buf_release(&err);
	return 0;
}
