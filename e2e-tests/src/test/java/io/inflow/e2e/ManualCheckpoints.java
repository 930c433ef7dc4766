package io.inflow.e2e;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Checkpoints on request, through Flink's REST API ({@code POST /jobs/:jobid/checkpoints}), for tests that must
 * know when output transactions commit. Run the job with a periodic interval and a minimum pause longer than the
 * test (the first periodic checkpoint comes after a random delay of at least the minimum pause), so that only these
 * requests commit.
 *
 * <p>{@code new ManualCheckpoints(pipeline).trigger();}
 */
final class ManualCheckpoints {

    /** Long enough that no periodic checkpoint happens within a test's 10-minute timeout. */
    static final Duration NEVER = Duration.ofMinutes(12);

    private final HttpClient http = HttpClient.newHttpClient();
    private final URI endpoint;

    ManualCheckpoints(PipelineUnderTest p) {
        endpoint = URI.create(p.flink.webUiUrl() + "/jobs/" + p.job.getJobID() + "/checkpoints");
    }

    /**
     * Asks for a checkpoint; it completes (and commits) asynchronously. A request while the job is restarting is
     * refused or fails: callers that wait for committed output simply ask again.
     */
    void trigger() {
        HttpRequest request = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"checkpointType\":\"FULL\"}")).build();
        try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() >= 300) {
                System.err.println("checkpoint request refused (" + r.statusCode() + "): " + r.body());
            }
        } catch (java.io.IOException e) {
            System.err.println("checkpoint request failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while requesting a checkpoint", e);
        }
    }
}
