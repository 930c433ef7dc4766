package io.inflow.gpu.resources;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One resource per key per process, created by the first user, closed by the last. */
class ProcessResourcesTest {

    /** Counts its closes. */
    static final class Probe implements AutoCloseable {
        final AtomicInteger closes = new AtomicInteger();

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }

    private record Key(String name) {
    }

    @Test
    void sharedByAllUsersAndClosedWithTheLastLease() throws Exception {
        AtomicInteger created = new AtomicInteger();
        Key key = new Key("shared");
        ProcessResources.Lease<Probe> a = ProcessResources.acquire(key, () -> {
            created.incrementAndGet();
            return new Probe();
        });
        ProcessResources.Lease<Probe> b = ProcessResources.acquire(new Key("shared"), Probe::new);
        assertThat(b.get()).as("equal keys share one resource").isSameAs(a.get());
        assertThat(created).hasValue(1);

        a.close();
        a.close(); // twice is harmless and does not count twice
        assertThat(b.get().closes).as("still held by b").hasValue(0);
        assertThat(ProcessResources.held()).contains(key);

        Probe probe = b.get();
        b.close();
        assertThat(probe.closes).as("closed with the last lease").hasValue(1);
        assertThat(ProcessResources.held()).doesNotContain(key);
        assertThat(ProcessResources.peek(key)).isEmpty();
        assertThatThrownBy(b::get).hasMessageContaining("closed");
    }

    @Test
    void aFailingFactoryRegistersNothing() {
        Key key = new Key("failing");
        assertThatThrownBy(() -> ProcessResources.acquire(key, () -> {
            throw new IllegalStateException("no device");
        })).hasMessage("no device");
        assertThat(ProcessResources.held()).doesNotContain(key);
    }
}
