/* cmd_render: stub until implemented */
#include "cmd.h"
#include <stdio.h>
int cmd_render(int argc, char **argv) { (void)argc; (void)argv; fputs("manifestd render: not implemented yet\n", stderr); return 1; }
