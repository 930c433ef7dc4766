package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.RetrievalContractTest;
import io.inflow.gpu.retrieval.Storage;

/**
 * The retrieval contract on the reference CPU backend ({@code RetrievalReference}): it scores in double like the
 * test's oracle and only rounds the finished score to float ({@code FLOAT_ROUNDING}, always allowed), so the part of
 * the tolerance for float arithmetic is just the double sums' error, far below 1e-12 relative.
 */
class ReferenceCpuRetrievalContractTest extends RetrievalContractTest {
    /** Double sums of at most 384 products: 384 x 2^-53 = 4e-14, rounded up. */
    static final double REFERENCE_REL_TOLERANCE = 1e-12;

    @Override
    protected Backend create() {
        return new ReferenceCpuBackend(null);
    }

    @Override
    protected double relTolerance(Storage storage) {
        return REFERENCE_REL_TOLERANCE;
    }
}
