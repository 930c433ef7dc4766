package io.inflow.gpu.model.onnx;

import java.util.List;
import java.util.Map;

/**
 * One ONNX {@code NodeProto}: operator type, name, input and output value names, and the attributes a
 * weight mapper may need (floats, ints and tensors such as a Constant's {@code value}).
 *
 * <p>{@code if (node.opType().equals("MatMul")) weights.add(node.inputs().get(1));}
 */
public record OnnxNode(String opType, String name, List<String> inputs, List<String> outputs,
                       Map<String, Float> floatAttributes, Map<String, Long> intAttributes,
                       Map<String, OnnxTensor> tensorAttributes) {

    /** Parses a {@code NodeProto}: input = 1, output = 2, name = 3, op_type = 4, attribute = 5. */
    static OnnxNode parse(ProtoReader r) {
        String op = "";
        String name = "";
        List<String> in = new java.util.ArrayList<>();
        List<String> out = new java.util.ArrayList<>();
        Map<String, Float> floats = new java.util.HashMap<>();
        Map<String, Long> ints = new java.util.HashMap<>();
        Map<String, OnnxTensor> tensors = new java.util.HashMap<>();
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> in.add(r.readString());
                case 2 -> out.add(r.readString());
                case 3 -> name = r.readString();
                case 4 -> op = r.readString();
                case 5 -> parseAttribute(r.readMessage(), floats, ints, tensors);
                default -> r.skip(tag);
            }
        }
        return new OnnxNode(op, name, List.copyOf(in), List.copyOf(out), Map.copyOf(floats), Map.copyOf(ints),
                Map.copyOf(tensors));
    }

    /** AttributeProto: name = 1, f = 2, i = 3, t = 5. */
    private static void parseAttribute(ProtoReader r, Map<String, Float> floats, Map<String, Long> ints,
                                       Map<String, OnnxTensor> tensors) {
        String name = null;
        Float f = null;
        Long i = null;
        OnnxTensor t = null;
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> name = r.readString();
                case 2 -> f = r.readFloat();
                case 3 -> i = r.readVarint();
                case 5 -> t = OnnxTensor.parse(r.readMessage());
                default -> r.skip(tag);
            }
        }
        if (name == null) {
            return;
        }
        if (f != null) {
            floats.put(name, f);
        }
        if (i != null) {
            ints.put(name, i);
        }
        if (t != null) {
            tensors.put(name, t);
        }
    }
}
