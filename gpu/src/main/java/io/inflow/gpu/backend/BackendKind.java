package io.inflow.gpu.backend;

/**
 * Which compute backend runs the kernels. {@code AUTO} picks CUDA when a usable device is present (driver found,
 * compute capability 8.0+) and falls back to the CPU; {@code CUDA} fails at start when none is; {@code CPU} never
 * touches the GPU. Deployments set it with {@code inflow.compute.backend}.
 *
 * <p>{@code Backend b = Backends.create(BackendKind.AUTO, 2);}
 */
public enum BackendKind {
    AUTO,
    CPU,
    CUDA
}
