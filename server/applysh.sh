# The fixed part of every apply.sh, embedded at build time (meson: applysh.inc) and
# copied by server/applysh.c after the bundle's data (BUNDLE ... KNOWN_RESOURCES); the
# line "#@PLAN@" is replaced by the bundle's check_references and apply_all. Lines up to
# and including the first blank line (this comment) are not copied.

readonly HANDOVER_MANAGER=manifestd-handover
readonly EXISTED_BEFORE=manifestd.io/existed-before
# One line per object: namespace|apiVersion|kind|name|scale target|stack|environment|managed-by|owner kinds
readonly LINE_FORMAT='{range .items[*]}{.metadata.namespace}|{.apiVersion}|{.kind}|{.metadata.name}|{.spec.scaleTargetRef.kind}/{.spec.scaleTargetRef.name}|{.metadata.labels.manifestd\.io/stack}|{.metadata.labels.manifestd\.io/environment}|{.metadata.labels.app\.kubernetes\.io/managed-by}|{.metadata.ownerReferences[*].kind}{"\n"}{end}'

usage() {
	cat <<EOF
Usage: ./apply.sh [OPTION]...
Applies the bundle $BUNDLE to namespace $NAMESPACE with server-side apply (field
manager $MANAGER), in order: namespace, configuration, stateful services (waits for
their rollout), jobs (waits for completion; a failed job stops at once with its
logs), applications (waits for every rollout), ingress. Before applying it checks
the Secrets and ConfigMaps the bundle references but does not hold, and reports
what earlier bundles of this environment left behind.

Options:
  --context NAME            use this kubectl context (default: the current one)
  --dry-run[=MODE]          MODE client (default) or server: what would be applied;
                            nothing changes and nothing is waited for
  --diff                    show what would change (kubectl diff); exit 0 when
                            nothing would, 1 when something would
  --prune                   after applying, delete what earlier bundles of this
                            environment made and this one no longer holds (never a
                            volume claim, a namespace, nor what the bundle references)
  --prune-old-namespace     with --prune: also delete this environment's objects in
                            the namespaces it used before (volume claims are kept)
  --allow-missing-references
                            apply even when a Secret or ConfigMap the bundle
                            references but does not hold is missing (warn only)
  --delete                  delete what manifestd made for this environment in the
                            namespace: lists it first, then needs --yes or the
                            namespace name typed on a terminal (with --dry-run: only
                            lists). Volume claims are kept, and the namespace too
                            unless manifestd created it and nothing else is in it
  --delete-volumes          with --delete: also delete the volume claims (data)
  --yes                     with --delete: do not ask
  --timeout DURATION        how long each wait may take, e.g. 90s, 10m, 1h
                            (default $DEFAULT_TIMEOUT)
  -h, --help                show this help

Without ordering, waits and checks, 'kubectl apply -k .' applies the same objects.

Exit codes: 0 done, 1 differences found (--diff), 2 usage error, 3 kubectl not
found, 4 cluster unreachable, 5 a kubectl apply, delete or diff failed, 6 a
rollout or job did not finish within the timeout, or a job failed, 7 a Secret or
ConfigMap the bundle references is missing (nothing was applied), 8 --delete was
not confirmed (nothing was deleted).
EOF
}

die() {
	local code=$1
	shift
	printf 'apply.sh: %s\n' "$*" >&2
	exit "$code"
}

note() {
	printf '==> %s\n' "$*"
}

warn() {
	printf 'apply.sh: warning: %s\n' "$*" >&2
}

# Prints each argument indented on a line of its own.
list() {
	printf '    %s\n' "$@"
}

# Whether $1 is one of the other arguments.
contains() {
	local item=$1 x
	shift
	for x in "$@"; do
		if [ "$x" = "$item" ]; then
			return 0
		fi
	done
	return 1
}

context=''
dry_run=''
timeout=$DEFAULT_TIMEOUT
action=apply
prune=0
prune_old=0
allow_missing=0
delete_volumes=0
yes=0

set_action() {
	[ "$action" = apply ] || die 2 "--$action and --$1 exclude each other"
	action=$1
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--context)
			[ $# -ge 2 ] || die 2 '--context needs a NAME'
			context=$2
			shift
			;;
		--context=*) context=${1#*=} ;;
		--dry-run | --dry-run=client) dry_run=client ;;
		--dry-run=server) dry_run=server ;;
		--dry-run=*) die 2 "--dry-run takes client or server, not '${1#*=}'" ;;
		--timeout)
			[ $# -ge 2 ] || die 2 '--timeout needs a DURATION'
			timeout=$2
			shift
			;;
		--timeout=*) timeout=${1#*=} ;;
		--diff) set_action diff ;;
		--delete) set_action delete ;;
		--prune) prune=1 ;;
		--prune-old-namespace) prune_old=1 ;;
		--allow-missing-references) allow_missing=1 ;;
		--delete-volumes) delete_volumes=1 ;;
		--yes) yes=1 ;;
		-h | --help)
			usage
			exit 0
			;;
		*)
			usage >&2
			die 2 "unknown option '$1'"
			;;
		esac
		shift
	done
	[[ $timeout =~ ^[1-9][0-9]{0,5}[smh]$ ]] || die 2 "--timeout takes a duration such as 300s or 10m, not '$timeout'"
	if [ "$action" = diff ] && { [ -n "$dry_run" ] || [ "$prune" -eq 1 ]; }; then
		die 2 '--diff cannot be combined with --dry-run or --prune'
	fi
	if [ "$action" = delete ] && { [ "$prune" -eq 1 ] || [ "$allow_missing" -eq 1 ]; }; then
		die 2 '--delete cannot be combined with --prune or --allow-missing-references'
	fi
	if [ "$action" != delete ] && { [ "$yes" -eq 1 ] || [ "$delete_volumes" -eq 1 ]; }; then
		die 2 '--yes and --delete-volumes go with --delete'
	fi
	if [ "$prune_old" -eq 1 ] && [ "$prune" -eq 0 ]; then
		die 2 '--prune-old-namespace goes with --prune'
	fi
}

