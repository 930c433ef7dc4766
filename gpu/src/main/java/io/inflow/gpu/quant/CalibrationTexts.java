package io.inflow.gpu.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Calibration texts for a text model, from a file: one text per line, or JSON Lines of Inflow text events (a
 * {@code "text"} field per line). Bad input fails with what to change: an empty file, a binary file (an image
 * given to a text model), image events, lines without text.
 *
 * <p>{@code List<String> texts = CalibrationTexts.read(Path.of("calibration.txt"));}
 */
public final class CalibrationTexts {
    /** The bundled set: 128 texts (SpamAssassin ham and hand-written, from the demo's sample data). */
    public static final String BUNDLED = "calibration/text-calibration.txt";

    private CalibrationTexts() {
    }

    /** The bundled calibration texts. */
    public static List<String> bundled() throws IOException {
        try (InputStream in = CalibrationTexts.class.getClassLoader().getResourceAsStream(BUNDLED)) {
            if (in == null) {
                throw new IOException("resource " + BUNDLED + " is missing from the classpath");
            }
            return parse(in.readAllBytes(), BUNDLED);
        }
    }

    /** The texts of {@code file}. */
    public static List<String> read(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException("calibration " + file + " is a directory: a text model calibrates on"
                    + " one file of texts (one per line, or JSON Lines text events); a directory of images is for an"
                    + " image model (--model vit-fashion-mnist)");
        }
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("calibration file " + file + " does not exist or is not a file");
        }
        return parse(Files.readAllBytes(file), file.toString());
    }

    static List<String> parse(byte[] bytes, String name) {
        String kind = binaryKind(bytes);
        if (kind != null) {
            throw new IllegalArgumentException("calibration file " + name + " is not text (" + kind + "): a text"
                    + " model calibrates on texts, one per line or JSON Lines with a \"text\" field; image models"
                    + " take images");
        }
        String content;
        try {
            content = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("calibration file " + name + " is not valid UTF-8: save it as UTF-8,"
                    + " one text per line");
        }
        List<String> texts = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        int lineNo = 0;
        for (String line : content.split("\n", -1)) {
            lineNo++;
            String l = line.strip();
            if (l.isEmpty()) {
                continue;
            }
            if (l.startsWith("{")) {
                JsonNode n;
                try {
                    n = json.readTree(l);
                } catch (IOException e) {
                    throw new IllegalArgumentException("calibration file " + name + " line " + lineNo
                            + " starts with '{' but is not JSON: give plain text lines or JSON Lines");
                }
                String type = n.path("type").asText("");
                if (type.equals("image")) {
                    throw new IllegalArgumentException("calibration file " + name + " line " + lineNo
                            + " is an image event, but the model is a text model: give text events or texts");
                }
                JsonNode text = n.get("text");
                if (text == null || !text.isTextual() || text.asText().isBlank()) {
                    throw new IllegalArgumentException("calibration file " + name + " line " + lineNo
                            + " has no non-empty \"text\" field");
                }
                texts.add(text.asText());
            } else {
                texts.add(l);
            }
        }
        if (texts.isEmpty()) {
            throw new IllegalArgumentException("calibration file " + name + " has no texts: give at least one text"
                    + " per line (64 or more recommended, from the traffic the model will see)");
        }
        return texts;
    }

    /** What a binary file looks like ("PNG image", ...), or null for text. */
    static String binaryKind(byte[] b) {
        if (b.length >= 8 && (b[0] & 0xFF) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
            return "a PNG image";
        }
        if (b.length >= 3 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8 && (b[2] & 0xFF) == 0xFF) {
            return "a JPEG image";
        }
        if (b.length >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 8 && b[3] == 3) {
            return "an IDX image file";
        }
        if (b.length >= 2 && (b[0] & 0xFF) == 0x1F && (b[1] & 0xFF) == 0x8B) {
            return "gzip data";
        }
        for (int i = 0; i < Math.min(b.length, 4096); i++) {
            if (b[i] == 0) {
                return "binary data with NUL bytes";
            }
        }
        return null;
    }
}
