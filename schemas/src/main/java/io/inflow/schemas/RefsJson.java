package io.inflow.schemas;

/** Reads the nested {@code source} and {@code model} objects. */
final class RefsJson {
    private RefsJson() {
    }

    static SourceRef source(JsonFields parent) throws RecordRejectedException {
        JsonFields f = parent.requiredObject("source");
        return new SourceRef(f.requiredNonEmptyString("topic"), f.requiredInt("partition", 0),
                f.requiredLong("offset", 0), f.requiredLong("timestamp", -1));
    }

    static ModelRef model(JsonFields parent) throws RecordRejectedException {
        JsonFields f = parent.requiredObject("model");
        return new ModelRef(f.requiredNonEmptyString("name"), f.requiredNonEmptyString("version"));
    }
}
