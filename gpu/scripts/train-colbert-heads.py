#!/usr/bin/env python3
"""Trains the six ColBERT projection heads of all-minilm-l6-v2 (384 -> 384) on WordNet lemma -> gloss pairs.

The variants of "Simple Projection Variants Improve ColBERT Performance" in miniature:

  linear            out = x W^T + b                                  linear.weight [384,384], linear.bias
  linear-residual   out = x W^T + b + x
  ffn               out = down(gelu(up(x)))          (768 = 2x)      ffn.up.weight [768,384], ffn.up.bias,
  ffn-residual      out = down(gelu(up(x))) + x                      ffn.down.weight [384,768], ffn.down.bias
  glu               [a | b] = in(x); out = out(a * gelu(b))  (768)   glu.in.weight [1536,384], glu.in.bias,
  glu-residual      ... + x                                          glu.out.weight [384,768], glu.out.bias

exactly the math and tensor names of io.inflow.gpu.head.{LinearHead, FfnHead, GluHead} (GELU in its erf form; the
GLU's first half is the value, the second half goes through the gate). The heads run on the raw last-layer states
of every token (what TextEncoder.encodeWithTokens passes to a head); their outputs are L2-normalised per token.

Loss: InfoNCE over MaxSim scores with in-batch negatives. For a batch of B (lemma, gloss) pairs, score(q, d) =
sum over q's tokens of the max over d's tokens of the cosine (after the head); loss = cross-entropy of
score / temperature over the B glosses, the pair's own gloss being the target.

Init: the residual variants start as the identity (their last layer is zero); linear starts as a random orthogonal
matrix (cosines preserved, so it starts at the no-head quality); ffn and glu start with PyTorch's default init.

Data: the export of io.inflow.e2e.bench.HeadTrainingData (the WordNet training split, never the held-out split of
RetrievalQuality). Every 40th pair of it is kept aside as a dev set (MRR@10 among the dev glosses, logged per epoch).

Reproducibility: fixed seed (each head starts from it), torch.use_deterministic_algorithms(True), one thread
(--threads; OpenBLAS and OpenMP pools pinned to 1), fixed data order (a seeded permutation per epoch), CPU only.
Debian python3-torch (1.13), numpy; no other package. With Debian's reference BLAS (BLAS_INFO=generic) the
products are slow: `apt-get install libopenblas0-pthread` switches libblas.so.3 to OpenBLAS (what the committed
heads were trained with). Heads are independent: --variants splits them over processes. Each writes
<variant>.safetensors and <variant>.training.json (settings, loss and dev MRR@10 per epoch, seconds).

  mvn -B -q -pl e2e-tests -am -Pbench -DskipTests process-test-classes \\
      -Dbench.main=io.inflow.e2e.bench.HeadTrainingData -Dbench.args="/tmp/colbert-heads-data cap=20000"
  python3 gpu/scripts/train-colbert-heads.py --data /tmp/colbert-heads-data \\
      --out gpu/src/main/resources/models/colbert-heads/all-minilm-l6-v2
"""

import argparse
import json
import math
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # torch's own thread count below; no second pool under it
os.environ.setdefault("OMP_NUM_THREADS", "1")
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F

VARIANTS = ["linear", "linear-residual", "ffn", "ffn-residual", "glu", "glu-residual"]


class Head(torch.nn.Module):
    def __init__(self, kind, residual, dim, hidden):
        super().__init__()
        self.kind = kind
        self.residual = residual
        if kind == "linear":
            self.linear = torch.nn.Linear(dim, dim)
            if residual:
                torch.nn.init.zeros_(self.linear.weight)
            else:
                torch.nn.init.orthogonal_(self.linear.weight)
            torch.nn.init.zeros_(self.linear.bias)
        elif kind == "ffn":
            self.up = torch.nn.Linear(dim, hidden)
            self.down = torch.nn.Linear(hidden, dim)
            if residual:
                torch.nn.init.zeros_(self.down.weight)
                torch.nn.init.zeros_(self.down.bias)
        elif kind == "glu":
            self.inp = torch.nn.Linear(dim, 2 * hidden)
            self.out = torch.nn.Linear(hidden, dim)
            if residual:
                torch.nn.init.zeros_(self.out.weight)
                torch.nn.init.zeros_(self.out.bias)
        else:
            raise ValueError(kind)

    def forward(self, x):
        if self.kind == "linear":
            y = self.linear(x)
        elif self.kind == "ffn":
            y = self.down(F.gelu(self.up(x)))          # erf GELU, as ActivationsReference.gelu
        else:
            a, b = self.inp(x).chunk(2, dim=-1)          # [a | b]: value first, gate second
            y = self.out(a * F.gelu(b))
        return y + x if self.residual else y

    def tensors(self):
        """The tensors under the names the Java heads read."""
        if self.kind == "linear":
            return {"linear.weight": self.linear.weight, "linear.bias": self.linear.bias}
        if self.kind == "ffn":
            return {"ffn.up.weight": self.up.weight, "ffn.up.bias": self.up.bias,
                    "ffn.down.weight": self.down.weight, "ffn.down.bias": self.down.bias}
        return {"glu.in.weight": self.inp.weight, "glu.in.bias": self.inp.bias,
                "glu.out.weight": self.out.weight, "glu.out.bias": self.out.bias}


