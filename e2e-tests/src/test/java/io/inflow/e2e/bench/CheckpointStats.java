package io.inflow.e2e.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checkpoint durations of a job from Flink's REST API: {@code /jobs/<id>/checkpoints} (history of completed
 * checkpoints, end-to-end duration) and, per checkpoint and job vertex,
 * {@code /jobs/<id>/checkpoints/details/<cid>/subtasks/<vertex>} (the slowest subtask's sync and async parts,
 * alignment duration and start delay). Only checkpoints triggered inside a time window count (the sustained-load part
 * of a run, not its warm-up or its idle tail).
 *
 * <p>{@code CheckpointStats s = CheckpointStats.fetch(restUrl, jobId, fromMs, toMs); System.out.println(s.describe());}
 */
final class CheckpointStats {

    private static final ObjectMapper JSON = new ObjectMapper();

    final List<Long> endToEndMs = new ArrayList<>();
    /** vertex name -> part name (sync, async, alignment, start delay) -> per checkpoint, the slowest subtask's ms. */
    final Map<String, Map<String, List<Long>>> parts = new LinkedHashMap<>();
    int failed;

    static CheckpointStats fetch(String rest, String jobId, long fromMs, long toMs) throws Exception {
        CheckpointStats s = new CheckpointStats();
        JsonNode job = JSON.readTree(BenchPipeline.get(rest + "/jobs/" + jobId));
        Map<String, String> vertices = new LinkedHashMap<>();
        for (JsonNode v : job.path("vertices")) {
            vertices.put(v.path("id").asText(), shortName(v.path("name").asText()));
        }
        JsonNode cps = JSON.readTree(BenchPipeline.get(rest + "/jobs/" + jobId + "/checkpoints"));
        for (JsonNode h : cps.path("history")) {
            long trigger = h.path("trigger_timestamp").asLong();
            if (trigger < fromMs || trigger > toMs || h.path("is_savepoint").asBoolean()) {
                continue;
            }
            if (!"COMPLETED".equals(h.path("status").asText())) {
                if ("FAILED".equals(h.path("status").asText())) {
                    s.failed++;
                }
                continue;
            }
            s.endToEndMs.add(h.path("end_to_end_duration").asLong());
            long id = h.path("id").asLong();
            for (var v : vertices.entrySet()) {
                JsonNode sum = JSON.readTree(BenchPipeline.get(rest + "/jobs/" + jobId + "/checkpoints/details/" + id
                        + "/subtasks/" + v.getKey())).path("summary");
                Map<String, List<Long>> p = s.parts.computeIfAbsent(v.getValue(), k -> new LinkedHashMap<>());
                add(p, "sync", sum.path("checkpoint_duration").path("sync").path("max"));
                add(p, "async", sum.path("checkpoint_duration").path("async").path("max"));
                add(p, "alignment", sum.path("alignment").path("duration").path("max"));
                add(p, "start delay", sum.path("start_delay").path("max"));
                add(p, "end-to-end", sum.path("end_to_end_duration").path("max"));
            }
        }
        return s;
    }

    private static void add(Map<String, List<Long>> p, String part, JsonNode value) {
        if (value.isNumber()) {
            p.computeIfAbsent(part, k -> new ArrayList<>()).add(value.asLong());
        }
    }

    /** "Source: kafka: b1.text -> decode + validate -> ..." -> its first and last operator. */
    private static String shortName(String name) {
        String[] ops = name.split(" -> ");
        String first = ops[0].replaceFirst("^Source: ", "");
        return ops.length == 1 ? first : first + " .. " + ops[ops.length - 1];
    }

    /** Lines: completed count, end-to-end p50/max, per vertex p50/max of each part. */
    List<String> describe() {
        List<String> out = new ArrayList<>();
        if (endToEndMs.isEmpty()) {
            out.add("no completed checkpoint in the window (failed: " + failed + ")");
            return out;
        }
        out.add(String.format("%d completed in the window (%d failed): end-to-end p50 %d ms, max %d ms",
                endToEndMs.size(), failed, Stats.percentile(endToEndMs, 50), Stats.max(endToEndMs)));
        for (var v : parts.entrySet()) {
            StringBuilder b = new StringBuilder("  ").append(v.getKey()).append(" (slowest subtask; p50/max ms):");
            for (var part : v.getValue().entrySet()) {
                b.append(String.format(" %s %d/%d;", part.getKey(), Stats.percentile(part.getValue(), 50),
                        Stats.max(part.getValue())));
            }
            out.add(b.toString());
        }
        return out;
    }
}
