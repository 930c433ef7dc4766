package io.inflow.gpu.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.model.safetensors.SafetensorsWeights;
import io.inflow.gpu.testing.RandomBert;
import io.inflow.gpu.testing.TokenBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A quantized model survives the file round trip bit for bit; damaged or foreign files fail naming what is wrong. */
class Int8BertFileTest {

    @Test
    void roundTripGivesTheSameIntegers(@TempDir Path tmp) throws Exception {
        RandomBert shape = new RandomBert(2, 48, 4, 96, 1300, 64);
        Path dir = shape.write(tmp.resolve("bert"), 3);
        Random rnd = new Random(5);
        TokenBatch calib = shape.tokens(rnd, new int[] {30, 64, 9});
        TokenBatch batch = shape.tokens(rnd, new int[] {12, 64, 1});
        try (Backend backend = new FastCpuBackend(null, 2); SafetensorsWeights w = SafetensorsWeights.open(dir)) {
            Int8Bert q = BertQuantizer.quantize(w, w.bertConfig(), calib.ids(), calib.lengths(), calib.batch(),
                    calib.seq(), backend, CalibrationOptions.defaults(), null);
            Path file = tmp.resolve("q.safetensors");
            Int8BertFile.save(q, file, Map.of("source", "random"));
            Int8Bert back = Int8BertFile.load(file);
            assertThat(back.config()).isEqualTo(q.config());
            assertThat(back.calibration()).isEqualTo(q.calibration());
            assertThat(back.weightBytes()).isEqualTo(q.weightBytes());
            assertThat(Int8BertFile.metadata(file)).containsEntry("source", "random")
                    .containsEntry("format", Int8BertFile.FORMAT);
            assertThat(QuantizedContractTest.forward(backend, back, batch))
                    .isEqualTo(QuantizedContractTest.forward(backend, q, batch));

            Int8Bert mixed = BertQuantizer.quantize(w, w.bertConfig(), calib.ids(), calib.lengths(), calib.batch(),
                    calib.seq(), backend, CalibrationOptions.defaults(), new int[] {4, 8}, null);
            Path mixedFile = tmp.resolve("mixed.safetensors");
            Int8BertFile.save(mixed, mixedFile, Map.of());
            Int8Bert mixedBack = Int8BertFile.load(mixedFile);
            assertThat(mixedBack.weightBits(0)).isEqualTo(4);
            assertThat(mixedBack.weightBits(1)).isEqualTo(8);
            assertThat(mixedBack.layerChange()).isEqualTo(mixed.layerChange());
            assertThat(Files.size(mixedFile)).as("INT4 layer stored packed").isLessThan(Files.size(file));
            assertThat(QuantizedContractTest.forward(backend, mixedBack, batch))
                    .isEqualTo(QuantizedContractTest.forward(backend, mixed, batch));

            Path cut = tmp.resolve("cut.safetensors");
            byte[] all = Files.readAllBytes(file);
            Files.write(cut, java.util.Arrays.copyOf(all, all.length - 1000));
            assertThatThrownBy(() -> Int8BertFile.load(cut)).hasMessageContaining("cut.safetensors")
                    .hasMessageContaining("inconsistent with its shape or the file size");
            Path noBits = tmp.resolve("no-bits.safetensors");
            io.inflow.gpu.model.safetensors.SafetensorsWriter.write(noBits, java.util.List.of(), Map.of("format",
                    Int8BertFile.FORMAT, "config", Int8BertFile.metadata(file).get("config")));
            assertThatThrownBy(() -> Int8BertFile.load(noBits)).hasMessageContaining("metadata has no layer_bits");
            assertThatThrownBy(() -> Int8BertFile.load(dir.resolve("model.safetensors")))
                    .hasMessageContaining("metadata format is null, expected " + Int8BertFile.FORMAT);
        }
    }
}
