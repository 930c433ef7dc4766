package io.inflow.operators.batch;

/**
 * The one way batch settings fail: {@code 'key' must be <rule> (was <value>)}, naming the key to change.
 *
 * <p>{@code KeyChecks.require(maxRecords >= 1, "inflow.batch.max-records", "at least 1", maxRecords);}
 */
final class KeyChecks {

    private KeyChecks() {
    }

    static void require(boolean ok, String key, String rule, Object actual) {
        if (!ok) {
            throw new IllegalArgumentException("'" + key + "' must be " + rule + " (was " + actual + ")");
        }
    }
}
