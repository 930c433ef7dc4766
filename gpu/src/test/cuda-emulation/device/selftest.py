#!/usr/bin/env python3
"""selftest.py: builds the CUDA emulator (build.sh) and checks it through its protocol against small pure-Python
references (no third-party packages):

  memory     ALLOC / HTOD / DTOH / DTOD / MEMSET / FREE, 0xff-filled allocations, range errors that keep the stream
  add_f32    bit-exact float32 sums
  layernorm  layernorm_f32 with and without residual (double reference), extra blocks past the last row
  gemm       gemm_bf16_f32 / gemm_f16_f32, both B layouts, all epilogues, edge sizes; a float64 reference of the
             rounded inputs within K * 2^-24 * sum |a||b| (FP32 accumulation); exact ties that must round to even;
             round_*_f32 (round to even, bit for bit) and gemm_*_f32_w16 on its output equal to the f32 kernels
  prim       prim_step_f32 launched n - 1 times as CudaClusteringOps does: integer points (exact keys, many ties),
             the edges must equal Prim in Python edge for edge (smaller index on ties)
  topk       topk_slice_f32 over two chunks (three slices and one) + topk_merge, launch plan as RetrievalKernel.plan:
             integer vectors (exact dots, ties by tie key, chunk, row), deleted rows, a filtered query
  errors     argument count / kind / pointer mismatches, bad block sizes, launch bounds, unknown kernel: reported
  quant      every quant.cu kernel against a Python port of the Java integer definitions (IntegerOps, Dyadic, Requant
             with Java's 64-bit wrap-around): bit-exact, edge sizes, every output type, int32 saturation
  others     every other kernel of gpu/src/main/cuda once, against a reference (bit-exact where the arithmetic is)
  timing     one 256 x 384 x 384 gemm_bf16_f32 launch and one layernorm_f32 launch of 512 rows of 384
  semantics  selftest/semantics.cu on an emulator of its own: lanes leaving right after a shuffle, exited lanes,
             shuffle widths, votes, early returns before __syncthreads, atomics, NaN shared memory in every block,
             WMMA column-major tiles, WMMA s8 tiles (int32 wrap-around), 1024-thread blocks, a spin-wait with
             __nanosleep; diverging collectives, a deadlock and __trap reported; planted missing barriers (a tile
             read after only a warp collective, a buffer rewritten before the other warps read it) give wrong
             results; an endless loop and threads that only yield to each other (the watchdog) and a stack overflow
             end their emulator with an error response
  planted    gemm.cu built without the __syncthreads between writing its shared tiles and the WMMA loads (the
             mutation of EmulatorMutationTest), and without the one before the next K step overwrites the tiles:
             each must fail the gemm check

Every check must also pass with EMU_SCHEDULE_FUZZ=<seed> (random scheduling) and EMU_ASAN=1 (AddressSanitizer
builds) in the environment.

usage: selftest.py [--build-dir DIR] [--binary PATH]     (exit status 0 when everything passes)
"""
import argparse
import math
import os
import random
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GPU = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))

PTR, I32, I64, F32 = 0, 1, 2, 3


class EmulatorError(Exception):
    pass


class Emulator:
    """A client of the cuda_emulator protocol (README.md)."""

    def __init__(self, binary, env=None):
        self.p = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

    def _send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def _read(self, n):
        data = self.p.stdout.read(n)
        if len(data) != n:
            raise EmulatorError(f'the emulator exited (code {self.p.poll()})')
        return data

    def _status(self):
        if self._read(1)[0] != 0:
            n = struct.unpack('<I', self._read(4))[0]
            raise EmulatorError(self._read(n).decode())

    def alloc(self, n):
        self._send(struct.pack('<BQ', 1, n))
        self._status()
        return struct.unpack('<Q', self._read(8))[0]

    def free(self, a):
        self._send(struct.pack('<BQ', 2, a))
        self._status()

    def htod(self, a, data):
        self._send(struct.pack('<BQQ', 3, a, len(data)) + data)
        self._status()

    def dtoh(self, a, n):
        self._send(struct.pack('<BQQ', 4, a, n))
        self._status()
        return self._read(n)

    def dtod(self, dst, src, n):
        self._send(struct.pack('<BQQQ', 5, dst, src, n))
        self._status()

    def memset(self, a, value, n):
        self._send(struct.pack('<BQBQ', 6, a, value, n))
        self._status()

    def launch(self, name, grid, block, shared, args):
        b = name.encode()
        req = struct.pack('<BH', 7, len(b)) + b + struct.pack('<6I', *grid, block, shared, len(args))
        for kind, value in args:
            if kind == F32:
                value = struct.unpack('<I', struct.pack('<f', value))[0]
            req += struct.pack('<BQ', kind, value & 0xffffffffffffffff)
        self._send(req)
        self._status()

    def ping(self):
        self._send(bytes([8]))
        self._status()

    def quit(self):
        self._send(bytes([9]))
        self._status()
        return self.p.wait(10)

    # typed helpers
    def upload(self, fmt, values):
        data = struct.pack(f'<{len(values)}{fmt}', *values)
        a = self.alloc(max(1, len(data)))
        self.htod(a, data)
        return a

    def download(self, fmt, a, n):
        return list(struct.unpack(f'<{n}{fmt}', self.dtoh(a, n * struct.calcsize(fmt))))


# ---- float helpers -----------------------------------------------------------------------------------------------

def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def f32_bits(x):
    return struct.unpack('<I', struct.pack('<f', x))[0]


def from_bits(b):
    return struct.unpack('<f', struct.pack('<I', b))[0]


def bf16(x):
    b = f32_bits(x)
    b = (b + 0x7fff + ((b >> 16) & 1)) & 0xffff0000
    return from_bits(b)


def f16(x):
    return struct.unpack('<e', struct.pack('<e', x))[0]


U = 2.0 ** -24
failures = []


quiet = []   # non-empty while failures are the expected outcome (planted bugs): not printed


def check(cond, message):
    if not cond:
        failures.append(message)
        if not quiet:
            print('  FAIL: ' + message)


# ---- tests -------------------------------------------------------------------------------------------------------

def test_memory(emu):
    a = emu.alloc(64)
    check(emu.dtoh(a, 64) == b'\xff' * 64, 'a new allocation reads as 0xff bytes')
    check(a % 256 == 0, 'allocations are 256-byte aligned')
    emu.htod(a + 8, bytes(range(16)))
    check(emu.dtoh(a + 8, 16) == bytes(range(16)), 'HTOD / DTOH at an offset')
    emu.dtod(a + 12, a + 8, 16)   # overlapping: memmove
    check(emu.dtoh(a + 12, 16) == bytes(range(16)), 'DTOD overlapping copy')
    emu.memset(a, 7, 4)
    check(emu.dtoh(a, 4) == b'\x07' * 4, 'MEMSET')
    for what, call in [('HTOD past the end', lambda: emu.htod(a + 60, bytes(8))),
                       ('DTOH past the end', lambda: emu.dtoh(a, 65)),
                       ('DTOD past the end', lambda: emu.dtod(a, a + 32, 40)),
                       ('MEMSET outside', lambda: emu.memset(a + 64, 0, 1)),
                       ('FREE inside an allocation', lambda: emu.free(a + 8)),
                       ('ALLOC of 0 bytes', lambda: emu.alloc(0))]:
        try:
            call()
            check(False, f'{what} must be an error')
        except EmulatorError:
            pass
    emu.ping()   # the stream is still in step (the HTOD payload was consumed)
    emu.free(a)
    try:
        emu.free(a)
        check(False, 'a double FREE must be an error')
    except EmulatorError:
        pass
    print('memory: ok' if not failures else 'memory: checked')