def write_safetensors(path, tensors, metadata):
    """safetensors: u64 LE header length, JSON header (dtype, shape, data_offsets), raw LE F16 data; 8-byte aligned."""
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous().cpu().numpy().astype("<f2")
        raw = t.tobytes()
        header[name] = {"dtype": "F16", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F16", e
        b, end = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype="<f2").astype(np.float32).reshape(e["shape"]))
    return out


def reference(out_dir, dim, hidden):
    """Each committed head on a fixed input x[j] = 0.5 sin(0.7 j + 1): the first outputs and the output's norm, the
    values BundledHeadsTest expects from the Java heads (an independent check of names, halves, GELU, residual)."""
    x = 0.5 * torch.sin(0.7 * torch.arange(dim, dtype=torch.float64) + 1).to(torch.float32)
    for variant in VARIANTS:
        kind, residual = variant.split("-")[0], variant.endswith("-residual")
        head = Head(kind, residual, dim, hidden)
        with torch.no_grad():
            for name, t in read_safetensors(os.path.join(out_dir, variant + ".safetensors")).items():
                head.tensors()[name].copy_(t)
            y = head(x[None, :])[0]
        print(f"{variant}: norm {y.norm().item():.6f} first {[round(v, 6) for v in y[:4].tolist()]}")


def load(data):
    with open(os.path.join(data, "index.json")) as f:
        index = json.load(f)
    dim = index["dim"]

    def side(values, offsets):
        v = np.fromfile(os.path.join(data, values), dtype="<f2").astype(np.float32).reshape(-1, dim)
        off = np.fromfile(os.path.join(data, offsets), dtype="<i4").astype(np.int64)
        return torch.from_numpy(v), off

    q, qo = side(index["files"]["queries"], index["files"]["queryOffsets"])
    d, do = side(index["files"]["docs"], index["files"]["docOffsets"])
    return index, q, qo, d, do


def pack(values, offsets, items):
    """The tokens of the given items back to back [T, dim], and for each item its token positions padded with T
    (a slot that will hold -inf) [n, L], and each token's item [T]."""
    idx = [torch.arange(int(offsets[i]), int(offsets[i + 1])) for i in items]
    tokens = values[torch.cat(idx)]
    L = max(len(t) for t in idx)
    slots = torch.full((len(items), L), tokens.shape[0], dtype=torch.long)
    owner = torch.empty(tokens.shape[0], dtype=torch.long)
    at = 0
    for k, t in enumerate(idx):
        slots[k, :len(t)] = torch.arange(at, at + len(t))
        owner[at:at + len(t)] = k
        at += len(t)
    return tokens, slots, owner


def maxsim(q, qowner, nq, d, dslots):
    """scores [nq, nd]: for each query, the sum over its tokens of the max over each document's tokens of q . d.
    Packed: one [Tq, Td] product, no padding in it; the per-document max reads it through dslots (padding -> -inf)."""
    sim = q @ d.T                                                    # [Tq, Td]
    sim = torch.cat([sim, torch.full((sim.shape[0], 1), -1e4)], dim=1)
    best = sim[:, dslots].max(dim=2).values                          # [Tq, nd]
    onehot = (qowner[None, :] == torch.arange(nq)[:, None]).to(best.dtype)   # [nq, Tq]
    return onehot @ best


def encode(head, x):
    y = head(x) if head is not None else x
    return F.normalize(y, dim=-1)


