/**
 * Message authentication at the MX (issue 18): SPF (RFC 7208), DKIM (RFC 6376, RFC 8463), DMARC (RFC 7489)
 * and ARC (RFC 8617) with mailauth, on mail from outside (not on submission, the internal networks or the
 * federation channel). The message is received into a work file first, checked, and only then stored, so:
 *
 * - one `Authentication-Results:` field (RFC 8601) with our authserv-id goes on top, and fields claiming our
 *   authserv-id that came with the message are removed (RFC 8601 §5);
 * - DMARC `fail` with `p=reject` refuses the message at the end of DATA (`550 5.7.1`, RFC 7489 §6.6.3
 *   and §7.3 of RFC 7372 for the code); with `p=quarantine` it is delivered to the Junk folder;
 * - a hosted domain in `From:` from outside, failing SPF and without an aligned DKIM pass, gets the
 *   operator's `spoofing` treatment (reject by default) even when the domain publishes no DMARC policy.
 *
 * A DNS failure never refuses mail: mailauth reports `temperror` and the message is accepted.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { logEventAt } from '@delegato/observability';
import { authenticate } from 'mailauth';
import type { Logger } from 'pino';
import { TooLargeError } from '../fsync.js';
import { SmtpReplyError } from '../replies.js';
import { authorDomain, readHeaderSection, StripForgedResults } from './headers.js';
import type { AuthResolver } from './resolver.js';

export type Treatment = 'reject' | 'quarantine' | 'off';

export interface InboundAuthOptions {
  resolver: AuthResolver;
  /** Our authserv-id (RFC 8601 §2.5): the MX's host name. */
  authservId: string;
  /** Whether `domain` is hosted here (the author domain check of `spoofing`). */
  isHosted(domain: string): Promise<boolean>;
  /** Mail from outside with a hosted domain in From, failing SPF and DKIM (default `reject`). */
  spoofing: Treatment;
  /** Where messages wait while they are checked. */
  workDir: string;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export type Verdict = 'accept' | 'quarantine' | 'reject';

export interface CheckedMessage {
  verdict: Verdict;
  /** Why, for the log and the 550's text. */
  reason: string;
  /** The header fields to put on top (our `Authentication-Results:`), CRLF-terminated. */
  headers: string;
  /** The message as received, forged results removed. */
  source(): Readable;
  /** Removes the work file. */
  discard(): Promise<void>;
}

/** X.7.1 (RFC 3463; RFC 7372 §3.2 `5.7.1` for a DMARC rejection). */
export const DMARC_REJECT = { code: 550, enhanced: '5.7.1', text: 'Message rejected:' } as const;

/** Counts bytes and drops what is beyond `max` (the stream is still read to its end: the client waits). */
class Limit extends Transform {
  bytes = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    cb(null, this.bytes > this.max ? undefined : chunk);
  }
}

/** Only the `Authentication-Results:` field of mailauth's header block (one field, folded as it is). */
function resultsField(block: string): string {
  const fields = block.split(/\r\n(?![ \t])/).filter((f) => /^authentication-results:/i.test(f));
  return fields.length > 0 ? `${fields.join('\r\n')}\r\n` : '';
}

export class InboundAuth {
  #swept = false;
  constructor(readonly o: InboundAuthOptions) {}

