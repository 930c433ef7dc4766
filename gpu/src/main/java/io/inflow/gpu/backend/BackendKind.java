package io.inflow.gpu.backend;

/**
 * Which compute backend runs the kernels. {@code AUTO} picks CUDA when a device is present and falls back
 * to the CPU; until the CUDA backend lands (a later issue) it always resolves to {@code CPU}.
 *
 * <p>{@code Backend b = Backends.create(BackendKind.AUTO, 2);}
 */
public enum BackendKind {
    AUTO,
    CPU,
    CUDA
}
