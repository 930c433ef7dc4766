package io.inflow.gpu.backend;

import java.util.Set;

/**
 * A backend was asked for a kernel family it does not implement. The message names the backend, the family and what
 * the backend does support, e.g. {@code backend cpu-fast(2 threads) does not support the RETRIEVAL family (it
 * supports TRANSFORMER, IMAGE)}.
 *
 * <p>{@code throw new UnsupportedFamilyException(name(), Family.RETRIEVAL, families());}
 */
public final class UnsupportedFamilyException extends UnsupportedOperationException {
    private static final long serialVersionUID = 1L;

    private final Family family;

    public UnsupportedFamilyException(String backend, Family family, Set<Family> supported) {
        super("backend " + backend + " does not support the " + family + " family (it supports "
                + (supported.isEmpty() ? "none" : String.join(", ", supported.stream().map(Family::name).toList()))
                + ")");
        this.family = family;
    }

    /** The family that was asked for. */
    public Family family() {
        return family;
    }
}
