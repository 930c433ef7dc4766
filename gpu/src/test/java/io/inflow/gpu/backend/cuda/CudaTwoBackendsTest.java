package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.testing.CudaDevice;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Two CUDA backends at once ({@link TwoBackendsContract}); skipped with the reason where no device is found. */
@Tag("gpu")
class CudaTwoBackendsTest {
    @Test
    void twoBackendsOnOneDeviceAtOnceGiveTheSameResultsAsOne() throws Exception {
        CudaDevice.assumePresent();
        TwoBackendsContract.check(CudaDevice::backendOrSkip);
    }
}
