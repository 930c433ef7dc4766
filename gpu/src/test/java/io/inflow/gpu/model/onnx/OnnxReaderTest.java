package io.inflow.gpu.model.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.testing.MiniLm;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OnnxReaderTest {

    /** Hand-encoded ModelProto: graph { node { MatMul x, W -> y }, initializer { dims [2,3] FLOAT name W raw_data } }. */
    @Test
    void parsesAHandWrittenModel() {
        ByteBuffer raw = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            raw.putFloat(i + 0.5f);
        }
        byte[] tensor = concat(field(1, varint(2)), field(1, varint(3)), field(2, varint(1)), bytesField(8, "W".getBytes()),
                bytesField(9, raw.array()));
        byte[] node = concat(bytesField(1, "x".getBytes()), bytesField(1, "W".getBytes()), bytesField(2, "y".getBytes()),
                bytesField(3, "/mm".getBytes()), bytesField(4, "MatMul".getBytes()));
        byte[] graph = concat(bytesField(1, node), bytesField(5, tensor));
        byte[] model = concat(field(1, varint(6)), bytesField(7, graph));
        OnnxModel m = OnnxModel.parse(model);
        assertThat(m.nodes()).hasSize(1);
        assertThat(m.nodes().get(0).opType()).isEqualTo("MatMul");
        assertThat(m.nodes().get(0).inputs()).containsExactly("x", "W");
        OnnxTensor w = m.initializer("W");
        assertThat(w.shape()).containsExactly(2, 3);
        assertThat(w.toFloatArray()).containsExactly(0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f);
        assertThatThrownBy(() -> m.initializer("nope")).hasMessageContaining("nope");
        assertThatThrownBy(() -> OnnxModel.parse(new byte[] {8, 6})).hasMessageContaining("no graph");
    }

    @Test
    void mapsMiniLmByGraphOrder() throws Exception {
        OnnxBertWeights w = MiniLm.weights();
        BertConfig c = w.inferConfig();
        assertThat(c).isEqualTo(new BertConfig(30522, 384, 6, 12, 1536, 512, 2, c.layerNormEps(), BertConfig.Activation.GELU));
        assertThat(c.layerNormEps()).isCloseTo(1e-12f, org.assertj.core.data.Offset.offset(1e-15f));
        WeightArray inter = w.find("encoder.layer.5.intermediate.dense.weight").orElseThrow();
        assertThat(inter.shape()).containsExactly(1536, 384);   // transposed from ONNX [in, out]
        assertThat(w.find("encoder.layer.6.attention.self.query.weight")).isEmpty();
    }

    private static byte[] varint(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return out.toByteArray();
    }

    private static byte[] field(int number, byte[] varintPayload) {
        return concat(varint((long) number << 3), varintPayload);
    }

    private static byte[] bytesField(int number, byte[] payload) {
        return concat(varint((long) number << 3 | 2), varint(payload.length), payload);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @SuppressWarnings("unused")
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