kc() {
	if [ -n "$context" ]; then
		kubectl --context "$context" "$@"
	else
		kubectl "$@"
	fi
}

# The timeout in seconds.
timeout_seconds() {
	local n=${timeout%?}
	case $timeout in
	*h) echo $((n * 3600)) ;;
	*m) echo $((n * 60)) ;;
	*) echo "$n" ;;
	esac
}

# can_i VERB RESOURCE[/NAME] [NS]: whether this deployer may, in namespace NS (default:
# the bundle's). A SelfSubjectAccessReview: every authenticated user may ask.
can_i() {
	[ "$(kc auth can-i "$1" "$2" -n "${3:-$NAMESPACE}" 2>/dev/null)" = yes ]
}

# kubectl is there and the cluster answers with these credentials. Asks nothing at
# cluster scope, so a deployer limited to its namespace passes.
check_cluster() {
	command -v kubectl >/dev/null 2>&1 || die 3 'kubectl not found in PATH (see https://kubernetes.io/docs/tasks/tools/)'
	local answer
	answer=$(kc auth can-i get configmaps -n "$NAMESPACE" --request-timeout=15s 2>/dev/null) || true
	case $answer in
	yes*) ;;
	no*) warn "this deployer may not read ConfigMaps in namespace $NAMESPACE; applying will likely be refused" ;;
	*) die 4 "cannot reach the cluster of context '${context:-(current)}' or it refused these credentials; see 'kubectl auth can-i get configmaps -n $NAMESPACE'" ;;
	esac
}

# namespace_info NS: "missing", "ours" (labelled for this environment), "foreign" (any other
# namespace) or "unknown" (not readable), then " existed-before" when apply.sh found it
# there before it first applied this environment to it.
namespace_info() {
	local line state
	if ! line=$(kc get namespace "$1" --ignore-not-found -o "jsonpath={.metadata.name}|{.metadata.labels.manifestd\.io/stack}|{.metadata.labels.manifestd\.io/environment}|{.metadata.labels.app\.kubernetes\.io/managed-by}|{.metadata.annotations.manifestd\.io/existed-before}" 2>/dev/null); then
		echo unknown
		return 0
	fi
	case $line in
	'') state=missing ;;
	"$1|$STACK|$ENVIRONMENT|$MANAGER|"*) state=ours ;;
	*) state=foreign ;;
	esac
	case $line in
	*'|true') echo "$state existed-before" ;;
	*) echo "$state" ;;
	esac
}

# ---- what is in the cluster ----

# KINDS: the namespaced resource types to look through, comma-separated; KINDS_ALL 1 when
# the API listed all of them.
discover_kinds() {
	local out rc=0 kind
	out=$(kc api-resources --namespaced --verbs=list,delete -o name 2>/dev/null) || rc=$?
	KINDS=''
	KINDS_ALL=0
	if [ -n "$out" ]; then
		while IFS= read -r kind; do
			case $kind in
			'' | events | events.events.k8s.io | endpoints | endpointslices.discovery.k8s.io) ;;
			*) KINDS=${KINDS:+$KINDS,}$kind ;;
			esac
		done <<<"$out"
		[ "$rc" -ne 0 ] || KINDS_ALL=1
	fi
	if [ "$KINDS_ALL" -eq 0 ]; then
		warn "cannot read every resource type of the API (kubectl api-resources); looking only for the usual kinds"
		for kind in "${KNOWN_RESOURCES[@]}"; do
			case ,$KINDS, in
			*",$kind,"*) ;;
			*) KINDS=${KINDS:+$KINDS,}$kind ;;
			esac
		done
	fi
}

# list_objects ARGS...: the lines (LINE_FORMAT, lowercased) of the objects of KINDS that
# `kubectl get ARGS` selects; fails when some kind could not be listed (what could be is
# printed all the same).
list_objects() {
	local out='' part kind rc=0
	if [ "$KINDS_ALL" -eq 1 ]; then
		out=$(kc get "$KINDS" "$@" -o "jsonpath=$LINE_FORMAT" 2>/dev/null) || rc=1
	else
		# a kind the API does not serve fails a joined listing: one kind at a time
		local IFS=,
		for kind in $KINDS; do
			if part=$(kc get "$kind" "$@" -o "jsonpath=$LINE_FORMAT" 2>/dev/null); then
				out+=$part$'\n'
			else
				rc=1
			fi
		done
	fi
	printf '%s\n' "$out" | tr '[:upper:]' '[:lower:]'
	return "$rc"
}

