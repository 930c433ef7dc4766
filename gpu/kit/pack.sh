#!/usr/bin/env bash
# Packs the GPU device kit into .device-kit/ (ignored by git): a small Java runtime (jlink), the jars the gpu module's
# tests need (minus the large ones no GPU test uses), the JUnit Platform console launcher, the module's classes and
# test classes. The device (no Java, no Maven, no network) gets it through the device tool's `carry`:
#
#   gpu/kit/pack.sh                      # here; prints the kit's size and the tracked tree's
#   (device) bash gpu/kit/run.sh         # there; writes the summary into $OUT
#
# Fails when the kit plus the tracked tree would not fit the device tool's 64 MiB transfer.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kit="${KIT:-$root/.device-kit}"
limit=$((64 * 1024 * 1024))
junit_console_version=1.11.4

cd "$root"
echo "pack: building gpu (classes, test classes, jars) and copying its test classpath ..."
rm -rf "$kit"
mkdir -p "$kit/lib"
# one reactor run, so that gpu's dependency on schemas resolves to the jar just packaged
mvn -B -q -pl gpu -am -DskipTests package dependency:copy-dependencies -DincludeScope=test \
    -DoutputDirectory="$kit/lib"
# Jars no GPU-tagged test or GPU benchmark needs: model jars (MiniLM, 90 MB), ONNX Runtime, DJL's tokenizers (the
# kit's text tests use token ids), the clustering and search peers with their own dependencies, Mockito's byte-buddy,
# JUnit itself (the console launcher bundles it).
for pattern in 'onnxruntime-*' 'langchain4j-*' 'tokenizers-*' 'api-0.*' 'jna-*' 'tribuo-*' 'olcut-*' 'elki-*' \
               'lucene-*' 'junit-*' 'opentest4j-*' 'apiguardian-*' 'protobuf-*' 'byte-buddy-*' 'jline-*' 'jansi-*' \
               'opencsv-*' 'commons-beanutils-*' 'commons-collections-*' 'commons-collections4-*' 'commons-text-*' \
               'commons-compress-*' 'commons-math3-*' 'commons-io-*' 'gson-*' 'snakeyaml-*' 'jackson-dataformat-yaml-*' \
               'itu-*' 'commons-logging-*' 'jafama-*' 'fastutil-*'; do
  rm -f "$kit/lib/"$pattern
done
# JCuda's natives jar holds every JCuda library (the PTX compiler alone is 24 MB): keep the driver API's
mkdir -p "$kit/natives" && (cd "$kit/natives" && unzip -q ../lib/jcuda-natives-*.jar \
  && find lib -name '*.so' ! -name 'libJCudaDriver-*' -delete && zip -q -r ../lib/jcuda-natives-driver.jar .)
rm -rf "$kit/natives" "$kit/lib"/jcuda-natives-12*.jar
mvn -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$junit_console_version \
    -DoutputDirectory="$kit" >/dev/null
mv "$kit"/junit-platform-console-standalone-*.jar "$kit/junit-console.jar"
# compiled classes only: the resources (kernels, ViT weights, test data) travel in the tracked tree and run.sh puts
# gpu/src/main/resources and gpu/src/test/resources on the class path
(cd gpu/target && find classes test-classes -name '*.class' -o -path '*/META-INF/*' -type f) \
  | (cd gpu/target && xargs -I{} install -D -m 644 {} "$kit/{}")
# the gpu-tagged test classes, selected by name (scanning would load CPU-only tests whose dependencies stay here)
grep -rl '@Tag("gpu")' gpu/src/test/java | sed 's#gpu/src/test/java/##; s#\.java$##; s#/#.#g' | sort > "$kit/gpu-tests.txt"
modules=$(jdeps --multi-release 17 --ignore-missing-deps --print-module-deps \
  --class-path "$kit/lib/*" "$kit/classes" "$kit/test-classes" 2>/dev/null || true)
modules="${modules:-java.base,java.desktop,java.logging,java.management,java.naming,java.sql,java.xml}"
modules="$modules,jdk.incubator.vector,jdk.unsupported,jdk.crypto.ec,jdk.zipfs"
# the runtime: uncompressed modules and a stripped libjvm, then xz (17 MB against 51 MB as a compressed image)
rm -rf "$kit/jre"
jlink --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=0 --output "$kit/jre" \
  2>&1 | grep -v "incubator" || true
strip --strip-unneeded "$kit/jre/lib/server/libjvm.so"
tar -C "$kit" -cJf "$kit/jre.tar.xz" jre
rm -rf "$kit/jre"
kit_bytes=$(du -sb "$kit" | cut -f1)
tree_bytes=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
total=$((kit_bytes + tree_bytes))
echo "pack: kit $((kit_bytes / 1048576)) MiB (jre.tar.xz $(du -sm "$kit/jre.tar.xz" | cut -f1) MiB, lib $(du -sm "$kit/lib" | cut -f1) MiB," \
     "classes $(du -sm "$kit/classes" "$kit/test-classes" | awk '{s+=$1} END {print s}') MiB) + tracked tree" \
     "$((tree_bytes / 1048576)) MiB = $((total / 1048576)) MiB of the 64 MiB transfer; modules: $modules"
if (( total > limit )); then
  echo "pack: too large for the device transfer (64 MiB): trim lib/ or the runtime's modules" >&2
  exit 1
fi
echo "$kit"
