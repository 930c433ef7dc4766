package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import jcuda.NativePointerObject;
import jcuda.Pointer;

/**
 * The parameters of one kernel launch, in the order of the kernel's C signature: {@link #ptr} a device pointer
 * (8 bytes; null gives a null pointer), {@link #i32} an {@code int}, {@link #i64} a {@code long long}, {@link #f32} a
 * {@code float}. Each launcher mirrors its kernel's signature line by line; the emulated device checks the kinds
 * against the C signature at every launch, the real driver cannot.
 *
 * <p>{@code KernelArgs.of().ptr(x).ptr(out).i64(n)}
 */
public final class KernelArgs {
    /** What an argument is. */
    public enum Kind { POINTER, INT32, INT64, FLOAT32 }

    private final List<Kind> kinds = new ArrayList<>();
    private final List<Long> bits = new ArrayList<>();
    private final List<Tensor> tensors = new ArrayList<>();

    private KernelArgs() {
    }

    public static KernelArgs of() {
        return new KernelArgs();
    }

    /** A device pointer: the tensor's device address (null tensor: null pointer). */
    public KernelArgs ptr(Tensor t) {
        if (t != null && t.location() != Tensor.Location.DEVICE) {
            throw new IllegalArgumentException("kernel argument " + kinds.size() + " must be a DEVICE tensor: " + t);
        }
        tensors.add(t);
        return add(Kind.POINTER, t == null ? 0L : t.address());
    }

    public KernelArgs i32(int v) {
        return add(Kind.INT32, v & 0xffffffffL);
    }

    public KernelArgs i64(long v) {
        return add(Kind.INT64, v);
    }

    public KernelArgs f32(float v) {
        return add(Kind.FLOAT32, Float.floatToRawIntBits(v) & 0xffffffffL);
    }

    private KernelArgs add(Kind kind, long value) {
        if (kind != Kind.POINTER) {
            tensors.add(null);
        }
        kinds.add(kind);
        bits.add(value);
        return this;
    }

    public int count() {
        return kinds.size();
    }

    public Kind kind(int i) {
        return kinds.get(i);
    }

    /** The argument's value: an address, or the int / long / float bits (int and float in the low 32 bits). */
    public long bits(int i) {
        return bits.get(i);
    }

    /** Whether {@code other} passes the same kinds and values (addresses, int / long / float bits) in the same order. */
    public boolean sameValues(KernelArgs other) {
        return kinds.equals(other.kinds) && bits.equals(other.bits);
    }

    /** The tensor passed at {@code i} ({@code null} for scalars and null pointers). */
    Tensor tensor(int i) {
        return tensors.get(i);
    }

    /** The {@code kernelParams} pointer for {@code cuLaunchKernel}: each value in its own array, passed by address. */
    Pointer toKernelParams() {
        NativePointerObject[] values = new NativePointerObject[kinds.size()];
        for (int i = 0; i < values.length; i++) {
            long v = bits.get(i);
            values[i] = switch (kinds.get(i)) {
                case POINTER, INT64 -> Pointer.to(new long[] {v});
                case INT32 -> Pointer.to(new int[] {(int) v});
                case FLOAT32 -> Pointer.to(new float[] {Float.intBitsToFloat((int) v)});
            };
        }
        return Pointer.to(values);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < kinds.size(); i++) {
            s.append(i == 0 ? "" : ", ").append(switch (kinds.get(i)) {
                case POINTER -> "ptr";
                case INT32 -> "int";
                case INT64 -> "long long";
                case FLOAT32 -> "float";
            });
        }
        return s.append(')').toString();
    }
}
