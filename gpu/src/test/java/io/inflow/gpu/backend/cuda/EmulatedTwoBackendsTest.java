package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.testing.EmulatedDevice;
import org.junit.jupiter.api.Test;

/** Two CUDA backends at once on the emulated device ({@link TwoBackendsContract}). */
class EmulatedTwoBackendsTest {
    @Test
    void twoBackendsOnOneDeviceAtOnceGiveTheSameResultsAsOne() throws Exception {
        EmulatedDevice.sharedOrSkip();
        TwoBackendsContract.check(EmulatedDevice::backendOrSkip);
    }
}
