package io.inflow.schemas;

import java.util.Map;

/**
 * An event the pipeline enriches: a {@link TextEvent} or an {@link ImageEvent}, as returned by
 * {@link InputDecoder#decode(byte[])}.
 *
 * <p>{@code
 * InputEvent event = decoder.decode(value);
 * if (event instanceof TextEvent text) { tokenize(text.text()); }                                 // Java 17
 * }
 */
public sealed interface InputEvent permits TextEvent, ImageEvent {
    /** Producer-assigned event id, 1..maxIdLength code points, no control characters. */
    String id();

    /** Free string attributes, passed through to the enriched event; never null (empty when absent). */
    Map<String, String> attributes();
}
