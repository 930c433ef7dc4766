package io.inflow.gpu.tensor;

import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * Raw access to off-heap memory by address: element loads and stores and bulk copies between native memory
 * and Java arrays. The only class that touches {@code sun.misc.Unsafe}; everything else goes through
 * {@link Tensor}.
 *
 * <p>{@code NativeMemory.copyToArray(address, floats, 0, n);}
 */
public final class NativeMemory {
    private static final Unsafe UNSAFE = loadUnsafe();
    private static final long FLOAT_BASE = UNSAFE.arrayBaseOffset(float[].class);
    private static final long INT_BASE = UNSAFE.arrayBaseOffset(int[].class);
    private static final long BYTE_BASE = UNSAFE.arrayBaseOffset(byte[].class);

    private NativeMemory() {
    }

    private static Unsafe loadUnsafe() {
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("sun.misc.Unsafe is not accessible (module jdk.unsupported missing?)", e);
        }
    }

    public static float getFloat(long address) {
        return UNSAFE.getFloat(address);
    }

    public static void putFloat(long address, float value) {
        UNSAFE.putFloat(address, value);
    }

    public static int getInt(long address) {
        return UNSAFE.getInt(address);
    }

    public static void putInt(long address, int value) {
        UNSAFE.putInt(address, value);
    }

    /** Copies {@code count} floats from native memory into {@code dst[dstIndex..]}. */
    public static void copyToArray(long address, float[] dst, int dstIndex, int count) {
        java.util.Objects.checkFromIndexSize(dstIndex, count, dst.length);
        UNSAFE.copyMemory(null, address, dst, FLOAT_BASE + 4L * dstIndex, 4L * count);
    }

    /** Copies {@code count} floats from {@code src[srcIndex..]} into native memory. */
    public static void copyFromArray(float[] src, int srcIndex, long address, int count) {
        java.util.Objects.checkFromIndexSize(srcIndex, count, src.length);
        UNSAFE.copyMemory(src, FLOAT_BASE + 4L * srcIndex, null, address, 4L * count);
    }

    /** Copies {@code count} ints from native memory into {@code dst[dstIndex..]}. */
    public static void copyToArray(long address, int[] dst, int dstIndex, int count) {
        java.util.Objects.checkFromIndexSize(dstIndex, count, dst.length);
        UNSAFE.copyMemory(null, address, dst, INT_BASE + 4L * dstIndex, 4L * count);
    }

    /** Copies {@code count} ints from {@code src[srcIndex..]} into native memory. */
    public static void copyFromArray(int[] src, int srcIndex, long address, int count) {
        java.util.Objects.checkFromIndexSize(srcIndex, count, src.length);
        UNSAFE.copyMemory(src, INT_BASE + 4L * srcIndex, null, address, 4L * count);
    }

    public static byte getByte(long address) {
        return UNSAFE.getByte(address);
    }

    public static void putByte(long address, byte value) {
        UNSAFE.putByte(address, value);
    }

    /** Copies {@code count} bytes from native memory into {@code dst[dstIndex..]}. */
    public static void copyToArray(long address, byte[] dst, int dstIndex, int count) {
        java.util.Objects.checkFromIndexSize(dstIndex, count, dst.length);
        UNSAFE.copyMemory(null, address, dst, BYTE_BASE + dstIndex, count);
    }

    /** Copies {@code count} bytes from {@code src[srcIndex..]} into native memory. */
    public static void copyFromArray(byte[] src, int srcIndex, long address, long count) {
        java.util.Objects.checkFromIndexSize(srcIndex, (int) count, src.length);
        UNSAFE.copyMemory(src, BYTE_BASE + srcIndex, null, address, count);
    }

    /** Copies {@code bytes} bytes between two native addresses (regions must not overlap). */
    public static void copy(long srcAddress, long dstAddress, long bytes) {
        UNSAFE.copyMemory(srcAddress, dstAddress, bytes);
    }

    /** Sets {@code bytes} bytes at {@code address} to zero. */
    public static void zero(long address, long bytes) {
        UNSAFE.setMemory(address, bytes, (byte) 0);
    }
}
