package io.inflow.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ErrorKindTest {
    @Test
    void wireNamesAreLowerSnakeCaseAndRoundTrip() {
        assertThat(ErrorKind.OVERSIZE_RECORD.wireName()).isEqualTo("oversize_record");
        assertThat(ErrorKind.INVALID_UTF8.wireName()).isEqualTo("invalid_utf8");
        assertThat(ErrorKind.IMAGE_TOO_LARGE.wireName()).isEqualTo("image_too_large");
        assertThat(ErrorKind.fromWireName("image_unreadable")).isSameAs(ErrorKind.IMAGE_UNREADABLE);
        for (ErrorKind k : ErrorKind.values()) {
            assertThat(k.wireName()).matches("[a-z0-9]+(_[a-z0-9]+)*");
            assertThat(ErrorKind.fromWireName(k.wireName())).isSameAs(k);
        }
    }

    @Test
    void unknownWireNameNamesTheKnownOnes() {
        assertThatThrownBy(() -> ErrorKind.fromWireName("OVERSIZE_RECORD"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'OVERSIZE_RECORD'").hasMessageContaining("oversize_record");
        assertThatThrownBy(() -> ErrorKind.fromWireName(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
