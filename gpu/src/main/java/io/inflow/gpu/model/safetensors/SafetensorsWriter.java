package io.inflow.gpu.model.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.inflow.gpu.model.WeightArray;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;

/**
 * Writes float32 tensors as a safetensors file (header padded with spaces to a multiple of 8 bytes, as the
 * reference implementation does). Used to export weights (tests, head training tools).
 *
 * <p>{@code SafetensorsWriter.writeF32(path, List.of(new WeightArray("linear.weight", new int[] {8, 384}, w)));}
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {
    }

    /** One tensor of any dtype, its data already little-endian. */
    public record Typed(String name, String dtype, int[] shape, byte[] data) {
        public static Typed i8(String name, byte[] v, int... shape) {
            return new Typed(name, "I8", shape, v.clone());
        }

        public static Typed i32(String name, int[] v, int... shape) {
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asIntBuffer().put(v);
            return new Typed(name, "I32", shape, b.array());
        }

        public static Typed f32(String name, float[] v, int... shape) {
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            return new Typed(name, "F32", shape, b.array());
        }
    }

    /**
     * Writes tensors of mixed dtypes (F32, I32, I8) with a {@code __metadata__} map of strings, as quantized models
     * are stored: {@code SafetensorsWriter.write(path, List.of(Typed.i8("w", bytes, 4, 8)), Map.of("format", "x"))}.
     */
    public static void write(Path path, Collection<Typed> tensors, java.util.Map<String, String> metadata)
            throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode header = mapper.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Typed t : tensors) {
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", t.dtype());
            ArrayNode shape = e.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            long end = offset + t.data().length;
            e.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = mapper.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(path), 1 << 20)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(json);
            for (int i = json.length; i < padded; i++) {
                out.write(' ');
            }
            for (Typed t : tensors) {
                out.write(t.data());
            }
        }
    }

    public static void writeF32(Path path, Collection<WeightArray> tensors) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode header = mapper.createObjectNode();
        long offset = 0;
        for (WeightArray w : tensors) {
            ObjectNode e = header.putObject(w.name());
            e.put("dtype", "F32");
            ArrayNode shape = e.putArray("shape");
            for (int d : w.shape()) {
                shape.add(d);
            }
            long end = offset + 4L * w.data().length;
            e.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = mapper.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        try (OutputStream out = Files.newOutputStream(path)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(json);
            for (int i = json.length; i < padded; i++) {
                out.write(' ');
            }
            for (WeightArray w : tensors) {
                ByteBuffer data = ByteBuffer.allocate(4 * w.data().length).order(ByteOrder.LITTLE_ENDIAN);
                data.asFloatBuffer().put(w.data());
                out.write(data.array());
            }
        }
    }
}