def dev_mrr(head, dev, q, qo, d, do, chunk=100):
    with torch.no_grad():
        dt, dslots, _ = pack(d, do, dev)
        dh = encode(head, dt)
        rr = 0.0
        for s in range(0, len(dev), chunk):
            items = dev[s:s + chunk]
            qt, _, qowner = pack(q, qo, items)
            scores = maxsim(encode(head, qt), qowner, len(items), dh, dslots)
            own = scores[torch.arange(len(items)), torch.arange(s, s + len(items))]
            rank = (scores > own[:, None]).sum(dim=1)           # 0-based rank of the relevant gloss
            rr += torch.where(rank < 10, 1.0 / (rank + 1).float(), torch.zeros_like(own)).sum().item()
        return rr / len(dev)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="/tmp/colbert-heads-data")
    p.add_argument("--out", default="gpu/src/main/resources/models/colbert-heads/all-minilm-l6-v2")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--seed", type=int, default=20250412)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--temperature", type=float, default=0.05)
    p.add_argument("--hidden", type=int, default=768)
    p.add_argument("--dev-every", type=int, default=40)
    p.add_argument("--reference", action="store_true", help="print the committed heads' outputs on a fixed input")
    args = p.parse_args()
    if args.reference:
        reference(args.out, 384, args.hidden)
        return

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    index, q, qo, d, do = load(args.data)
    n = index["count"]
    dim = index["dim"]
    dev = [i for i in range(n) if i % args.dev_every == args.dev_every - 1]
    train = [i for i in range(n) if i % args.dev_every != args.dev_every - 1]
    print(f"{n} pairs ({len(train)} train, {len(dev)} dev), {q.shape[0]} query tokens, {d.shape[0]} doc tokens, "
          f"dim {dim}; torch {torch.__version__}, {args.threads} threads", flush=True)
    os.makedirs(args.out, exist_ok=True)
    base = dev_mrr(None, dev, q, qo, d, do)
    print(f"no head: dev MRR@10 {base:.4f}", flush=True)
    log = {"seed": args.seed, "threads": args.threads, "torch": torch.__version__, "epochs": args.epochs,
           "batch": args.batch, "lr": args.lr, "schedule": "AdamW, linear warmup 100 steps, cosine decay to 0",
           "weight_decay": 0.0, "temperature": args.temperature, "hidden": args.hidden,
           "pairs": n, "train_pairs": len(train), "dev_pairs": len(dev), "data": index["split"],
           "dev_mrr10_no_head": round(base, 4)}
    for variant in args.variants.split(","):
        kind, residual = variant.split("-")[0], variant.endswith("-residual")
        torch.manual_seed(args.seed)
        head = Head(kind, residual, dim, args.hidden)
        params = sum(t.numel() for t in head.parameters())
        opt = torch.optim.AdamW(head.parameters(), lr=args.lr, weight_decay=0.0)
        steps = args.epochs * math.ceil(len(train) / args.batch)
        warmup = min(100, steps // 10)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / warmup if s < warmup
                                                  else 0.5 * (1 + math.cos(math.pi * (s - warmup) / (steps - warmup))))
        gen = torch.Generator().manual_seed(args.seed)
        t0 = time.time()
        entry = {"params": params, "dev_mrr10_init": round(dev_mrr(head, dev, q, qo, d, do), 4), "epochs": []}
        print(f"{variant}: {params} parameters, dev MRR@10 at init {entry['dev_mrr10_init']:.4f}", flush=True)
        for epoch in range(args.epochs):
            head.train()
            order = [train[i] for i in torch.randperm(len(train), generator=gen).tolist()]
            total, batches = 0.0, 0
            for s in range(0, len(order) - args.batch + 1, args.batch):   # whole batches only
                items = order[s:s + args.batch]
                qt, _, qowner = pack(q, qo, items)
                dt, dslots, _ = pack(d, do, items)
                scores = maxsim(encode(head, qt), qowner, len(items), encode(head, dt), dslots)
                loss = F.cross_entropy(scores / args.temperature, torch.arange(len(items)))
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total += loss.item()
                batches += 1
            head.eval()
            mrr = dev_mrr(head, dev, q, qo, d, do)
            e = {"epoch": epoch + 1, "loss": round(total / batches, 4), "dev_mrr10": round(mrr, 4),
                 "seconds": round(time.time() - t0, 1)}
            entry["epochs"].append(e)
            print(f"{variant}: epoch {epoch + 1} loss {e['loss']:.4f} dev MRR@10 {mrr:.4f} ({e['seconds']} s)",
                  flush=True)
        entry["train_seconds"] = round(time.time() - t0, 1)
        meta = {"format": "pt", "head": kind, "residual": str(residual).lower(), "hidden": str(args.hidden),
                "model": "all-minilm-l6-v2", "seed": str(args.seed), "script": "gpu/scripts/train-colbert-heads.py"}
        write_safetensors(os.path.join(args.out, variant + ".safetensors"), head.tensors(), meta)
        with open(os.path.join(args.out, variant + ".training.json"), "w") as f:
            json.dump(dict(log, variant=variant, **entry), f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
