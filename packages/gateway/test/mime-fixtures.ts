/** Test messages built by hand (exact bytes), and checks of the results with mailparser and Python's email. */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';

export const CRLF = '\r\n';

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** base64 in 76-character lines. */
export function b64(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join(CRLF);
}

/** A fake PDF of `size` bytes (random: it does not compress, like a scan). */
export function pdfBytes(size: number, seed = 1): Buffer {
  const b = randomBytes(size);
  b.write('%PDF-1.7\n', 0, 'latin1');
  b[9] = seed;
  return b;
}

export function header(lines: string[]): string {
  return lines.join(CRLF) + CRLF + CRLF;
}

export const ROOT = [
  'Return-Path: <librarian@lib.example>',
  'Received: from lib.example by mx.test (Delegato) with ESMTPS id 01TEST; Sun, 6 Dec 2026 04:00:00 +0000',
  'From: Librarian <librarian@lib.example>',
  'To: reader@univ.example',
  'Subject: Scanned documents',
  'Message-ID: <scan-1@lib.example>',
  'Date: Sun, 6 Dec 2026 04:00:00 +0000',
  'MIME-Version: 1.0',
];

/** A message with a PDF attachment of `pdf.length` bytes and a small text attachment. */
export function pdfMessage(pdf: Buffer, extraRoot: string[] = []): { raw: Buffer; textPart: string } {
  const textPart = `${header([
    'Content-Type: text/plain; charset=utf-8; name="notes.txt"',
    'Content-Disposition: attachment; filename="notes.txt"',
    'Content-Transfer-Encoding: 7bit',
  ])}Shelf 12, box 4.\r\nReturn by Friday.`;
  const raw =
    header([...extraRoot, ...ROOT, 'Content-Type: multipart/mixed; boundary="outer"']) +
    `This is a multi-part message.${CRLF}--outer${CRLF}` +
    header(['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 7bit']) +
    `Here are the scans.${CRLF}--outer${CRLF}` +
    header([
      'Content-Type: application/pdf; name="scan.pdf"',
      'Content-Disposition: attachment; filename="scan.pdf"',
      'Content-Transfer-Encoding: base64',
    ]) +
    `${b64(pdf)}${CRLF}--outer${CRLF}${textPart}${CRLF}--outer--${CRLF}`;
  return { raw: Buffer.from(raw, 'latin1'), textPart };
}

/** What Python's email package (policy.default) makes of a message: parts, defects, file names. */
export function pythonParse(
  dir: string,
  raw: Buffer,
): {
  parts: Array<{ type: string; filename: string | null; defects: string[]; size: number }>;
  defects: string[];
} {
  const file = join(dir, `py-${Date.now()}-${Math.random()}.eml`);
  writeFileSync(file, raw);
  const script = `
import email, email.policy, json, sys
with open(sys.argv[1], 'rb') as f:
    m = email.message_from_binary_file(f, policy=email.policy.default)
parts = []
for p in m.walk():
    payload = None if p.is_multipart() else p.get_payload(decode=True)
    parts.append({'type': p.get_content_type(), 'filename': p.get_filename(),
                  'defects': [type(d).__name__ for d in p.defects],
                  'size': 0 if payload is None else len(payload)})
print(json.dumps({'parts': parts, 'defects': [type(d).__name__ for d in m.defects]}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { maxBuffer: 1 << 20 }).toString());
}

export async function mailparserParse(raw: Buffer) {
  return simpleParser(raw);
}
