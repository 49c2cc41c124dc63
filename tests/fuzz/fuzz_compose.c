/* fuzz_compose: libFuzzer harness for the docker-compose import: the YAML reader (limits,
 * aliases, merge keys), the mapping to a stack and an environment, and then what a save
 * does with the result: the shape check, model_resolve of stack <- environment and, when
 * it validates, render of every file. Input: a docker-compose file. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "compose.h"
#include "fuzzsave.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err;
	buf_init(&err, 4096);
	struct compose_result res = {0};
	if (compose_import((const char *)data, size, &err, &res) == 0)
		fuzzsave_check(res.stack, res.environment);
	compose_result_release(&res);
	buf_release(&err);
	return 0;
}
