/* import_manifests: existing Kubernetes YAML -> a stack document, an environment document
 * and a report, so that rendering the stack gives back the same workloads. Pure: no I/O.
 *
 * Input: one YAML stream of any number of documents (plain, `kubectl kustomize` output,
 * `helm template` output with its "# Source:" comments, `kind: List` objects), read by
 * yamlin as Kubernetes reads it (YAML 1.1: 0644 is octal) within the limits below.
 *
 * The report is an array of {"path", "object", "source"?, "kind"?, "detail"} (kind
 * "guess" for what was decided without the input saying it): path is a JSON
 * Pointer into the stream taken as an array of its documents ("/3/spec/template/spec/
 * containers/0/lifecycle": document 3, counting from 0 every document including empty
 * ones; "/3/items/1/..." for an item of a List), object is "Kind/name", source is helm's
 * "# Source:" of that document. There is one entry for each thing carried in
 * extraObjects or patches, each guess, and each difference the render will show.
 *
 * The mapping, rule by rule (docs/api.md has the same table for users):
 *
 * Workloads. Deployment, StatefulSet, DaemonSet, Job, CronJob (ReplicaSet and
 *   ReplicationController become Deployments; a bare Pod a Deployment of one pod, or a Job
 *   when its restartPolicy is Never or OnFailure) are services, in input order, of their kind.
 *   A service is named like the Service that selects its pods (the name other pods reach
 *   it by), else like the workload; names become DNS labels starting with a letter. The
 *   first container is the service's; the others are sidecars and the init containers
 *   initContainers (keyed by their names). replicas, strategy (Recreate; rollingUpdate
 *   values carried), labels and annotations (workload and pods; manifestd's own
 *   app.kubernetes.io labels and helm.sh/chart are not kept), serviceAccount (a
 *   declared ServiceAccount is rendered by the first service naming it, with its
 *   annotations; its token is mounted when the pod names an account and nothing turns
 *   automount off; one no pod names, named like a service whose pods name none, is that
 *   service's own, which keeps the namespace's default account instead when other pods
 *   use an account of its name), scheduling (nodeSelector, tolerations, affinity, priorityClassName,
 *   terminationGracePeriodSeconds, preStop sleep; the input's topologySpreadConstraints
 *   carried with spread none), job settings (backoffLimit, activeDeadlineSeconds,
 *   ttlSecondsAfterFinished, completions, parallelism, restartPolicy) and CronJob settings
 *   (schedule, timeZone, concurrencyPolicy: Allow when unset, history limits,
 *   startingDeadlineSeconds, suspend). A StatefulSet's serviceName is kept by a patch.
 * Containers. image: [registry/]repository[:tag][@digest] split; the registry, tag and
 *   pull policy most services share go to the top-level image (the tag into the
 *   environment), a service keeps its own where it differs; an untagged or latest image
 *   keeps no tag (reported); other containers' images are full references (an untagged
 *   one is "REPO:untagged" put back by the patch). command, args, workingDir.
 *   resources: cpu and memory (a limit alone is also the request, as in Kubernetes; no
 *   limit: manifestd's default, raised to the request, reported); other resources carried.
 *   securityContext: runAsUser/runAsGroup/fsGroup/runAsNonRoot of the pod or container,
 *   added capabilities, readOnlyRootFilesystem (false unless the input sets it); where no
 *   user is named, manifestd's uid 1000 non-root default stays (reported); privileged
 *   and the like are carried.
 * Ports. Each port of the Service in front becomes a port named like the Service port
 *   (else the container port, else port-N), with port, targetPort, protocol,
 *   appProtocol, nodePort; container ports no Service port targets are ports too (the
 *   rendered Service offers them: reported); type, headless (clusterIP None) and
 *   annotations are expose; the Service's labels and other fields (sessionAffinity,
 *   externalTrafficPolicy...) are carried by a patch. A second Service of the same pods,
 *   or one selecting several workloads, is an extra object. Jobs have no ports.
 * Env. value; valueFrom configMapKeyRef / secretKeyRef (the document key where the
 *   object was mapped, else `from` naming it), fieldRef (the document's fields). A
 *   literal value of a variable named like a secret (PASSWORD, SECRET, TOKEN, KEY,
 *   CREDENTIAL) moves to the environment's secrets (reported). envFrom of a mapped
 *   ConfigMap or Secret becomes one variable per key; of another object, envFrom by
 *   name. What the document cannot say (resourceFieldRef, optional references to
 *   objects not in the input) is put back at its place by the JSON Patch.
 * Probes. httpGet (path, port by the document's port name or a number, scheme,
 *   headers), tcpSocket, exec, grpc, with the timings (timeoutSeconds always: Kubernetes'
 *   default is 1); a missing readiness or liveness probe is null (manifestd would add a
 *   TCP one); what the document cannot say (a host, a Job's probes) is carried.
 * Volumes. By the service's container's mounts (mountPath, readOnly, subPath): emptyDir
 *   (medium, sizeLimit); configMap, secret and projected volumes of mapped objects are
 *   files (items or every key, with their modes; a secret's default mode stays 0644);
 *   persistentVolumeClaim is claim; volumeClaimTemplates are persistent (size, class,
 *   access mode). Any other source (hostPath, downwardAPI, an object not in the input)
 *   is an emptyDir in the document that the JSON Patch replaces with the input's volume.
 *   A volume only other containers mount is added too, its mount in the service's
 *   container removed by the patch; a second mount of a volume is added by the patch.
 * ConfigMaps read by a workload become the stack's config; Secrets with values give
 *   them to the environment's secrets (stored encrypted; the stack has the keys with
 *   ""), base64 decoded: a Secret's values never go into the stack document, so a
 *   Secret no workload reads is not rendered (reported). A key another object holds with
 *   another value becomes OBJECT-key, and references follow: every container keeps
 *   reading the same values under the same variable names and paths. Other ConfigMaps
 *   (and those with binaryData) are extra objects; Secrets without values too.
 * Entry points. Each Ingress path whose backend is the Service of a mapped workload is a
 *   rule (host, path, pathType, service, port by name); tls per host; className (or the
 *   kubernetes.io/ingress.class annotation; none: nginx, reported) and annotations of the
 *   first Ingress. An Ingress with a default backend, an unmapped backend, or another
 *   class or annotations than the first is an extra object.
 * HorizontalPodAutoscalers (v1, v2) of a Deployment or StatefulSet are its autoscaling
 *   (CPU utilisation; other metrics and behavior carried); PodDisruptionBudgets of one
 *   workload that runs more than one pod are its disruptionBudget (minAvailable
 *   carried). Others are extra objects.
 * Namespace. The objects' namespace (or the Namespace object) becomes the environment's
 *   namespace; the Namespace's labels are carried by a patch; a bundle has one
 *   namespace, so objects elsewhere move into it (reported).
 * Everything else (RBAC, CRDs and custom resources, NetworkPolicies, PVCs, Pods...) is
 *   carried in extraObjects, keyed "kind-name", without what the cluster sets (status,
 *   uid, resourceVersion...) and without a namespace; a selector of manifestd's labels
 *   in them selects the service by app.kubernetes.io/name instead; a removed beta
 *   apiVersion whose objects kept their shape (policy/v1beta1 PDBs, RBAC v1beta1...) is
 *   written with today's. What a document cannot hold (a value over MODEL_MAX_STRING, too
 *   deep) is not kept (reported); references to it stay, to the object in the cluster.
 * Datastores. A Deployment or StatefulSet whose service's container runs an official
 *   datastore image of a catalog type (importkit_datastore: postgres, mysql, redis, mongo,
 *   rabbitmq...) becomes a component of that type named like the service (so its Service
 *   keeps its name; a Service port the type does not have is reported): its claim
 *   (volumeClaimTemplates or a PersistentVolumeClaim it mounts) is storage (size,
 *   className), its cpu and memory resources, its tag made to fit the type (reported);
 *   the passwords of its env (POSTGRES_PASSWORD, MYSQL_ROOT_PASSWORD,
 *   RABBITMQ_DEFAULT_PASS...) taken from mapped Secret keys name those keys in the
 *   secret params, literal ones become NAME-root-password / NAME-password, missing ones
 *   "change-me" (a Redis without one runs with auth false); its database and user
 *   (POSTGRES_DB, MYSQL_USER...) are the consumer params of the services that use it.
 *   The services whose env, config or secret values name its Service, or whose init
 *   containers wait for it, use it (uses), their env unchanged. The workload, its
 *   Services, autoscaler and budget are not kept; the report says, as "guess" items
 *   ("kind"), which workloads became components and what of them was not carried over.
 *   opts.keep_datastores keeps them as workloads.
 * Patches are named SERVICE-merge (RFC 7386, fields of the workload and pod), SERVICE-json
 *   (RFC 6902, list items of the pod; every index-based operation is preceded by a "test"
 *   of the item's name, so a render laid out otherwise fails loudly), SERVICE-service,
 *   -hpa, -pdb, -account, and namespace.
 *
 * Ownership: the result's members are owned by the result (import_manifests_result_release). */
