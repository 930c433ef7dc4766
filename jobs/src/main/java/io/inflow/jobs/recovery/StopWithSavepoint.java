package io.inflow.jobs.recovery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Flink's stop-with-savepoint: the sources stop, a final savepoint is taken (the exactly-once sinks commit their
 * last transactions with it), and the job finishes. In-process through the {@link JobClient} (Ctrl-C), or from
 * another process through the REST API ({@code POST /jobs/<id>/stop}, then polling the trigger), as
 * {@code ./inflow stop} does.
 *
 * <pre>{@code
 * String savepoint = StopWithSavepoint.viaRest("http://127.0.0.1:8081", jobId, dir.savepoints(),
 *         Duration.ofMinutes(1));
 * }</pre>
 */
public final class StopWithSavepoint {

    private static final ObjectMapper JSON = new ObjectMapper();

    private StopWithSavepoint() {
    }

    /** Stops the job of {@code client} with a savepoint in {@code dir}; returns the savepoint's path. */
    public static String viaClient(JobClient client, Path dir, Duration timeout) throws Exception {
        try {
            return client.stopWithSavepoint(false, dir.toUri().toString(), SavepointFormatType.CANONICAL)
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("stop with savepoint failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("no savepoint within " + timeout, e);
        }
    }

    /** Stops job {@code jobId} of the cluster at {@code restUrl} with a savepoint in {@code dir}. */
    public static String viaRest(String restUrl, String jobId, Path dir, Duration timeout)
            throws IOException, InterruptedException {
        // no connect timeout: on a loaded machine a fresh JVM's first loopback connect can take seconds, and the
        // JDK client reports a timed-out connect as a bare ConnectException; the request timeout bounds each call
        HttpClient http = HttpClient.newHttpClient();
        String body = JSON.writeValueAsString(Map.of("targetDirectory", dir.toUri().toString(), "drain", false));
        JsonNode trigger = send(http, HttpRequest.newBuilder(URI.create(restUrl + "/jobs/" + jobId + "/stop"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
        String requestId = trigger.path("request-id").asText();
        if (requestId.isEmpty()) {
            throw new IOException("Flink did not accept the stop request: " + trigger);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode status = send(http, HttpRequest.newBuilder(URI.create(restUrl + "/jobs/" + jobId
                    + "/savepoints/" + requestId)).GET());
            if ("COMPLETED".equals(status.path("status").path("id").asText())) {
                JsonNode op = status.path("operation");
                if (op.hasNonNull("location")) {
                    return op.get("location").asText();
                }
                throw new IOException("stop with savepoint failed: " + op.path("failure-cause")
                        .path("stack-trace").asText(op.toString()).lines().findFirst().orElse(op.toString()));
            }
            Thread.sleep(250);
        }
        throw new IOException("no savepoint within " + timeout + " (the job keeps running)");
    }

    private static JsonNode send(HttpClient http, HttpRequest.Builder request) throws IOException,
            InterruptedException {
        HttpRequest req = request.timeout(Duration.ofSeconds(30)).build();
        HttpResponse<String> r;
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException e) {
            throw new IOException("cannot reach Flink's REST API at " + req.uri() + " (" + e + "): is the job's"
                    + " process still running?", e);
        }
        if (r.statusCode() / 100 != 2) {
            throw new IOException(r.request().method() + " " + r.request().uri() + ": HTTP " + r.statusCode() + " "
                    + r.body());
        }
        return JSON.readTree(r.body());
    }
}