# resource_of APIVERSION KIND (lowercased): sets res to the resource (kind.group, as
# `kubectl get -o name` prints it).
resource_of() {
	case $1 in
	*/*) res=$2.${1%/*} ;;
	*) res=$2 ;;
	esac
}

# Whether the volume claim name was made by one of the bundle's StatefulSets.
is_claim_of_bundle() {
	local prefix
	for prefix in ${CLAIM_PREFIXES[@]+"${CLAIM_PREFIXES[@]}"}; do
		if [[ $1 == "$prefix"* && ${1#"$prefix"} =~ ^[0-9]+$ ]]; then
			return 0
		fi
	done
	return 1
}

# Reads what manifestd made for this environment (labelled with SELECTOR, made by no other
# object) into HERE (in NAMESPACE; volume claims apart in CLAIMS), HPAS ("hpa target" of
# the autoscalers here), ELSEWHERE ("namespace object" in other namespaces) and
# OLD_NAMESPACES; SEARCHED_ELSEWHERE 1 when other namespaces could be searched.
take_inventory() {
	local lines ns api kind name target stack env managed owners res
	HERE=()
	CLAIMS=()
	HPAS=()
	ELSEWHERE=()
	OLD_NAMESPACES=()
	SEARCHED_ELSEWHERE=0
	if [ "$1" = everywhere ]; then
		# a deployer limited to its namespace may not list across namespaces
		if lines=$(list_objects --all-namespaces -l "$SELECTOR") || [ -n "$lines" ]; then
			SEARCHED_ELSEWHERE=1
		else
			note "other namespaces not searched for this environment (this deployer may not list across namespaces)"
		fi
	fi
	if [ "$SEARCHED_ELSEWHERE" -eq 0 ] && ! lines=$(list_objects -n "$NAMESPACE" -l "$SELECTOR"); then
		warn "not every kind of object could be listed in namespace $NAMESPACE: what earlier bundles left of those kinds is not found"
	fi
	while IFS='|' read -r ns api kind name target stack env managed owners; do
		if [ -z "$name" ] || [ -n "$owners" ]; then
			continue
		fi
		resource_of "$api" "$kind"
		if [ "$ns" != "$NAMESPACE" ]; then
			ELSEWHERE+=("$ns $res/$name")
			contains "$ns" ${OLD_NAMESPACES[@]+"${OLD_NAMESPACES[@]}"} || OLD_NAMESPACES+=("$ns")
		elif [ "$res" = persistentvolumeclaim ]; then
			CLAIMS+=("$res/$name")
		else
			HERE+=("$res/$name")
			[ "$res" != horizontalpodautoscaler.autoscaling ] || HPAS+=("$res/$name $target")
		fi
	done <<<"$lines"
	if [ "$SEARCHED_ELSEWHERE" -eq 1 ] && lines=$(kc get namespaces -l "$SELECTOR" -o name 2>/dev/null); then
		while IFS= read -r name; do
			name=${name#namespace/}
			if [ -n "$name" ] && [ "$name" != "$NAMESPACE" ] && ! contains "$name" ${OLD_NAMESPACES[@]+"${OLD_NAMESPACES[@]}"}; then
				OLD_NAMESPACES+=("$name")
			fi
		done <<<"$lines"
	fi
	LEFTOVERS=()
	KEPT=()
	target=$'\n'$(autoscalers_of_scaled)$'\n' # own_replicas deletes these
	for name in ${HERE[@]+"${HERE[@]}"}; do
		if contains "$name" "${BUNDLE_OBJECTS[@]}" || [[ $target == *$'\n'"$name"$'\n'* ]]; then
			continue
		elif contains "$name" ${REFERENCED[@]+"${REFERENCED[@]}"}; then
			KEPT+=("$name")
		else
			LEFTOVERS+=("$name")
		fi
	done
}

# autoscalers_of_scaled [KIND/NAME]: the autoscalers here, not in the bundle, that target a
# workload whose manifest sets its replicas again (KIND/NAME, or any in SCALED).
autoscalers_of_scaled() {
	local entry
	for entry in ${HPAS[@]+"${HPAS[@]}"}; do
		if contains "${entry%% *}" "${BUNDLE_OBJECTS[@]}"; then
			continue
		elif [ $# -gt 0 ] && [ "${entry#* }" = "$1" ]; then
			echo "${entry%% *}"
		elif [ $# -eq 0 ] && contains "${entry#* }" ${SCALED[@]+"${SCALED[@]}"}; then
			echo "${entry%% *}"
		fi
	done
}

# The objects ELSEWHERE holds in namespace $1, volume claims excepted.
objects_in() {
	local entry
	for entry in ${ELSEWHERE[@]+"${ELSEWHERE[@]}"}; do
		case $entry in
		"$1 persistentvolumeclaim/"*) ;;
		"$1 "*) echo "${entry#* }" ;;
		esac
	done
}

# Says what earlier bundles left behind: here, and in namespaces this environment used
# before. Without the --prune that deletes them, as warnings.
report_leftovers() {
	local obj ns objects ingress say=warn out=2
	if [ "$prune" -eq 1 ]; then
		say=note
		out=1
	fi
	if [ ${#LEFTOVERS[@]} -gt 0 ]; then
		$say "left over from earlier bundles of $STACK/$ENVIRONMENT and no longer in this one; --prune deletes them after applying:"
		list "${LEFTOVERS[@]}" >&"$out"
	fi
	for obj in ${KEPT[@]+"${KEPT[@]}"}; do
		note "$obj was made by an earlier bundle and is no longer in this one, but this one references it: kept, and manifestd no longer changes it (to hand it over for good: kubectl -n $NAMESPACE label $obj manifestd.io/stack- manifestd.io/environment- app.kubernetes.io/managed-by-)"
	done
	if [ "$prune_old" -eq 0 ]; then
		say=warn
		out=2
	fi
	for ns in ${OLD_NAMESPACES[@]+"${OLD_NAMESPACES[@]}"}; do
		objects=$(objects_in "$ns")
		case $objects in
		*ingress.networking.k8s.io/*) ingress=', Ingress included' ;;
		*) ingress='' ;;
		esac
		$say "namespace $ns still holds this environment from an earlier bundle (this one uses $NAMESPACE)$ingress; --prune --prune-old-namespace deletes it after applying, volume claims excepted:"
		if [ -n "$objects" ]; then
			# shellcheck disable=SC2086 # one object per word
			list $objects >&"$out"
		fi
	done
}

# ---- checks before anything is applied ----

MISSING=()

# ref_check KIND NAME: prints "present", "missing" or "unknown".
ref_check() {
	local out
	if ! out=$(kc -n "$NAMESPACE" get "$1" "$2" --ignore-not-found -o name 2>/dev/null); then
		echo unknown
	elif [ -n "$out" ]; then
		echo present
	else
		echo missing
	fi
}

# What a reference is for, from the word the generator wrote.
ref_what() {
	case $1 in
	tls) echo "the TLS certificate of $2" ;;
	pull) echo "an image pull secret of $2" ;;
	volume) echo "a volume of $2" ;;
	account) echo "the service account of $2" ;;
	claim) echo "a volume claim of $2" ;;
	*) echo "environment variables of $2" ;;
	esac
}

# ref_required KIND NAME WHY BY: the bundle cannot run without it.
ref_required() {
	case $(ref_check "$1" "$2") in
	missing) MISSING+=("$1/$2 ($(ref_what "$3" "$4"))") ;;
	unknown) warn "cannot check that $1/$2 exists ($(ref_what "$3" "$4")): this deployer may not read it" ;;
	esac
}

# ref_optional KIND NAME WHY BY: referenced with optional: true.
ref_optional() {
	if [ "$(ref_check "$1" "$2")" = missing ]; then
		note "$1/$2 does not exist ($(ref_what "$3" "$4"), optional): it runs without it"
	fi
}

# ref_made KIND NAME MAKER BY: made in the cluster by a controller (MAKER) from BY.
ref_made() {
	if [ "$(ref_check "$1" "$2")" = missing ]; then
		note "$1/$2 does not exist yet: $3 makes it for $4 (its pods wait for it)"
	fi
}

# Stops before anything changes when a referenced object is missing.
check_missing() {
	if [ "$NS_STATE" = missing ] && ! contains "namespace/$NAMESPACE" "${BUNDLE_OBJECTS[@]}"; then
		MISSING+=("namespace/$NAMESPACE (the bundle does not create it)")
	fi
	[ ${#MISSING[@]} -gt 0 ] || return 0
	local text="the bundle references objects it does not hold and that do not exist in namespace $NAMESPACE:"
	if [ "$action" = diff ] || [ "$allow_missing" -eq 1 ]; then
		warn "$text"
		list "${MISSING[@]}" >&2
		return 0
	fi
	printf 'apply.sh: %s\n' "$text" >&2
	list "${MISSING[@]}" >&2
	die 7 "create them first (a TLS Secret: kubectl -n $NAMESPACE create secret tls NAME --cert=FILE --key=FILE; an image pull secret: kubectl -n $NAMESPACE create secret docker-registry NAME ...), or apply anyway with --allow-missing-references; nothing was applied"
}

# ---- applying ----

phase() {
	note "$1"
}

apply_file() {
	local how=(--server-side "--field-manager=$MANAGER" --force-conflicts)
	case $dry_run in
	client) how=(--dry-run=client) ;;
	server)
		if [ "$NS_STATE" = missing ] && ! contains "$1" ${NAMESPACE_FILES[@]+"${NAMESPACE_FILES[@]}"}; then
			# the API server refuses even a dry run in a namespace that does not exist
			how=(--dry-run=client)
		else
			how+=(--dry-run=server)
		fi
		;;
	esac
	kc apply "${how[@]}" -f "$1" || die 5 "kubectl apply -f $1 failed"
}

# The file holding the Namespace: left out when the namespace exists and this deployer
# may not change it; a namespace found there before is marked, so --delete keeps it.
apply_namespace() {
	if [ "$NS_STATE" != missing ] && ! can_i patch "namespaces/$NAMESPACE"; then
		note "namespace $NAMESPACE exists and this deployer may not change it: $1 is left out"
		return 0
	fi
	apply_file "$1"
	if [ -z "$dry_run" ] && [ "${NS_STATE%% *}" = foreign ]; then
		kc annotate namespace "$NAMESPACE" "$EXISTED_BEFORE=true" --overwrite >/dev/null ||
			warn "cannot mark namespace $NAMESPACE as existing before this bundle: --delete may then delete it"
	fi
}

# keep_replicas APIVERSION KIND RESOURCE NAME: the manifest of this workload leaves
# spec.replicas to an autoscaler. Server-side apply would reset a count it set before to
# the default (1): the live count is first applied by a second field manager, which keeps
# it until the autoscaler takes it over (Kubernetes' documented ownership transfer).
keep_replicas() {
	local live out
	live=$(kc -n "$NAMESPACE" get "$3" "$4" --ignore-not-found -o 'jsonpath={.spec.replicas}' 2>/dev/null) ||
		die 5 "cannot read the replicas of $3/$4"
	[ -n "$live" ] || return 0
	[[ $live =~ ^[0-9]+$ ]] || die 5 "$3/$4 has replicas '$live'"
	if [ -n "$dry_run" ]; then
		note "would keep the $live replicas of $3/$4 (its autoscaler sets them)"
		return 0
	fi
	note "keeping the $live replicas of $3/$4 (its autoscaler sets them)"
	if ! out=$(printf "apiVersion: %s\nkind: %s\nmetadata:\n  name: '%s'\n  namespace: '%s'\nspec:\n  replicas: %s\n" \
		"$1" "$2" "$4" "$NAMESPACE" "$live" |
		kc apply --server-side "--field-manager=$HANDOVER_MANAGER" --validate=false -f - 2>&1); then
		case $out in
		*onflict*) ;; # the autoscaler already owns the field: nothing to hand over
		*)
			printf '%s\n' "$out" >&2
			die 5 "cannot keep the replicas of $3/$4; nothing of it was applied"
			;;
		esac
	fi
}

# fit_statefulset NAME WANT: a StatefulSet keeps its serviceName and volumeClaimTemplates
# for life (the API server refuses to change them). WANT is how the bundle's read
# ("serviceName|claim:class:["MODE"]:size;..."); when the live set's differ, it is deleted
# with --cascade=orphan first (its pods and volume claims stay; the apply makes the set
# anew and it takes them over). A claim template whose size changed has the claims of the
# set resized first (their StorageClass must allow expansion; a claim never shrinks).
fit_statefulset() {
	local live
	live=$(kc -n "$NAMESPACE" get statefulset "$1" --ignore-not-found \
		-o 'jsonpath={.spec.serviceName}|{range .spec.volumeClaimTemplates[*]}{.metadata.name}:{.spec.storageClassName}:{.spec.accessModes}:{.spec.resources.requests.storage};{end}' 2>/dev/null) ||
		die 5 "cannot read statefulset/$1"
	if [ -z "$live" ] || [ "$live" = "$2" ]; then
		return 0
	fi
	if [ -n "$dry_run" ]; then
		note "would recreate statefulset/$1 (--cascade=orphan: its pods and claims stay): its serviceName or volume claim templates change"
		return 0
	fi
	resize_claims "$1" "${live#*|}" "${2#*|}"
	note "statefulset/$1: serviceName or volume claim templates change, which Kubernetes keeps fixed: recreating it (--cascade=orphan: its pods and claims stay)"
	kc -n "$NAMESPACE" delete statefulset "$1" --cascade=orphan --wait=true >/dev/null ||
		die 5 "cannot delete statefulset/$1 to make it anew"
}

# resize_claims SET LIVE WANT: for each claim template of WANT ("claim:class:modes:size;...")
# that LIVE has with another size, the claims CLAIM-SET-N get the new size.
resize_claims() {
	local entry name size old pvc
	local -a want
	IFS=';' read -r -a want <<<"$3"
	for entry in ${want[@]+"${want[@]}"}; do
		name=${entry%%:*}
		size=${entry##*:}
		old=$(printf '%s' "$2" | tr ';' '\n' | grep -m1 "^$name:" || true)
		if [ -z "$old" ] || [ "${old##*:}" = "$size" ]; then
			continue
		fi
		for pvc in $(kc -n "$NAMESPACE" get pvc -o name 2>/dev/null | grep "^persistentvolumeclaim/$name-$1-[0-9]*$" || true); do
			note "resizing $pvc: ${old##*:} -> $size"
			kc -n "$NAMESPACE" patch "$pvc" --type=merge \
				-p "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"$size\"}}}}" >/dev/null ||
				die 5 "cannot resize $pvc to $size (a claim only grows, and only where its StorageClass allows expansion)"
		done
	done
}

# own_replicas KIND NAME REPLICAS: the manifest sets the replicas of this workload again.
# An autoscaler an earlier bundle made for it would keep resizing it against them: it is
# deleted before the workload is applied, which then runs REPLICAS (the document's).
own_replicas() {
	local hpa live
	for hpa in $(autoscalers_of_scaled "$1/$2"); do
		live=$(kc -n "$NAMESPACE" get "$1" "$2" --ignore-not-found -o 'jsonpath={.spec.replicas}' 2>/dev/null) || live=''
		note "autoscaling is off for $1/$2: $hpa goes, replicas ${live:-?} -> $3 (the document's)"
		delete_object "$NAMESPACE" "$hpa" background
	done
}

wait_rollout() {
	if [ -n "$dry_run" ]; then
		note "would wait for the rollout of $1/$2"
		return 0
	fi
	kc -n "$NAMESPACE" rollout status "$1/$2" --timeout="$timeout" ||
		die 6 "$1/$2 did not finish its rollout within $timeout (kubectl -n $NAMESPACE describe $1/$2)"
}

# An update strategy that replaces pods only when they are deleted: nothing to wait for.
not_waited() {
	note "not waiting for $1/$2: its updateStrategy is OnDelete"
}

# Waits until the job completes; stops at once with its logs when it fails.
wait_job() {
	if [ -n "$dry_run" ]; then
		note "would wait for job/$1 to complete"
		return 0
	fi
	local deadline=$((SECONDS + $(timeout_seconds))) state left
	note "waiting for job/$1 to complete"
	while :; do
		state=$(kc -n "$NAMESPACE" get "job/$1" -o 'jsonpath={range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}' 2>/dev/null) || state=''
		case " $state" in
		*" Complete "*) return 0 ;;
		*" Failed "* | *" FailureTarget "*)
			warn "job/$1 failed; its logs:"
			kc -n "$NAMESPACE" logs "job/$1" --all-containers=true --tail=200 >&2 || true
			die 6 "job/$1 failed (kubectl -n $NAMESPACE describe job/$1)"
			;;
		esac
		left=$((deadline - SECONDS))
		[ "$left" -gt 0 ] || die 6 "job/$1 did not complete within $timeout (kubectl -n $NAMESPACE logs job/$1)"
		sleep "$((left < 2 ? left : 2))"
	done
}

check_ingress_class() {
	local out
	if ! out=$(kc get ingressclass "$1" --ignore-not-found -o name 2>/dev/null); then
		note "cannot check IngressClass '$1' (this deployer may not read IngressClasses)"
	elif [ -z "$out" ]; then
		warn "the cluster has no IngressClass '$1': the Ingress is not served until an ingress controller for it is installed (ingress-nginx; on minikube: minikube addons enable ingress)"
	fi
}

# Before the new Ingresses: with --prune-old-namespace, those of an earlier namespace go
# first (an ingress controller refuses a second Ingress for the same host and path).
before_ingress() {
	[ "$prune_old" -eq 1 ] || return 0
	prune_old_namespaces ingress
}

# ---- deleting ----

# What delete_object deleted (or, in a dry run, would have): "namespace object".
DELETED=()

# delete_object NS OBJECT CASCADE: deletes OBJECT only while it still carries this
# environment's labels; once. A StatefulSet's volume claims are kept unless --delete-volumes:
# one that would delete them with it (persistentVolumeClaimRetentionPolicy Delete) is
# switched to Retain first.
delete_object() {
	local res=${2%/*} name=${2#*/} policy
	if contains "$1 $2" ${DELETED[@]+"${DELETED[@]}"}; then
		return 0
	fi
	DELETED+=("$1 $2")
	if [ -n "$dry_run" ]; then
		note "would delete $2 in namespace $1"
		return 0
	fi
	if [ "$res" = statefulset.apps ] && [ "$delete_volumes" -eq 0 ]; then
		policy=$(kc -n "$1" get "$res" "$name" --ignore-not-found -o 'jsonpath={.spec.persistentVolumeClaimRetentionPolicy.whenDeleted}' 2>/dev/null) || policy=''
		if [ "$policy" = Delete ]; then
			kc -n "$1" patch "$res" "$name" --type=merge -p '{"spec":{"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Retain"}}}' >/dev/null ||
				die 5 "cannot keep the volume claims of $2 (persistentVolumeClaimRetentionPolicy); nothing deleted"
		fi
	fi
	note "deleting $2 in namespace $1"
	kc -n "$1" delete "$res" -l "$SELECTOR" --field-selector "metadata.name=$name" --ignore-not-found \
		--cascade="$3" --wait=true --timeout="$timeout" >/dev/null || die 5 "kubectl delete $2 in namespace $1 failed"
}

