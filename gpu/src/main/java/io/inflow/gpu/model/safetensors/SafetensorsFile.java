package io.inflow.gpu.model.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.tensor.HalfFloats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A Hugging Face safetensors file: 8-byte little-endian header length, a JSON header
 * ({@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}}),
 * then the raw little-endian data. F32, F16 and BF16 tensors are read as float32. The file is memory-mapped;
 * nothing is read until a tensor is asked for.
 *
 * <pre>{@code
 * try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
 *     WeightArray w = f.read("embeddings.word_embeddings.weight").orElseThrow();
 * }
 * }</pre>
 */
public final class SafetensorsFile implements AutoCloseable {
    /** One header entry. */
    public record Entry(String name, String dtype, int[] shape, long begin, long end) {
    }

    private static final long MAX_HEADER = 100L << 20;
    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, Entry> entries,
                            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = Collections.unmodifiableMap(entries);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    public static SafetensorsFile open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long headerLength = len.flip().getLong();
            if (headerLength <= 0 || headerLength > MAX_HEADER || 8 + headerLength > ch.size()) {
                throw new IOException(path + ": bad safetensors header length " + headerLength + " (file size "
                        + ch.size() + ")");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(ch, header, 8);
            JsonNode root = new ObjectMapper().readTree(new String(header.array(), StandardCharsets.UTF_8));
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                JsonNode v = e.getValue();
                int[] shape = new int[v.get("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = v.get("shape").get(i).asInt();
                }
                entries.put(e.getKey(), new Entry(e.getKey(), v.get("dtype").asText(), shape,
                        v.get("data_offsets").get(0).asLong(), v.get("data_offsets").get(1).asLong()));
            }
            return new SafetensorsFile(path, ch, 8 + headerLength, entries, metadata);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        while (dst.hasRemaining()) {
            int n = ch.read(dst, position);
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
            position += n;
        }
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    /** The header's {@code __metadata__} (string to string), empty when absent. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The I8 tensor {@code name} with exactly {@code shape}; fails naming the tensor, the file and what differs. */
    public byte[] requireI8(String name, int... shape) throws IOException {
        ByteBuffer buf = raw(name, "I8", 1, shape);
        byte[] out = new byte[buf.remaining()];
        buf.get(out);
        return out;
    }

    /** The I32 tensor {@code name} with exactly {@code shape}. */
    public int[] requireI32(String name, int... shape) throws IOException {
        ByteBuffer buf = raw(name, "I32", 4, shape);
        int[] out = new int[buf.remaining() / 4];
        buf.asIntBuffer().get(out);
        return out;
    }

    /** The F32 tensor {@code name} with exactly {@code shape}. */
    public float[] requireF32(String name, int... shape) throws IOException {
        ByteBuffer buf = raw(name, "F32", 4, shape);
        float[] out = new float[buf.remaining() / 4];
        buf.asFloatBuffer().get(out);
        return out;
    }

    private ByteBuffer raw(String name, String dtype, int width, int... shape) throws IOException {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IOException(path + ": tensor " + name + " (" + dtype + " " + Arrays.toString(shape)
                    + ") is missing");
        }
        if (!e.dtype.equals(dtype) || !Arrays.equals(e.shape, shape)) {
            throw new IOException(path + ": tensor " + name + " is " + e.dtype + " " + Arrays.toString(e.shape)
                    + ", expected " + dtype + " " + Arrays.toString(shape));
        }
        long count = 1;
        for (int d : shape) {
            count *= d;
        }
        if (e.end - e.begin != count * width || dataStart + e.end > channel.size()) {
            throw new IOException(path + ": tensor " + name + " has data_offsets [" + e.begin + ", " + e.end
                    + ") inconsistent with its shape or the file size");
        }
        return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin, e.end - e.begin)
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The tensor {@code name} as float32, if present. */
    public Optional<WeightArray> read(String name) throws IOException {
        Entry e = entries.get(name);
        if (e == null) {
            return Optional.empty();
        }
        long count = 1;
        for (int d : e.shape) {
            count *= d;
        }
        int width = switch (e.dtype) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> throw new IOException(path + ": tensor " + name + " has dtype " + e.dtype
                    + "; only F32, F16 and BF16 are supported");
        };
        if (e.end - e.begin != count * width || dataStart + e.end > channel.size()) {
            throw new IOException(path + ": tensor " + name + " " + Arrays.toString(e.shape) + " " + e.dtype
                    + " has data_offsets [" + e.begin + ", " + e.end + ") inconsistent with its shape or the file size");
        }
        ByteBuffer buf = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin, e.end - e.begin)
                .order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[Math.toIntExact(count)];
        switch (e.dtype) {
            case "F32" -> buf.asFloatBuffer().get(out);
            case "F16" -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = HalfFloats.f16ToFloat(buf.getShort(2 * i));
                }
            }
            default -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = HalfFloats.bf16ToFloat(buf.getShort(2 * i));
                }
            }
        }
        return Optional.of(new WeightArray(name, e.shape.clone(), out));
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
