package io.inflow.gpu.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tokenizer in several class loaders of one JVM, as on a Flink TaskManager that runs a resubmitted job (each job
 * gets a child-first user class loader over the same jar): every loader must load DJL's native library and tokenize.
 * Before {@link NativeTokenizerLibrary} the second loader failed with "Native Library ... already loaded in another
 * classloader" (found by {@code ClusterFaultTest}: a job resubmitted after a JobManager kill failed in every task).
 * Each loader here loads everything itself (parent: the platform loader), so the test's own loader, which may have
 * loaded the library already, counts as one more.
 */
class TokenizerClassLoadersTest {
    @Test
    void threeClassLoadersEachLoadTheNativeLibraryAndTokenize() throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            urls.add(new File(entry).toURI().toURL());
        }
        for (int i = 0; i < 3; i++) {
            try (URLClassLoader loader = new URLClassLoader("job-" + i, urls.toArray(URL[]::new),
                    ClassLoader.getPlatformClassLoader())) {
                Class<?> model = loader.loadClass("io.inflow.gpu.text.TextModel");
                Class<?> tokenizer = loader.loadClass("io.inflow.gpu.text.TextTokenizer");
                assertThat(tokenizer).isNotSameAs(TextTokenizer.class);
                Object spec = model.getMethod("valueOf", String.class).invoke(null, "ALL_MINILM_L6_V2");
                Object t = tokenizer.getMethod("load", model, int.class).invoke(null, spec, 16);
                Method native1 = tokenizer.getMethod("encodeWithDjl", String.class);
                Object tokens = native1.invoke(t, "héllo wörld, ünïcode goes through the native tokenizer");
                assertThat(tokens).as("loader %d tokenized with the native library", i).isNotNull();
                ((AutoCloseable) t).close();
            }
        }
        assertThat(Integer.getInteger(NativeTokenizerLibrary.LOADERS, 0)).isGreaterThanOrEqualTo(3);
    }
}