  /** Work files left by a crash (or a delivery that failed before reading one): removed after an hour. */
  async #sweep(): Promise<void> {
    this.#swept = true;
    const old = Date.now() - 3_600_000;
    for (const name of await readdir(this.o.workDir).catch(() => [] as string[])) {
      const file = join(this.o.workDir, name);
      const st = await stat(file).catch(() => null);
      if (st && st.mtimeMs < old) await unlink(file).catch(() => undefined);
    }
  }

  /**
   * Receives `stream` into a work file (at most `maxBytes`: TooLargeError beyond), then checks it. Throws an
   * SmtpReplyError 550 5.7.1 for a rejected message (the work file removed).
   */
  async check(
    stream: Readable,
    ctx: { ip: string; helo: string; sender: string; maxBytes: number },
  ): Promise<CheckedMessage> {
    await mkdir(this.o.workDir, { recursive: true, mode: 0o700 });
    if (!this.#swept) await this.#sweep();
    const file = join(this.o.workDir, `auth-${Date.now()}-${randomBytes(6).toString('hex')}.eml`);
    const discard = () => unlink(file).catch(() => undefined);
    const limit = new Limit(ctx.maxBytes);
    try {
      await pipeline(stream, limit, createWriteStream(file, { mode: 0o600 }));
      if (limit.bytes > ctx.maxBytes) throw new TooLargeError(ctx.maxBytes);
    } catch (err) {
      await discard();
      if ((err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE')
        throw Object.assign(new Error('client gone mid-message'), { code: 'client-gone' });
      throw err;
    }
    try {
      const result = await authenticate(createReadStream(file), {
        ip: ctx.ip,
        helo: ctx.helo,
        sender: ctx.sender,
        mta: this.o.authservId,
        resolver: this.o.resolver as never,
        disableBimi: true,
        // Every check as its RFC says (a body hash mismatch is dkim=fail, RFC 8601 §2.7.1).
        strict: true,
      });
      const { verdict, reason } = await this.#verdict(file, result);
      const headers = resultsField(result.headers);
      logEventAt(
        this.o.logger,
        verdict === 'accept' ? 'info' : 'warn',
        'msgauth.verdict',
        {
          verdict,
          reason,
          spf: result.spf ? result.spf.status.result : 'none',
          dkim: (result.dkim.results ?? []).map((r) => r.status.result).join(',') || 'none',
          dmarc: result.dmarc ? result.dmarc.status.result : 'none',
          arc: result.arc ? result.arc.status.result : 'none',
          client: ctx.ip,
        },
        'message authentication',
      );
      if (verdict === 'reject') {
        await discard();
        throw new SmtpReplyError(DMARC_REJECT, reason);
      }
      return {
        verdict,
        reason,
        headers,
        source: () => {
          const strip = new StripForgedResults(this.o.authservId);
          const input = createReadStream(file);
          input.on('error', (err) => strip.destroy(err));
          return input.pipe(strip);
        },
        discard,
      };
    } catch (err) {
      if (err instanceof SmtpReplyError) throw err;
      await discard();
      throw err;
    }
  }

  async #verdict(
    file: string,
    result: Awaited<ReturnType<typeof authenticate>>,
  ): Promise<{ verdict: Verdict; reason: string }> {
    const dmarc = result.dmarc;
    if (dmarc && dmarc.status.result === 'fail') {
      const policy = String((dmarc as { policy?: string }).policy ?? 'none').toLowerCase();
      const domain = String(dmarc.domain ?? '');
      if (policy === 'reject') return { verdict: 'reject', reason: `DMARC policy of ${domain} (p=reject)` };
      if (policy === 'quarantine')
        return { verdict: 'quarantine', reason: `DMARC policy of ${domain} (p=quarantine)` };
    }
    if (this.o.spoofing === 'off') return { verdict: 'accept', reason: 'authenticated or no policy' };
    const author = authorDomain(await readHeaderSection(file));
    if (!author || !(await this.#hosted(author))) return { verdict: 'accept', reason: 'no policy applies' };
    // Relaxed alignment (RFC 7489 §3.1): the authenticated domain is the author domain, a parent or a child.
    const aligned = (d: unknown) =>
      typeof d === 'string' &&
      (d.toLowerCase() === author ||
        author.endsWith(`.${d.toLowerCase()}`) ||
        d.toLowerCase().endsWith(`.${author}`));
    const spfAligned = result.spf && result.spf.status.result === 'pass' && aligned(result.spf.domain);
    const dkimAligned = (result.dkim.results ?? []).some(
      (r) => r.status.result === 'pass' && aligned(r.signingDomain),
    );
    if (spfAligned || dkimAligned) return { verdict: 'accept', reason: 'hosted domain authenticated' };
    const reason = `${author} is hosted here and the message failed SPF and DKIM`;
    return this.o.spoofing === 'reject' ? { verdict: 'reject', reason } : { verdict: 'quarantine', reason };
  }

  /** `domain` or one of its parents is hosted here. */
  async #hosted(domain: string): Promise<boolean> {
    const labels = domain.split('.');
    for (let i = 0; i < labels.length - 1; i++)
      if (await this.o.isHosted(labels.slice(i).join('.'))) return true;
    return false;
  }
}
