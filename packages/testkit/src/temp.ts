import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temp dir and its removal. */
export function tempDir(prefix = 'delegato-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Environment that puts every listener on a system-chosen port. */
export const ALL_PORTS_ZERO: Record<string, string> = Object.fromEntries(
  [
    'SMTP',
    'SUBMISSION',
    'SUBMISSIONS',
    'IMAP',
    'IMAPS',
    'POP3',
    'POP3S',
    'ADMIN',
    'WEB',
    'FEDERATION',
    'PROXY',
    'SYNC',
  ].map((p) => [`DELEGATO_PORT_${p}`, '0']),
);
