package io.inflow.gpu.model.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.model.WeightArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path tmp;

    @Test
    void writesAndReadsF32() throws Exception {
        Path p = tmp.resolve("a.safetensors");
        SafetensorsWriter.writeF32(p, List.of(new WeightArray("w", new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6}),
                new WeightArray("b", new int[] {1}, new float[] {0.5f})));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.entries()).containsOnlyKeys("w", "b");
            WeightArray w = f.read("w").orElseThrow();
            assertThat(w.shape()).containsExactly(2, 3);
            assertThat(w.data()).containsExactly(1, 2, 3, 4, 5, -6);
            assertThat(f.read("b").orElseThrow().data()).containsExactly(0.5f);
            assertThat(f.read("nope")).isEmpty();
        }
    }

    @Test
    void readsF16AndBf16() throws Exception {
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + json.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(json.length).put(json);
        buf.putShort((short) 0x3c00).putShort((short) 0xc100);      // F16: 1.0, -2.5
        buf.putShort((short) 0x3fc0).putShort((short) 0x4049);      // BF16: 1.5, 3.140625
        Path p = tmp.resolve("half.safetensors");
        Files.write(p, buf.array());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.read("h").orElseThrow().data()).containsExactly(1f, -2.5f);
            assertThat(f.read("b").orElseThrow().data()).containsExactly(1.5f, 3.140625f);
        }
    }

    @Test
    void rejectsInconsistentOffsetsAndUnsupportedTypes() throws Exception {
        String header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,8]},"
                + "\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[8,16]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + json.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(json.length).put(json);
        Path p = tmp.resolve("bad.safetensors");
        Files.write(p, buf.array());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThatThrownBy(() -> f.read("x")).hasMessageContaining("data_offsets");
            assertThatThrownBy(() -> f.read("i")).hasMessageContaining("I64");
        }
        Files.write(tmp.resolve("trunc.safetensors"), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> SafetensorsFile.open(tmp.resolve("trunc.safetensors"))).isInstanceOf(java.io.IOException.class);
    }
}