#ifndef MANIFESTD_IMPORT_MANIFESTS_H
#define MANIFESTD_IMPORT_MANIFESTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define IMPORT_MANIFESTS_MAX_BYTES (8 * 1024 * 1024)
#define IMPORT_MANIFESTS_MAX_DEPTH 128
#define IMPORT_MANIFESTS_MAX_NODES 1000000

struct import_manifests_result {
	json_t *stack;       /* the stack document (secret keys with "" values) */
	json_t *environment; /* namespace, image.tag and the secret values */
	json_t *report;      /* [{"path", "object", "source"?, "kind"?, "detail"}] */
};

void import_manifests_result_release(struct import_manifests_result *r);

struct import_manifests_opts {
	bool keep_datastores; /* datastores stay workloads (?datastores=workloads) */
};

/* Imports the YAML text (len bytes). stack is the stack's name where names depend on it
 * (NULL: "imported"); opts NULL: the defaults (all false). 0 and *ret filled; on failure a one-line reason in err and -EINVAL
 * (not YAML, no Kubernetes object, no workload with a pod template), -E2BIG (a limit
 * above) or -ENOMEM. */
int import_manifests(const char *text, size_t len, const char *stack, const struct import_manifests_opts *opts,
		     struct buf *err, struct import_manifests_result *ret);

#endif
