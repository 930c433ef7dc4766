#!/usr/bin/env python3
"""Writes the bundled image sample of the demo into jobs/src/main/resources/sample/ (Python 3 standard library only).

- image-events.jsonl: 200 image events with inline PNGs, Fashion-MNIST t10k images 0..199 (labels in attributes);
- images/: 12 PNG files (t10k images 200..211) that the demo copies into its image root and sends as file: URIs;
- broken-images/: 12 image events that must be dead-lettered, one per file, index.txt naming the expected kind.

The source is the 1,000-image t10k sample in gpu/src/test/resources/fashion-mnist (Debian dataset-fashion-mnist,
MIT). Deterministic: the same bytes on every run.

    python3 jobs/scripts/make-sample-images.py        # from the repository root
"""
import base64
import json
import os
import random
import struct
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "gpu/src/test/resources/fashion-mnist")
OUT = os.path.join(ROOT, "jobs/src/main/resources/sample")
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
INLINE = 200
FILES = 12
EVENT_TIME = 1732400000000


def idx(path, magic):
    with open(path, "rb") as f:
        data = f.read()
    assert struct.unpack(">I", data[:4])[0] == magic, path
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_gray(width, height, pixels, level=9):
    raw = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, level))
            + chunk(b"IEND", b""))


def event(id_, attributes, b64=None, uri=None, content_type=None, t=0):
    e = {"type": "image", "version": 1, "id": id_}
    if b64 is not None:
        e["image_base64"] = b64
    if uri is not None:
        e["image_uri"] = uri
    if content_type:
        e["content_type"] = content_type
    e["event_time"] = EVENT_TIME + t
    e["attributes"] = attributes
    return json.dumps(e, ensure_ascii=False, separators=(",", ":"))


def main():
    (n, h, w), pixels = idx(os.path.join(SRC, "t10k-first1000-images-idx3-ubyte"), 0x803)
    (_,), labels = idx(os.path.join(SRC, "t10k-first1000-labels-idx1-ubyte"), 0x801)
    image = lambda i: png_gray(w, h, pixels[i * h * w:(i + 1) * h * w])
    attrs = lambda i: {"source": "fashion-mnist-t10k", "t10k_index": str(i), "label": LABELS[labels[i]]}

    with open(os.path.join(OUT, "image-events.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for i in range(INLINE):
            png = base64.b64encode(image(i)).decode("ascii")
            f.write(event("image-%05d" % (i + 1), attrs(i), b64=png, content_type="image/png", t=2000 * i) + "\n")

    os.makedirs(os.path.join(OUT, "images"), exist_ok=True)
    names = []
    for i in range(INLINE, INLINE + FILES):
        name = "t10k-%05d.png" % i
        with open(os.path.join(OUT, "images", name), "wb") as f:
            f.write(image(i))
        names.append("%s %d %s" % (name, i, LABELS[labels[i]].replace(" ", "_")))
    with open(os.path.join(OUT, "images", "index.txt"), "w", newline="\n") as f:
        f.write("# file t10k_index label (spaces in labels as _); the demo sends each as a file: URI\n")
        f.write("\n".join(names) + "\n")

    good = image(0)
    rng = random.Random(20241123)
    bomb = png_gray(5000, 5000, bytes(5000 * 5000))  # a real 25-megapixel image, about 25 KB compressed
    header_bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0))
                   + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    gif = b"GIF89a" + struct.pack("<HH", 28, 28) + b"\xf0\x00\x00" + bytes(6) + b"\x2c" + bytes(8)
    b64 = lambda data: base64.b64encode(data).decode("ascii")
    broken = [
        ("01-truncated-png", "image_corrupt", dict(b64=b64(good[:len(good) // 2]), content_type="image/png")),
        ("02-tiff", "image_unsupported", dict(b64=b64(b"II*\x00\x08\x00\x00\x00" + bytes(64)))),
        ("03-random-bytes", "image_unsupported", dict(b64=b64(bytes(rng.randrange(256) for _ in range(512))))),
        ("04-header-bomb-png", "image_too_large", dict(b64=b64(header_bomb), content_type="image/png")),
        ("05-compressed-bomb-png", "image_too_large", dict(b64=b64(bomb), content_type="image/png")),
        ("06-corrupt-jpeg", "image_corrupt",
         dict(b64=b64(b"\xff\xd8\xff\xe0" + bytes(rng.randrange(256) for _ in range(300))), content_type="image/jpeg")),
        ("07-truncated-gif", "image_corrupt", dict(b64=b64(gif), content_type="image/gif")),
        ("08-file-outside-root", "image_unreadable", dict(uri="file:/etc/passwd")),
        ("09-file-escaping-root", "image_unreadable", dict(uri="file:{root}/../../etc/passwd")),
        ("10-file-missing", "image_unreadable", dict(uri="file:{root}/no-such-image.png")),
        ("11-empty-png", "image_corrupt", dict(b64=b64(b"\x89PNG\r\n\x1a\n"), content_type="image/png")),
        ("12-no-image", "missing_field", dict()),
    ]
    os.makedirs(os.path.join(OUT, "broken-images"), exist_ok=True)
    lines = ["# file expected_dead_letter_kind; {root} in a file is replaced by the demo's image root"]
    for name, kind, payload in broken:
        with open(os.path.join(OUT, "broken-images", name + ".json"), "w", newline="\n") as f:
            f.write(event("broken-" + name, {"source": "broken-sample", "expect": kind}, **payload) + "\n")
        lines.append("%s.json %s" % (name, kind))
    with open(os.path.join(OUT, "broken-images", "index.txt"), "w", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d inline image events, %d image files, %d broken image events" % (INLINE, FILES, len(broken)))


if __name__ == "__main__":
    main()