def test_add(emu):
    rng = random.Random(1)
    n = 1000
    xa = [f32(rng.uniform(-100, 100)) for _ in range(n)]
    xb = [f32(rng.uniform(-1, 1)) for _ in range(n)]
    a, b, o = emu.upload('f', xa), emu.upload('f', xb), emu.alloc(4 * n)
    emu.launch('add_f32', ((n + 255) // 256, 1, 1), 256, 0, [(PTR, a), (PTR, b), (PTR, o), (I64, n)])
    got = emu.download('f', o, n)
    bad = sum(1 for i in range(n) if got[i] != f32(xa[i] + xb[i]))
    check(bad == 0, f'add_f32: {bad} of {n} sums differ from float32 addition')
    for p in (a, b, o):
        emu.free(p)
    print(f'add_f32: {n} sums bit-exact' if bad == 0 else 'add_f32: FAILED')


def layernorm_ref(x, res, gamma, beta, eps, rows, cols):
    out = []
    for r in range(rows):
        y = [x[r * cols + c] + (res[r * cols + c] if res else 0.0) for c in range(cols)]
        mean = sum(y) / cols
        var = sum((v - mean) ** 2 for v in y) / cols
        inv = 1.0 / math.sqrt(var + eps)
        out += [(v - mean) * inv * gamma[c] + beta[c] for c, v in enumerate(y)]
    return out


def test_layernorm(emu):
    rng = random.Random(2)
    rows, cols, eps = 9, 384, 1e-5
    x = [f32(rng.gauss(1.5, 2.0)) for _ in range(rows * cols)]
    res = [f32(rng.gauss(0, 0.5)) for _ in range(rows * cols)]
    gamma = [f32(rng.uniform(0.5, 1.5)) for _ in range(cols)]
    beta = [f32(rng.uniform(-0.2, 0.2)) for _ in range(cols)]
    dx, dres, dg, db = (emu.upload('f', v) for v in (x, res, gamma, beta))
    out = emu.alloc(4 * rows * cols)
    worst = 0.0
    for residual in (None, dres):
        # three blocks past the last row return at once
        emu.launch('layernorm_f32', (rows + 3, 1, 1), 256, 0,
                   [(PTR, dx), (PTR, residual or 0), (PTR, dg), (PTR, db), (F32, eps), (PTR, out), (I32, rows),
                    (I32, cols)])
        got = emu.download('f', out, rows * cols)
        ref = layernorm_ref(x, res if residual else None, gamma, beta, f32(eps), rows, cols)
        err = max((abs(g - r) / max(1.0, abs(r)) if g == g else math.inf) for g, r in zip(got, ref))
        worst = max(worst, err)
        check(err <= 1e-5, f'layernorm_f32 (residual {residual is not None}): error {err:.3g} > 1e-5')
    for p in (dx, dres, dg, db, out):
        emu.free(p)
    print(f'layernorm_f32: {rows} x {cols}, max error {worst:.2e} (relative, bar 1e-5)')


def gelu(x):
    return x * 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def gemm_case(emu, kernel, rnd, m, n, k, trans_b, epilogue, rng, a_vals=None, b_vals=None, exact=False, sample=None):
    A = a_vals or [f32(rng.uniform(-2, 2)) for _ in range(m * k)]
    B = b_vals or [f32(rng.uniform(-2, 2)) for _ in range(n * k)]
    bias = [f32(rng.uniform(-1, 1)) for _ in range(n)]
    dA, dB, dbias = emu.upload('f', A), emu.upload('f', B), emu.upload('f', bias)
    dC = emu.alloc(4 * m * n)
    start = time.time()
    emu.launch(kernel, ((n + 63) // 64, (m + 63) // 64, 1), 128, 0,
               [(PTR, dA), (PTR, dB), (PTR, dC), (PTR, dbias if epilogue else 0), (I32, m), (I32, n), (I32, k),
                (I32, trans_b), (I32, epilogue)])
    seconds = time.time() - start
    C = emu.download('f', dC, m * n)
    ra, rb = [rnd(v) for v in A], [rnd(v) for v in B]
    worst = 0.0   # error / (K * 2^-24 * sum |a||b|)
    cells = [(i, j) for i in range(m) for j in range(n)] if sample is None else \
        [(rng.randrange(m), rng.randrange(n)) for _ in range(sample)]
    for i, j in cells:
        terms = [ra[i * k + t] * (rb[j * k + t] if trans_b else rb[t * n + j]) for t in range(k)]
        v, mag = math.fsum(terms), sum(abs(t) for t in terms)
        tol = (k + 2) * U * mag
        if epilogue >= 1:
            v += bias[j]
            tol += U * abs(v)
        if epilogue == 2:
            tol = 1.13 * tol + 8 * U * abs(v)
            v = gelu(v)
        got = C[i * n + j]
        if exact:
            check(got == v, f'{kernel} M={m} N={n} K={k}: C[{i}][{j}] = {got!r}, expected exactly {v!r}')
            continue
        err = abs(got - v)   # NaN (a tile never written: shared memory is NaN-poisoned) must fail too
        worst = max(worst, err / (k * U * mag) if mag > 0 else (0.0 if err == 0 else math.inf))
        if not err <= tol + 1e-30:
            check(False, f'{kernel} M={m} N={n} K={k} trans_b={trans_b} epilogue={epilogue}: C[{i}][{j}] = {got!r}, '
                         f'reference {v!r}, error {err:.3g} > {tol:.3g}')
            break
    for p in (dA, dB, dbias, dC):
        emu.free(p)
    return worst, seconds


def test_gemm(emu):
    rng = random.Random(3)
    worst = 0.0
    for kernel, rnd in (('gemm_bf16_f32', bf16), ('gemm_f16_f32', f16)):
        for m, n, k, trans_b, epilogue in ((70, 45, 50, 1, 0), (64, 64, 32, 0, 1), (33, 100, 77, 0, 2),
                                           (1, 1, 1, 1, 1), (130, 20, 96, 1, 2)):
            w, _ = gemm_case(emu, kernel, rnd, m, n, k, trans_b, epilogue, rng)
            worst = max(worst, w)
    # exact ties: K = 1, B = 1, so C = round(A) exactly; round-half-up or truncation would differ
    ties_bf16 = [from_bits(0x3f808000), from_bits(0x3f818000), from_bits(0xbf808000), from_bits(0x3f80c000)]
    ties_f16 = [1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 2 ** -11), 1 + 2 ** -11 + 2 ** -20]
    for kernel, rnd, ties, want in (('gemm_bf16_f32', bf16, ties_bf16, [1.0, 1.015625, -1.0, 1.0078125]),
                                    ('gemm_f16_f32', f16, ties_f16, [1.0, 1 + 2 ** -9, -1.0, 1 + 2 ** -10])):
        check([rnd(t) for t in ties] == want, f'the selftest\'s own {kernel} rounding reference')
        gemm_case(emu, kernel, rnd, 4, 1, 1, 0, 0, rng, a_vals=[f32(t) for t in ties], b_vals=[1.0], exact=True)
    print(f'gemm_bf16_f32 / gemm_f16_f32: 12 cases, max error {worst:.3f} x K * 2^-24 * sum|a||b| '
          f'(= {worst * 2 ** -16:.2e} x the K * 2^-8 contract bar); ties round to even')


def test_gemm_resident(emu):
    """round_*_f32 rounds a weight once to its 16-bit bits; gemm_*_f32_w16 on them equals gemm_*_f32 bit for bit."""
    rng = random.Random(4)
    for kernel, rounding, rnd, bits16 in (
            ('gemm_bf16_f32', 'round_bf16_f32', bf16, lambda x: f32_bits(bf16(x)) >> 16),
            ('gemm_f16_f32', 'round_f16_f32', f16, lambda x: struct.unpack('<H', struct.pack('<e', x))[0])):
        for m, n, k, epilogue in ((70, 45, 50, 1), (1, 1, 1, 0), (33, 100, 77, 2)):
            A = [f32(rng.uniform(-2, 2)) for _ in range(m * k)]
            B = [f32(rng.uniform(-2, 2)) for _ in range(n * k)]
            bias = [f32(rng.uniform(-1, 1)) for _ in range(n)]
            dA, dB, dbias = emu.upload('f', A), emu.upload('f', B), emu.upload('f', bias)
            dB16 = emu.alloc(max(2, 2 * n * k))
            emu.launch(rounding, (min(4, (n * k + 255) // 256), 1, 1), 256, 0, [(PTR, dB), (PTR, dB16), (I64, n * k)])
            check(emu.download('H', dB16, n * k) == [bits16(b) for b in B], f'{rounding}: n={n * k}: not round to even')
            dC, dC16 = emu.alloc(4 * m * n), emu.alloc(4 * m * n)
            for name, b, c in ((kernel, dB, dC), (kernel + '_w16', dB16, dC16)):
                emu.launch(name, ((n + 63) // 64, (m + 63) // 64, 1), 128, 0,
                           [(PTR, dA), (PTR, b), (PTR, c), (PTR, dbias if epilogue else 0), (I32, m), (I32, n),
                            (I32, k), (I32, 1), (I32, epilogue)])
            check(emu.download('I', dC16, m * n) == emu.download('I', dC, m * n),
                  f'{kernel}_w16 M={m} N={n} K={k} epilogue={epilogue}: differs from {kernel}')
            for p in (dA, dB, dbias, dB16, dC, dC16):
                emu.free(p)
    print('gemm_bf16_f32_w16 / gemm_f16_f32_w16 on weights rounded by round_bf16_f32 / round_f16_f32: 6 cases, '
          'bit for bit the f32-weight kernels')


def prim_reference(pts, n, dim, core_key):
    def key(a, b):
        return sum((pts[a * dim + j] - pts[b * dim + j]) ** 2 for j in range(dim))
    in_tree = [False] * n
    in_tree[0] = True
    best, best_from = [math.inf] * n, [-1] * n
    cur, edges = 0, []
    for _ in range(n - 1):
        nxt = -1
        for i in range(n):
            if in_tree[i]:
                continue
            mr = max(key(cur, i), core_key[cur], core_key[i])
            if mr < best[i]:
                best[i], best_from[i] = mr, cur
            if nxt < 0 or best[i] < best[nxt]:
                nxt = i
        in_tree[nxt] = True
        edges.append((best_from[nxt], nxt))
        cur = nxt
    return edges


def test_prim(emu):
    rng = random.Random(4)
    n, dim, threads = 100, 5, 256
    pts = [float(rng.randrange(4)) for _ in range(n * dim)]   # duplicates and equal distances everywhere
    sq = [[sum((pts[a * dim + j] - pts[b * dim + j]) ** 2 for j in range(dim)) for b in range(n)] for a in range(n)]
    min_samples = 5
    core_key = [sorted(sq[i])[min_samples - 1] for i in range(n)]   # squared core distance (L2), an integer
    norms = [f32(math.sqrt(sum(pts[i * dim + j] ** 2 for j in range(dim)))) for i in range(n)]
    # ClusterKernel.primPlan
    blocks = max(1, min(1024, (n + 63) // 64))
    per = (n + blocks - 1) // blocks
    blocks = (n + per - 1) // per
    shared = (2 * threads + 2 * 8 + 4) * 4 + dim * 4
    x, dnorms, dcore = emu.upload('f', pts), emu.upload('f', norms), emu.upload('f', core_key)
    in_tree = emu.upload('i', [1] + [0] * (n - 1))
    best = emu.upload('f', [math.inf] * n)
    best_from = emu.upload('i', [0] * n)
    block_best, block_arg = emu.alloc(4 * blocks), emu.alloc(4 * blocks)
    ticket, state = emu.upload('i', [0]), emu.upload('i', [0])
    edge_from, edge_to = emu.alloc(4 * (n - 1)), emu.alloc(4 * (n - 1))
    start = time.time()
    for step in range(n - 1):
        emu.launch('prim_step_f32', (blocks, 1, 1), threads, shared,
                   [(PTR, x), (PTR, dnorms), (PTR, dcore), (I32, n), (I32, dim), (I32, 0), (I32, per), (PTR, in_tree),
                    (PTR, best), (PTR, best_from), (PTR, block_best), (PTR, block_arg), (PTR, ticket), (PTR, state),
                    (PTR, edge_from), (PTR, edge_to), (I32, step)])
        if step == 0:
            first = (emu.download('i', edge_from, 1)[0], emu.download('i', edge_to, 1)[0])
    seconds = time.time() - start
    got = list(zip(emu.download('i', edge_from, n - 1), emu.download('i', edge_to, n - 1)))
    ref = prim_reference(pts, n, dim, core_key)
    check(first == ref[0], f'prim_step_f32 step 0: edge {first}, reference {ref[0]}')
    diff = [i for i in range(n - 1) if got[i] != ref[i]]
    check(not diff, f'prim_step_f32: {len(diff)} of {n - 1} edges differ from Prim, first at step '
                    f'{diff[0] if diff else -1}: {got[diff[0]] if diff else None} vs {ref[diff[0]] if diff else None}')
    check(emu.download('i', ticket, 1) == [0], 'prim_step_f32: the ticket is reset')
    for p in (x, dnorms, dcore, in_tree, best, best_from, block_best, block_arg, ticket, state, edge_from, edge_to):
        emu.free(p)
    print(f'prim_step_f32: {n} points in {blocks} blocks, {n - 1} launches ({seconds:.2f} s): '
          f'{"every edge equals Prim" if not diff else "FAILED"}')


def pow2_at_least(v):
    return 1 if v <= 1 else 1 << (v - 1).bit_length()


def topk_score(metric, dot, q_norm, d_norm):
    """retrieval.cu's metric_score: the epilogue in double, then float."""
    if metric == 0:
        return dot
    if metric == 1:
        return 0.0 if q_norm == 0.0 or d_norm == 0.0 else f32(dot / (q_norm * d_norm))
    return f32((2.0 * dot - q_norm * q_norm) - d_norm * d_norm)


def topk_case(emu, storage, metric, seed):
    rng = random.Random(seed)
    dim, k, nq, threads = 8, 7, 5, 256
    chunks = [2100, 300]
    # RetrievalKernel.plan(dim, k)
    slice_rows = max(1024, 8 * k)
    k_out = min(k, slice_rows)
    cap = 2 * pow2_at_least(max(k_out, 64))
    merge_cap = 2 * pow2_at_least(max(k, threads))
    qt = 4
    while qt > 1 and qt * (dim * 4 + cap * 8) + 64 > 48 * 1024:
        qt //= 2
    slices = [(rows + slice_rows - 1) // slice_rows for rows in chunks]
    slot_base = [0]
    for sl in slices[:-1]:
        slot_base.append(slot_base[-1] + sl * k_out)
    total_slots = sum(slices) * k_out
    queries = [float(rng.randrange(-2, 3)) for _ in range(nq * dim)]
    q_codes = [-1, -1, -1, 1, -1]
    q_norms = [math.sqrt(sum(queries[q * dim + j] ** 2 for j in range(dim))) for q in range(nq)]
    dq, dqn, dqc = emu.upload('f', queries), emu.upload('d', q_norms), emu.upload('i', q_codes)
    cand = [emu.alloc(4 * nq * total_slots), emu.alloc(8 * nq * total_slots), emu.alloc(4 * nq * total_slots),
            emu.alloc(4 * nq * total_slots)]
    fmt, kernel = {'f32': ('f', 'topk_slice_f32'), 'f16': ('e', 'topk_slice_f16'), 'i8': ('b', 'topk_slice_i8')}[storage]
    table = []   # (chunk, row, dot, d_norm, tie, code, live)
    keep = []
    for ci, rows in enumerate(chunks):
        vals = [rng.randrange(-3, 4) for _ in range(rows * dim)]
        for r in range(0, rows, 97):   # a few zero rows (cosine: score 0)
            vals[r * dim:(r + 1) * dim] = [0] * dim
        scales = [f32(rng.choice([0.5, 0.3, 1.7])) if storage == 'i8' else 1.0 for _ in range(rows)]
        tie = [rng.randrange(3) for _ in range(rows)]
        codes = [rng.randrange(3) for _ in range(rows)]
        live = [0 if rng.random() < 0.1 else 1 for _ in range(rows)]
        norms = [f32(scales[r] * math.sqrt(sum(v * v for v in vals[r * dim:(r + 1) * dim]))) for r in range(rows)]
        dv = emu.upload(fmt, [float(v) for v in vals] if fmt != 'b' else vals)
        ds, dn = emu.upload('f', scales), emu.upload('f', norms)
        dt, dc, dl = emu.upload('q', tie), emu.upload('i', codes), emu.upload('i', live)
        keep += [dv, ds, dn, dt, dc, dl]
        emu.launch(kernel, (slices[ci], (nq + qt - 1) // qt, 1), threads, qt * (dim * 4 + cap * 8) + 64,
                   [(PTR, dv), (PTR, ds), (PTR, dn), (PTR, dt), (PTR, dc), (PTR, dl), (I32, rows), (I32, dim),
                    (I32, ci), (PTR, dq), (PTR, dqn), (PTR, dqc), (I32, nq), (I32, qt), (I32, metric),
                    (I32, slice_rows), (I32, k_out), (I32, cap), (PTR, cand[0]), (PTR, cand[1]), (PTR, cand[2]),
                    (PTR, cand[3]), (I32, total_slots), (I32, slot_base[ci])])
        for r in range(rows):
            table.append((ci, r, vals[r * dim:(r + 1) * dim], scales[r], norms[r], tie[r], codes[r], live[r]))
    out = [emu.alloc(4 * nq * k), emu.alloc(4 * nq * k), emu.alloc(4 * nq * k), emu.alloc(4 * nq)]
    emu.launch('topk_merge', (nq, 1, 1), threads, merge_cap * 8 + 64,
               [(PTR, cand[0]), (PTR, cand[1]), (PTR, cand[2]), (PTR, cand[3]), (I32, total_slots), (I32, k),
                (I32, merge_cap), (PTR, out[0]), (PTR, out[1]), (PTR, out[2]), (PTR, out[3])])
    score = emu.download('f', out[0], nq * k)
    chunk = emu.download('i', out[1], nq * k)
    row = emu.download('i', out[2], nq * k)
    count = emu.download('i', out[3], nq)
    bad = 0
    for q in range(nq):
        qv = queries[q * dim:(q + 1) * dim]
        hits = []
        for c, r, v, scale, d_norm, t, code, lv in table:
            if lv and (q_codes[q] < 0 or q_codes[q] == code):
                dot = float(sum(int(a) * b for a, b in zip(qv, v)))   # exact
                if storage == 'i8':
                    dot = f32(dot * scale)
                hits.append((-topk_score(metric, dot, q_norms[q], d_norm), t, c, r))
        want = [(-sc, c, r) for sc, t, c, r in sorted(hits)[:k]]
        have = [(score[q * k + i], chunk[q * k + i], row[q * k + i]) for i in range(count[q])]
        if have != want:
            bad += 1
            check(False, f'topk {storage} metric {metric}: query {q}: {have} != reference {want}')
    for p in keep + cand + out + [dq, dqn, dqc]:
        emu.free(p)
    return bad == 0, chunks, sum(slices), k, nq


def test_topk(emu):
    results = [topk_case(emu, storage, metric, seed) for storage, metric, seed in
               (('f32', 0, 5), ('f16', 1, 6), ('i8', 2, 7))]
    ok = all(r[0] for r in results)
    _, chunks, slices, k, nq = results[0]
    print(f'topk_slice_f32 / _f16 / _i8 (inner product / cosine / L2) + topk_merge: {nq} queries over chunks of '
          f'{chunks} rows ({slices} slices), k = {k}: '
          f'{"hits, order and scores equal the reference" if ok else "FAILED"}')


def close(got, want, rel, absolute=0.0):
    return got == got and abs(got - want) <= rel * abs(want) + absolute


def test_elementwise(emu):
    rng = random.Random(8)
    n = 1000
    xs = [f32(rng.uniform(-4, 4)) for _ in range(n)]
    ys = [f32(rng.uniform(-4, 4)) for _ in range(n)]
    dx, dy, do = emu.upload('f', xs), emu.upload('f', ys), emu.alloc(4 * n)
    results = {}
    # add_f32 with 1024- and 32-thread blocks and a grid smaller than n (the grid-stride loop)
    for block, grid in ((1024, 1), (32, 3)):
        emu.launch('add_f32', (grid, 1, 1), block, 0, [(PTR, dx), (PTR, dy), (PTR, do), (I64, n)])
        results[f'add_f32 ({grid} x {block})'] = emu.download('f', do, n) == [f32(a + b) for a, b in zip(xs, ys)]
    emu.launch('fill_f32', (4, 1, 1), 256, 0, [(PTR, do), (F32, 2.5), (I64, n)])
    results['fill_f32'] = emu.download('f', do, n) == [2.5] * n
    emu.htod(do, struct.pack(f'<{n}f', *ys))
    emu.launch('scale_add_f32', (4, 1, 1), 256, 0, [(PTR, do), (PTR, dx), (F32, 0.3), (I64, n)])
    results['scale_add_f32'] = emu.download('f', do, n) == [f32(y + f32(f32(0.3) * x)) for x, y in zip(xs, ys)]
    rows, cols = 10, 100
    bias = [f32(rng.uniform(-1, 1)) for _ in range(cols)]
    db = emu.upload('f', bias)
    emu.htod(do, struct.pack(f'<{n}f', *xs))
    emu.launch('add_bias_f32', (4, 1, 1), 256, 0, [(PTR, do), (PTR, db), (I64, rows), (I32, cols)])
    results['add_bias_f32'] = emu.download('f', do, n) == [f32(xs[i] + bias[i % cols]) for i in range(n)]
    l2in = xs[:]
    l2in[cols:2 * cols] = [0.0] * cols   # a zero row stays zero
    emu.htod(dx, struct.pack(f'<{n}f', *l2in))
    emu.launch('l2_normalize_f32', (rows, 1, 1), 256, 0, [(PTR, dx), (PTR, do), (I32, rows), (I32, cols)])
    got = emu.download('f', do, n)
    ok = True
    for r in range(rows):
        norm = math.sqrt(sum(v * v for v in l2in[r * cols:(r + 1) * cols]))
        for c in range(cols):
            want = 0.0 if norm == 0 else l2in[r * cols + c] / norm
            ok &= close(got[r * cols + c], want, 1e-6, 1e-7)
    results['l2_normalize_f32'] = ok
    # activations: float32 arithmetic with glibc's erff / expf, within a few ulp of the double reference
    emu.htod(dx, struct.pack(f'<{n}f', *xs))
    emu.launch('gelu_f32', (4, 1, 1), 256, 0, [(PTR, dx), (PTR, do), (I64, n)])
    results['gelu_f32'] = all(close(g, gelu(x), 1e-6, 4 * U * abs(x)) for g, x in zip(emu.download('f', do, n), xs))
    emu.launch('quick_gelu_f32', (4, 1, 1), 256, 0, [(PTR, dx), (PTR, do), (I64, n)])
    qg = [x / (1 + math.exp(-1.702 * x)) for x in xs]
    results['quick_gelu_f32'] = all(close(g, w, 1e-6, 1e-7) for g, w in zip(emu.download('f', do, n), qg))
    h = 25   # x[20, 50] -> out[20, 25]
    for gate in (0, 1):
        emu.launch('glu_f32', (2, 1, 1), 256, 0, [(PTR, dx), (PTR, do), (I64, 20), (I32, h), (I32, gate)])
        got = emu.download('f', do, 20 * h)
        want = [xs[r * 2 * h + c] * (gelu(xs[r * 2 * h + h + c]) if gate == 0 else
                                     1 / (1 + math.exp(-xs[r * 2 * h + h + c]))) for r in range(20) for c in range(h)]
        # 1 + erf(b) cancels for negative b: an absolute error of a few ulp of |a b| is float32 arithmetic
        mags = [abs(xs[r * 2 * h + c] * xs[r * 2 * h + h + c]) for r in range(20) for c in range(h)]
        results[f'glu_f32 (gate {gate})'] = all(close(g, w, 1e-6, 4 * U * mg) for g, w, mg in zip(got, want, mags))
    for p in (dx, dy, do, db):
        emu.free(p)
    report('elementwise / activations', results)


def report(family, results):
    bad = [name for name, ok in results.items() if not ok]
    for name in bad:
        check(False, f'{name}: differs from the reference')
    print(f'{family}: {", ".join(results)}: {"ok" if not bad else "FAILED " + ", ".join(bad)}')


def test_embedding_pooling(emu):
    rng = random.Random(9)
    batch, seq, dim, vocab = 2, 5, 130, 11
    word = [f32(rng.uniform(-1, 1)) for _ in range(vocab * dim)]
    pos = [f32(rng.uniform(-1, 1)) for _ in range(seq * dim)]
    typ = [f32(rng.uniform(-1, 1)) for _ in range(2 * dim)]
    ids = [rng.randrange(vocab) for _ in range(batch * seq)]
    types = [rng.randrange(2) for _ in range(batch * seq)]
    dw, dp, dt, di, dty = (emu.upload('f', word), emu.upload('f', pos), emu.upload('f', typ), emu.upload('i', ids),
                           emu.upload('i', types))
    out = emu.alloc(4 * batch * seq * dim)
    results = {}
    for with_types in (True, False):
        emu.launch('embedding_f32', (batch * seq, 1, 1), 128, 0,
                   [(PTR, di), (PTR, dty if with_types else 0), (PTR, dw), (PTR, dp), (PTR, dt), (PTR, out),
                    (I32, seq), (I32, dim)])
        want = [f32(f32(word[ids[t] * dim + c] + pos[(t % seq) * dim + c]) +
                    typ[(types[t] if with_types else 0) * dim + c]) for t in range(batch * seq) for c in range(dim)]
        results[f'embedding_f32 ({"types" if with_types else "type 0"})'] = \
            emu.download('f', out, batch * seq * dim) == want
    hidden = [f32(rng.uniform(-2, 2)) for _ in range(batch * seq * dim)]
    lengths = [5, 2]
    dh, dl, po = emu.upload('f', hidden), emu.upload('i', lengths), emu.alloc(4 * batch * dim)
    grid = ((dim + 127) // 128, batch, 1)
    emu.launch('mean_pool_f32', grid, 128, 0, [(PTR, dh), (PTR, dl), (PTR, po), (I32, seq), (I32, dim)])
    want = []
    for b in range(batch):
        for c in range(dim):
            acc = 0.0
            for t in range(lengths[b]):
                acc = f32(acc + hidden[(b * seq + t) * dim + c])
            want.append(f32(acc / lengths[b]))
    results['mean_pool_f32'] = emu.download('f', po, batch * dim) == want
    emu.launch('first_token_pool_f32', grid, 128, 0, [(PTR, dh), (PTR, po), (I32, seq), (I32, dim)])
    results['first_token_pool_f32'] = emu.download('f', po, batch * dim) == \
        [hidden[b * seq * dim + c] for b in range(batch) for c in range(dim)]
    emu.launch('last_token_pool_f32', grid, 128, 0, [(PTR, dh), (PTR, dl), (PTR, po), (I32, seq), (I32, dim)])
    results['last_token_pool_f32'] = emu.download('f', po, batch * dim) == \
        [hidden[(b * seq + lengths[b] - 1) * dim + c] for b in range(batch) for c in range(dim)]
    for p in (dw, dp, dt, di, dty, out, dh, dl, po):
        emu.free(p)
    report('embedding / pooling', results)


def test_attention(emu):
    rng = random.Random(10)
    batch, seq, heads, hd = 2, 37, 2, 24
    lengths = [37, 9]
    d = heads * hd
    q, k, v = ([f32(rng.gauss(0, 1)) for _ in range(batch * seq * d)] for _ in range(3))
    dq, dk, dv, dl = emu.upload('f', q), emu.upload('f', k), emu.upload('f', v), emu.upload('i', lengths)
    # the same q, k, v interleaved per row as one fused projection [batch * seq, 3d] (in_stride 3d)
    fused = [x for t in range(batch * seq) for part in (q, k, v) for x in part[t * d:(t + 1) * d]]
    dqkv = emu.upload('f', fused)
    out = emu.alloc(4 * batch * seq * d)
    shared = 4 * (16 * hd + 32 * (hd + 1) + 32 * hd + 16 * 32 + 16 * hd + 3 * 16)   # AttentionKernel.sharedBytes
    scale = f32(1.0 / math.sqrt(hd))
    emu.launch('attention_f32', ((seq + 15) // 16, heads, batch), 128, shared,
               [(PTR, dq), (PTR, dk), (PTR, dv), (PTR, dl), (PTR, out), (I32, seq), (I32, heads), (I32, hd),
                (I32, d), (F32, scale)])
    got = emu.download('f', out, batch * seq * d)
    emu.launch('attention_f32', ((seq + 15) // 16, heads, batch), 128, shared,
               [(PTR, dqkv), (PTR, dqkv + 4 * d), (PTR, dqkv + 8 * d), (PTR, dl), (PTR, out), (I32, seq),
                (I32, heads), (I32, hd), (I32, 3 * d), (F32, scale)])
    check(emu.download('f', out, batch * seq * d) == got,
          'attention_f32: the fused qkv layout (in_stride 3d) differs from separate q, k, v')
    worst = 0.0
    for b in range(batch):
        for h in range(heads):
            for i in range(seq):
                base = (b * seq + i) * d + h * hd
                if i >= lengths[b]:
                    worst = max(worst, max(abs(g) if g == g else math.inf for g in got[base:base + hd]))
                    continue
                s = [sum(q[base + t] * k[(b * seq + j) * d + h * hd + t] for t in range(hd)) * scale
                     for j in range(lengths[b])]
                m = max(s)
                w = [math.exp(x - m) for x in s]
                z = sum(w)
                for t in range(hd):
                    want = sum(w[j] * v[(b * seq + j) * d + h * hd + t] for j in range(lengths[b])) / z
                    g = got[base + t]
                    worst = max(worst, abs(g - want) if g == g else math.inf)
    check(worst <= 1e-5, f'attention_f32: error {worst:.3g} > 1e-5')
    for p in (dq, dk, dv, dqkv, dl, out):
        emu.free(p)
    print(f'attention_f32: batch {batch}, seq {seq} (lengths {lengths}), {heads} heads of {hd}: max error {worst:.1e} '
          f'(bar 1e-5); the fused qkv layout bit for bit the same')


def test_flash_attention(emu):
    """flash_attention_bf16_hd32 / _hd64 / _hd128 (bf16 tensor cores, fused qkv): a double softmax of the same bf16
    q, k, v within (2^-9 + 2^-9 + 2^-12) max |v| of the column (P rounded to bf16 before P V, the output rounded to
    bf16, fp32 scores and sums: EmulatedFlashAttentionTest's bound); padded query rows exactly zero."""
    rng = random.Random(12)
    for hd, seq, heads, lengths in ((32, 70, 2, [70, 5]), (64, 20, 1, [20, 1]), (128, 9, 1, [7])):
        batch, d = len(lengths), heads * hd
        q, k, v = ([bf16(rng.gauss(0, s)) for _ in range(batch * seq * d)] for s in (1.5, 1, 2))
        fused = [x for t in range(batch * seq) for part in (q, k, v) for x in part[t * d:(t + 1) * d]]
        dqkv = emu.upload('H', [f32_bits(x) >> 16 for x in fused])
        dl = emu.upload('i', lengths)
        out = emu.upload('H', [0x7fc1] * (batch * seq * d))   # NaN: every element must be written
        shared = (64 + 4 * 64) * (hd + 8) * 2   # FlashAttentionKernel.sharedBytes
        scale_log2 = f32(1.0 / (math.sqrt(hd) * math.log(2.0)))
        emu.launch(f'flash_attention_bf16_hd{hd}', ((seq + 63) // 64, heads, batch), 128, shared,
                   [(PTR, dqkv), (PTR, dl), (PTR, out), (I32, seq), (I32, heads), (F32, scale_log2)])
        got = [from_bits(b << 16) for b in emu.download('H', out, batch * seq * d)]
        worst = 0.0
        for b in range(batch):
            for h in range(heads):
                for i in range(seq):
                    base = (b * seq + i) * d + h * hd
                    if i >= lengths[b]:
                        worst = max(worst, 0.0 if all(f32_bits(g) == 0 for g in got[base:base + hd]) else math.inf)
                        continue
                    s = [sum(q[base + t] * k[(b * seq + j) * d + h * hd + t] for t in range(hd)) / math.sqrt(hd)
                         for j in range(lengths[b])]
                    m = max(s)
                    w = [math.exp(x - m) for x in s]
                    z = sum(w)
                    for t in range(hd):
                        col = [v[(b * seq + j) * d + h * hd + t] for j in range(lengths[b])]
                        want = sum(wj * x for wj, x in zip(w, col)) / z
                        bound = (2 ** -9 + 2 ** -9 + 2 ** -12) * max(abs(x) for x in col) + 1e-6
                        g = got[base + t]
                        worst = max(worst, abs(g - want) / bound if g == g else math.inf)
        check(worst <= 1, f'flash_attention_bf16_hd{hd}: error {worst:.3g} of the bound')
        for p in (dqkv, dl, out):
            emu.free(p)
        print(f'flash_attention_bf16_hd{hd}: batch {batch}, seq {seq} (lengths {lengths}), {heads} heads: worst error '
              f'{worst:.2f} of the bound, padded rows zero')


def test_image(emu):
    rng = random.Random(11)
    results = {}
    batch, ch, size, patch = 2, 3, 8, 4
    px = [f32(rng.uniform(0, 1)) for _ in range(batch * ch * size * size)]
    n = batch * ch * size * size
    dp, do = emu.upload('f', px), emu.alloc(4 * n)
    emu.launch('patchify_f32', ((n + 255) // 256, 1, 1), 256, 0,
               [(PTR, dp), (PTR, do), (I32, ch), (I32, size), (I32, patch), (I64, n)])
    g = size // patch
    want = []
    for img in range(batch):
        for gy in range(g):
            for gx in range(g):
                for c in range(ch):
                    for ky in range(patch):
                        for kx in range(patch):
                            want.append(px[((img * ch + c) * size + gy * patch + ky) * size + gx * patch + kx])
    results['patchify_f32'] = emu.download('f', do, n) == want
    # preprocess_u8_f32: NEAREST resize of two RGB images (7 x 5 and 4 x 4, the second not resized) to 4 x 4
    dims = [(7, 5), (4, 4)]
    images = [[rng.randrange(256) for _ in range(w * h * 3)] for w, h in dims]
    offsets = [0, len(images[0]), len(images[0]) + len(images[1])]
    dpx = emu.upload('B', images[0] + images[1])
    doff, dwid, dhei, dch = (emu.upload('i', offsets), emu.upload('i', [w for w, h in dims]),
                             emu.upload('i', [h for w, h in dims]), emu.upload('i', [3, 3]))
    oc, oh, ow = 3, 4, 4
    mean, std, rescale = [0.5, 0.4, 0.3], [0.2, 0.25, 0.3], f32(1 / 255)
    out = emu.alloc(4 * 2 * oc * oh * ow)
    emu.launch('preprocess_u8_f32', ((oh * ow + 255) // 256, 2, 1), 256, 0,
               [(PTR, dpx), (PTR, doff), (PTR, dwid), (PTR, dhei), (PTR, dch), (PTR, out), (I32, oc), (I32, oh),
                (I32, ow), (I32, 0), (I32, 0), (F32, rescale)] + [(F32, m) for m in mean] + [(F32, s) for s in std])
    want = []
    for b, (w, h) in enumerate(dims):
        for c in range(oc):
            for oy in range(oh):
                for ox in range(ow):
                    sx = min(w - 1, math.floor((ox + 0.5) * w / ow)) if (w, h) != (ow, oh) else ox
                    sy = min(h - 1, math.floor((oy + 0.5) * h / oh)) if (w, h) != (ow, oh) else oy
                    val = float(images[b][(sy * w + sx) * 3 + c])
                    want.append(f32(f32(f32(val * rescale) - f32(mean[c])) / f32(std[c])))
    results['preprocess_u8_f32 (nearest)'] = emu.download('f', out, 2 * oc * oh * ow) == want
    for p in (dp, do, dpx, doff, dwid, dhei, dch, out):
        emu.free(p)
    report('image', results)


def test_maxsim(emu):
    rng = random.Random(12)
    dim = 70
    words = (dim + 63) // 64
    q_tokens, d_tokens = [3, 33], [5, 40]
    q_off, d_off = [0, 3, 36], [0, 5, 45]
    queries = [float(rng.randrange(-3, 4)) for _ in range(36 * dim)]
    pairs = [(0, 0), (0, 1), (1, 0), (1, 1)]
    dq, dqo, ddo = emu.upload('f', queries), emu.upload('i', q_off), emu.upload('i', d_off)
    dpq, dpd = emu.upload('i', [p[0] for p in pairs]), emu.upload('i', [p[1] for p in pairs])
    out = emu.alloc(4 * len(pairs))
    shared = (32 + 32) * (64 + 1) * 4 + 32 * 4
    results = {}
    for storage in ('f32', 'i8', 'b1'):
        if storage == 'b1':
            bits = [[rng.randrange(2) for _ in range(dim)] for _ in range(45)]
            stored = [[1.0 if b else -1.0 for b in row] for row in bits]
            wordvals = []
            for row in bits:
                for wi in range(words):
                    wordvals.append(sum(b << (j - 64 * wi) for j, b in enumerate(row) if 64 * wi <= j < 64 * wi + 64))
            dv = emu.upload('Q', wordvals)
        else:
            stored = [[float(rng.randrange(-5, 6)) for _ in range(dim)] for _ in range(45)]
            dv = emu.upload('f' if storage == 'f32' else 'b',
                            [v for row in stored for v in row] if storage == 'f32' else
                            [int(v) for row in stored for v in row])
        scales = [1.0 if storage == 'f32' else f32(rng.choice([0.5, 0.3, 1.7])) for _ in range(45)]
        ds = emu.upload('f', scales)
        emu.launch(f'maxsim_{storage}', (len(pairs), 1, 1), 256, shared,
                   [(PTR, dv), (PTR, ds), (PTR, ddo), (PTR, dq), (PTR, dqo), (PTR, dpq), (PTR, dpd), (I32, dim),
                    (I32, words), (PTR, out)])
        want = []
        for qi, di in pairs:
            total = 0.0
            for i in range(q_off[qi], q_off[qi + 1]):
                best = -math.inf
                for t in range(d_off[di], d_off[di + 1]):
                    dot = float(sum(queries[i * dim + j] * stored[t][j] for j in range(dim)))   # exact integers
                    best = max(best, dot if storage == 'f32' else f32(dot * scales[t]))
                total = f32(total + best)
            want.append(total)
        results[f'maxsim_{storage}'] = emu.download('f', out, len(pairs)) == want
        emu.free(dv)
        emu.free(ds)
    for p in (dq, dqo, ddo, dpq, dpd, out):
        emu.free(p)
    report('maxsim (bit-exact)', results)


def test_linear_algebra(emu):
    rng = random.Random(13)
    results = {}
    n, dim = 40, 37
    x = [f32(rng.gauss(2, 1)) for _ in range(n * dim)]
    mean = [sum(x[i * dim + a] for i in range(n)) / n for a in range(dim)]
    dx, dm, dc = emu.upload('f', x), emu.upload('d', mean), emu.alloc(8 * dim * dim)
    tiles = (dim + 31) // 32
    emu.launch('covariance_f32', (tiles, tiles, 1), 256, 2 * 32 * 33 * 8,
               [(PTR, dx), (PTR, dm), (I32, n), (I32, dim), (PTR, dc)])
    got = emu.download('d', dc, dim * dim)
    ok = True
    for a in range(dim):
        for b in range(dim):
            want = math.fsum((x[i * dim + a] - mean[a]) * (x[i * dim + b] - mean[b]) for i in range(n)) / (n - 1)
            ok &= close(got[a * dim + b], want, 1e-12, 1e-14)
    results['covariance_f32'] = ok
    d = 9
    m = [[0.0] * d for _ in range(d)]
    for i in range(d):
        for j in range(i, d):
            m[i][j] = m[j][i] = rng.uniform(-1, 1)
    da = emu.upload('d', [v for row in m for v in row])
    dv, dsw = emu.alloc(8 * d * d), emu.alloc(4)
    emu.launch('jacobi_eigen_f64', (1, 1, 1), 256, 256 * 8 + 24 * ((d + (d & 1)) // 2),
               [(PTR, da), (PTR, dv), (I32, d), (I32, 50), (PTR, dsw)])
    a, v = emu.download('d', da, d * d), emu.download('d', dv, d * d)
    ok = emu.download('i', dsw, 1)[0] < 50
    for c in range(d):
        lam = a[c * d + c]
        vec = [v[r * d + c] for r in range(d)]
        resid = max(abs(sum(m[r][t] * vec[t] for t in range(d)) - lam * vec[r]) for r in range(d))
        ok &= resid <= 1e-9
        for c2 in range(d):
            dot = sum(v[r * d + c] * v[r * d + c2] for r in range(d))
            ok &= abs(dot - (1.0 if c == c2 else 0.0)) <= 1e-9
    results['jacobi_eigen_f64'] = ok
    for p in (dx, dm, dc, da, dv, dsw):
        emu.free(p)
    report('cluster (linear algebra)', results)


# ---- quant.cu: the Java integer definitions (io.inflow.gpu.quant), ported with Java's wrap-around -----------------

def wrap32(v):
    v &= 0xffffffff
    return v - (1 << 32) if v >= 1 << 31 else v


def wrap64(v):
    v &= 0xffffffffffffffff
    return v - (1 << 64) if v >= 1 << 63 else v


def clamp(v, lo, hi):
    return lo if v < lo else (hi if v > hi else v)


Q_LIMITS = {0: 127, 1: 127 * 256 + 127}   # INT8, INT16; 2 is INT32


def q_saturate(v, output):
    return clamp(v, -2**31, 2**31 - 1) if output == 2 else clamp(v, -Q_LIMITS[output], Q_LIMITS[output])


def q_dyadic(x, m, s):   # Dyadic.apply: (x * m + 2^(s-1)) >> s, each step wrapping in 64 bits
    p = wrap64(x * m)
    return p if s == 0 else wrap64(p + (1 << (s - 1))) >> s


def q_isqrt(v):   # IntegerOps.isqrt, Newton from a power of two above the root
    if v < 2:
        return v
    x = 1 << ((v.bit_length() + 1) // 2)
    while True:
        y = (x + v // x) >> 1
        if y >= x:
            return x
        x = y


def q_shift_exp(t):
    q = t >> 10
    if q > 25:
        return 0
    return ((2048 - (t & 1023)) << 14) >> q


def q_shift_gelu(v):
    a = min(abs(v), 1 << 22)
    z = (a * 1827469673 + (1 << 29)) >> 30
    e = q_shift_exp(z + (z >> 1) - (z >> 4))
    one = 1 << 25
    neg = ((e << 16) + ((one + e) >> 1)) // (one + e)
    return clamp(v, -(1 << 22), 1 << 22) * ((1 << 16) - neg if v >= 0 else neg)


def q_shiftmax(scores):
    mx = max(scores)
    es = [q_shift_exp(-(d + (d >> 1) - (d >> 4))) for d in (s - mx for s in scores)]
    factor = (1 << 56) // sum(es)
    return [min(255, (e * factor + (1 << 47)) >> 48) for e in es]


def q_dyadics(rng, n, shifts):
    """n (multiplier, shift) pairs: |multiplier| in [2^29, 2^31), both signs; shift in range(*shifts), one in 7 0."""
    return [(rng.choice([-1, 1]) * rng.randrange(1 << 29, 1 << 31), 0 if c % 7 == 3 else rng.randrange(*shifts))
            for c in range(n)]


def f32_or_inf(x):
    """x rounded to float32, infinity beyond its range (struct refuses to pack those)."""
    try:
        return f32(x)
    except OverflowError:
        return math.copysign(math.inf, x)


def test_quant(emu):
    rng = random.Random(15)
    results = {}
    ptrs = []

    def up(fmt, values):
        a = emu.upload(fmt, values)
        ptrs.append(a)
        return a

    def alloc(n):
        a = emu.alloc(max(1, n))
        ptrs.append(a)
        return a

    # qlinear_s8 / qlinear_wide_s8: 2 x 2 output tiles, two K steps, ragged everywhere; every output type
    m, n, k = 70, 67, 100
    w = [rng.randrange(-127, 128) for _ in range(n * k)]
    bias = [rng.randrange(-100000, 100001) for _ in range(n)]
    dw, db = up('b', w), up('i', bias)
    for wide in (False, True):
        planes = 2 if wide else 1
        x = [rng.randrange(-128 if wide else -127, 128) for _ in range(m * planes * k)]
        dx = up('b', x)
        accs = []
        for i in range(m):
            for c in range(n):
                dots = [sum(x[i * planes * k + p * k + j] * w[c * k + j] for j in range(k)) for p in range(planes)]
                accs.append(256 * dots[0] + dots[1] + bias[c] if wide else wrap32(bias[c] + dots[0]))
        for output in (0, 1, 2):
            dy = [(rng.randrange(1 << 22, 1 << 24) * rng.choice([-1, 1]), rng.randrange(24, 40)) for _ in range(n)]
            dm, ds = up('i', [d[0] for d in dy]), up('i', [d[1] for d in dy])
            out = alloc(4 * m * n)
            emu.launch('qlinear_wide_s8' if wide else 'qlinear_s8', ((n + 63) // 64, (m + 63) // 64, 1), 128, 0,
                       [(PTR, dx), (PTR, dw), (PTR, db), (PTR, dm), (PTR, ds), (PTR, out if output != 2 else 0),
                        (PTR, out if output == 2 else 0), (I32, m), (I32, n), (I32, k), (I32, output)])
            want = []
            for e, acc in enumerate(accs):
                v = q_saturate(q_dyadic(acc, *dy[e % n]), output)
                want.append(v if output == 2 else wrap32(v << 24) >> 24)   # INT8 tensors keep the low byte
            got = emu.download('i' if output == 2 else 'b', out, m * n)
            results[f'{"qlinear_wide_s8" if wide else "qlinear_s8"} (output {output})'] = got == want

    # qattention_s8: 2 batches (lengths 37 and 9), 3 heads of 20, INT8 and INT32 contexts
    batch, seq, heads, hd = 2, 37, 3, 20
    d = heads * hd
    lengths = [37, 9]
    qkv = [rng.randrange(-127, 128) for _ in range(batch * seq * 3 * d)]
    dq, dl = up('b', qkv), up('i', lengths)
    score = (rng.randrange(1 << 30, 1 << 31), 33)
    contexts = [0] * (batch * seq * d)   # sum_t p[t] v[t, j]
    for b in range(batch):
        for h in range(heads):
            for i in range(seq):
                qrow = (b * seq + i) * 3 * d + h * hd
                scores = [q_saturate(q_dyadic(sum(qkv[qrow + j] * qkv[(b * seq + t) * 3 * d + d + h * hd + j]
                                                  for j in range(hd)), *score), 2) for t in range(lengths[b])]
                p = q_shiftmax(scores)
                for j in range(hd):
                    contexts[(b * seq + i) * d + h * hd + j] = \
                        sum(p[t] * qkv[(b * seq + t) * 3 * d + 2 * d + h * hd + j] for t in range(lengths[b]))
    for output in (0, 2):
        dy = q_dyadics(rng, d, (38, 48) if output == 0 else (26, 34))
        dm, ds = up('i', [t[0] for t in dy]), up('i', [t[1] for t in dy])
        out = alloc(4 * batch * seq * d)
        emu.launch('qattention_s8', (seq, heads, batch), 128, 4 * (hd + seq),
                   [(PTR, dq), (PTR, dl), (PTR, out if output == 0 else 0), (PTR, out if output == 2 else 0),
                    (I32, seq), (I32, heads), (I32, hd), (I32, score[0]), (I32, score[1]), (PTR, dm), (PTR, ds),
                    (I32, output)])
        want = [q_saturate(q_dyadic(acc, *dy[e % d]), output) for e, acc in enumerate(contexts)]
        results[f'qattention_s8 (output {output})'] = emu.download('i' if output == 2 else 'b', out,
                                                                    batch * seq * d) == want

    # qlayernorm_i32: 5 rows of 150, with and without a residual, a saturating element and a constant row
    rows, width = 5, 150
    x = [rng.randrange(-(1 << 19), 1 << 19) for _ in range(rows * width)]
    res = [rng.randrange(-(1 << 15), 1 << 15) for _ in range(rows * width)]
    x[0] = 2**31 - 1
    x[width:2 * width] = [77] * width
    res[width:2 * width] = [0] * width
    qd, rd = q_dyadics(rng, width, (48, 56)), q_dyadics(rng, width, (40, 46))
    qb = [rng.randrange(-50, 51) for _ in range(width)]
    rb = [rng.randrange(-5000, 5001) for _ in range(width)]
    params = [t[0] for t in qd] + [t[1] for t in qd] + qb + [t[0] for t in rd] + [t[1] for t in rd] + rb
    dx, dr, dp = up('i', x), up('i', res), up('i', params)
    o8, o32 = alloc(rows * width), alloc(4 * rows * width)
    for with_residual in (True, False):
        emu.launch('qlayernorm_i32', (rows, 1, 1), 128, 4 * width,
                   [(PTR, dx), (PTR, dr if with_residual else 0), (PTR, dp), (PTR, o8), (PTR, o32), (I32, rows),
                    (I32, width)])
        w8, w32 = [], []
        for r in range(rows):
            v = [clamp(x[r * width + j] + (res[r * width + j] if with_residual else 0), -(1 << 25), 1 << 25)
                 for j in range(width)]
            mean = (2 * sum(v) + width) // (2 * width)
            c = [e - mean for e in v]
            factor = (1 << 47) // max(1, q_isqrt(sum(e * e for e in c)))
            for j in range(width):
                nrm = (c[j] * factor) >> 17
                w8.append(q_saturate(q_dyadic(nrm, *qd[j]) + qb[j], 0))
                w32.append(q_saturate(q_dyadic(nrm, *rd[j]) + rb[j], 2))
        results[f'qlayernorm_i32 ({"+residual" if with_residual else "alone"}, int8 and int32)'] = \
            emu.download('b', o8, rows * width) == w8 and emu.download('i', o32, rows * width) == w32

    # qgelu_i32: every output type; extremes of int32
    rows, f = 7, 45
    x = [int(rng.gauss(0, 4096)) for _ in range(rows * f)]
    x[0], x[1], x[2] = -2**31, 2**31 - 1, 11000
    dx = up('i', x)
    for output in (0, 1, 2):
        dy = [(rng.randrange(1 << 22, 1 << 24), (44, 36, 30)[output] + rng.randrange(-2, 3)) for _ in range(f)]
        dm, ds = up('i', [t[0] for t in dy]), up('i', [t[1] for t in dy])
        cols = 2 * f if output == 1 else f
        out = alloc(4 * rows * cols)
        emu.launch('qgelu_i32', (2, 1, 1), 256, 0, [(PTR, dx), (PTR, dm), (PTR, ds), (PTR, out if output != 2 else 0),
                                                    (PTR, out if output == 2 else 0), (I64, rows), (I32, f),
                                                    (I32, output)])
        vals = [q_saturate(q_dyadic(q_shift_gelu(x[i]), *dy[i % f]), output) for i in range(rows * f)]
        if output == 1:   # high plane, then low plane, per row
            want = []
            for r in range(rows):
                row = vals[r * f:(r + 1) * f]
                low = [wrap32(v << 24) >> 24 for v in row]
                want += [(v - lo) >> 8 for v, lo in zip(row, low)] + low
        else:
            want = [v if output == 2 else wrap32(v << 24) >> 24 for v in vals]
        results[f'qgelu_i32 (output {output})'] = emu.download('i' if output == 2 else 'b', out, rows * cols) == want

    # qembed_s8: word + position (+ type 0), one dyadic per table row
    batch, seq, width, vocab = 2, 5, 70, 11
    tables = {name: [rng.randrange(-127, 128) for _ in range(rws * width)] for name, rws in
              (('word', vocab), ('pos', seq), ('type', 2))}
    dys = {name: q_dyadics(rng, rws, (22, 32)) for name, rws in (('word', vocab), ('pos', seq), ('type', 2))}
    ids = [rng.randrange(vocab) for _ in range(batch * seq)]
    dev = {name: (up('b', tables[name]), up('i', [t[0] for t in dys[name]]), up('i', [t[1] for t in dys[name]]))
           for name in tables}
    di, out = up('i', ids), alloc(4 * batch * seq * width)
    for with_type in (True, False):
        t = dev['type'] if with_type else (0, 0, 0)
        emu.launch('qembed_s8', (batch * seq, 1, 1), 128, 0,
                   [(PTR, di)] + [(PTR, a) for a in dev['word'] + dev['pos'] + t] +
                   [(PTR, out), (I32, seq), (I32, width)])
        want = []
        for r in range(batch * seq):
            for j in range(width):
                v = q_dyadic(tables['word'][ids[r] * width + j], *dys['word'][ids[r]]) + \
                    q_dyadic(tables['pos'][(r % seq) * width + j], *dys['pos'][r % seq])
                if with_type:
                    v += q_dyadic(tables['type'][j], *dys['type'][0])
                want.append(q_saturate(v, 2))
        results[f'qembed_s8 ({"with" if with_type else "without"} token types)'] = \
            emu.download('i', out, batch * seq * width) == want

    # dequantize_i32, quantize_f32 (NaN, infinities, halves), qadd_i32 (saturating, in place)
    n = 1000
    x = [rng.randrange(-2**31, 2**31) if i % 3 else rng.randrange(-5000, 5000) for i in range(n)]
    dx, out = up('i', x), alloc(4 * n)
    emu.launch('dequantize_i32', (2, 1, 1), 256, 0, [(PTR, dx), (PTR, out), (I32, 12), (I64, n)])
    results['dequantize_i32'] = emu.download('f', out, n) == [f32(math.ldexp(f32(v), -12)) for v in x]
    scale = f32(0.0173)
    inv = f32(1 / scale)
    fx = [f32(rng.gauss(0, 80) * scale) if i % 2 else f32((rng.randrange(-150, 150) + 0.5) * scale) for i in range(n)]
    fx[:6] = [math.nan, math.inf, -math.inf, 3.4e38, -0.0, f32(-126.5 * scale)]
    dfx, o8 = up('f', fx), alloc(n)
    emu.launch('quantize_f32', (2, 1, 1), 256, 0, [(PTR, dfx), (PTR, o8), (F32, inv), (I64, n)])
    want = []
    for v in fx:
        t = f32_or_inf(f32_or_inf(v * inv) + 0.5)
        want.append(0 if t != t else (127 if t >= 127 else (-127 if t <= -127 else math.floor(t))))
    results['quantize_f32'] = emu.download('b', o8, n) == want
    y = [rng.randrange(-2**31, 2**31) for _ in range(n)]
    dy = up('i', y)
    emu.launch('qadd_i32', (2, 1, 1), 256, 0, [(PTR, dx), (PTR, dy), (PTR, dx), (I64, n)])   # out aliases a
    results['qadd_i32 (saturating, out = a)'] = emu.download('i', dx, n) == [q_saturate(a + b, 2) for a, b in zip(x, y)]
    for a in ptrs:
        emu.free(a)
    report('quant (bit-exact against the Java definitions)', results)


def test_errors(emu):
    a, b, o = emu.alloc(64), emu.alloc(64), emu.alloc(64)
    cases = [
        ('too few arguments', 'add_f32', (1, 1, 1), 256, 0, [(PTR, a), (PTR, b), (PTR, o)],
         ['kernel add_f32', 'takes 4 arguments', 'passed 3']),
        ('too many arguments', 'add_f32', (1, 1, 1), 256, 0, [(PTR, a), (PTR, b), (PTR, o), (I64, 4), (I32, 1)],
         ['kernel add_f32', 'takes 4 arguments', 'passed 5']),
        ('i32 for long long', 'add_f32', (1, 1, 1), 256, 0, [(PTR, a), (PTR, b), (PTR, o), (I32, 4)],
         ['kernel add_f32', 'argument 4 of 4', 'long long n', 'int64', 'int32']),
        ('f32 for a pointer', 'add_f32', (1, 1, 1), 256, 0, [(PTR, a), (F32, 1.0), (PTR, o), (I64, 4)],
         ['argument 2 of 4', 'const float* b', 'pointer']),
        ('a stray pointer', 'add_f32', (1, 1, 1), 256, 0, [(PTR, a), (PTR, b), (PTR, o + 4096), (I64, 4)],
         ['argument 3 of 4', 'not inside any device allocation']),
        ('a misaligned pointer', 'add_f32', (1, 1, 1), 256, 0, [(PTR, a + 2), (PTR, b), (PTR, o), (I64, 4)],
         ['argument 1 of 4', 'aligned']),
        ('a block of 100 threads', 'add_f32', (1, 1, 1), 100, 0, [(PTR, a), (PTR, b), (PTR, o), (I64, 4)],
         ['multiple of 32']),
        ('beyond __launch_bounds__', 'layernorm_f32', (1, 1, 1), 512, 0,
         [(PTR, a), (PTR, 0), (PTR, a), (PTR, a), (F32, 1e-5), (PTR, o), (I32, 1), (I32, 4)], ['__launch_bounds__(256)']),
        ('too much shared memory', 'add_f32', (1, 1, 1), 256, 300000, [(PTR, a), (PTR, b), (PTR, o), (I64, 4)],
         ['shared memory']),
        ('an empty grid', 'add_f32', (0, 1, 1), 256, 0, [(PTR, a), (PTR, b), (PTR, o), (I64, 4)], ['grid']),
        ('an unknown kernel', 'add_f64', (1, 1, 1), 256, 0, [], ['unknown kernel', 'add_f32']),
    ]
    for what, name, grid, block, shared, args, words in cases:
        try:
            emu.launch(name, grid, block, shared, args)
            check(False, f'{what}: the launch succeeded')
        except EmulatorError as e:
            msg = str(e)
            missing = [w for w in words if w not in msg]
            check(not missing, f'{what}: the message lacks {missing}: {msg}')
            if what == 'too few arguments':
                print(f'  e.g. "{msg}"')
    emu.ping()
    for p in (a, b, o):
        emu.free(p)
    print(f'argument and launch checks: {len(cases)} mismatches reported, the process still serves')


def test_timing(emu):
    rng = random.Random(6)
    _, gemm_s = gemm_case(emu, 'gemm_bf16_f32', bf16, 256, 384, 384, 1, 1, rng, sample=300)
    rows, cols = 512, 384
    x = emu.upload('f', [f32(rng.gauss(0, 1)) for _ in range(rows * cols)])
    g, b = emu.upload('f', [1.0] * cols), emu.upload('f', [0.0] * cols)
    out = emu.alloc(4 * rows * cols)
    start = time.time()
    emu.launch('layernorm_f32', (rows, 1, 1), 256, 0,
               [(PTR, x), (PTR, 0), (PTR, g), (PTR, b), (F32, 1e-12), (PTR, out), (I32, rows), (I32, cols)])
    ln_s = time.time() - start
    for p in (x, g, b, out):
        emu.free(p)
    print(f'timing: gemm_bf16_f32 256 x 384 x 384 (24 blocks of 128 threads): {gemm_s:.2f} s a launch '
          f'(300 sampled outputs checked)')
    print(f'timing: layernorm_f32 512 rows x 384 (512 blocks of 256 threads): {ln_s:.2f} s a launch')


def test_semantics(binary):
    """selftest/semantics.cu on its own emulator: the shim's CUDA semantics and the faults a launch reports."""
    env = dict(os.environ, EMU_HANG_SECONDS='3')
    emu = Emulator(binary, env)
    results = {}
    # lanes 16..31 leave right after a shuffle whose values lanes 0..15 are still reading; then lanes 0..15 read them
    grid, block = 2000, 64
    out, again = emu.alloc(4 * grid * block), emu.alloc(4 * grid * block)
    emu.launch('exit_after_shuffle', (grid, 1, 1), block, 0, [(PTR, out), (PTR, again)])
    got, got2 = emu.download('f', out, grid * block), emu.download('f', again, grid * block)
    results['values of lanes that exit right after the shuffle'] = \
        got == [float(((t % 32) ^ 16) + 100 * (t // block)) for t in range(grid * block)]
    results['reading exited lanes gives NaN'] = all(got2[t] != got2[t] for t in range(grid * block) if t % 32 < 16)
    for p in (out, again):
        emu.free(p)
    # shuffle widths and votes
    block = 64
    out, d, ll = emu.alloc(4 * 16 * block), emu.alloc(8 * block), emu.alloc(8 * block)
    emu.launch('shuffles', (1, 1, 1), block, 0, [(PTR, out), (PTR, d), (PTR, ll)])
    got = emu.download('i', out, 16 * block)
    want = []
    for t in range(block):
        lane = t % 32
        for w in (32, 16, 8):
            base = lane & ~(w - 1)
            up, down, xor = lane - 2, lane + 3, lane ^ 5
            want += [(base + (3 & (w - 1))) * 10, (up if up >= base else lane) * 10,
                     (down if down < base + w else lane) * 10, (xor if xor < base + w else lane) * 10]
        ballot = sum(1 << l for l in range(32) if l % 3 == 0)
        want += [ballot - (1 << 32) if ballot >= 1 << 31 else ballot, 1, 0, 1]
    results['__shfl_sync / _up / _down / _xor at widths 32, 16, 8, __ballot / __any / __all_sync'] = got == want
    results['8-byte shuffles'] = (emu.download('d', d, block) == [(l % 32) + 1.25 if l % 32 < 31 else 31.25
                                                                   for l in range(block)] and
                                  emu.download('q', ll, block) == [((l % 32) ^ 1) << 40 for l in range(block)])
    for p in (out, d, ll):
        emu.free(p)
    # threads that return before __syncthreads do not hold up the others
    grid, block = 3, 96
    out, counter = emu.alloc(4 * grid * block), emu.upload('i', [0] * grid)
    emu.launch('early_exit', (grid, 1, 1), block, 0, [(PTR, out), (PTR, counter)])
    got = emu.download('i', out, grid * block)
    results['early returns drop out of __syncthreads'] = \
        got == [-1 if t % block % 3 == 0 else 64 for t in range(grid * block)]
    for p in (out, counter):
        emu.free(p)
    # atomics from 1024 threads
    bufs = [emu.upload('f', [0.0]), emu.upload('d', [0.0]), emu.upload('Q', [0]), emu.upload('i', [-1]),
            emu.upload('i', [0]), emu.upload('i', [0]), emu.upload('I', [0])]
    emu.launch('atomics', (4, 1, 1), 256, 0, [(PTR, p) for p in bufs])
    got = [emu.download(fmt, p, 1)[0] for fmt, p in zip('fdQiiiI', bufs)]
    results['atomics'] = got == [512.0, 256.0, 3072, 1023, -1023, 2048, 1024 % 100]
    for p in bufs:
        emu.free(p)
    # static and dynamic shared memory are NaN at the start of every block
    out, dyn = emu.alloc(4 * 3), emu.alloc(4 * 3)
    emu.launch('poison', (3, 1, 1), 64, 256, [(PTR, out), (PTR, dyn)])
    results['shared memory NaN before every block'] = \
        all(v != v for v in emu.download('f', out, 3) + emu.download('f', dyn, 3))
    for p in (out, dyn):
        emu.free(p)
    # WMMA, column-major inputs and output, accumulator loaded from memory: exact float sums in k order
    rng = random.Random(14)
    A, B, Cin = ([f32(rng.uniform(-2, 2)) for _ in range(256)] for _ in range(3))
    dA, dB, dC, out = emu.upload('f', A), emu.upload('f', B), emu.upload('f', Cin), emu.alloc(4 * 256)
    emu.launch('wmma_col_major', (1, 1, 1), 32, 0, [(PTR, dA), (PTR, dB), (PTR, dC), (PTR, out)])
    got = emu.download('f', out, 256)
    want = [0.0] * 256
    for r in range(16):
        for n in range(16):
            acc = Cin[r * 16 + n]
            for k in range(16):
                acc = f32(acc + f16(A[k * 16 + r]) * f16(B[n * 16 + k]))
            want[n * 16 + r] = acc
    results['wmma col_major tiles, accumulator load, mem_col_major store'] = got == want
    for p in (dA, dB, dC, out):
        emu.free(p)
    # WMMA s8: row-major A, column-major B, int accumulators near the int32 limits: exact, wrapping around
    A = [rng.randrange(-128, 128) for _ in range(256)]
    B = [rng.randrange(-128, 128) for _ in range(256)]
    Cin = [rng.choice([rng.randrange(-1000, 1000), 2**31 - 1 - rng.randrange(1000), -2**31 + rng.randrange(1000)])
           for _ in range(256)]
    dA, dB, dC, out = emu.upload('b', A), emu.upload('b', B), emu.upload('i', Cin), emu.alloc(4 * 256)
    emu.launch('wmma_s8', (1, 1, 1), 32, 0, [(PTR, dA), (PTR, dB), (PTR, dC), (PTR, out)])
    want = [wrap32(Cin[r * 16 + n] + sum(A[r * 16 + k] * B[n * 16 + k] for k in range(16)))
            for r in range(16) for n in range(16)]
    results['wmma s8 tiles, int32 accumulators wrapping around'] = emu.download('i', out, 256) == want
    for p in (dA, dB, dC, out):
        emu.free(p)
    # ptx.cuh's stand-ins: cp.async into shared memory, ldmatrix (x4 for A, x2 / x2.trans for B), mma m16n8k16
    A = [bf16(rng.uniform(-2, 2)) for _ in range(256)]
    B = [[bf16(rng.uniform(-2, 2)) for _ in range(8)] for _ in range(16)]   # B[k][n]
    Cin = [f32(rng.uniform(-2, 2)) for _ in range(128)]
    bits = lambda vals: [f32_bits(v) >> 16 for v in vals]
    dA = emu.upload('H', bits(A))
    dBt = emu.upload('H', bits([B[k][n] for n in range(8) for k in range(16)]))
    dBk = emu.upload('H', bits([B[k][n] for k in range(16) for n in range(8)]))
    dC, out, early = emu.upload('f', Cin), emu.alloc(4 * 128), emu.alloc(4 * 32)
    want = []
    for r in range(16):
        for n in range(8):
            acc = Cin[r * 8 + n]
            for k in range(16):
                acc = f32(acc + A[r * 16 + k] * B[k][n])
            want.append(acc)
    for trans in (0, 1):
        emu.launch('ptx_mma_bf16', (1, 1, 1), 32, 0, [(PTR, dA), (PTR, dBt), (PTR, dBk), (PTR, dC), (I32, trans),
                                                      (PTR, out), (PTR, early)])
        got = emu.download('f', out, 128)
        results[f'ptx: cp.async + ldmatrix x4 / x2{".trans" if trans else ""} + mma m16n8k16 bf16 (PTX layouts)'] = \
            got == want
    results['ptx: shared memory read before cp.async.wait_group is still the NaN poison'] = \
        all(v != v for v in emu.download('f', early, 32))
    for p in (dA, dBt, dBk, dC, out, early):
        emu.free(p)
    src = emu.upload('f', [float(i + 1) for i in range(12)])
    out = emu.alloc(4 * 8)
    emu.launch('ptx_cp_async_groups', (1, 1, 1), 32, 0, [(PTR, src), (PTR, out)])
    got = emu.download('f', out, 7)
    results['ptx: cp.async groups land at wait_group N (older first), a short source zero-fills'] = \
        got[0] != got[0] and got[1] != got[1] and got[2] == 1.0 and got[3] != got[3] and got[4] == 5.0 \
        and got[5] == 0.0 and got[6] == 10.0
    for p in (src, out):
        emu.free(p)
    # a 1024-thread block
    out = emu.alloc(4)
    emu.launch('block_sum_1024', (1, 1, 1), 1024, 0, [(PTR, out)])
    results['1024-thread block'] = emu.download('i', out, 1) == [sum(range(1024))]
    # a spin-wait with __nanosleep lets the thread it waits for run
    flag, out1 = emu.upload('i', [0]), emu.upload('i', [0])
    emu.launch('spin_wait', (2, 1, 1), 128, 0, [(PTR, flag), (PTR, out1)])
    results['a spin-wait with __nanosleep'] = emu.download('i', out1, 1) == [1]
    for p in (flag, out1):
        emu.free(p)
    # planted missing barriers: the results must be wrong (NaN from poisoned shared memory, or stale values)
    block = 128
    planted = emu.alloc(4 * 3 * block)
    emu.launch('missing_tile_barrier', (2, 1, 1), block, 0, [(PTR, planted)])
    got = emu.download('f', planted, block)
    results['a missing tile barrier (only a warp collective before the read) gives wrong values'] = \
        got != [float((t + 32) % block) for t in range(block)]
    emu.launch('missing_reuse_barrier', (2, 1, 1), block, 0, [(PTR, planted)])
    got = emu.download('f', planted, 3 * block)
    results['a missing barrier before a shared buffer is rewritten gives wrong values'] = \
        got != [float(r * 1000 + (t + 32) % block) for r in range(3) for t in range(block)]
    emu.free(planted)
    # faults: reported, and the process serves on
    buf = emu.alloc(4 * 64)
    for name, block, words in (('diverging_collectives', 32, ['warp collectives diverged', 'semantics.cu:']),
                               ('hang', 64, ['deadlock', '32 of 64 live threads wait at __syncthreads',
                                             'threads 0-15, 32-47 at', 'lanes 16-31 in __shfl_xor_sync at']),
                               ('trap', 32, ['__trap()'])):
        try:
            emu.launch(name, (1, 1, 1), block, 0, [(PTR, buf)])
            results[f'{name} fails the launch'] = False
        except EmulatorError as e:
            results[f'{name} fails the launch'] = all(w in str(e) for w in words)
            if name == 'hang':
                print(f'  e.g. "{str(e)[:160]}..."')
    emu.launch('block_sum_1024', (1, 1, 1), 1024, 0, [(PTR, out)])
    results['a launch after the faults'] = emu.download('i', out, 1) == [sum(range(1024))]
    emu.free(out)
    emu.free(buf)
    check(emu.quit() == 0, 'semantics emulator: QUIT')
    # faults that end the process, each on an emulator of its own: an error response, then the exit code
    asan = os.environ.get('EMU_ASAN') == '1'
    for name, hang_s, code, words in (('endless', '1', 3, ['endless', 'thread 5 of block (0,0,0)',
                                                           'without reaching a barrier']),
                                      ('spin_forever', '1', 3, ['spin_forever', 'without reaching a barrier']),
                                      ('stack_overflow', '120', 2, ['stack_overflow', 'thread 3', 'stack overflow'])):
        emu = Emulator(binary, dict(os.environ, EMU_HANG_SECONDS=hang_s))
        flag = emu.upload('i', [0])
        message = None
        try:
            emu.launch(name, (1, 1, 1), 64, 0, [(PTR, flag)])
        except EmulatorError as e:
            message = str(e)
        exit_code = emu.p.wait(30)
        if asan and name == 'stack_overflow':   # AddressSanitizer reports it on stderr and exits
            results[f'{name} ends the emulator'] = exit_code != 0
        else:
            results[f'{name} ends the emulator with an error response (exit {code})'] = \
                exit_code == code and message is not None and all(w in message for w in words)
    report('semantics (selftest/semantics.cu)', results)


def test_planted(build, build_dir):
    """gemm.cu without either of its two tile barriers (the first is EmulatorMutationTest's planted bug) must fail the
    gemm check: the missing barrier must show as wrong data, in the default order and with EMU_SCHEDULE_FUZZ."""
    cuda = os.path.join(GPU, 'src', 'main', 'cuda')
    mutations = (
        ('tile', 'the __syncthreads between writing the shared tiles and the WMMA loads',
         '        }\n        __syncthreads();\n\n        for (int kk = 0;', '        }\n\n        for (int kk = 0;'),
        ('reuse', 'the __syncthreads before the next K step overwrites the tiles',
         '        __syncthreads();   // the next iteration overwrites As and Bs\n', ''))
    for tag, what, anchor, replacement in mutations:
        sources = os.path.join(build_dir, f'planted-{tag}-src')
        os.makedirs(sources, exist_ok=True)
        for name in ('gemm.cu', 'common.cuh'):
            with open(os.path.join(cuda, name)) as f:
                text = f.read()
            if name == 'gemm.cu':
                check(text.count(anchor) == 1, f'planted: gemm.cu has {what} where the mutation expects it')
                text = text.replace(anchor, replacement)
            path = os.path.join(sources, name)
            if not os.path.exists(path) or open(path).read() != text:   # unchanged: no rebuild
                with open(path, 'w') as f:
                    f.write(text)
        emu = Emulator(build(os.path.join(build_dir, f'planted-{tag}'), sources))
        rng = random.Random(15)
        cases = ((70, 45, 50, 1, 0), (33, 100, 77, 0, 2), (96, 80, 256, 1, 1))   # K > 32: more than one K step
        caught = 0
        quiet.append(True)
        for m, n, k, trans_b, epilogue in cases:
            before = len(failures)
            gemm_case(emu, 'gemm_bf16_f32', bf16, m, n, k, trans_b, epilogue, rng, sample=400)
            caught += len(failures) > before
            del failures[before:]
        quiet.pop()
        check(caught == len(cases), f'planted: gemm_bf16_f32 without {what} passed {len(cases) - caught} of '
                                    f'{len(cases)} gemm cases')
        check(emu.quit() == 0, 'planted emulator: QUIT')
        print(f'planted bug: gemm.cu without {what} fails {caught} of {len(cases)} gemm cases (must be all)')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build-dir', default=os.path.join(GPU, 'target', 'cuda-emulator'))
    ap.add_argument('--binary', help='an emulator already built (skips build.sh)')
    a = ap.parse_args()
    def build(out, sources=None):
        cmd = ['bash', os.path.join(HERE, 'build.sh'), out] + ([sources] if sources else [])
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout + done.stderr)
            sys.exit(1)
        path = done.stdout.strip().split('\n')[-1]
        print(f'built {path}')
        return path

    binary = a.binary or build(a.build_dir)
    semantics = build(os.path.join(a.build_dir if not a.binary else os.path.dirname(a.binary), 'semantics'),
                      os.path.join(HERE, 'selftest'))
    emu = Emulator(binary)
    start = time.time()
    for test in (test_memory, test_add, test_layernorm, test_gemm, test_gemm_resident, test_prim, test_topk, test_elementwise,
                 test_embedding_pooling, test_attention, test_flash_attention, test_image, test_maxsim, test_linear_algebra, test_quant,
                 test_errors,
                 test_timing):
        try:
            test(emu)
        except EmulatorError as e:
            check(False, f'{test.__name__}: {e}')
    code = emu.quit()
    check(code == 0, f'QUIT: exit code {code}')
    try:
        test_semantics(semantics)
    except EmulatorError as e:
        check(False, f'test_semantics: {e}')
    try:
        test_planted(build, a.build_dir if not a.binary else os.path.dirname(a.binary))
    except EmulatorError as e:
        check(False, f'test_planted: {e}')
    print(f'selftest: {len(failures)} failure(s), {time.time() - start:.0f} s')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
