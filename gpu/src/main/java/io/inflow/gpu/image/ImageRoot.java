package io.inflow.gpu.image;

import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.RecordRejectedException;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Resolves {@code file:} image URIs confined to one root directory and reads them with a byte limit.
 *
 * <p>A URI is accepted only when its path, after percent-decoding and normalisation ({@code .} and {@code ..}
 * removed), lies under the root, <em>and</em> its real path (every symbolic link followed, {@link Path#toRealPath})
 * lies under the root's real path. Relative URIs ({@code file:cats/1.png}) are resolved against the root.
 * Absolute URIs ({@code file:/data/images/cats/1.png}, {@code file:///data/...}) must name a path under it.
 *
 * <p>{@code
 * ImageRoot root = new ImageRoot(Path.of("/data/images"));
 * byte[] bytes = root.read("file:/data/images/cats/1.png", 8 << 20);
 * }
 */
public final class ImageRoot {

    private final Path root;

    /** @param root an existing directory; it is resolved to its absolute, normalised form */
    public ImageRoot(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    /**
     * Resolves {@code uri} to a real, regular file under the root.
     *
     * @throws RecordRejectedException {@code INVALID_FIELD} when the URI is not a {@code file:} URI of a local
     *         path; {@code IMAGE_UNREADABLE} when it leaves the root, does not exist, or is not a regular file
     */
    public Path resolve(String uri) throws RecordRejectedException {
        Path lexical = lexicalPath(uri);
        Path rootReal;
        try {
            rootReal = root.toRealPath();
        } catch (IOException e) {
            throw new RecordRejectedException(ErrorKind.IMAGE_UNREADABLE,
                    "image root " + root + " is not readable: " + e, e);
        }
        if (!lexical.startsWith(root) && !lexical.startsWith(rootReal)) {
            throw new RecordRejectedException(ErrorKind.IMAGE_UNREADABLE,
                    "image_uri '" + uri + "' resolves to " + lexical + ", outside the image root " + root);
        }
        Path real;
        try {
            real = lexical.toRealPath();
        } catch (NoSuchFileException e) {
            throw new RecordRejectedException(ErrorKind.IMAGE_UNREADABLE,
                    "image_uri '" + uri + "': no such file " + lexical, e);
        } catch (IOException e) {
            throw new RecordRejectedException(ErrorKind.IMAGE_UNREADABLE,
                    "image_uri '" + uri + "': cannot resolve " + lexical + ": " + e, e);
        }
        if (!real.startsWith(rootReal)) {
            throw new RecordRejectedException(ErrorKind.IMAGE_UNREADABLE, "image_uri '" + uri + "' resolves through a"
                    + " symbolic link to " + real + ", outside the image root " + rootReal);
        }
        if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
            throw new RecordRejectedException(ErrorKind.IMAGE_UNREADABLE,
                    "image_uri '" + uri + "' is not a regular file (" + real + ")");
        }
        return real;
    }

    /**
     * Resolves {@code uri} and reads at most {@code maxBytes} bytes.
     *
     * @throws RecordRejectedException as {@link #resolve}; {@code IMAGE_TOO_LARGE} over the limit,
     *         {@code IMAGE_UNREADABLE} on a read error
     */
    public byte[] read(String uri, long maxBytes) throws RecordRejectedException {
        Path file = resolve(uri);
        try {
            long size = Files.size(file);
            if (size > maxBytes) {
                throw tooLarge(uri, size, maxBytes);
            }
            try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                // the file may grow between size() and the read: never read past the limit
                byte[] bytes = in.readNBytes((int) Math.min(maxBytes + 1, Integer.MAX_VALUE - 8));
                if (bytes.length > maxBytes) {
                    throw tooLarge(uri, bytes.length, maxBytes);
                }
                return bytes;
            }
        } catch (AccessDeniedException e) {
            throw new RecordRejectedException(ErrorKind.IMAGE_UNREADABLE,
                    "image_uri '" + uri + "': permission denied reading " + file, e);
        } catch (IOException e) {
            throw new RecordRejectedException(ErrorKind.IMAGE_UNREADABLE,
                    "image_uri '" + uri + "': cannot read " + file + ": " + e, e);
        }
    }

    private static RecordRejectedException tooLarge(String uri, long size, long maxBytes) {
        return new RecordRejectedException(ErrorKind.IMAGE_TOO_LARGE,
                "image_uri '" + uri + "' is " + size + " bytes, limit is " + maxBytes);
    }

    /** The percent-decoded, normalised path the URI names (relative URIs against the root); no file access. */
    Path lexicalPath(String uri) throws RecordRejectedException {
        if (uri == null || !uri.startsWith("file:")) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                    "image_uri must be a file: URI (got '" + uri + "')");
        }
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                    "image_uri '" + uri + "' is not a valid URI: " + e.getMessage(), e);
        }
        String path;
        if (parsed.isOpaque()) {
            path = parsed.getSchemeSpecificPart();      // file:cats/1.png -> cats/1.png (decoded)
        } else {
            String authority = parsed.getRawAuthority();
            if (authority != null && !authority.isEmpty() && !authority.equalsIgnoreCase("localhost")) {
                throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                        "image_uri '" + uri + "' names host '" + authority + "'; only local files are read");
            }
            path = parsed.getPath();
        }
        if (uri.indexOf('?') >= 0 || uri.indexOf('#') >= 0) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                    "image_uri '" + uri + "' has a query or fragment; a file: URI names a path only");
        }
        if (path == null || path.isEmpty()) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD, "image_uri '" + uri + "' names no path");
        }
        if (path.indexOf('\0') >= 0) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD, "image_uri '" + uri + "' contains a NUL byte");
        }
        try {
            Path p = Path.of(path);
            return (p.isAbsolute() ? p : root.resolve(p)).normalize();
        } catch (InvalidPathException e) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                    "image_uri '" + uri + "' is not a valid path: " + e.getMessage(), e);
        }
    }
}
