package io.inflow.jobs.demo;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One sample line of the Prometheus text exposition format: {@code name{label="value",...} 1.0}.
 *
 * <p>{@code PromSample s = PromSample.parse("up{job=\"a\"} 1"); s.labels().get("job");}
 */
public record PromSample(String name, Map<String, String> labels, double value) {

    /**
     * Parses a sample line (not a {@code #} comment).
     *
     * @throws IllegalArgumentException when the line is not a sample
     */
    public static PromSample parse(String line) {
        int brace = line.indexOf('{');
        int close = brace < 0 ? -1 : line.lastIndexOf('}');
        int valueStart = (close < 0 ? line.indexOf(' ') : line.indexOf(' ', close)) + 1;
        if (valueStart <= 0) {
            throw new IllegalArgumentException("not a Prometheus sample: " + line);
        }
        String name = line.substring(0, brace < 0 ? valueStart - 1 : brace);
        Map<String, String> labels = new LinkedHashMap<>();
        if (brace >= 0) {
            String body = line.substring(brace + 1, close);
            int i = 0;
            while (i < body.length()) {
                int eq = body.indexOf('=', i);
                if (eq < 0) {
                    break;
                }
                String key = body.substring(i, eq).strip();
                int q1 = body.indexOf('"', eq);
                int q2 = q1 + 1;
                StringBuilder v = new StringBuilder();
                while (q2 < body.length() && body.charAt(q2) != '"') {
                    char c = body.charAt(q2);
                    if (c == '\\' && q2 + 1 < body.length()) {
                        char n = body.charAt(++q2);
                        v.append(n == 'n' ? '\n' : n);
                    } else {
                        v.append(c);
                    }
                    q2++;
                }
                labels.put(key, v.toString());
                i = q2 + 1;
                while (i < body.length() && (body.charAt(i) == ',' || body.charAt(i) == ' ')) {
                    i++;
                }
            }
        }
        String value = line.substring(valueStart).strip().split(" ")[0];
        return new PromSample(name, labels, Double.parseDouble(value));
    }
}
