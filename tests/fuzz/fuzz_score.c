/* fuzz_score: libFuzzer harness for the Score import: yamlin's stream reading (limits,
 * aliases), the mapping of workloads, containers, resources and placeholders into a stack,
 * an environment and a report, then what a save does with the result: the shape check,
 * model_resolve and, when it validates, render of every file. Input: Score workload files
 * as one YAML stream. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzzsave.h"
#include "import_score.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err;
	buf_init(&err, 4096);
	struct import_score_result res = {0};
	if (import_score((const char *)data, size, &err, &res) == 0) {
		if (!json_is_object(res.stack) || !json_is_object(res.environment) || !json_is_array(res.report))
			abort(); /* a successful import gives all three */
		fuzzsave_check(res.stack, res.environment);
	} else if (res.stack || err.len == 0) {
		abort(); /* a failure says why and gives nothing */
	}
	import_score_result_release(&res);
	buf_release(&err);
	return 0;
}
