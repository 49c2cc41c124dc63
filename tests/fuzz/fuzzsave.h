/* fuzzsave: what a save does with an importer's result, for the importers' harnesses
 * (fuzz-compose, fuzz-manifests): the shape check of both documents, model_resolve of
 * stack <- environment and, when it validates, render of every file. Aborts when a
 * resolved document neither renders nor is refused by render (MODEL_EINVALID). */
#ifndef MANIFESTD_FUZZSAVE_H
#define MANIFESTD_FUZZSAVE_H

#include <jansson.h>

void fuzzsave_check(const json_t *stack, const json_t *environment);

#endif
