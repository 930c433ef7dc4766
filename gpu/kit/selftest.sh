#!/usr/bin/env bash
# The device kit exercised without a GPU (CI runs it after the test suite): packs it, checks that it fits the
# device transfer with the tracked tree (pack.sh fails otherwise), runs it, and checks the summary: every gpu-tagged
# test was found and reported skipped with the no-device reason, none failed or errored, and the steps that need a
# GPU say why they did not run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$(mktemp -d)"
bash "$root/gpu/kit/pack.sh" | tail -2
OUT="$out" bash "$root/gpu/kit/run.sh" > /dev/null
summary="$out/summary.txt"
missing=0
while read -r cls; do
  grep -q " $cls#" "$summary" || { echo "kit selftest: no test of $cls ran"; missing=$((missing + 1)); }
done < "$root/.device-kit/gpu-tests.txt"
classes=$(wc -l < "$root/.device-kit/gpu-tests.txt")
skipped=$(grep -c '^skipped ' "$summary" || true)
bad=$(grep -cE '^(FAIL|ERROR) ' "$summary" || true)
reasons=$(grep '^skipped ' "$summary" | grep -vc 'no CUDA device' || true)
echo "kit selftest: $skipped tests of $classes gpu-tagged classes skipped ($missing classes without a test), $bad failed, $reasons skipped for another reason"
grep -q 'compute-sanitizer not run' "$out/sanitizer.log"
grep -q 'benchmarks not run: no GPU' "$out/bench.log"
if (( bad > 0 || reasons > 0 || missing > 0 || skipped == 0 )); then
  cat "$summary"
  echo "kit selftest: FAILED" >&2
  exit 1
fi
echo "kit selftest: ok ($summary)"
