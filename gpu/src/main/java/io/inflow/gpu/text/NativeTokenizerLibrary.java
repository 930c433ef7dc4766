package io.inflow.gpu.text;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Lets every class loader of a JVM load DJL's native tokenizer library. The JVM binds a native library file to the
 * first class loader that loads it and refuses the same file to any other ("already loaded in another classloader").
 * On a Flink TaskManager each submitted job gets its own user class loader, so a job resubmitted to the same
 * TaskManagers (after a JobManager restart, or a cancel and resubmit) failed in every task with that error, forever.
 * The first class loader in the JVM uses DJL's default cache directory; every later one points DJL's
 * * {@code ENGINE_CACHE_DIR} at a directory of its own (under {@code java.io.tmpdir}, about 10 MB) for the one call
 * that extracts and loads the library, so it loads its own copy of the file. The count lives in a system property and
 * the critical section is guarded by a JVM-wide lock object (an interned string), because every class loader has its
 * own copy of this class.
 *
 * <p>{@code NativeTokenizerLibrary.run(() -> HuggingFaceTokenizer.newInstance(json, options));}
 */
final class NativeTokenizerLibrary {
    /** System property counting the class loaders that loaded the library (JVM-wide, across class loaders). */
    static final String LOADERS = "inflow.tokenizers.native-loaders";
    private static final String DJL_ENGINE_CACHE = "ENGINE_CACHE_DIR";
    private static final Object JVM_LOCK = "io.inflow.gpu.text.NativeTokenizerLibrary.lock".intern();
    private static volatile boolean loadedHere;

    private NativeTokenizerLibrary() {
    }

    /** Runs {@code create}, the first call in this class loader with its own copy of the native library if needed. */
    static <T> T run(java.util.function.Supplier<T> create) {
        if (loadedHere) {
            return create.get();
        }
        synchronized (JVM_LOCK) {
            if (loadedHere) {
                return create.get();
            }
            int before = Integer.getInteger(LOADERS, 0);
            String previous = System.getProperty(DJL_ENGINE_CACHE);
            try {
                if (before > 0 && previous == null) {
                    Path own = Files.createTempDirectory("inflow-tokenizers-" + before + "-");
                    System.setProperty(DJL_ENGINE_CACHE, own.toString());
                }
                T result = create.get();
                System.setProperty(LOADERS, Integer.toString(before + 1));
                loadedHere = true;
                return result;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a directory for the tokenizer's native library", e);
            } finally {
                if (previous == null) {
                    System.clearProperty(DJL_ENGINE_CACHE);
                }
            }
        }
    }
}
