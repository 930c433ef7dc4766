#!/usr/bin/env python3
"""selftest.py: builds the CUDA emulator (build.sh) and checks it through its protocol against small pure-Python
references (no third-party packages):

  memory     ALLOC / HTOD / DTOH / DTOD / MEMSET / FREE, 0xff-filled allocations, range errors that keep the stream
  add_f32    bit-exact float32 sums
  layernorm  layernorm_f32 with and without residual (double reference), extra blocks past the last row
  gemm       gemm_bf16_f32 / gemm_f16_f32, both B layouts, all epilogues, edge sizes; a float64 reference of the
             rounded inputs within K * 2^-24 * sum |a||b| (FP32 accumulation); exact ties that must round to even
  prim       prim_step_f32 launched n - 1 times as CudaClusteringOps does: integer points (exact keys, many ties),
             the edges must equal Prim in Python edge for edge (smaller index on ties)
  topk       topk_slice_f32 over two chunks (three slices and one) + topk_merge, launch plan as RetrievalKernel.plan:
             integer vectors (exact dots, ties by tie key, chunk, row), deleted rows, a filtered query
  errors     argument count / kind / pointer mismatches, bad block sizes, launch bounds, unknown kernel: reported
  timing     one 256 x 384 x 384 gemm_bf16_f32 launch and one layernorm_f32 launch of 512 rows of 384

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

    def __init__(self, binary):
        self.p = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

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


def check(cond, message):
    if not cond:
        failures.append(message)
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
        err = max(abs(g - r) / max(1.0, abs(r)) for g, r in zip(got, ref))
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
        err = abs(got - v)
        worst = max(worst, err / (k * U * mag) if mag > 0 else (0.0 if err == 0 else math.inf))
        if err > tol + 1e-30:
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


def test_topk(emu):
    rng = random.Random(5)
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
    for s in slices[:-1]:
        slot_base.append(slot_base[-1] + s * k_out)
    total_slots = sum(slices) * k_out
    queries = [float(rng.randrange(-2, 3)) for _ in range(nq * dim)]
    q_codes = [-1, -1, -1, 1, -1]
    q_norms = [math.sqrt(sum(queries[q * dim + j] ** 2 for j in range(dim))) for q in range(nq)]
    dq, dqn, dqc = emu.upload('f', queries), emu.upload('d', q_norms), emu.upload('i', q_codes)
    cand = [emu.alloc(4 * nq * total_slots), emu.alloc(8 * nq * total_slots), emu.alloc(4 * nq * total_slots),
            emu.alloc(4 * nq * total_slots)]
    table = []   # (chunk, row, values, tie, code, live)
    keep = []
    for ci, rows in enumerate(chunks):
        vals = [float(rng.randrange(-3, 4)) for _ in range(rows * dim)]
        tie = [rng.randrange(3) for _ in range(rows)]
        codes = [rng.randrange(3) for _ in range(rows)]
        live = [0 if rng.random() < 0.1 else 1 for _ in range(rows)]
        norms = [f32(math.sqrt(sum(v * v for v in vals[r * dim:(r + 1) * dim]))) for r in range(rows)]
        dv, ds, dn = emu.upload('f', vals), emu.upload('f', [1.0] * rows), emu.upload('f', norms)
        dt, dc, dl = emu.upload('q', tie), emu.upload('i', codes), emu.upload('i', live)
        keep += [dv, ds, dn, dt, dc, dl]
        emu.launch('topk_slice_f32', (slices[ci], (nq + qt - 1) // qt, 1), threads, qt * (dim * 4 + cap * 8) + 64,
                   [(PTR, dv), (PTR, ds), (PTR, dn), (PTR, dt), (PTR, dc), (PTR, dl), (I32, rows), (I32, dim),
                    (I32, ci), (PTR, dq), (PTR, dqn), (PTR, dqc), (I32, nq), (I32, qt), (I32, 0), (I32, slice_rows),
                    (I32, k_out), (I32, cap), (PTR, cand[0]), (PTR, cand[1]), (PTR, cand[2]), (PTR, cand[3]),
                    (I32, total_slots), (I32, slot_base[ci])])
        for r in range(rows):
            table.append((ci, r, vals[r * dim:(r + 1) * dim], tie[r], codes[r], live[r]))
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
        hits = sorted(((-sum(a * b for a, b in zip(qv, v)), t, c, r)
                       for c, r, v, t, code, lv in table if lv and (q_codes[q] < 0 or q_codes[q] == code)))[:k]
        want = [(-s, c, r) for s, t, c, r in hits]
        have = [(score[q * k + i], chunk[q * k + i], row[q * k + i]) for i in range(count[q])]
        if have != want:
            bad += 1
            check(False, f'topk: query {q}: {have} != reference {want}')
    for p in keep + cand + out + [dq, dqn, dqc]:
        emu.free(p)
    print(f'topk_slice_f32 + topk_merge: {nq} queries over chunks of {chunks} rows ({sum(slices)} slices), k = {k}: '
          f'{"hits, order and scores equal the reference" if bad == 0 else "FAILED"}')


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build-dir', default=os.path.join(GPU, 'target', 'cuda-emulator'))
    ap.add_argument('--binary', help='an emulator already built (skips build.sh)')
    a = ap.parse_args()
    binary = a.binary
    if not binary:
        build = subprocess.run(['bash', os.path.join(HERE, 'build.sh'), a.build_dir], capture_output=True, text=True)
        if build.returncode != 0:
            print(build.stdout + build.stderr)
            return 1
        binary = build.stdout.strip().split('\n')[-1]
        print(f'built {binary}')
    emu = Emulator(binary)
    start = time.time()
    for test in (test_memory, test_add, test_layernorm, test_gemm, test_prim, test_topk, test_errors, test_timing):
        try:
            test(emu)
        except EmulatorError as e:
            check(False, f'{test.__name__}: {e}')
    code = emu.quit()
    check(code == 0, f'QUIT: exit code {code}')
    print(f'selftest: {len(failures)} failure(s), {time.time() - start:.0f} s')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
