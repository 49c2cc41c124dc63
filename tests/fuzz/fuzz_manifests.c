/* fuzz_manifests: libFuzzer harness for the Kubernetes YAML import: yamlin's stream reading
 * (YAML 1.1 scalars, limits, aliases), the mapping of workloads, Services, Ingresses,
 * ConfigMaps, Secrets, HPAs, PDBs and the rest into a stack, an environment, patches and
 * extra objects, then what a save does with the result: the shape check, model_resolve
 * and, when it validates, render of every file (or its refusal: a patch that does not
 * apply). Input: Kubernetes YAML. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzzsave.h"
#include "import_manifests.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err;
	buf_init(&err, 4096);
	struct import_manifests_result res = {0};
	if (import_manifests((const char *)data, size, "imported", NULL, &err, &res) == 0) {
		if (!json_is_object(res.stack) || !json_is_object(res.environment) || !json_is_array(res.report))
			abort(); /* a successful import gives all three */
		fuzzsave_check(res.stack, res.environment);
	} else if (res.stack || err.len == 0) {
		abort(); /* a failure says why and gives nothing */
	}
	import_manifests_result_release(&res);
	buf_release(&err);
	return 0;
}
