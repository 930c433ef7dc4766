package io.inflow.jobs.demo;

import io.inflow.schemas.ImageEvent;
import io.inflow.schemas.RecordCodec;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bundled image sample ({@code sample/}, written by {@code jobs/scripts/make-sample-images.py}): 200 image
 * events with inline PNGs and 12 PNG files sent as {@code file:} URIs (Fashion-MNIST t10k, true label in the
 * {@code label} attribute), and 12 broken image events that must be dead-lettered, each with its expected kind.
 *
 * <pre>{@code
 * SampleImages images = SampleImages.load();
 * List<SampleData.Record> records = images.records(imageRoot);   // copies the PNG files under imageRoot
 * String kind = images.expectedKinds().get("broken-05-compressed-bomb-png");   // image_too_large
 * }</pre>
 */
public final class SampleImages {

    private static final String INLINE = "sample/image-events.jsonl";
    private static final String FILES = "sample/images/";
    private static final String BROKEN = "sample/broken-images/";
    /** Replaced by the image root in the broken events that name files. */
    private static final String ROOT_PLACEHOLDER = "{root}";

    private record FileImage(String name, int t10kIndex, String label) {
    }

    private record Broken(String file, String kind) {
    }

    private final List<SampleData.Record> inline;
    private final List<FileImage> files;
    private final List<Broken> broken;

    private SampleImages(List<SampleData.Record> inline, List<FileImage> files, List<Broken> broken) {
        this.inline = inline;
        this.files = files;
        this.broken = broken;
    }

    /** Reads the sample's index files from the classpath. */
    public static SampleImages load() {
        try {
            List<SampleData.Record> inline = new ArrayList<>();
            try (BufferedReader r = SampleData.reader(INLINE)) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (!line.isBlank()) {
                        inline.add(new SampleData.Record(SampleData.idOf(line),
                                line.getBytes(StandardCharsets.UTF_8), false));
                    }
                }
            }
            List<FileImage> files = new ArrayList<>();
            for (String[] f : index(FILES + "index.txt")) {
                files.add(new FileImage(f[0], Integer.parseInt(f[1]), f[2].replace('_', ' ')));
            }
            List<Broken> broken = new ArrayList<>();
            for (String[] f : index(BROKEN + "index.txt")) {
                broken.add(new Broken(f[0], f[1]));
            }
            return new SampleImages(inline, files, broken);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String[]> index(String resource) throws IOException {
        List<String[]> rows = new ArrayList<>();
        try (BufferedReader r = SampleData.reader(resource)) {
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    rows.add(line.strip().split("\\s+"));
                }
            }
        }
        return rows;
    }

    /**
     * Copies the sample's PNG files into {@code imageRoot} and returns every image record to produce: inline
     * images, file references into the root, and the broken events spread evenly among them.
     */
    public List<SampleData.Record> records(Path imageRoot) throws IOException {
        Files.createDirectories(imageRoot);
        Path root = imageRoot.toRealPath();
        List<SampleData.Record> good = new ArrayList<>(inline);
        for (int i = 0; i < files.size(); i++) {
            FileImage f = files.get(i);
            Files.write(root.resolve(f.name()), SampleData.bytes(FILES + f.name()));
            String id = "image-file-" + f.name().replace(".png", "");
            ImageEvent event = new ImageEvent(id, null, root.resolve(f.name()).toUri().toString(), "image/png", null,
                    Map.of("source", "fashion-mnist-t10k", "t10k_index", Integer.toString(f.t10kIndex()),
                            "label", f.label()));
            good.add(new SampleData.Record(id, RecordCodec.encode(event), false));
        }
        List<SampleData.Record> bad = new ArrayList<>();
        for (Broken b : broken) {
            String json = new String(SampleData.bytes(BROKEN + b.file()), StandardCharsets.UTF_8).strip()
                    .replace(ROOT_PLACEHOLDER, new String(JsonStringEncoder.getInstance().quoteAsString(root.toString())));
            bad.add(new SampleData.Record(SampleData.idOf(json), json.getBytes(StandardCharsets.UTF_8), true));
        }
        return SampleData.spread(good, bad);
    }

    /** Good images: inline plus file references. */
    public int goodCount() {
        return inline.size() + files.size();
    }

    public int inlineCount() {
        return inline.size();
    }

    public int fileCount() {
        return files.size();
    }

    public int brokenCount() {
        return broken.size();
    }

    /** Record key (event id) of each broken event to the dead-letter kind it must get. */
    public Map<String, String> expectedKinds() {
        Map<String, String> kinds = new LinkedHashMap<>();
        for (Broken b : broken) {
            kinds.put("broken-" + b.file().replace(".json", ""), b.kind());
        }
        return kinds;
    }
}
