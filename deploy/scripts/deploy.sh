#!/usr/bin/env bash
# Deploys one image tag of every MlPlatform service to the current kubectl context, and rolls back to the tag that was
# running before when a rollout does not become ready. Used by .github/workflows/cd.yml (deploy and rollback jobs).
#
#   deploy/scripts/deploy.sh <registry> <tag>
#
# Secrets come from the environment (ADMIN_API_KEY, OPERATOR_API_KEY, READER_API_KEY, INTERNAL_API_KEY, REDIS_PASSWORD)
# and are written to the overlay's secrets.env only for the duration of the apply. Needs kubectl and kustomize.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."

registry="${1:?usage: deploy.sh <registry> <tag>}"
tag="${2:?usage: deploy.sh <registry> <tag>}"
overlay=deploy/kubernetes/overlays/production
namespace=mlplatform
services=(gateway modelregistry onlinescorer batchscorer)
rollout_timeout="${ROLLOUT_TIMEOUT:-10m}"

for name in ADMIN_API_KEY OPERATOR_API_KEY READER_API_KEY INTERNAL_API_KEY REDIS_PASSWORD; do
  if [ -z "${!name:-}" ]; then
    echo "$name is not set." >&2
    exit 1
  fi
done

# The tag now running, to return to if this rollout fails ("" on the first deployment).
previous="$(kubectl -n "$namespace" get deployment gateway -o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null || true)"
previous="${previous##*:}"

trap 'rm -f "$overlay/secrets.env"' EXIT
umask 077
{
  echo "admin-api-key=$ADMIN_API_KEY"
  echo "operator-api-key=$OPERATOR_API_KEY"
  echo "reader-api-key=$READER_API_KEY"
  echo "internal-api-key=$INTERNAL_API_KEY"
  echo "redis-password=$REDIS_PASSWORD"
} > "$overlay/secrets.env"

apply() {
  local image_tag="$1"
  (
    cd "$overlay"
    for service in "${services[@]}"; do
      kustomize edit set image "mlplatform/$service=$registry/mlplatform/$service:$image_tag"
    done
  )
  kubectl apply -k "$overlay"
}

wait_for_rollouts() {
  kubectl -n "$namespace" rollout status statefulset/redis --timeout="$rollout_timeout" &&
  kubectl -n "$namespace" rollout status statefulset/modelregistry --timeout="$rollout_timeout" &&
  kubectl -n "$namespace" rollout status deployment/onlinescorer --timeout="$rollout_timeout" &&
  kubectl -n "$namespace" rollout status deployment/batchscorer --timeout="$rollout_timeout" &&
  kubectl -n "$namespace" rollout status deployment/gateway --timeout="$rollout_timeout"
}

echo "Deploying $tag (running now: ${previous:-nothing})."
apply "$tag"
if wait_for_rollouts; then
  echo "Deployed $tag."
  exit 0
fi

echo "The rollout of $tag did not become ready." >&2
if [ -n "$previous" ] && [ "$previous" != "$tag" ]; then
  echo "Rolling back to $previous." >&2
  apply "$previous"
  wait_for_rollouts
fi
exit 1