# How deleting a left-over object treats what it made: a workload's pods and a Service's
# endpoints go with it; anything else's stays (an ExternalSecret's Secret, a certificate's),
# since the new bundle may use it.
prune_cascade() {
	case ${1%/*} in
	deployment.apps | statefulset.apps | daemonset.apps | replicaset.apps | job.batch | cronjob.batch | pod | service) echo background ;;
	*) echo orphan ;;
	esac
}

prune_here() {
	local obj
	[ ${#LEFTOVERS[@]} -gt 0 ] || return 0
	phase 'prune'
	for obj in "${LEFTOVERS[@]}"; do
		delete_object "$NAMESPACE" "$obj" "$(prune_cascade "$obj")"
	done
}

# prune_old_namespaces [ingress]: this environment's objects in the namespaces it used
# before: only their Ingresses with "ingress"; without it everything (volume claims
# excepted), then each namespace when nothing else is in it.
prune_old_namespaces() {
	local ns obj
	for ns in ${OLD_NAMESPACES[@]+"${OLD_NAMESPACES[@]}"}; do
		for obj in $(objects_in "$ns"); do
			case ${1:-}/$obj in
			ingress/ingress.networking.k8s.io/* | /*) delete_object "$ns" "$obj" background ;;
			esac
		done
		if [ -z "${1:-}" ]; then
			remove_namespace "$ns"
		fi
	done
}

# namespace_blockers NS: fills BLOCKERS with what keeps namespace NS from being deleted
# (this environment's own objects and volume claims are about to go, or --delete-volumes
# deletes them; they do not count).
namespace_blockers() {
	local info lines ns api kind name target stack env managed owners res
	BLOCKERS=()
	info=$(namespace_info "$1")
	case $info in
	missing*) return 0 ;;
	unknown*) BLOCKERS+=("(this deployer may not read namespace $1)") ;;
	foreign*) BLOCKERS+=("(manifestd did not create it for $STACK/$ENVIRONMENT)") ;;
	*existed-before) BLOCKERS+=("(it existed before manifestd first applied $STACK/$ENVIRONMENT to it)") ;;
	esac
	[ ${#BLOCKERS[@]} -eq 0 ] || return 0
	can_i delete "namespaces/$1" "$1" || BLOCKERS+=("(this deployer may not delete namespaces)")
	[ "$KINDS_ALL" -eq 1 ] || BLOCKERS+=("(not every resource type could be listed)")
	if ! lines=$(list_objects -n "$1"); then
		BLOCKERS+=("(its objects cannot be listed)")
		return 0
	fi
	while IFS='|' read -r ns api kind name target stack env managed owners; do
		if [ -z "$name" ] || [ -n "$owners" ]; then
			continue
		fi
		resource_of "$api" "$kind"
		case $res/$name in
		configmap/kube-root-ca.crt | serviceaccount/default) continue ;;
		esac
		if [ "$stack|$env|$managed" = "$STACK|$ENVIRONMENT|$MANAGER" ] || { [ "$res" = persistentvolumeclaim ] && is_claim_of_bundle "$name"; }; then
			if [ "$res" = persistentvolumeclaim ] && [ "$delete_volumes" -eq 0 ]; then
				BLOCKERS+=("$res/$name (a volume claim: data; --delete-volumes deletes it)")
			elif [ "$1" = "$NAMESPACE" ] && contains "$res/$name" ${KEPT[@]+"${KEPT[@]}"}; then
				BLOCKERS+=("$res/$name (referenced by the bundle, made elsewhere)")
			fi
			continue
		fi
		BLOCKERS+=("$res/$name (not made by manifestd for $STACK/$ENVIRONMENT)")
	done <<<"$lines"
}

# remove_namespace NS: deletes namespace NS when nothing keeps it, else says why not.
remove_namespace() {
	namespace_blockers "$1"
	if [ ${#BLOCKERS[@]} -gt 0 ]; then
		note "namespace $1 is kept:"
		list "${BLOCKERS[@]}"
		return 0
	fi
	[ "$(namespace_info "$1")" != missing ] || return 0
	if [ -n "$dry_run" ]; then
		note "would delete namespace $1"
		return 0
	fi
	note "deleting namespace $1"
	kc delete namespaces -l "$SELECTOR" --field-selector "metadata.name=$1" --ignore-not-found \
		--wait=true --timeout="$timeout" >/dev/null || die 5 "kubectl delete namespace $1 failed"
}

# The volume claims this environment owns in the namespace: labelled ones, and those the
# bundle's StatefulSets made.
claims_here() {
	local lines ns api kind name rest
	printf '%s\n' ${CLAIMS[@]+"${CLAIMS[@]}"}
	lines=$(kc -n "$NAMESPACE" get persistentvolumeclaims -o "jsonpath=$LINE_FORMAT" 2>/dev/null) || return 0
	while IFS='|' read -r ns api kind name rest; do
		if [ -n "$name" ] && is_claim_of_bundle "$name" && ! contains "persistentvolumeclaim/$name" ${CLAIMS[@]+"${CLAIMS[@]}"}; then
			echo "persistentvolumeclaim/$name"
		fi
	done <<<"$lines"
}

confirm_delete() {
	if [ "$yes" -eq 1 ]; then
		return 0
	fi
	if [ ! -t 0 ]; then
		die 8 "--delete needs --yes when it does not run on a terminal; nothing was deleted"
	fi
	local answer
	printf 'Type the namespace name (%s) to delete the above: ' "$NAMESPACE" >&2
	read -r answer || answer=''
	[ "$answer" = "$NAMESPACE" ] || die 8 "not confirmed; nothing was deleted"
}

delete_all() {
	local obj claims i ctx ns_goes=0 targets=()
	for obj in ${LEFTOVERS[@]+"${LEFTOVERS[@]}"}; do
		targets+=("$obj")
	done
	# the bundle's own objects, in the reverse of the apply order
	for ((i = ${#BUNDLE_OBJECTS[@]} - 1; i >= 0; i--)); do
		obj=${BUNDLE_OBJECTS[i]}
		case $obj in
		namespace/* | persistentvolumeclaim/*) ;;
		*) if contains "$obj" ${HERE[@]+"${HERE[@]}"}; then targets+=("$obj"); fi ;;
		esac
	done
	claims=$(claims_here)
	ctx=$context
	[ -n "$ctx" ] || ctx=$(kc config current-context 2>/dev/null) || ctx=''
	note "--delete of $BUNDLE in namespace $NAMESPACE, context ${ctx:-(current)}"
	if [ ${#targets[@]} -gt 0 ]; then
		note "would delete:"
		list "${targets[@]}"
	fi
	if [ -n "$claims" ] && [ "$delete_volumes" -eq 1 ]; then
		note "would delete these volume claims, and their data:"
	elif [ -n "$claims" ]; then
		note "keeps the volume claims (data; --delete-volumes deletes them):"
	fi
	if [ -n "$claims" ]; then
		# shellcheck disable=SC2086 # one claim per word
		list $claims
	fi
	if [ ${#KEPT[@]} -gt 0 ]; then
		note "keeps what the bundle references but no longer holds:"
		list "${KEPT[@]}"
	fi
	if [ "${NS_STATE%% *}" = missing ]; then
		:
	elif ! contains "namespace/$NAMESPACE" "${BUNDLE_OBJECTS[@]}"; then
		note "keeps namespace $NAMESPACE (the bundle does not create it)"
	else
		namespace_blockers "$NAMESPACE"
		if [ ${#BLOCKERS[@]} -gt 0 ]; then
			note "keeps namespace $NAMESPACE:"
			list "${BLOCKERS[@]}"
		else
			ns_goes=1
			note "would delete namespace $NAMESPACE (manifestd created it and nothing else is in it)"
		fi
	fi
	if [ ${#targets[@]} -eq 0 ] && [ "$ns_goes" -eq 0 ] && { [ -z "$claims" ] || [ "$delete_volumes" -eq 0 ]; }; then
		note "nothing of $BUNDLE to delete in namespace $NAMESPACE"
		return 0
	fi
	if [ -n "$dry_run" ]; then
		note "dry run: nothing was deleted"
		return 0
	fi
	confirm_delete
	for obj in ${targets[@]+"${targets[@]}"}; do
		delete_object "$NAMESPACE" "$obj" background
	done
	if [ "$delete_volumes" -eq 1 ]; then
		for obj in $claims; do
			note "deleting $obj in namespace $NAMESPACE"
			kc -n "$NAMESPACE" delete "$obj" --ignore-not-found --wait=true --timeout="$timeout" >/dev/null ||
				die 5 "kubectl delete $obj failed"
		done
	fi
	if [ "$ns_goes" -eq 1 ]; then
		remove_namespace "$NAMESPACE"
	fi
	note "deleted $BUNDLE"
}

# ---- diff ----

diff_all() {
	local args=() file rc=0
	if [ "$NS_STATE" = missing ]; then
		# nothing to compare with, and the API server refuses a dry run in a missing namespace
		note "namespace $NAMESPACE does not exist yet: everything would be created"
		for file in "${FILES[@]}"; do
			if contains "$file" ${NAMESPACE_FILES[@]+"${NAMESPACE_FILES[@]}"}; then
				kc diff --server-side "--field-manager=$MANAGER" --force-conflicts -f "$file" || rc=$?
				[ "$rc" -le 1 ] || die 5 "kubectl diff -f $file failed (exit $rc)"
			elif contains "$file" ${SECRET_FILES[@]+"${SECRET_FILES[@]}"}; then
				printf -- '--- /dev/null\n+++ %s\n+(new; it holds Secret values, not shown)\n' "$file"
			else
				diff -u --label /dev/null --label "$file" /dev/null "$file" || true
			fi
		done
		exit 1
	fi
	for file in "${FILES[@]}"; do
		args+=(-f "$file")
	done
	kc diff --server-side "--field-manager=$MANAGER" --force-conflicts "${args[@]}" || rc=$?
	case $rc in
	0) note 'no differences' ;;
	1) exit 1 ;;
	*) die 5 "kubectl diff failed (exit $rc)" ;;
	esac
}

#@PLAN@

main() {
	parse_args "$@"
	cd -- "$(dirname -- "${BASH_SOURCE[0]}")" || die 2 'cannot enter the bundle folder'
	check_cluster
	NS_STATE=$(namespace_info "$NAMESPACE")
	discover_kinds
	case $action in
	delete)
		take_inventory here
		delete_all
		;;
	diff)
		check_references
		check_missing
		take_inventory everywhere
		report_leftovers
		diff_all
		;;
	*)
		check_references
		check_missing
		take_inventory everywhere
		report_leftovers
		apply_all
		if [ "$prune" -eq 1 ]; then
			prune_here
		fi
		if [ "$prune_old" -eq 1 ]; then
			prune_old_namespaces
		fi
		if [ -n "$dry_run" ]; then
			note "dry run ($dry_run) of $BUNDLE done; nothing was changed"
		else
			note "$BUNDLE applied to namespace $NAMESPACE"
		fi
		;;
	esac
}

main "$@"
