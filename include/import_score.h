/* import_score: Score workload files (score.dev/v1b1) -> a stack document, an environment
 * document and a report of what has no counterpart. Pure: no I/O.
 *
 * Input: one YAML stream of one or more workloads ("---" between files; empty documents
 * are skipped), read by yamlin (YAML 1.2 core scalars, as Score's tools read it) within
 * the limits below. A "# Source: FILE" comment at the top of a document names its file
 * (manifestd import score writes one per file) in the report and in errors.
 *
 * Errors (-EINVAL, one line in err naming the document's pointer, its file when known and
 * the field): not YAML; no workload; a document that is not a mapping, whose apiVersion is
 * not score.dev/v1b1, without metadata.name (or one that cannot be a service name, or the
 * name of another workload), without containers or with a container without an image.
 * -E2BIG: a limit. -ENOMEM.
 *
 * The report is an array of {"path", "object", "source"?, "detail"}: path is a JSON Pointer
 * into the stream taken as an array of its documents ("/1/containers/web/files/~1etc~1x"),
 * object is "Workload/NAME", source the document's file. One entry for each thing not
 * mapped, each guess and each placeholder left as text.
 *
 * The mapping (docs/api.md, "Import from Score", has the same for users):
 * Workloads. metadata.name is the service's name (lowercase, '_' and '.' -> '-');
 *   metadata.annotations its podAnnotations. The container named like the workload, else
 *   the first, is the service's; the others are sidecars (keyed by their names).
 * Containers. image split as the other importers do: the registry and tag most services
 *   share go to the top-level image (the tag into the environment); "." (built by Score's
 *   tools), an untagged or a latest image gets the tag "change-me" (reported). command,
 *   args; variables are env vars (a literal value of a variable named like a secret goes
 *   to the environment's secrets); resources (limits, requests: a side given alone is
 *   copied to the other); livenessProbe/readinessProbe: httpGet (path, port, scheme,
 *   httpHeaders as headers; host is reported) or exec; a probe not given is null (no
 *   default TCP probe: Score adds none). files: each file is a volume of its own with
 *   one inline file, mounted at the target with subPath (content with placeholders
 *   expanded unless noExpand; mode; binaryContent when it is UTF-8 text; source files are
 *   not read: reported). volumes: a volume resource mounted at the target (path ->
 *   subPath, readOnly). before is reported. Sidecars take image, command, args,
 *   variables, resources and probes.
 * Ports. service.ports are the service's ports (name, port, targetPort, protocol); a name
 *   that is not a port name becomes port-NUMBER. A workload without ports is a worker.
 * Resources, by type. postgres, mysql, mariadb, redis, mongodb, amqp and rabbitmq
 *   (rabbitmq), kafka-topic and kafka (kafka), memcached: a component of that type, one
 *   per distinct type, class and id (a resource without id is its workload's own); named
 *   by the id, else the resource's name, else WORKLOAD-RESOURCE; the workload uses it.
 *   Consumer params: database and user from params (database, name; user, username), else
 *   the id with '-' and '.' as '_' for a shared resource; a kafka topic from params.name,
 *   else the id, else the resource's name, with params.partitions (3, Score's, by
 *   default). Other params are the type's params where it has one of that name, else
 *   reported, as is class. Its secrets get the value "change-me" (reported).
 *   service: the workload of that name; service-port: params.workload and params.port.
 *   dns: params.host, else no host. route: an Ingress rule (host, path: a regular
 *   expression gets pathType ImplementationSpecific; port: a service port's number or
 *   name) to the workload. volume: an emptyDir, or a persistent volume with params.size
 *   (class as its StorageClass). environment: each output is a config key (a secret key
 *   for secret-looking names) with an empty value to set. Any other type is reported.
 * Placeholders. ${metadata.name}, ${metadata.annotations.KEY}, ${resources.ID.OUTPUT}
 *   ($${ is a literal ${). In variables, an output of a component is {"component",
 *   "output"} when it is the whole value, else ${components.NAME.OUTPUT} in the text;
 *   Score's output names are ours (host, port, username, password; name and database ->
 *   database; uri, url and connection -> url; vhost; redis's username is "default", a
 *   kafka topic's name and num_partitions the topic and its partitions). A placeholder
 *   with no counterpart is kept as text (reported). In command, args and files only the
 *   outputs that do not depend on a component are expanded.
 *
 * Ownership: the result's members are owned by the result (import_score_result_release). */
#ifndef MANIFESTD_IMPORT_SCORE_H
#define MANIFESTD_IMPORT_SCORE_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

#define IMPORT_SCORE_MAX_BYTES (4 * 1024 * 1024)
#define IMPORT_SCORE_MAX_DEPTH 64
#define IMPORT_SCORE_MAX_NODES 200000

struct import_score_result {
	json_t *stack;       /* the stack document (secret keys with "" values) */
	json_t *environment; /* image.tag and the secret values */
	json_t *report;      /* [{"path", "object", "source"?, "detail"}] */
};

/* Frees the members; accepts NULL and a zeroed result. */
void import_score_result_release(struct import_score_result *r);

/* Imports the YAML stream text (len bytes). 0 and *ret filled; on failure a one-line
 * reason in err, *ret untouched, and -EINVAL, -E2BIG or -ENOMEM (see above). */
int import_score(const char *text, size_t len, struct buf *err, struct import_score_result *ret);

#endif
