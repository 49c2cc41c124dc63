/* render_container: the containers of a service's pod, in the order Kubernetes gets them:
 * init containers (wait-for-mysql and wait-for-rabbitmq when the service uses them, then
 * the document's in order), then the service's own container (named after the service)
 * and its sidecars. Each container: image, pull policy, command, args, workingDir, ports,
 * env (value, configMapKeyRef, secretKeyRef, fieldRef, in order), envFrom, probes of
 * every kind (httpGet, tcpSocket, exec, grpc; sidecars only besides the service's own),
 * resources, a securityContext (the service's; capabilities are added to the service's
 * own container only; a helper's runAsUser when set), the preStop sleep, volumeMounts
 * (the automatic /tmp volume last, when the pod has one and the container mounts nothing
 * at /tmp). The small parts also make render_infra's fixed containers.
 *
 * Conventions as in render_common.h. Pure: no I/O. */
#ifndef MANIFESTD_RENDER_CONTAINER_H
#define MANIFESTD_RENDER_CONTAINER_H

#include <stdbool.h>

#include "render_common.h"

/* The uid of helper containers (the wait-for-* ones): nobody. */
#define CONTAINER_NOBODY_UID 65534

/* true when the pod of s gets the automatic /tmp emptyDir "tmp": a read-only root file
 * system and no volume of the service mounted at /tmp. */
bool container_tmp(const struct service_view *s);

/* The init containers of s (a NODE_SEQ, empty when none). */
struct node *container_init_list(struct arena *a, const struct render *r, const struct service_view *s);

/* The service's own container, then its sidecars (a NODE_SEQ). */
struct node *container_list(struct arena *a, const struct render *r, const struct service_view *s);

/* A container securityContext: runAsNonRoot, runAsUser, no privilege escalation,
 * readOnlyRootFilesystem, capabilities (drop ALL; add those of caps, a JSON array of
 * strings, when any; caps may be NULL), seccomp RuntimeDefault. */
struct node *container_security(struct arena *a, bool non_root, json_int_t uid, bool read_only, const json_t *caps);

/* {name, value} and {name, valueFrom: {ref_kind: {name: object, key}}} env entries. */
struct node *container_env_value(struct arena *a, const char *name, const char *value);
struct node *container_env_ref(struct arena *a, const char *name, const char *ref_kind, const char *object,
			       const char *key);

/* {name, mountPath[, readOnly: true]}. */
struct node *container_mount(struct arena *a, const char *name, const char *path, bool read_only);

/* {name, containerPort, protocol}. */
struct node *container_port(struct arena *a, const char *name, json_int_t number, const char *protocol);

/* An init container "wait-for-<host>" that waits until host:port accepts TCP
 * connections. Its script is constant; host and port reach it through the environment. */
struct node *container_wait_for(struct arena *a, const char *host, int port);

#endif
