package io.inflow.e2e;

import io.inflow.jobs.demo.PromSample;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Reading a Prometheus text exposition in tests: fetch it, sum one job's samples of a metric by labels. */
final class MetricsScrape {

    private MetricsScrape() {
    }

    static String get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /**
     * Sums the samples of {@code name} with label {@code job} and every given {@code label, value} pair.
     *
     * <p>{@code sum(body, job, "inflow_dead_letters_total", "operator", "image-decode", "reason", "image_corrupt")}
     */
    static double sum(String exposition, String job, String name, String... labelPairs) {
        double total = 0;
        for (String line : exposition.lines().filter(l -> l.startsWith(name + "{")).toList()) {
            PromSample p = PromSample.parse(line);
            if (!p.name().equals(name) || !job.equals(p.labels().get("job"))) {
                continue;
            }
            boolean match = true;
            for (int i = 0; i < labelPairs.length; i += 2) {
                match &= labelPairs[i + 1].equals(p.labels().get(labelPairs[i]));
            }
            if (match) {
                total += p.value();
            }
        }
        return total;
    }
}
