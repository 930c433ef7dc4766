package io.inflow.operators.runtime;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The bound of a TaskManager's Arrow memory ({@link ArrowMemory}): every batch of every Inflow operator in the
 * process is allocated under it. Set it in the TaskManagers' Flink configuration (or the job's):
 *
 * <pre>{@code
 * inflow.memory.arrow-max-bytes: 2 gb
 * }</pre>
 */
public final class ArrowMemoryOptions {

    public static final ConfigOption<MemorySize> MAX_BYTES = ConfigOptions.key("inflow.memory.arrow-max-bytes")
            .memoryType().defaultValue(MemorySize.parse("1 gb"))
            .withDescription("Largest off-heap memory all Arrow batches of Inflow's operators in one TaskManager"
                    + " process may hold together (open, computing and waiting to be emitted). Exceeding it fails"
                    + " the task with a message naming this key; the default holds the default batch sizes of"
                    + " several slots with room to spare.");

    private ArrowMemoryOptions() {
    }

    /** The bound from the first configuration that sets it (the TaskManager's, then the job's), else the default. */
    public static long maxBytes(ReadableConfig... layers) {
        for (ReadableConfig c : layers) {
            if (c != null && c.getOptional(MAX_BYTES).isPresent()) {
                long v = c.get(MAX_BYTES).getBytes();
                if (v < (1 << 20)) {
                    throw new IllegalArgumentException(MAX_BYTES.key() + " must be at least 1 mb (was " + v
                            + " bytes)");
                }
                return v;
            }
        }
        return MAX_BYTES.defaultValue().getBytes();
    }
}
