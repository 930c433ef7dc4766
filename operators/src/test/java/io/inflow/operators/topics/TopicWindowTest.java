package io.inflow.operators.topics;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The window's ring: events come out oldest first whatever the ring's position, a full window drops exactly its
 * oldest, the compact copy is what the tree builder reads, and the state survives Flink's POJO serializer (which
 * it must stay: a Kryo fallback would be slow and fragile across versions) with unused slots in it.
 */
class TopicWindowTest {

    private static float[] vec(int i) {
        return new float[] {i, -i, 0.5f * i};
    }

    @Test
    void keepsTheLastCapacityEventsOldestFirst() {
        TopicWindow w = TopicWindow.empty(5, 3);
        for (int i = 0; i < 13; i++) {
            w.add("e" + i, "t" + i, vec(i), new long[] {i});
            int expected = Math.min(i + 1, 5);
            assertThat(w.size()).isEqualTo(expected);
            for (int k = 0; k < expected; k++) {
                int event = i + 1 - expected + k;
                assertThat(w.id(k)).as("after %d adds, event %d", i + 1, k).isEqualTo("e" + event);
                assertThat(w.path(k)).containsExactly(event);
            }
        }
        TopicWindow c = w.copy();
        assertThat(c.ids).containsExactly("e8", "e9", "e10", "e11", "e12");
        assertThat(c.texts).containsExactly("t8", "t9", "t10", "t11", "t12");
        assertThat(c.vectors).hasSize(15).startsWith(8, -8, 4).endsWith(12, -12, 6);
        assertThat(c.head).isZero();
        assertThat(c.eventsSinceBuild).isEqualTo(13);
        w.setPath(0, new long[] {42});
        assertThat(w.copy().paths[0]).containsExactly(42);
        assertThat(c.paths[0]).as("the copy is independent of later changes").containsExactly(8);
    }

    @Test
    void growsWhileFillingAndNeverPastItsCapacity() {
        TopicWindow w = TopicWindow.empty(1000, 3);
        for (int i = 0; i < 20; i++) {
            w.add("e" + i, "", vec(i), new long[0]);
        }
        assertThat(w.ids.length).as("slots double from 16").isEqualTo(32);
        for (int i = 20; i < 3000; i++) {
            w.add("e" + i, "", vec(i), new long[0]);
        }
        assertThat(w.ids.length).isEqualTo(1000);
        assertThat(w.vectors).hasSize(3000);
        assertThat(w.id(0)).isEqualTo("e2000");
        assertThat(w.id(999)).isEqualTo("e2999");
    }

    @Test
    void survivesFlinksPojoSerializerWithUnusedSlots() throws Exception {
        TypeInformation<TopicWindow> info = TypeInformation.of(TopicWindow.class);
        assertThat(info).as("a POJO, not a Kryo generic type").isInstanceOf(PojoTypeInfo.class);
        TypeSerializer<TopicWindow> ser = info.createSerializer(new SerializerConfigImpl());
        TopicWindow w = TopicWindow.empty(40, 3);
        for (int i = 0; i < 21; i++) { // 21 events in 32 slots: 11 unused (null) slots
            w.add("e" + i, i % 2 == 0 ? "t" + i : null, vec(i), i % 3 == 0 ? new long[0] : new long[] {i, 1});
        }
        w.version = 3;
        w.nextTopic = 9;
        DataOutputSerializer out = new DataOutputSerializer(1024);
        ser.serialize(w, out);
        TopicWindow back = ser.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertThat(back.size()).isEqualTo(21);
        assertThat(back.copy().ids).containsExactly(w.copy().ids);
        assertThat(back.copy().texts).containsExactly(w.copy().texts);
        assertThat(back.copy().vectors).containsExactly(w.copy().vectors);
        assertThat(back.path(20)).containsExactly(20, 1);
        assertThat(back.version).isEqualTo(3);
        assertThat(back.nextTopic).isEqualTo(9);
    }
}
