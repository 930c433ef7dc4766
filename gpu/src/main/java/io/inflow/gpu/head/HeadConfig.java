package io.inflow.gpu.head;

import io.inflow.gpu.backend.GluGate;
import java.nio.file.Path;

/**
 * Which head, where its weights are (a safetensors file), the GLU gate, and whether the input is added
 * back ({@code residual}, allowed only when in = out; checked at load).
 *
 * <pre>{@code
 * HeadConfig.none();
 * HeadConfig.of(HeadType.LINEAR, Path.of("head.safetensors")).withResidual(true);
 * HeadConfig.glu(Path.of("glu.safetensors"), GluGate.SIGMOID);
 * }</pre>
 *
 * @param type     the head
 * @param weights  safetensors file with the head's tensors (null only for NONE)
 * @param gate     GLU gate (GELU by default; ignored by other heads)
 * @param residual add the head's input to its output (in = out only)
 */
public record HeadConfig(HeadType type, Path weights, GluGate gate, boolean residual) {

    public HeadConfig {
        if (type == null) {
            throw new IllegalArgumentException("head type is null");
        }
        if (type != HeadType.NONE && weights == null) {
            throw new IllegalArgumentException("head " + type + " needs a safetensors weights file");
        }
        if (gate == null) {
            gate = GluGate.GELU;
        }
    }

    public static HeadConfig none() {
        return new HeadConfig(HeadType.NONE, null, GluGate.GELU, false);
    }

    public static HeadConfig of(HeadType type, Path weights) {
        return new HeadConfig(type, weights, GluGate.GELU, false);
    }

    public static HeadConfig glu(Path weights, GluGate gate) {
        return new HeadConfig(HeadType.GLU, weights, gate, false);
    }

    public HeadConfig withResidual(boolean residual) {
        return new HeadConfig(type, weights, gate, residual);
    }

    public boolean isNone() {
        return type == HeadType.NONE;
    }
}
