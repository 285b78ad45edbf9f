/**
 * The one boundary with nodemailer's internals, pinned to its version by `test/nodemailer-internals.test.ts`
 * (`NODEMAILER_VERSION`): when nodemailer is upgraded that test fails first, and whoever upgrades re-reads
 * what is below against the new `SMTPConnection`.
 *
 * What we read, and why:
 * - `SMTPConnection._supportedExtensions`: the EHLO keywords nodemailer tracks (SMTPUTF8, DSN, 8BITMIME,
 *   REQUIRETLS, PIPELINING, SIZE), filled from the last EHLO. Its public API gives them only to an AUTH
 *   handler or, after a transaction, as `info.ehlo`; the queue worker needs them before the first
 *   transaction, to know whether the next hop takes DSN parameters (RFC 3461 §4.2, queue/deliver.ts).
 */
import { createRequire } from 'node:module';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';

/** The nodemailer version this adapter was written against (the adapter test checks it). */
export const NODEMAILER_VERSION = '10.6.1';

/** The installed version of nodemailer (its package.json). */
export function installedNodemailerVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('nodemailer/package.json') as { version: string }).version;
}

/**
 * The EHLO keywords the server advertised, as far as nodemailer tracks them (the private
 * `_supportedExtensions`); null when the field is not there (a nodemailer that no longer has it).
 */
export function supportedExtensions(conn: SMTPConnection): string[] | null {
  const ext = (conn as unknown as { _supportedExtensions?: unknown })._supportedExtensions;
  return Array.isArray(ext) ? ext.map(String) : null;
}
