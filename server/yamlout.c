/* yamlout: stub until implemented */
#include "yamlout.h"
#include <errno.h>
int yamlout_dump(struct buf *out, const json_t *value) { (void)out; (void)value; return -ENOSYS; }
