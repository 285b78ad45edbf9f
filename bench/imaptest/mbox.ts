/**
 * The generated mbox imaptest's stress mode APPENDs from (`mbox=`): deterministic, varied mail — plain
 * text, quoted-printable, multipart with a base64 attachment, replies with References, encoded-word
 * subjects, sizes from a few hundred octets to ~60 KiB. mboxo format: `From ` lines separate messages
 * and body lines starting with `From ` are quoted with `>`.
 */
import { writeFileSync } from 'node:fs';

const NAMES = [
  'Ada Lovelace',
  'Grace Hopper',
  'Alan Turing',
  'Edsger Dijkstra',
  'Barbara Liskov',
  'Ken Thompson',
];
const WORDS = [
  'budget',
  'meeting',
  'report',
  'draft',
  'review',
  'deadline',
  'server',
  'invoice',
  'plans',
  'notes',
];

/** Deterministic spread of `n` over [0, 1): Knuth's multiplicative hash (the same mail every run). */
function spread(n: number): number {
  return ((Math.imul(n + 1, 2654435761) >>> 0) % 1_000_003) / 1_000_003;
}

/** `Mon Jan  1 00:00:00 2024`, the date of an mbox `From ` line. */
function asctime(d: Date): string {
  const [wd, , mon, , time] = d.toUTCString().split(' ');
  return `${wd?.slice(0, 3)} ${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${time} ${d.getUTCFullYear()}`;
}

/** Writes `count` messages to `path`; returns the file's size in octets. */
export function generateMbox(path: string, count: number): number {
  let draw = 0;
  const rnd = () => spread(draw++);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const address = (name: string) => `${name.toLowerCase().replace(/\W+/g, '.')}@example.org`;
  const out: string[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const from = pick(NAMES);
    const to = pick(NAMES);
    const topic = `${pick(WORDS)} ${pick(WORDS)} ${i % 37}`;
    const reply = i > 0 && rnd() < 0.3;
    const subject = reply
      ? `Re: ${topic}`
      : i % 11 === 0
        ? `=?UTF-8?Q?Caf=C3=A9_${topic.replace(/ /g, '_')}?=`
        : topic;
    const date = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toUTCString().replace('GMT', '+0000');
    const lines = Array.from({ length: 5 + Math.floor(rnd() * 400) }, () =>
      Array.from({ length: 8 + Math.floor(rnd() * 6) }, () => pick(WORDS)).join(' '),
    );
    let headers =
      `From: ${from} <${address(from)}>\nTo: ${to} <${address(to)}>\nSubject: ${subject}\nDate: ${date}\n` +
      `Message-ID: <m${i}@example.org>\n`;
    if (reply) headers += `In-Reply-To: <m${i - 1}@example.org>\nReferences: <m${i - 1}@example.org>\n`;
    headers += 'MIME-Version: 1.0\n';
    let body: string;
    if (i % 5 === 0) {
      const attachment = Buffer.from(lines.join('\n')).toString('base64').replace(/.{76}/g, '$&\n');
      body =
        'Content-Type: multipart/mixed; boundary="b-' +
        i +
        '"\n\nPreamble.\n--b-' +
        i +
        '\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n' +
        `Gr=C3=BC=C3=9Fe, see the ${topic} attached.\n--b-${i}\nContent-Type: application/octet-stream; name="a${i}.bin"\n` +
        `Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="a${i}.bin"\n\n${attachment}\n--b-${i}--\n`;
    } else {
      body = `Content-Type: text/plain; charset=us-ascii\n\n${lines.join('\n')}\n`;
    }
    const text = `${headers}${body}`.replace(/^From /gm, '>From ');
    const entry = `From ${address(from)} ${asctime(new Date(Date.UTC(2024, 0, 1) + i * 3_600_000))}\n${text}\n`;
    out.push(entry);
    bytes += Buffer.byteLength(entry);
  }
  writeFileSync(path, out.join(''));
  return bytes;
}
