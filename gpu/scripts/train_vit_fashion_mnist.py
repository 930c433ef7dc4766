#!/usr/bin/python3
"""Train a small Vision Transformer on Fashion-MNIST and export it for Inflow.

Run with Debian's own python3 (apt-get install python3-torch python3-onnx dataset-fashion-mnist):

    /usr/bin/python3 gpu/scripts/train_vit_fashion_mnist.py \
        --out gpu/src/main/resources/models/vit-fashion-mnist \
        --sample-out gpu/src/test/resources/fashion-mnist

The model follows the Hugging Face ViT layout (ViTForImageClassification state-dict names, pre-LN blocks,
exact erf GELU, class token, learned position embeddings, final LayerNorm, classifier on the CLS token), so the
same names load in the Java encoder and in `transformers` (config.json is ViTConfig-like).

Outputs in --out:
  model.safetensors   all weights, F32 little-endian, HF ViT names (written by this script, no extra package)
  config.json         ViTConfig-like: sizes, id2label, preprocessing (mean/std, interpolation, channels)
  model.onnx          input pixel_values float [b, 1, 28, 28]; outputs last_hidden_state [b, 17|50, d], logits [b, 10]
  training.json       figures of this run: seed, epochs, seconds, t10k top-1, per-epoch log
Outputs in --sample-out (tests): the first N t10k images and labels as IDX files (uncompressed).

Reproducibility: fixed seed, torch.use_deterministic_algorithms(True), a fixed number of intra-op threads
(--threads, default 1). The same torch build, seed and thread count give the same weights.
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
# Fashion-MNIST training-split statistics of pixel/255 (rounded; the exact values are what config.json says).
MEAN = 0.2860
STD = 0.3530


# ---------------------------------------------------------------------------------------------- data

def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def write_idx(path, arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(struct.pack(">I", 0x0800 | arr.ndim))
        f.write(struct.pack(">" + "I" * arr.ndim, *arr.shape))
        f.write(arr.tobytes())


def load_split(data_dir, split):
    images = read_idx(os.path.join(data_dir, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{split}-labels-idx1-ubyte.gz"))
    return images, labels


def normalize(images_u8):
    """uint8 [n, 28, 28] -> float32 [n, 1, 28, 28], (x/255 - mean) / std: what ImagePreprocessor computes."""
    x = torch.from_numpy(images_u8.astype(np.float32) / 255.0).unsqueeze(1)
    return (x - MEAN) / STD


def random_crop_flip(x, pad, gen):
    """Random crop with zero padding (in pixel space: background 0 normalises to -mean/std) and horizontal flip."""
    b, c, h, w = x.shape
    fill = -MEAN / STD
    xp = F.pad(x, (pad, pad, pad, pad), value=fill)
    oy = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    ox = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    rows = oy[:, None] + torch.arange(h)[None, :]          # [b, h]
    cols = ox[:, None] + torch.arange(w)[None, :]          # [b, w]
    flip = torch.rand(b, generator=gen) < 0.5
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    bi = torch.arange(b)[:, None, None]
    out = xp[bi, 0, rows[:, :, None], cols[:, None, :]]    # [b, h, w]
    return out.unsqueeze(1).contiguous()


# --------------------------------------------------------------------------------------------- model
# Module names mirror transformers' ViTForImageClassification so the state dict has HF names.

class PatchProjection(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.projection = nn.Conv2d(cfg["num_channels"], cfg["hidden_size"],
                                    kernel_size=cfg["patch_size"], stride=cfg["patch_size"])

    def forward(self, x):
        return self.projection(x).flatten(2).transpose(1, 2)   # [b, patches, d], patches row-major


class Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        n = (cfg["image_size"] // cfg["patch_size"]) ** 2
        d = cfg["hidden_size"]
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.position_embeddings = nn.Parameter(torch.zeros(1, n + 1, d))
        self.patch_embeddings = PatchProjection(cfg)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.position_embeddings, std=0.02)

    def forward(self, x):
        p = self.patch_embeddings(x)
        cls = self.cls_token.expand(p.shape[0], -1, -1)
        return torch.cat([cls, p], dim=1) + self.position_embeddings


class SelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["hidden_size"]
        self.heads = cfg["num_attention_heads"]
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)

    def forward(self, x):
        b, s, d = x.shape
        hd = d // self.heads

        def split(t):
            return t.view(b, s, self.heads, hd).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)
        ctx = torch.matmul(scores.softmax(dim=-1), v)
        return ctx.transpose(1, 2).reshape(b, s, d)


class Dense(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)

    def forward(self, x):
        return self.dense(x)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = SelfAttention(cfg)
        self.output = Dense(cfg["hidden_size"], cfg["hidden_size"])

    def forward(self, x):
        return self.output(self.attention(x))


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, m, eps = cfg["hidden_size"], cfg["intermediate_size"], cfg["layer_norm_eps"]
        self.layernorm_before = nn.LayerNorm(d, eps=eps)
        self.attention = Attention(cfg)
        self.layernorm_after = nn.LayerNorm(d, eps=eps)
        self.intermediate = Dense(d, m)
        self.output = Dense(m, d)

    def forward(self, x):
        x = x + self.attention(self.layernorm_before(x))
        h = F.gelu(self.intermediate(self.layernorm_after(x)))    # exact (erf) GELU
        return x + self.output(h)


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([Layer(cfg) for _ in range(cfg["num_hidden_layers"])])

    def forward(self, x):
        for layer in self.layer:
            x = layer(x)
        return x


class ViTModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = Embeddings(cfg)
        self.encoder = Encoder(cfg)
        self.layernorm = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])

    def forward(self, x):
        return self.layernorm(self.encoder(self.embeddings(x)))


class ViTForImageClassification(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.vit = ViTModel(cfg)
        self.classifier = nn.Linear(cfg["hidden_size"], cfg["num_labels"])
        for name, mod in self.named_modules():
            if isinstance(mod, nn.Linear):
                nn.init.trunc_normal_(mod.weight, std=0.02)
                nn.init.zeros_(mod.bias)

    def forward(self, pixel_values):
        h = self.vit(pixel_values)
        return h, self.classifier(h[:, 0])     # last_hidden_state, logits (CLS pooling)


# -------------------------------------------------------------------------------------------- export

def write_safetensors(path, state_dict, metadata):
    """safetensors: u64 LE header length, JSON header (dtype, shape, data_offsets), raw LE data; 8-byte aligned."""
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name in sorted(state_dict):
        t = state_dict[name].detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4")
        raw = t.tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def evaluate(model, x, y, batch=500):
    model.eval()
    correct = 0
    preds = []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            _, logits = model(x[i:i + batch])
            p = logits.argmax(dim=1)
            preds.append(p)
            correct += (p == y[i:i + batch]).sum().item()
    return correct / x.shape[0], torch.cat(preds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", required=True)
    ap.add_argument("--sample-out", default=None)
    ap.add_argument("--sample-size", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--warmup-epochs", type=float, default=0.5)
    ap.add_argument("--patch", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--mlp", type=int, default=256)
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--augment", type=int, default=0, help="1: random crop (pad 2) + horizontal flip, 0: none")
    ap.add_argument("--limit-train", type=int, default=0, help="use only the first N training images (timing)")
    ap.add_argument("--time-only", action="store_true", help="time 20 steps and exit")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(args.seed + 1)

    cfg = {
        "model_type": "vit",
        "architectures": ["ViTForImageClassification"],
        "hidden_size": args.hidden,
        "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads,
        "intermediate_size": args.mlp,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "layer_norm_eps": 1e-12,
        "image_size": 28,
        "patch_size": args.patch,
        "num_channels": 1,
        "qkv_bias": True,
        "num_labels": len(LABELS),
        "id2label": {str(i): l for i, l in enumerate(LABELS)},
        "label2id": {l: i for i, l in enumerate(LABELS)},
        "pooling": "cls",
        "preprocessing": {
            "color_mode": "grayscale",
            "do_resize": True,
            "size": {"height": 28, "width": 28},
            "interpolation": "bilinear",
            "do_center_crop": False,
            "rescale_factor": 1.0 / 255.0,
            "image_mean": [MEAN],
            "image_std": [STD],
            "note": "pixel_values = (gray/255 - mean) / std, gray from RGB as ITU-R 601-2 luma (PIL 'L'); "
                    "Fashion-MNIST images are dark background, light garment, 28x28",
        },
        "torch_dtype": "float32",
    }

    x_train_u8, y_train_np = load_split(args.data, "train")
    x_test_u8, y_test_np = load_split(args.data, "t10k")
    if args.limit_train:
        x_train_u8, y_train_np = x_train_u8[:args.limit_train], y_train_np[:args.limit_train]
    x_train, y_train = normalize(x_train_u8), torch.from_numpy(y_train_np.astype(np.int64))
    x_test, y_test = normalize(x_test_u8), torch.from_numpy(y_test_np.astype(np.int64))

    model = ViTForImageClassification(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params}, torch {torch.__version__}, threads {torch.get_num_threads()}", flush=True)

    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "position" not in n and "cls" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "position" not in n and "cls" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.999))
    n = x_train.shape[0]
    steps_per_epoch = n // args.batch
    total = steps_per_epoch * args.epochs
    warm = int(args.warmup_epochs * steps_per_epoch)

    def lr_at(step):
        if step < warm:
            return args.lr * (step + 1) / warm
        return 0.5 * args.lr * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    log = []
    step = 0
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        te = time.time()
        loss_sum = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * args.batch:(i + 1) * args.batch]
            xb = random_crop_flip(x_train[idx], 2, gen) if args.augment else x_train[idx]
            yb = y_train[idx]
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            _, logits = model(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=args.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            loss_sum += loss.item()
            step += 1
            if args.time_only and i == 19:
                dt = time.time() - te
                print(f"20 steps {dt:.2f}s -> epoch of {steps_per_epoch} steps ~{dt / 20 * steps_per_epoch:.0f}s",
                      flush=True)
                return
        acc, _ = evaluate(model, x_test, y_test)
        entry = {"epoch": epoch + 1, "loss": round(loss_sum / steps_per_epoch, 4), "t10k_top1": acc,
                 "epoch_seconds": round(time.time() - te, 1)}
        log.append(entry)
        print(json.dumps(entry), flush=True)

    train_seconds = time.time() - t0
    acc, preds = evaluate(model, x_test, y_test)
    k = args.sample_size
    sample_acc = (preds[:k] == y_test[:k]).float().mean().item()
    print(f"t10k top-1 {acc:.4f} (first {k}: {sample_acc:.4f}), {train_seconds:.0f}s", flush=True)

    os.makedirs(args.out, exist_ok=True)
    model.eval()
    sd = model.state_dict()
    write_safetensors(os.path.join(args.out, "model.safetensors"), sd, {"format": "pt"})
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")

    onnx_path = os.path.join(args.out, "model.onnx")
    torch.onnx.export(model, x_test[:2], onnx_path, input_names=["pixel_values"],
                      output_names=["last_hidden_state", "logits"],
                      dynamic_axes={"pixel_values": {0: "batch"}, "last_hidden_state": {0: "batch"},
                                    "logits": {0: "batch"}},
                      opset_version=14, do_constant_folding=True)
    import onnx
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)

    with torch.no_grad():
        h, logits = model(x_test[:k])
    summary = {
        "seed": args.seed, "threads": args.threads, "torch": torch.__version__, "params": n_params,
        "epochs": args.epochs, "batch": args.batch, "lr": args.lr, "weight_decay": args.weight_decay,
        "warmup_epochs": args.warmup_epochs, "label_smoothing": args.label_smoothing,
        "augmentation": "random crop pad 2 + hflip" if args.augment else "none",
        "train_seconds": round(train_seconds), "t10k_top1": acc, "t10k_first_%d_top1" % k: sample_acc,
        "t10k_first_%d_correct" % k: int((preds[:k] == y_test[:k]).sum().item()),
        "t10k_correct": int((preds == y_test).sum().item()),
        "reference_first_image": {"label": int(y_test[0]), "logits": [round(v, 6) for v in logits[0].tolist()],
                                  "cls_hidden_first8": [round(v, 6) for v in h[0, 0, :8].tolist()]},
        "log": log,
    }
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")

    if args.sample_out:
        os.makedirs(args.sample_out, exist_ok=True)
        write_idx(os.path.join(args.sample_out, f"t10k-first{k}-images-idx3-ubyte"), x_test_u8[:k])
        write_idx(os.path.join(args.sample_out, f"t10k-first{k}-labels-idx1-ubyte"), y_test_np[:k])
        # predictions of the trained model on the sample, for Java parity tests
        write_idx(os.path.join(args.sample_out, f"t10k-first{k}-vit-predictions-idx1-ubyte"),
                  preds[:k].numpy().astype(np.uint8))
    print("done", flush=True)


if __name__ == "__main__":
    sys.exit(main())
