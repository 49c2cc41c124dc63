/* bundle: stub until implemented */
#include "bundle.h"
#include <errno.h>
int bundle_format_parse(const char *name, enum bundle_format *ret) { (void)name; (void)ret; return -ENOSYS; }
