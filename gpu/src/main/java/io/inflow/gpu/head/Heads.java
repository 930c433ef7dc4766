package io.inflow.gpu.head;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.model.safetensors.SafetensorsWeights;
import java.io.IOException;

/**
 * Builds a {@link Head} from a {@link HeadConfig}: opens the safetensors file, checks names and shapes
 * against {@code inDim}, uploads the tensors. {@code NONE} gives null (no head).
 *
 * <p>{@code Head head = Heads.load(HeadConfig.of(HeadType.FFN, path), backend, 384);}
 */
public final class Heads {
    private Heads() {
    }

    public static Head load(HeadConfig config, Backend backend, int inDim) throws IOException {
        if (config.isNone()) {
            return null;
        }
        try (SafetensorsWeights source = SafetensorsWeights.open(config.weights())) {
            HeadWeights w = new HeadWeights(source, backend);
            try {
                return switch (config.type()) {
                    case LINEAR -> new LinearHead(w, inDim, config.residual());
                    case FFN -> new FfnHead(w, inDim, config.residual());
                    case GLU -> new GluHead(w, inDim, config.gate(), config.residual());
                    case LOW_RANK_ADAPTER -> new LowRankAdapter(w, inDim);
                    case NONE -> throw new IllegalStateException("unreachable");
                };
            } catch (RuntimeException e) {
                w.close();
                throw e;
            }
        }
    }

    /**
     * The output width of a head's weights file without loading it on a backend (the rows of its last matrix), so a
     * job can size what it stores before any task starts.
     */
    public static int outDim(HeadConfig config) throws IOException {
        String last = switch (config.type()) {
            case LINEAR -> "linear.weight";
            case FFN -> "ffn.down.weight";
            case GLU -> "glu.out.weight";
            case LOW_RANK_ADAPTER, NONE -> throw new IllegalArgumentException("no output width for " + config.type());
        };
        try (SafetensorsWeights source = SafetensorsWeights.open(config.weights())) {
            return source.find(last).orElseThrow(() -> new IllegalArgumentException("head weight " + last
                    + " is missing from " + source.describe())).shape()[0];
        }
    }

    static boolean checkResidual(boolean residual, int in, int out, String head) {
        if (residual && in != out) {
            throw new IllegalArgumentException(head + " head: a residual needs in = out (in " + in + ", out " + out + ")");
        }
        return residual;
    }
}
