package io.inflow.operators.metrics;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The names on the wire are the documented ones, and the endpoint lives exactly as long as its leases. */
class MetricsEndpointTest {

    private static final String JOB = "endpoint-test";

    @Test
    void servesPrometheusNamesWithLabels() throws Exception {
        try (MetricsEndpoint.Lease lease = MetricsEndpoint.acquire(new MetricsEndpoint.Settings(true, 0, 0,
                "127.0.0.1"))) {
            InflowMetrics.RECORDS_IN.labelValues(JOB, "decode", "text", "").inc(3);
            InflowMetrics.DEAD_LETTERS.labelValues(JOB, "decode", "text", "malformed_json").inc();
            InflowMetrics.COMPUTE.labelValues(JOB, "embed", "text", "m", "cpu").observe(0.02);
            InflowMetrics.modelStarted(JOB, "embed", "m", "v1", "cpu");
            String body = scrape(lease.port().orElseThrow());
            assertThat(body)
                    .contains("# TYPE inflow_records_in_total counter")
                    .containsPattern("inflow_records_in_total\\{job=\"endpoint-test\",modality=\"text\","
                            + "model=\"\",operator=\"decode\"} 3")
                    .containsPattern("inflow_dead_letters_total\\{[^}]*reason=\"malformed_json\"} 1")
                    .containsPattern("inflow_compute_seconds_bucket\\{[^}]*le=\"0.025\"[^}]*} 1")
                    .contains("inflow_compute_seconds_count{")
                    .containsPattern("inflow_model_info\\{backend=\"cpu\",job=\"endpoint-test\",model=\"m\","
                            + "operator=\"embed\",version=\"v1\"} 1");
            InflowMetrics.modelStopped(JOB, "embed", "m", "v1", "cpu");
            assertThat(scrape(lease.port().orElseThrow())).doesNotContain("version=\"v1\"");
        }
        assertThat(MetricsEndpoint.port()).as("stopped with its last lease").isEmpty();
    }

    @Test
    void aTakenPortMovesOnWithinTheRange() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int p = taken.getLocalPort();
            try (MetricsEndpoint.Lease lease = MetricsEndpoint.acquire(new MetricsEndpoint.Settings(true, p, p + 1,
                    "127.0.0.1"))) {
                assertThat(lease.port()).hasValue(p + 1);
            } catch (AssertionError e) {
                // p + 1 may be taken by someone else on a shared machine: then no endpoint, never an exception
                assertThat(MetricsEndpoint.port()).isEmpty();
            }
        }
    }

    @Test
    void badPortSettingsNameTheKey() {
        assertThatThrownBy(() -> MetricsEndpoint.Settings.parse(true, "92x0", "0.0.0.0"))
                .hasMessageContaining("inflow.metrics.port").hasMessageContaining("92x0");
        assertThatThrownBy(() -> MetricsEndpoint.Settings.parse(true, "9269-9260", "0.0.0.0"))
                .hasMessageContaining("9269-9260");
        assertThat(MetricsEndpoint.Settings.parse(true, " 9260 - 9269 ", "h"))
                .isEqualTo(new MetricsEndpoint.Settings(true, 9260, 9269, "h"));
    }

    private static String scrape(int port) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
