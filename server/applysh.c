/* applysh: stub until implemented */
#include "applysh.h"
#include <errno.h>
int applysh_write(struct render *r, struct buf *out) { (void)r; (void)out; return -ENOSYS; }
