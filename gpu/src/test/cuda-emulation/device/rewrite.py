#!/usr/bin/env python3
"""rewrite.py: turns each kernel family <family>.cu of a CUDA source folder into a host C++ translation unit for the
CUDA emulator, and finds its extern "C" kernels. The sources are only read; everything is written under --out:

  <family>.cu.cpp       the source with its quoted includes inlined (each once, as #pragma once would), every
                        `#include <...>` hoisted above, the whole inside `namespace emu_family_<family>` (so helpers
                        of the same name in two families can never be merged by the linker; the extern "C" kernels
                        keep their plain names), and the shared memory rewritten (blocks run one at a time):
                          extern __shared__ [__align__(n)] T name[];  ->  T* const name = (T*) emu::g_dynamic_shared;
                          __shared__ [__align__(n)] T name[dims];     ->  static T name[dims]; EMU_STATIC_SHARED(name);
                        #line directives keep compiler messages on the original files and lines.
  <family>.kernels.inc  the registration of the family's kernels (name, function, __launch_bounds__, parameter
                        declarations), found by preprocessing the unit with EMU_SCAN defined.

A `__shared__` this cannot rewrite (one declaration per line, as above) fails the build with its file and line.
Prints the family names, one per line.

usage: rewrite.py --device DIR --source DIR --out DIR [--cxx g++]
"""
import argparse
import os
import re
import subprocess
import sys

EXTERN_SHARED = re.compile(r'^(\s*)extern\s+__shared__\s+(.*?)\s*\b([A-Za-z_]\w*)\s*\[\s*\]\s*;\s*$')
STATIC_SHARED = re.compile(r'^(\s*)(?:static\s+)?__shared__\s+(.*?)\s*\b([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*);\s*$')
ALIGN = re.compile(r'__align__\s*\(\s*[^)]*\)')
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
PRAGMA_ONCE = re.compile(r'^\s*#\s*pragma\s+once\b')


class RewriteError(Exception):
    pass


def code_only(lines):
    """Each line with its comments blanked out (string and character literals respected, /* */ across lines)."""
    out = []
    in_block = False
    for line in lines:
        chars = list(line)
        i = 0
        quote = None
        while i < len(chars):
            c = chars[i]
            nxt = chars[i + 1] if i + 1 < len(chars) else ''
            if in_block:
                if c == '*' and nxt == '/':
                    chars[i] = chars[i + 1] = ' '
                    in_block = False
                    i += 2
                    continue
                chars[i] = ' '
            elif quote:
                if c == '\\':
                    i += 2
                    continue
                if c == quote:
                    quote = None
            elif c in '"\'':
                quote = c
            elif c == '/' and nxt == '/':
                for j in range(i, len(chars)):
                    chars[j] = ' '
                break
            elif c == '/' and nxt == '*':
                chars[i] = chars[i + 1] = ' '
                in_block = True
                i += 2
                continue
            i += 1
        out.append(''.join(chars))
    return out


def rewrite_shared(line, code, where):
    """The line with its shared-memory declaration rewritten (or unchanged)."""
    if not re.search(r'\b__shared__\b', code):
        return line
    comment = line[len(code.rstrip()):].strip()
    tail = ('  ' + comment) if comment else ''
    m = EXTERN_SHARED.match(code)
    if m:
        indent, decl, name = m.group(1), ' '.join(ALIGN.sub(' ', m.group(2)).split()), m.group(3)
        return f'{indent}{decl}* const {name} = reinterpret_cast<{decl}*>(::emu::g_dynamic_shared);{tail}'
    m = STATIC_SHARED.match(code)
    if m:
        indent, decl, name, dims = m.group(1), ' '.join(m.group(2).split()), m.group(3), m.group(4).strip()
        return f'{indent}static {decl} {name}{dims}; EMU_STATIC_SHARED({name});{tail}'
    raise RewriteError(f'{where}: cannot rewrite this __shared__ declaration for the emulator (write one per line: '
                       f'`__shared__ T name[dims];` or `extern __shared__ T name[];`): {line.strip()}')


def expand(path, hoisted, seen, out):
    """Appends path's lines to out, rewritten; quoted includes found next to the file are inlined."""
    path = os.path.abspath(path)
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    codes = code_only(lines)
    if any(PRAGMA_ONCE.match(c) for c in codes):
        if path in seen:
            return
        seen.add(path)
    out.append(f'#line 1 "{path}"')
    for number, (line, code) in enumerate(zip(lines, codes), start=1):
        where = f'{path}:{number}'
        inc = INCLUDE.match(code)
        if inc:
            target = os.path.join(os.path.dirname(path), inc.group(2))
            if inc.group(1) == '"' and os.path.isfile(target):
                expand(target, hoisted, seen, out)
                out.append(f'#line {number + 1} "{path}"')
                continue
            directive = f'#include {inc.group(1)}{inc.group(2)}{">" if inc.group(1) == "<" else chr(34)}'
            if directive not in hoisted:
                hoisted.append(directive)
            out.append('')
            continue
        if PRAGMA_ONCE.match(code):
            out.append('')
            continue
        new = rewrite_shared(line, code, where)
        if new is not line and re.search(r'\b__shared__\b', code_only([new])[0]):
            raise RewriteError(f'{where}: __shared__ left after the rewrite: {line.strip()}')
        out.append(new)


