#!/usr/bin/env bash
# Renders the README's picture of the main dashboard panels from a live run's Prometheus query_range data.
#   1. dump:   mvn -B -pl e2e-tests -am test -Dtest=PrometheusLiveTest -Dsurefire.failIfNoSpecifiedTests=false \
#                  -Dinflow.metrics.dump=$PWD/deploy/grafana/screenshots/data
#   2. render: deploy/grafana/render-screenshots.sh [deploy/grafana/screenshots/data]   (needs gnuplot: apt install gnuplot-nox)
# Output: deploy/grafana/screenshots/pipeline-health.png (2x3 panels: throughput, latency, compute queue,
# dead letters, Kafka lag, checkpoint duration).
# Each DATA/<panel>.tsv holds series as blocks "# legend" + "seconds-since-start<TAB>value" lines.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${1:-$here/screenshots/data}"
out="${2:-$here/screenshots/pipeline-health.png}"
command -v gnuplot >/dev/null || { echo "gnuplot is not installed (apt-get install gnuplot-nox)" >&2; exit 1; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

# one file per series: $tmp/<panel>.<n>.dat, legend in $tmp/<panel>.<n>.title
for f in "$data"/*.tsv; do
  panel="$(basename "$f" .tsv)"
  awk -v dir="$tmp" -v p="$panel" '
    /^# / { n++; t = substr($0, 3); print t > (dir "/" p "." n ".title"); next }
    NF == 2 && $2 != "NaN" { print > (dir "/" p "." n ".dat") }' "$f"
done

plot_cmd() {  # plot_cmd PANEL STYLE -> "plot 'a' with lines title 'x', ..."
  local panel="$1" style="$2" parts=()
  for d in "$tmp/$panel".*.dat; do
    [ -e "$d" ] || continue
    parts+=("'$d' using 1:2 with $style lw 2 title '$(cat "${d%.dat}.title")'")
  done
  if [ ${#parts[@]} -eq 0 ]; then echo "plot NaN notitle"; else (IFS=,; echo "plot ${parts[*]}"); fi
}

gnuplot <<GP
set terminal pngcairo size 1800,900 font "DejaVu Sans,11" noenhanced background rgb "#111217"
set output "$out"
set border lc rgb "#8e8e8e"; set tics textcolor rgb "#cccccc"; set key textcolor rgb "#cccccc" top right
set grid lc rgb "#2c2f36"; set xlabel "seconds since the run started" textcolor rgb "#aaaaaa"
set style line 1 lc rgb "#73bf69"
set linetype 1 lc rgb "#73bf69"; set linetype 2 lc rgb "#f2cc0c"; set linetype 3 lc rgb "#5794f2"
set linetype 4 lc rgb "#ff9830"; set linetype 5 lc rgb "#f2495c"; set linetype 6 lc rgb "#b877d9"
set linetype 7 lc rgb "#8ab8ff"
set multiplot layout 2,3 title "Inflow / Pipeline health (live run: bundled sample, 1,212 records; Prometheus, 1 s scrapes)" textcolor rgb "#eeeeee"
set title "Records per second  (inflow_records_in/out_total, inflow_dead_letters_total)" textcolor rgb "#eeeeee"
set ylabel "records/s" textcolor rgb "#aaaaaa"
$(plot_cmd throughput lines)
set title "Latency  (inflow_compute_seconds, inflow_batch_wait_seconds)"
set ylabel "seconds"; set logscale y
$(plot_cmd latency lines)
unset logscale y
set title "Compute queue  (inflow_batches_in_flight, inflow_batch_size_records)"
set ylabel "batches / records"
$(plot_cmd queue lines)
set title "Dead letters by reason  (inflow_dead_letters_total, cumulative)"
set ylabel "records"
$(plot_cmd deadletters steps)
set title "Kafka lag  (Flink: currentEmitEventTimeLag while not idle, s; pendingRecords)"
set ylabel "seconds / records"
$(plot_cmd lag lines)
set title "Checkpoint duration  (Flink: lastCheckpointDuration)"
set ylabel "ms"
$(plot_cmd checkpoints lines)
unset multiplot
GP
echo "wrote $out"
