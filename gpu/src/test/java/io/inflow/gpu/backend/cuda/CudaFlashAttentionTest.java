package io.inflow.gpu.backend.cuda;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code flash_attention.cu} on a GPU: every case of {@link EmulatedFlashAttentionTest} (head sizes 32, 64, 128;
 * sequences not multiples of the 64-key tile; rows of length 1; NaN in padding) against the float32 reference with
 * its named bf16 tolerances. Skipped with the reason where no device exists; run by the device kit.
 */
@Tag("gpu")
class CudaFlashAttentionTest {
    @Test
    void everyEmulatedCaseOnTheDevice() {
        DeviceApi device = RealDevice.openOrSkip();
        try {
            for (EmulatedFlashAttentionTest.Case c : new EmulatedFlashAttentionTest.Case[] {
                    EmulatedFlashAttentionTest.MINILM, EmulatedFlashAttentionTest.THREE_TILES,
                    EmulatedFlashAttentionTest.HD64, EmulatedFlashAttentionTest.HD128,
                    EmulatedFlashAttentionTest.HD128_TWO_TILES}) {
                EmulatedFlashAttentionTest.check(device, c);
            }
        } finally {
            device.close();
        }
    }
}