def balanced(text, pos):
    """text[pos] is '('; returns (the inside, the index after the matching ')')."""
    depth = 0
    for i in range(pos, len(text)):
        if text[i] == '(':
            depth += 1
        elif text[i] == ')':
            depth -= 1
            if depth == 0:
                return text[pos + 1:i], i + 1
    raise RewriteError('unbalanced parentheses in the preprocessed source')


def split_top(text):
    """Splits at the commas outside (), [], {} and <>."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in '([{<':
            depth += 1
        elif c in ')]}>':
            depth -= 1
        elif c == ',' and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [' '.join(p.split()) for p in parts]


IDENT = re.compile(r'[A-Za-z_]\w*')


def find_kernels(pre, family):
    """(name, launch-bounds expression or None, [parameter declarations]) of each extern "C" __global__ function."""
    kernels = []
    for m in re.finditer(r'\bEMU_GLOBAL_MARK\b', pre):
        before = ' '.join(pre[max(0, m.start() - 64):m.start()].split())
        if not before.endswith('extern "C"'):
            print(f'rewrite.py: {family}: a __global__ function that is not extern "C" is not launchable by name; '
                  f'skipped', file=sys.stderr)
            continue
        pos, bounds = m.end(), None
        while True:
            while pre[pos].isspace():
                pos += 1
            if pre.startswith('EMU_LAUNCH_BOUNDS_MARK', pos):
                pos += len('EMU_LAUNCH_BOUNDS_MARK')
                while pre[pos].isspace():
                    pos += 1
                inside, pos = balanced(pre, pos)
                bounds = split_top(inside)[0]
                continue
            ident = IDENT.match(pre, pos)
            if not ident:
                if pre[pos] in '*&':
                    pos += 1
                    continue
                raise RewriteError(f'{family}: cannot parse the kernel declaration near: {pre[m.start():pos + 40]!r}')
            pos = ident.end()
            while pre[pos].isspace():
                pos += 1
            if pre[pos] == '(' and ident.group(0) == '__attribute__':
                _, pos = balanced(pre, pos)
                continue
            if pre[pos] == '(':
                inside, pos = balanced(pre, pos)
                params = [p for p in split_top(inside) if p]
                if params == ['void']:
                    params = []
                kernels.append((ident.group(0), bounds, params))
                break
    return kernels


def c_string(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def write_if_changed(path, text):
    if os.path.isfile(path):
        with open(path, encoding='utf-8') as f:
            if f.read() == text:
                return
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description='Rewrites CUDA kernel families for the host emulator.')
    ap.add_argument('--device', required=True)
    ap.add_argument('--source', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--cxx', default='g++')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    sources = sorted(f for f in os.listdir(a.source) if f.endswith('.cu'))
    if not sources:
        raise RewriteError(f'no .cu files in {a.source}')
    families = []
    for src in sources:
        family = re.sub(r'\W', '_', src[:-3])
        path = os.path.join(a.source, src)
        hoisted, body = [], []
        expand(path, hoisted, set(), body)
        unit = '\n'.join(
            [f'// Generated by rewrite.py from {os.path.abspath(path)} for the CUDA emulator. Do not edit.',
             '#include "emu.h"', '#include "registry.h"'] + hoisted +
            [f'namespace emu_family_{family} {{'] + body +
            ['#ifndef EMU_SCAN', f'#include "{family}.kernels.inc"', '#endif',
             f'}}  // namespace emu_family_{family}', ''])
        unit_path = os.path.join(a.out, f'{family}.cu.cpp')
        write_if_changed(unit_path, unit)
        scan = subprocess.run([a.cxx, '-std=c++20', '-E', '-P', '-DEMU_SCAN', '-I', a.device, '-I',
                               os.path.join(a.device, 'inc'), unit_path], capture_output=True, text=True)
        if scan.returncode != 0:
            raise RewriteError(f'preprocessing {path} failed:\n{scan.stderr}')
        kernels = find_kernels(scan.stdout, family)
        if not kernels:
            print(f'rewrite.py: {src} defines no extern "C" kernel', file=sys.stderr)
        entries = []
        for name, bounds, params in kernels:
            limit = f'static_cast<long>({bounds})' if bounds else '0'
            names = ', '.join(c_string(p) for p in params)
            entries.append(f'    ::emu::make_kernel({c_string(name)}, &{name}, {limit}, {{{names}}}),')
        inc = '\n'.join([f'// Generated by rewrite.py: the extern "C" kernels of {os.path.abspath(path)}.',
                         f'static const bool emu_registered_{family} [[maybe_unused]] = '
                         f'::emu::register_family({c_string(family)}, {{'] + entries + ['});', ''])
        write_if_changed(os.path.join(a.out, f'{family}.kernels.inc'), inc)
        families.append(family)
    for f in os.listdir(a.out):   # families that are gone
        stem = f.split('.')[0]
        if (f.endswith('.cu.cpp') or f.endswith('.kernels.inc')) and stem not in families:
            os.remove(os.path.join(a.out, f))
    print('\n'.join(families))


if __name__ == '__main__':
    try:
        main()
    except RewriteError as e:
        print(f'rewrite.py: {e}', file=sys.stderr)
        sys.exit(1)
