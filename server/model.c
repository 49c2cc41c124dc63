/* model: stub until implemented */
#include "model.h"
#include <errno.h>
void model_errors_init(struct model_errors *e) { e->items = NULL; e->count = e->cap = 0; }
void model_errors_release(struct model_errors *e) { (void)e; }
