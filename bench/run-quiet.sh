#!/usr/bin/env bash
# Every benchmark the open issues ask for, in one session on a quiet machine, from one Release build of the solution:
#   1. OnlineBench, small model (issues 4/20): grid, hop vs bare YARP (with/without Expect: 100-continue), target rounds -> online.md,
#      then on the same platform --with-grpc (issue 17: gRPC raw vs REST binary, c16, alternating) -> its section of online.md
#      and --with-shadow (issue 18: production p99 at c4 with / without a shadow alias at weight 50, alternating) -> shadow.md
#   2. OnlineBench --large (issue 20): the large-input model (190 KB JSON / 110 KB binary bodies), the same sections -> online-large.md
#   3. HostileBench (issue 16): valid clients' p99 quiet vs under 5 min of hostile traffic, alternating rounds -> hostile.md
# Each report lists the machine, the load average at its start and end, and every target with met yes/no.
# Usage: bench/run-quiet.sh            the real run, ~21 min on a quiet 2-core machine, writes bench/results/
#        bench/run-quiet.sh --smoke    (or BENCH_SMOKE=1) half-second runs into a temporary folder, ~8 min on a quiet machine:
#                                      checks that every bench runs and writes its report (its numbers mean nothing)
#        BENCH_SKIP_BUILD=1 bench/run-quiet.sh   after `dotnet build MlPlatform.sln -c Release` made beforehand (the build is
#                                      ~1-2 min incremental, 5+ min from scratch on 2 cores: better done before the quiet window)
# Stop your own `./platform start` first: the hostile bench starts the platform with the launch profile's dashboard ports.
# The whole script is one function, read before it starts, and exits on the line that calls it: editing the file during a run
# does not change that run.
main() {
  set -euo pipefail
  cd "$(dirname "$(readlink -f "$0")")/.."
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

  smoke=${BENCH_SMOKE:-0}
  if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
  if [ "$smoke" = 1 ]; then
    seconds=0.5; rounds=1; shadow_rounds=1; hostile=(--quiet-seconds 6 --seconds 12 --rounds 2)
    out=$(mktemp -d /tmp/mlplatform-bench-smoke.XXXXXX)
  else
    # 2.5 s per measured run (after 1 s warm-up) keeps the whole session near 20 minutes; the targets are judged on interleaved rounds.
    seconds=2.5; rounds=3; shadow_rounds=5; hostile=(--quiet-seconds 60 --seconds 300 --rounds 5)
    out=bench/results
  fi

  started=$SECONDS
  step() { printf '\n[run-quiet %s, +%dm%02ds] %s\n' "$(date -u +%H:%M:%S)" $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) "$*"; }

  step "load average before the build: $(cat /proc/loadavg)"
  if [ "${BENCH_SKIP_BUILD:-0}" = 1 ]; then
    step "BENCH_SKIP_BUILD=1: using the Release build already made (dotnet build MlPlatform.sln -c Release)"
  else
    step "building the solution in Release (once)"
    dotnet build MlPlatform.sln -c Release -warnaserror -nologo -v:q
  fi
  # The apphost executable, not `dotnet OnlineBench.dll`: the bench starts itself again for the bare YARP forwarders.
  online=bench/OnlineBench/bin/Release/net10.0/OnlineBench

  step "1/3 OnlineBench, small model: grid, hop, target rounds, then gRPC and shadow on the same platform (~9 min) -> $out/online.md, $out/shadow.md"
  "$online" --seconds "$seconds" --rounds "$rounds" --out "$out/online.md" --with-grpc --with-shadow --shadow-rounds "$shadow_rounds" --shadow-out "$out/shadow.md"
  step "2/3 OnlineBench --large: large-input model (~5 min) -> $out/online-large.md"
  "$online" --large --seconds "$seconds" --rounds "$rounds" --out "$out/online-large.md"
  step "3/3 HostileBench: valid clients quiet vs hostile, alternating rounds (~7.5 min) -> $out/hostile.md"
  BENCH_PREBUILT=1 bench/HostileBench/run.sh "${hostile[@]}" --out "$(readlink -f "$out")/hostile.md"

  step "done in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s; load average now: $(cat /proc/loadavg)"
  echo "Targets (met yes/no), from the reports in $out:"
  for report in online.md online-large.md shadow.md; do
    # Only the targets sections (the single-run ratios further down are context).
    awk -v name="$report" '/^## Target/ { on = 1; next } /^## / { on = 0 } on && /\| (yes|\*\*no\*\*|n\/a) \|$/ { print name ": " $0 }' "$out/$report"
  done
  grep -E '^\| bench-conv-(un)?batched \|' "$out/online.md" | sed 's/^/online.md (gRPC raw vs REST binary): /' || true
  grep -E 'target: within' "$out/hostile.md" | sed 's/^/hostile.md: /' || true
}
main "$@"; exit $?
