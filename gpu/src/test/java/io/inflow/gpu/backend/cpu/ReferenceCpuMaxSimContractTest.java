package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.MaxSimContractTest;

/**
 * The MaxSim contract on the reference CPU backend ({@code RetrievalReference.maxSim}): it sums in double like the
 * test's oracle and only rounds the finished score to float ({@code FLOAT_ROUNDING}, always allowed), so the part of
 * the tolerance for arithmetic is just the double sums' error.
 */
class ReferenceCpuMaxSimContractTest extends MaxSimContractTest {
    /** Double sums of at most 384 x 40 products: well under 1e-12 of the bound. */
    static final double REFERENCE_REL_TOLERANCE = 1e-12;

    @Override
    protected Backend create() {
        return new ReferenceCpuBackend(null);
    }

    @Override
    protected double tolerance(int dim, int queryTokens, double bound) {
        return REFERENCE_REL_TOLERANCE * bound;
    }
}
