/* fuzzsave: an importer's result checked and rendered as a save would. */
#include "fuzzsave.h"

#include <stdlib.h>

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

void fuzzsave_check(const json_t *stack, const json_t *environment)
{
	struct model_errors errs;
	model_errors_init(&errs);
	json_t *doc = NULL;
	if (model_check_shape(stack, &errs) == 0 && model_check_shape(environment, &errs) == 0 &&
	    model_resolve("imported", stack, "dev", environment, NULL, &errs, &doc) == 0)
		render_all(doc);
	json_decref(doc);
	model_errors_release(&errs);
}
