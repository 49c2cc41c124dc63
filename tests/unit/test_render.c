/* test_render: placeholder while render is written */
#include "suites.h"
Suite *render_suite(void) { return suite_create("render"); }
