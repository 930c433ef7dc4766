package io.inflow.gpu.quant;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * The human-readable form of a quantization report ({@code report.md} next to {@code report.json}).
 *
 * <p>{@code Files.writeString(dir.resolve("report.md"), QuantizationReport.markdown(reportJson));}
 */
public final class QuantizationReport {
    private QuantizationReport() {
    }

    public static String markdown(JsonNode r) {
        StringBuilder s = new StringBuilder();
        s.append("# Quantization report: ").append(r.path("model").asText()).append(" (")
                .append(r.path("precision").asText()).append(")\n\n");
        JsonNode size = r.path("size");
        s.append(String.format(Locale.ROOT, "Size: %.1f MB float32 -> %.1f MB quantized (%.2fx smaller).%n%n",
                size.path("float32_bytes").asLong() / 1e6, size.path("quantized_bytes").asLong() / 1e6,
                size.path("ratio").asDouble()));
        JsonNode acc = r.path("accuracy");
        if (acc.has("mean_cosine_to_float")) {
            s.append(String.format(Locale.ROOT, "Accuracy against float on %d held-out texts (%s pooling): mean cosine"
                            + " %.5f, worst %.5f.%n%n", acc.path("held_out_texts").asInt(), acc.path("pooling").asText(),
                    acc.path("mean_cosine_to_float").asDouble(), acc.path("min_cosine_to_float").asDouble()));
        } else {
            s.append("Accuracy: ").append(acc.path("note").asText()).append("\n\n");
        }
        if (r.has("mixed_precision")) {
            JsonNode mp = r.path("mixed_precision");
            s.append(String.format(Locale.ROOT, "Mixed precision: layers' weights %.1f MB against %.1f MB at INT8"
                            + " (budget %.2f); the least important layers (input change and outlier ranks) at 4 bits.%n%n",
                    mp.path("layer_bytes").asLong() / 1e6, mp.path("int8_layer_bytes").asLong() / 1e6,
                    mp.path("size_budget").asDouble()));
        }
        s.append("| layer | weight bits | activation bits | GELU output bits | weight bytes | input change"
                + " | hidden-state error |\n");
        s.append("| --- | --- | --- | --- | --- | --- | --- |\n");
        for (JsonNode l : r.path("layers")) {
            s.append(String.format(Locale.ROOT, "| %s | %d | %d | %s | %s | %s | %s |%n", l.path("name").asText(),
                    l.path("weight_bits").asInt(), l.path("activation_bits").asInt(),
                    l.has("gelu_output_bits") ? l.path("gelu_output_bits").asText() : "-",
                    l.has("weight_bytes") ? l.path("weight_bytes").asText() : "-",
                    l.has("input_change") ? String.format(Locale.ROOT, "%.4f", l.path("input_change").asDouble()) : "-",
                    l.has("hidden_state_relative_error")
                            ? String.format(Locale.ROOT, "%.4f", l.path("hidden_state_relative_error").asDouble()) : "-"));
        }
        JsonNode c = r.path("calibration");
        s.append(String.format(Locale.ROOT, "%nCalibration: %d texts (%d tokens, at most %d each) from %s, smoothing"
                        + " %.2f, %.1f s.%n%n", c.path("texts").asInt(), c.path("tokens").asLong(),
                c.path("max_tokens").asInt(), c.path("source").asText(), c.path("smoothing").asDouble(),
                c.path("seconds").asDouble()));
        s.append("| point | largest magnitude | scale | clipped |\n| --- | --- | --- | --- |\n");
        for (JsonNode p : c.path("points")) {
            s.append(String.format(Locale.ROOT, "| %s | %.4g | %.4g | %.4f%% |%n", p.path("name").asText(),
                    p.path("max").asDouble(), p.path("scale").asDouble(), 100 * p.path("clipped_fraction").asDouble()));
        }
        return s.toString();
    }
}
