/* cmd_serve: stub until implemented */
#include "cmd.h"
#include <stdio.h>
int cmd_serve(int argc, char **argv) { (void)argc; (void)argv; fputs("manifestd serve: not implemented yet\n", stderr); return 1; }
