/** Shared by the attachment gateway tests: messages with large parts, SMTP, HTTPS downloads, checks. */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { LineClient } from '@delegato/testkit';
import { simpleParser } from 'mailparser';
import { expect } from 'vitest';

export const CRLF = '\r\n';
export const MiB = 1024 * 1024;

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function b64(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join(CRLF);
}

const header = (lines: string[]) => `${lines.join(CRLF)}${CRLF}${CRLF}`;

/** A 5 MiB "PDF" (random bytes behind a PDF signature) and a small text attachment. */
export function scanMessage(to: string, pdf: Buffer): Buffer {
  return Buffer.from(
    header([
      'From: Librarian <librarian@lib.example>',
      `To: ${to}`,
      'Subject: Scanned documents',
      `Message-ID: <${randomBytes(6).toString('hex')}@lib.example>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="outer"',
    ]) +
      `--outer${CRLF}${header(['Content-Type: text/plain; charset=utf-8'])}Here are the scans.${CRLF}` +
      `--outer${CRLF}` +
      header([
        'Content-Type: application/pdf; name="scan.pdf"',
        "Content-Disposition: attachment; filename*=utf-8''Ma%C3%9Fnahmen%20%E6%9B%B8.pdf",
        'Content-Transfer-Encoding: base64',
      ]) +
      `${b64(pdf)}${CRLF}--outer${CRLF}` +
      header([
        'Content-Type: text/plain; name="notes.txt"',
        'Content-Disposition: attachment; filename="notes.txt"',
      ]) +
      `Shelf 12, box 4.${CRLF}--outer--${CRLF}`,
    'latin1',
  );
}

export function randomPdf(size: number): Buffer {
  const b = randomBytes(size);
  b.write('%PDF-1.7\n', 0, 'latin1');
  return b;
}

/** One message through the MX (dot-stuffed); the 250 reply is checked. */
export async function smtpSend(port: number, from: string, to: string[], message: Buffer): Promise<void> {
  const c = await LineClient.connect(port);
  try {
    expect((await c.smtpReply()).code).toBe(220);
    expect((await c.smtp('EHLO client.example')).code).toBe(250);
    expect((await c.smtp(`MAIL FROM:<${from}>`)).code).toBe(250);
    for (const rcpt of to) expect((await c.smtp(`RCPT TO:<${rcpt}>`)).code).toBe(250);
    expect((await c.smtp('DATA')).code).toBe(354);
    const stuffed = message.toString('latin1').replace(/(^|\r\n)\./g, '$1..');
    c.write(Buffer.from(stuffed.endsWith(CRLF) ? stuffed : `${stuffed}${CRLF}`, 'latin1'));
    const sent = await c.smtp('.', 60_000);
    expect(sent.code, sent.text).toBe(250);
    await c.smtp('QUIT');
  } finally {
    c.close();
  }
}

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET (or HEAD) over HTTPS to the appliance's self-signed listener. */
export function httpsGet(port: number, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<HttpsAnswer>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method, headers, rejectUnauthorized: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The download tokens named in a transformed message's link parts. */
export async function downloadPaths(message: Buffer): Promise<string[]> {
  const parsed = await simpleParser(message);
  return [
    ...new Set(
      [...(parsed.text ?? '').matchAll(/https:\/\/\S+(\/gateway\/[A-Za-z0-9_-]{43})/g)].map(
        (m) => m[1] as string,
      ),
    ),
  ];
}

/** Python's email package on a message: every part's type and defects (policy.default). */
export function pythonParts(dir: string, raw: Buffer): Array<{ type: string; defects: string[] }> {
  const file = join(dir, `py-${Date.now()}.eml`);
  writeFileSync(file, raw);
  const script = `
import email, email.policy, json, sys
with open(sys.argv[1], 'rb') as f:
    m = email.message_from_binary_file(f, policy=email.policy.default)
print(json.dumps([{'type': p.get_content_type(), 'defects': [type(d).__name__ for d in p.defects]} for p in m.walk()]))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file]).toString());
}
