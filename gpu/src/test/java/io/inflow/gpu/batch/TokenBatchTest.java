package io.inflow.gpu.batch;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenBatchTest {

    private BufferAllocator allocator;

    @BeforeEach
    void setUp() {
        allocator = new RootAllocator();
    }

    @AfterEach
    void tearDown() {
        // closing a RootAllocator with live buffers throws: this is the leak check
        allocator.close();
    }

    @Test
    void rowsArePaddedAndLaidOutRowMajor() {
        try (TokenBatch batch = new TokenBatch(allocator, 5, 4)) {
            batch.append(new int[] {101, 7, 102}, false);
            batch.append(new int[] {101, 8, 9, 10, 102}, true);
            assertThat(batch.rowCount()).isEqualTo(2);
            assertThat(batch.realTokens()).isEqualTo(8);
            assertThat(batch.paddedTokens()).isEqualTo(10);
            // the data buffer is a dense int32 [rows, seqLen] matrix
            int[] expected = {101, 7, 102, 0, 0, 101, 8, 9, 10, 102};
            for (int i = 0; i < expected.length; i++) {
                assertThat(batch.inputIdsBuffer().getInt(4L * i)).as("flat index %d", i).isEqualTo(expected[i]);
            }
            assertThat(batch.tokenCount(0)).isEqualTo(3);
            assertThat(batch.tokenCount(1)).isEqualTo(5);
            assertThat(batch.truncated(0)).isFalse();
            assertThat(batch.truncated(1)).isTrue();
            assertThat(batch.root().getRowCount()).isEqualTo(2);
        }
    }

    @Test
    void clearReusesBuffersAndOverwritesOldPadding() {
        try (TokenBatch batch = new TokenBatch(allocator, 4, 2)) {
            batch.append(new int[] {1, 2, 3, 4}, false);
            long address = batch.inputIdsAddress();
            batch.clear();
            assertThat(batch.rowCount()).isZero();
            batch.append(new int[] {5}, false);
            assertThat(batch.inputIdsAddress()).as("same buffer after clear").isEqualTo(address);
            assertThat(batch.tokenId(0, 0)).isEqualTo(5);
            assertThat(batch.tokenId(0, 1)).as("old token overwritten by padding").isEqualTo(TokenBatch.PAD_ID);
        }
    }

    @Test
    void rejectsOverflowAndBadRows() {
        try (TokenBatch batch = new TokenBatch(allocator, 3, 1)) {
            assertThatThrownBy(() -> batch.append(new int[] {1, 2, 3, 4}, false))
                    .hasMessageContaining("1..3 tokens (got 4)");
            assertThatThrownBy(() -> batch.append(new int[0], false)).hasMessageContaining("got 0");
            batch.append(new int[] {1}, false);
            assertThat(batch.isFull()).isTrue();
            assertThatThrownBy(() -> batch.append(new int[] {1}, false)).hasMessageContaining("full (1 rows)");
            assertThatThrownBy(() -> batch.tokenCount(1)).isInstanceOf(IndexOutOfBoundsException.class);
        }
        assertThatThrownBy(() -> new TokenBatch(allocator, 0, 1)).hasMessageContaining("seqLen=0");
    }

    @Test
    void batchIsValidArrowThatSurvivesIpc() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TokenBatch batch = new TokenBatch(allocator, 3, 8)) {
            batch.append(new int[] {101, 5, 102}, false);
            batch.append(new int[] {101, 102}, false);
            try (ArrowStreamWriter writer = new ArrowStreamWriter(batch.root(), null, Channels.newChannel(bytes))) {
                writer.start();
                writer.writeBatch();
                writer.end();
            }
        }
        try (ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(bytes.toByteArray()), allocator)) {
            assertThat(reader.loadNextBatch()).isTrue();
            VectorSchemaRoot read = reader.getVectorSchemaRoot();
            assertThat(read.getRowCount()).isEqualTo(2);
            assertThat(read.getSchema().getCustomMetadata()).containsEntry(TokenBatch.META_SEQ_LEN, "3");
            assertThat(read.getVector(TokenBatch.INPUT_IDS).getObject(1)).asList().containsExactly(101, 102, 0);
            assertThat(read.getVector(TokenBatch.TOKEN_COUNT).getObject(0)).isEqualTo(3);
        }
    }
}
