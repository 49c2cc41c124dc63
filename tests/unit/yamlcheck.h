/* yamlcheck: libyaml as the judge of every YAML byte the unit tests make
 * (tests/support/yamljudge.h), as Check assertions: each function fails the running
 * test with the judge's sentence. Generic over node trees: whatever objects render
 * makes, yamlcheck_bundle(r) checks them. */
#ifndef MANIFESTD_TEST_YAMLCHECK_H
#define MANIFESTD_TEST_YAMLCHECK_H

#include <jansson.h>
#include <stddef.h>

#include "node.h"
#include "render.h"

/* The len bytes of text (one YAML stream) read back with libyaml's parser as exactly the
 * n trees docs (values, types as Kubernetes reads them, key order), and are the bytes
 * libyaml's emitter writes for their events. */
void yamlcheck_stream(const char *text, size_t len, const struct node *const *docs, size_t n);
/* The same for the documents of the JSON array docs (each as node_from_json makes it). */
void yamlcheck_json_stream(const char *text, size_t len, const json_t *docs);
/* yamlcheck_stream for every YAML file of the bundle of r: each manifest file (the
 * objects render_file_nodes builds for it) and kustomization.yaml (its list of those
 * files) as the files format holds them, and the yaml format (every object, in file
 * order). */
void yamlcheck_bundle(struct render *r);

#endif
