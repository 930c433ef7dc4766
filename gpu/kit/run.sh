#!/usr/bin/env bash
# Runs the GPU device kit (packed by gpu/kit/pack.sh into .device-kit/) on the device: every `gpu`-tagged test class,
# one small contract case under compute-sanitizer (memcheck, racecheck), and the GPU benchmarks; writes into $OUT
# (default /tmp/inflow-kit-out):
#   summary.txt  per test pass / fail / error / skipped with its message, the sanitizer verdicts, the benchmark tables
#   junit.xml    JUnit's report        bench.log  the benchmarks' output        sanitizer.log  compute-sanitizer's
#   run.log      everything printed
# Stays under 8 minutes: each step has a time limit (TESTS_S 200, SANITIZER_S 45 per tool, BENCH_S 60 per benchmark:
# 470 s at most) and the summary says what ran.
# On a machine without a GPU the tests report skipped with their reason, which is how this script is tested here.
#
#   bash gpu/kit/run.sh                      # from the repository root, kit in .device-kit
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kit="${KIT:-$root/.device-kit}"
out="${OUT:-/tmp/inflow-kit-out}"
TESTS_S="${TESTS_S:-200}"
SANITIZER_S="${SANITIZER_S:-45}"
BENCH_S="${BENCH_S:-60}"
mkdir -p "$out"
exec > >(tee "$out/run.log") 2>&1
[ -f "$kit/jre.tar.xz" ] || { echo "kit: no $kit/jre.tar.xz: run gpu/kit/pack.sh first (and carry .device-kit)"; exit 2; }
jre_dir="${JRE_DIR:-/tmp/inflow-kit-jre}"
if [ ! -x "$jre_dir/jre/bin/java" ]; then
  mkdir -p "$jre_dir" && tar -C "$jre_dir" -xJf "$kit/jre.tar.xz"
fi
java="$jre_dir/jre/bin/java"
cd "$root"
jars=$(ls "$kit"/lib/*.jar | tr '\n' ':')   # spelled out: the JUnit console does not expand lib/*
cp="$kit/classes:$root/gpu/src/main/resources:$kit/test-classes:$root/gpu/src/test/resources:${jars%:}"
selected=()
while read -r cls; do selected+=(--select-class "$cls"); done < "$kit/gpu-tests.txt"
jvm=(--add-modules=jdk.incubator.vector --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
     -Xmx8g -Dinflow.cuda.sync-after-launch=true)
start=$(date +%s)
echo "kit: $(date -u +%FT%TZ) on $(hostname); $(nvidia-smi -L 2>/dev/null || echo 'no nvidia-smi (no GPU)')"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true

echo "== tests (gpu tag, limit ${TESTS_S}s)"
timeout "$TESTS_S" "$java" "${jvm[@]}" -jar "$kit/junit-console.jar" execute --class-path "$cp" \
  "${selected[@]}" --include-tag gpu --reports-dir "$out/junit" --details=tree \
  --disable-banner --disable-ansi-colors
tests_rc=$?
cp "$out"/junit/TEST-junit-jupiter.xml "$out/junit.xml" 2>/dev/null
rm -rf "$out/junit"

echo "== compute-sanitizer (limit ${SANITIZER_S}s each)"
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
: > "$out/sanitizer.log"
if [ -n "$sanitizer" ] && nvidia-smi -L >/dev/null 2>&1; then
  for tool in memcheck racecheck; do
    echo "-- $tool: CudaClusteringContractTest#duplicatesAndSmallSets (Prim, retrieval top-k, PCA kernels)" \
      | tee -a "$out/sanitizer.log"
    timeout "$SANITIZER_S" "$sanitizer" --tool "$tool" --error-exitcode 86 --target-processes all \
      "$java" "${jvm[@]}" -jar "$kit/junit-console.jar" execute --class-path "$cp" --disable-banner \
      --select-method io.inflow.gpu.backend.cuda.CudaClusteringContractTest#duplicatesAndSmallSets \
      >> "$out/sanitizer.log" 2>&1
    echo "$tool exit $?" | tee -a "$out/sanitizer.log"
  done
else
  echo "compute-sanitizer not run: ${sanitizer:-not found}; GPU: $(nvidia-smi -L 2>/dev/null || echo none)" \
    | tee -a "$out/sanitizer.log"
fi

echo "== benchmarks (limit ${BENCH_S}s each)"
: > "$out/bench.log"
bench() {
  echo "-- $*" | tee -a "$out/bench.log"
  timeout "$BENCH_S" "$java" "${jvm[@]}" -cp "$cp" "$@" >> "$out/bench.log" 2>&1
  echo "exit $?" >> "$out/bench.log"
}
if nvidia-smi -L >/dev/null 2>&1; then
  bench io.inflow.gpu.bench.CudaEncoderBenchmark batch=256 seq=128 seconds=5 random=true
  bench io.inflow.gpu.bench.CudaQuantizedBenchmark batch=256 seq=128 seconds=5
  bench io.inflow.gpu.bench.ClusteringBenchmark sizes=10000,30000 pca=5 peers= gpu=true threads=16
else
  echo "benchmarks not run: no GPU" | tee -a "$out/bench.log"
fi

python3 "$root/gpu/kit/summarize.py" "$out" "$tests_rc" "$(( $(date +%s) - start ))"
