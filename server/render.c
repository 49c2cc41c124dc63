/* render: stub until implemented */
#include "render.h"
#include <errno.h>
int render_new(const json_t *doc, const struct render_meta *meta, struct render **ret) { (void)doc; (void)meta; (void)ret; return -ENOSYS; }
