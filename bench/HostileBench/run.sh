#!/usr/bin/env bash
# Starts the platform as `./platform start` does (Release) on ports of its own with two reader keys and otherwise its default
# configuration (the gateway's client-error budget included, on by default: nothing here turns a limit on or off), runs the hostile-load benchmark
# against it, and stops it. Usage: bench/HostileBench/run.sh [--quiet-seconds 60] [--seconds 300] [--rounds 5]  (report: bench/results/hostile.md)
# Where the CPU goes, kind by kind: bench/HostileBench/run.sh --profile-seconds 20 --rounds 0  (report: bench/results/hostile-profile.md)
# BENCH_PREBUILT=1 (set by bench/run-quiet.sh after its one Release build of the solution) skips the builds.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
port=${HOSTILE_GATEWAY_PORT:-8400}
data=$(mktemp -d /tmp/mlplatform-hostile.XXXXXX)
admin="hostile-bench-admin-$(openssl rand -hex 12)"
valid="hostile-bench-valid-$(openssl rand -hex 12)"
hostile="hostile-bench-hostile-$(openssl rand -hex 12)"
log="$data/platform.log"
# The dashboard keeps the launch profile's ports (18888, 19000, 20000): stop your own `./platform start` first, or (with BENCH_PREBUILT=1)
# set HOSTILE_DASHBOARD_PORT=P to give the dashboard P, P+1 and P+2 (the launch profile's settings otherwise, as environment variables).
if [ "${BENCH_PREBUILT:-0}" = 1 ] && [ -n "${HOSTILE_DASHBOARD_PORT:-}" ]; then
  dash=$HOSTILE_DASHBOARD_PORT
  start=(env ASPNETCORE_ENVIRONMENT=Development DOTNET_ENVIRONMENT=Development ASPIRE_ALLOW_UNSECURED_TRANSPORT=true
    "ASPNETCORE_URLS=http://localhost:$dash" "ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:$((dash + 1))"
    "ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://localhost:$((dash + 2))" AppHost/bin/Release/net10.0/AppHost)
  bench=(dotnet bench/HostileBench/bin/Release/net10.0/HostileBench.dll)
elif [ "${BENCH_PREBUILT:-0}" = 1 ]; then
  start=(dotnet run --no-build -c Release --project AppHost/AppHost.csproj --launch-profile http --)
  bench=(dotnet bench/HostileBench/bin/Release/net10.0/HostileBench.dll)
else
  start=(./platform start)
  bench=(dotnet run -c Release --project bench/HostileBench --)
fi
"${start[@]}" "Platform:DataDir=$data" "Platform:GatewayPort=$port" "Platform:GatewayGrpcPort=$((port + 1))" \
    "Platform:DemoModel=false" "Parameters:admin-api-key=$admin" \
    "Gateway:ApiKeys:Keys:bench-valid:Role=reader" "Gateway:ApiKeys:Keys:bench-valid:Key=$valid" \
    "Gateway:ApiKeys:Keys:bench-hostile:Role=reader" "Gateway:ApiKeys:Keys:bench-hostile:Key=$hostile" >"$log" 2>&1 &
platform=$!
# `dotnet run` does not pass signals on to the AppHost it started: stop the AppHost (its child) itself. SIGTERM, not SIGINT: a
# background job of a non-interactive shell starts with SIGINT ignored, so the AppHost never saw it and the script waited forever.
trap 'kill -TERM $(pgrep -P $platform) $platform 2>/dev/null; wait $platform 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 300); do
  curl -fsS "http://localhost:$port/v2/health/ready" >/dev/null 2>&1 && break
  sleep 2
done
curl -fsS "http://localhost:$port/v2/health/ready" >/dev/null || { echo "The platform did not become ready; log: $log" >&2; tail -50 "$log" >&2; exit 1; }
"${bench[@]}" --gateway "http://localhost:$port" --admin-key "$admin" \
  --valid-key "$valid" --hostile-key "$hostile" --platform-dir "$data" "$@"
