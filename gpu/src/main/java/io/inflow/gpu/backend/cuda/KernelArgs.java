package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import jcuda.NativePointerObject;
import jcuda.Pointer;

/**
 * The parameters of one kernel launch, in the order of the kernel's C signature. Each value is held in its own
 * small array and passed by address, as {@code cuLaunchKernel} expects: {@link #ptr} is a device pointer (8 bytes;
 * null gives a null pointer), {@link #i32} an {@code int}, {@link #i64} a {@code long long}, {@link #f32} a
 * {@code float}. A mismatch with the C signature is not detectable here: each launcher mirrors its kernel's
 * signature line by line.
 *
 * <p>{@code KernelArgs.of().ptr(x).ptr(out).i64(n)}
 */
public final class KernelArgs {
    private final List<NativePointerObject> values = new ArrayList<>();
    private final StringBuilder signature = new StringBuilder();

    private KernelArgs() {
    }

    public static KernelArgs of() {
        return new KernelArgs();
    }

    /** A device pointer: the tensor's device address (null tensor: null pointer). */
    public KernelArgs ptr(Tensor t) {
        if (t != null && t.location() != Tensor.Location.DEVICE) {
            throw new IllegalArgumentException("kernel argument " + values.size() + " must be a DEVICE tensor: " + t);
        }
        values.add(Pointer.to(new long[] {t == null ? 0L : t.address()}));
        signature.append(signature.length() == 0 ? "" : ", ").append("ptr");
        return this;
    }

    public KernelArgs i32(int v) {
        values.add(Pointer.to(new int[] {v}));
        signature.append(signature.length() == 0 ? "" : ", ").append("int");
        return this;
    }

    public KernelArgs i64(long v) {
        values.add(Pointer.to(new long[] {v}));
        signature.append(signature.length() == 0 ? "" : ", ").append("long long");
        return this;
    }

    public KernelArgs f32(float v) {
        values.add(Pointer.to(new float[] {v}));
        signature.append(signature.length() == 0 ? "" : ", ").append("float");
        return this;
    }

    /** The {@code kernelParams} pointer for {@code cuLaunchKernel}. */
    Pointer toKernelParams() {
        return Pointer.to(values.toArray(new NativePointerObject[0]));
    }

    @Override
    public String toString() {
        return "(" + signature + ")";
    }
}
