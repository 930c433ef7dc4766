package io.inflow.gpu.batch;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.util.List;
import java.util.Map;

/**
 * The batch format between the batching operator and the encoder: a reusable Arrow {@link VectorSchemaRoot} holding
 * up to {@link #capacity()} tokenized texts padded to one sequence length.
 *
 * <p>Layout (one row per text):
 * <ul>
 *   <li>{@code input_ids}: {@code FixedSizeList<int32>[seqLen]}; its child data buffer is a dense row-major
 *       {@code int32 [rows, seqLen]} matrix, padded with {@link #PAD_ID}, that an encoder reads in place
 *       ({@link #inputIdsAddress()}), no copy;</li>
 *   <li>{@code token_count}: {@code int32}, real tokens per row (special tokens included); the attention mask is
 *       {@code position < token_count};</li>
 *   <li>{@code truncated}: {@code bool}, whether the text was cut to the tokenizer's limit.</li>
 * </ul>
 * Schema metadata carries {@code inflow.batch.kind=text-tokens} and {@code inflow.batch.seq_len}.
 *
 * <p>Buffers are allocated once for the full capacity and reused: {@link #clear()} resets the row count only. The
 * batch owns its vectors; close it to give the memory back to its allocator.
 *
 * <pre>{@code
 * try (BufferAllocator alloc = new RootAllocator();
 *      TokenBatch batch = new TokenBatch(alloc, 32, 64)) {
 *     batch.append(new int[] {101, 2023, 102}, false);
 *     long ids = batch.inputIdsAddress();       // int32 [rowCount, 32]
 * }
 * }</pre>
 */
public final class TokenBatch extends RowBatch {

    /** Token id written into padding positions (BERT's [PAD]). */
    public static final int PAD_ID = 0;
    public static final String INPUT_IDS = "input_ids";
    public static final String TOKEN_COUNT = "token_count";
    public static final String TRUNCATED = "truncated";
    public static final String META_KIND = "inflow.batch.kind";
    public static final String META_SEQ_LEN = "inflow.batch.seq_len";

    private final int seqLen;
    private final VectorSchemaRoot root;
    private final FixedSizeListVector inputIds;
    private final IntVector ids;
    private final IntVector tokenCount;
    private final BitVector truncated;
    private long realTokens;

    /**
     * Allocates a batch of {@code capacity} rows of {@code seqLen} tokens.
     *
     * @throws IllegalArgumentException when seqLen or capacity is not positive
     */
    public TokenBatch(BufferAllocator allocator, int seqLen, int capacity) {
        super(capacity);
        if (seqLen <= 0 || capacity <= 0) {
            throw new IllegalArgumentException("seqLen and capacity must be positive (seqLen=" + seqLen
                    + ", capacity=" + capacity + ")");
        }
        this.seqLen = seqLen;
        this.root = VectorSchemaRoot.create(schema(seqLen), allocator);
        this.inputIds = (FixedSizeListVector) root.getVector(INPUT_IDS);
        this.tokenCount = (IntVector) root.getVector(TOKEN_COUNT);
        this.truncated = (BitVector) root.getVector(TRUNCATED);
        inputIds.setInitialCapacity(capacity);
        tokenCount.setInitialCapacity(capacity);
        truncated.setInitialCapacity(capacity);
        root.allocateNew();
        this.ids = (IntVector) inputIds.getDataVector();
        if (ids.getValueCapacity() < capacity * seqLen) {
            throw new IllegalStateException("Arrow allocated " + ids.getValueCapacity() + " ids for "
                    + capacity + " x " + seqLen);
        }
    }

    /** The Arrow schema of a batch padded to {@code seqLen}. */
    public static Schema schema(int seqLen) {
        Field idsChild = new Field("id", FieldType.notNullable(new ArrowType.Int(32, true)), null);
        Field ids = new Field(INPUT_IDS, FieldType.notNullable(new ArrowType.FixedSizeList(seqLen)), List.of(idsChild));
        Field count = new Field(TOKEN_COUNT, FieldType.notNullable(new ArrowType.Int(32, true)), null);
        Field trunc = new Field(TRUNCATED, FieldType.notNullable(ArrowType.Bool.INSTANCE), null);
        return new Schema(List.of(ids, count, trunc),
                Map.of(META_KIND, "text-tokens", META_SEQ_LEN, Integer.toString(seqLen)));
    }

    /**
     * Appends one tokenized text, padding it to {@link #seqLen()}.
     *
     * @return the row index
     * @throws IllegalStateException when the batch is full
     * @throws IllegalArgumentException when the text is empty or longer than the batch's sequence length
     */
    public int append(int[] tokenIds, boolean wasTruncated) {
        int row = nextRow();
        if (tokenIds.length == 0 || tokenIds.length > seqLen) {
            throw new IllegalArgumentException("a row needs 1.." + seqLen + " tokens (got " + tokenIds.length + ")");
        }
        int base = row * seqLen;
        for (int i = 0; i < tokenIds.length; i++) {
            ids.set(base + i, tokenIds[i]);
        }
        for (int i = tokenIds.length; i < seqLen; i++) {
            ids.set(base + i, PAD_ID);
        }
        inputIds.setNotNull(row);
        tokenCount.set(row, tokenIds.length);
        truncated.set(row, wasTruncated ? 1 : 0);
        realTokens += tokenIds.length;
        return commitRow();
    }

    /** Forgets all rows; buffers stay allocated for reuse. */
    @Override
    public void clear() {
        realTokens = 0;
        super.clear();
    }

    /** Native address of the {@code int32 [rowCount, seqLen]} token-id matrix. */
    public long inputIdsAddress() {
        return ids.getDataBuffer().memoryAddress();
    }

    /** The token-id buffer itself (for zero-copy hand-over to a tensor). */
    public ArrowBuf inputIdsBuffer() {
        return ids.getDataBuffer();
    }

    /** The token-count buffer ({@code int32 [rowCount]}), for zero-copy hand-over to a tensor. */
    public ArrowBuf tokenCountBuffer() {
        return tokenCount.getDataBuffer();
    }

    /** Native address of the {@code int32 [rowCount]} token counts. */
    public long tokenCountAddress() {
        return tokenCount.getDataBuffer().memoryAddress();
    }

    public int tokenId(int row, int position) {
        checkRow(row);
        return ids.get(row * seqLen + position);
    }

    public int tokenCount(int row) {
        checkRow(row);
        return tokenCount.get(row);
    }

    public boolean truncated(int row) {
        checkRow(row);
        return truncated.get(row) == 1;
    }

    public int seqLen() {
        return seqLen;
    }




    /** Sum of real tokens over the rows (padding excluded). */
    public long realTokens() {
        return realTokens;
    }

    /** Tokens the encoder processes, padding included: {@code rowCount * seqLen}. */
    public long paddedTokens() {
        return (long) rowCount() * seqLen;
    }

    @Override
    public VectorSchemaRoot root() {
        return root;
    }
}
