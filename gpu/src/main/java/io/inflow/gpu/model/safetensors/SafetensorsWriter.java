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
