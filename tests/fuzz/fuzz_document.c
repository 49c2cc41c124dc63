/* fuzz_document: libFuzzer harness for the document path: JSON parse, the store's shape
 * check and secret masking, layering and validation (model_resolve), render, and every
 * bundle format, its YAML judged by libyaml (yamljudge_bundle: read back as exactly the
 * objects rendered, in libyaml's emitter's bytes; aborts when not). Input: one to three
 * JSON texts separated by a line "----":
 *   ENV                       an environment over the built-in msa-shop stack
 *   STACK ---- ENV            a stack and an environment
 *   STACK ---- ENV ---- OVERRIDES */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "catalog.h"
#include "digest.h"
#include "model.h"
#include "render.h"
#include "yamljudge.h"

#define SEPARATOR "\n----\n"
#define MAX_PARTS 3

/* Parses one part like an HTTP body; NULL when it is not JSON. */
static json_t *parse(const uint8_t *data, size_t len)
{
	return json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, NULL);
}

/* Splits data at SEPARATOR into at most MAX_PARTS parts; returns the count. */
static size_t split(const uint8_t *data, size_t size, const uint8_t *part[], size_t len[])
{
	size_t n = 0, sl = strlen(SEPARATOR);
	const uint8_t *p = data, *end = data + size;
	while (n < MAX_PARTS - 1) {
		const uint8_t *sep = memmem(p, (size_t)(end - p), SEPARATOR, sl);
		if (!sep)
			break;
		part[n] = p;
		len[n++] = (size_t)(sep - p);
		p = sep + sl;
	}
	part[n] = p;
	len[n++] = (size_t)(end - p);
	return n;
}

/* What the store does with a document before writing it. */
static void store_checks(const json_t *doc)
{
	struct model_errors errs;
	model_errors_init(&errs);
	(void)model_check_shape(doc, &errs);
	json_t *errors = model_errors_json(&errs);
	json_decref(errors);
	model_errors_release(&errs);
	json_t *masked = model_mask_secrets(doc);
	json_decref(masked);
}

static void render_all(const json_t *doc)
{
	struct render_meta meta = {"fuzz", "env", 7};
	struct render *r = NULL;
	if (render_new(doc, &meta, NULL, &r) < 0)
		return;
	static const enum bundle_format formats[] = {BUNDLE_YAML, BUNDLE_JSON, BUNDLE_FILES,
						     BUNDLE_ZIP, BUNDLE_TARGZ};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		struct buf out;
		buf_init(&out, BUF_NO_MAX);
		(void)bundle_build(r, formats[i], &out);
		buf_release(&out);
	}
	struct buf why;
	buf_init(&why, BUF_NO_MAX);
	if (yamljudge_bundle(r, &why) == -1) {
		fprintf(stderr, "fuzz-document: the bundle's YAML is wrong: %s\n", buf_cstr(&why));
		abort();
	}
	buf_release(&why);
	struct bundle_stream *s = NULL;
	if (bundle_stream_new(r, &s) == 0) {
		char block[4096];
		while (bundle_stream_read(s, block, sizeof block) > 0)
			;
		bundle_stream_free(s);
	}
	render_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[MAX_PARTS];
	size_t len[MAX_PARTS];
	size_t n = split(data, size, part, len);
	json_t *docs[MAX_PARTS] = {NULL};
	for (size_t i = 0; i < n; i++) {
		docs[i] = parse(part[i], len[i]);
		if (!docs[i])
			goto out;
		store_checks(docs[i]);
	}
	json_t *stack = NULL, *env = NULL, *overrides = NULL;
	if (n == 1) {
		size_t sl = 0;
		const char *text = catalog_file("msa-shop/stack.json", &sl);
		stack = text ? json_loadb(text, sl, 0, NULL) : NULL;
		env = docs[0];
		docs[1] = stack; /* freed below */
	} else {
		stack = docs[0];
		env = docs[1];
		overrides = n == 3 ? docs[2] : NULL;
	}
	if (!stack)
		goto out;
	struct model_errors errs;
	model_errors_init(&errs);
	json_t *resolved = NULL;
	if (model_resolve("fuzz", stack, "env", env, overrides, &errs, &resolved) == 0) {
		char hash[65];
		(void)digest_json(resolved, hash);
		render_all(resolved);
		json_decref(resolved);
	}
	model_errors_release(&errs);
out:
	for (size_t i = 0; i < MAX_PARTS; i++)
		json_decref(docs[i]);
	return 0;
}
