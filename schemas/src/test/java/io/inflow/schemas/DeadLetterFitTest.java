package io.inflow.schemas;

import org.junit.jupiter.api.Test;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

import static io.inflow.schemas.Samples.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Dead letters of inputs of any size fit the dead-letter topic: originals are cut, and the record says so. */
class DeadLetterFitTest {

    private static final int BUDGET = 4096;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static DeadLetterRecord letter(byte[] key, byte[] value) {
        return new DeadLetterRecord(Samples.SOURCE, key, value, ErrorKind.OVERSIZE_RECORD, "too big", "decode", 5);
    }

    @Test
    void aRecordWithinTheBudgetIsKeptWhole() {
        DeadLetterRecord d = letter(utf8("k"), random(BUDGET - 1, 1));
        assertThat(d.fitTo(BUDGET)).isSameAs(d);
        assertThat(d.truncation()).isNull();
    }

    @Test
    void aLargeValueIsCutToAPrefixWithItsFullSizeAndHash() throws Exception {
        byte[] value = random(3 << 20, 2);
        DeadLetterRecord cut = letter(utf8("key-1"), value).fitTo(BUDGET);

        assertThat(cut.originalBytes()).isEqualTo(BUDGET);
        assertThat(cut.key()).isEqualTo(utf8("key-1"));
        assertThat(cut.value()).isEqualTo(Arrays.copyOf(value, BUDGET - 5));
        assertThat(cut.truncation().valueSize()).isEqualTo(value.length);
        assertThat(cut.truncation().valueSha256()).isEqualTo(sha256(value));
        assertThat(cut.truncation().keySize()).isEqualTo(5);
        assertThat(cut.truncation().keySha256()).isEqualTo(sha256(utf8("key-1")));
        assertThat(cut.fitTo(BUDGET)).as("cutting again changes nothing").isSameAs(cut);
    }

    @Test
    void aHugeKeyKeepsAQuarterOfTheBudgetAndTheValueTheRest() {
        DeadLetterRecord cut = letter(random(100_000, 3), random(100_000, 4)).fitTo(BUDGET);
        assertThat(cut.key()).hasSize(BUDGET / 4);
        assertThat(cut.value()).hasSize(BUDGET - BUDGET / 4);
        // a huge key with a tiny value keeps the whole value
        DeadLetterRecord keyOnly = letter(random(100_000, 5), utf8("v")).fitTo(BUDGET);
        assertThat(keyOnly.value()).isEqualTo(utf8("v"));
        assertThat(keyOnly.originalBytes()).isEqualTo(BUDGET);
        // a null value stays null
        DeadLetterRecord noValue = letter(random(100_000, 6), null).fitTo(BUDGET);
        assertThat(noValue.value()).isNull();
        assertThat(noValue.truncation().valueSha256()).isNull();
        assertThat(noValue.truncation().valueSize()).isEqualTo(-1);
    }

    @Test
    void theCutRecordRoundTripsAndItsEncodingIsBounded() throws Exception {
        DeadLetterRecord cut = letter(utf8("k"), random(10 << 20, 7)).fitTo(BUDGET);
        byte[] wire = RecordCodec.encode(cut);
        assertThat(RecordCodec.decodeDeadLetter(wire)).isEqualTo(cut);
        assertThat(new String(wire, java.nio.charset.StandardCharsets.UTF_8))
                .contains("\"truncation\":{\"truncated\":true,\"key_size\":1,");
        // base64 of the kept bytes plus the fixed fields: far below the 10 MiB original
        assertThat(wire.length).isLessThan(BUDGET * 4 / 3 + 2048);
    }

    @Test
    void aBudgetBelowOneKibIsRefused() {
        assertThatThrownBy(() -> letter(null, utf8("x")).fitTo(1023))
                .hasMessageContaining("at least 1024 (was 1023)");
    }

    @Test
    void unpairedSurrogatesInTheMessageCannotBreakTheEncoding() throws Exception {
        DeadLetterRecord d = new DeadLetterRecord(Samples.SOURCE, null, null, ErrorKind.COMPUTE_FAILED,
                "bad \ud800 char", "compute", 1);
        assertThat(d.message()).isEqualTo("bad \ufffd char");
        assertThat(RecordCodec.decodeDeadLetter(RecordCodec.encode(d))).isEqualTo(d);
    }
}
