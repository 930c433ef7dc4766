package io.inflow.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

/**
 * The few calls of Flink's REST API the cluster command makes: {@code /overview}, {@code /taskmanagers},
 * {@code /jobs/overview}, {@code /jars/upload}, {@code /jars/:id/run}, {@code DELETE /jars/:id}.
 *
 * <pre>{@code
 * ClusterRest rest = new ClusterRest("http://127.0.0.1:8081");
 * String jarId = rest.upload(Path.of("jobs/target/inflow-jobs-0.1.0-SNAPSHOT-flink.jar"));
 * String jobId = rest.run(jarId, body);
 * }</pre>
 */
public final class ClusterRest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String url;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public ClusterRest(String url) {
        this.url = url;
    }

    public String url() {
        return url;
    }

    public JsonNode get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(10)).GET());
    }

    /** Uploads a job jar (multipart {@code jarfile}); the jar id the cluster gave it. */
    public String upload(Path jar) throws IOException, InterruptedException {
        String boundary = "inflow-" + UUID.randomUUID();
        String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n";
        String tail = "\r\n--" + boundary + "--\r\n";
        JsonNode r = send(HttpRequest.newBuilder(URI.create(url + "/jars/upload")).timeout(Duration.ofMinutes(5))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.concat(HttpRequest.BodyPublishers.ofString(head),
                        HttpRequest.BodyPublishers.ofFile(jar), HttpRequest.BodyPublishers.ofString(tail))));
        String file = r.path("filename").asText();
        return Path.of(file).getFileName().toString();
    }

    /** Runs an uploaded jar with the given request body (entryClass, programArgsList, ...); the job id. */
    public String run(String jarId, JsonNode body) throws IOException, InterruptedException {
        JsonNode r = send(HttpRequest.newBuilder(URI.create(url + "/jars/" + jarId + "/run"))
                .timeout(Duration.ofMinutes(5)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
        return r.path("jobid").asText();
    }

    public void deleteJar(String jarId) throws IOException, InterruptedException {
        send(HttpRequest.newBuilder(URI.create(url + "/jars/" + jarId)).timeout(Duration.ofSeconds(30)).DELETE());
    }

    /** Cancels a job ({@code PATCH /jobs/<id>?mode=cancel}); returns once the cluster accepted the request. */
    public void cancel(String jobId) throws IOException, InterruptedException {
        send(HttpRequest.newBuilder(URI.create(url + "/jobs/" + jobId + "?mode=cancel"))
                .timeout(Duration.ofSeconds(30)).method("PATCH", HttpRequest.BodyPublishers.noBody()));
    }

    /** Whether the REST endpoint answers at all. */
    public boolean reachable() {
        try {
            get("/config");
            return true;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private JsonNode send(HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IOException(r.request().method() + " " + r.request().uri() + ": HTTP " + r.statusCode() + " "
                    + r.body());
        }
        return r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
    }
}
