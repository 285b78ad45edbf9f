/**
 * What message authentication adds to a message as it leaves (the queue worker asks once per transaction,
 * deliver.ts):
 *
 * - DKIM signatures (RFC 6376; RFC 8463 for Ed25519) by the author domain (`From:`, or the nearest hosted
 *   parent of it, which DMARC's relaxed alignment accepts, RFC 7489 §3.1.1) with every active key: an
 *   Ed25519 and an RSA-2048 signature. Mail that came in through our MX from outside carries our own
 *   `Authentication-Results:` and is never signed with our keys: a forged hosted sender that was
 *   delivered (quarantine) is not laundered by a forward.
 * - An ARC set (RFC 8617) on forwarded mail from outside (remote forwards and distribution-list aliases: the
 *   transactions that use SRS; built-in lists: their bounce address is the sender), sealed by the forwarding
 *   address's (or the list's) domain with its RSA key (RFC 8617 §4.1.3: ARC defines
 *   rsa-sha256 only), carrying the results our MX recorded and their ARC verdict as `cv`.
 */
import { createReadStream } from 'node:fs';
import { logEventAt } from '@delegato/observability';
import { type DKIMSignOptions, dkimSign, sealMessage } from 'mailauth';
import type { Logger } from 'pino';
import { authorDomain, headerFields, ownResults, readHeaderSection } from './headers.js';

export interface SigningKey {
  domain: string;
  selector: string;
  algorithm: 'ed25519' | 'rsa';
  privateKey: string;
}

/** The directory's `dkimSigningKeys`, structurally. */
export interface SigningKeySource {
  dkimSigningKeys(domain: string): Promise<SigningKey[]>;
}

export interface OutboundAuthOptions {
  keys: SigningKeySource;
  /** Our authserv-id (the MX's host name): mail carrying results of this id came in from outside. */
  authservId: string;
  /** How long a domain's keys are cached, ms (a rotation takes effect after this). Default 60 s. */
  cacheMs?: number;
  now?: () => Date;
  logger?: Pick<Logger, 'warn' | 'info' | 'error'>;
}

/** What the queue worker needs: the header fields to put on top of one transaction's message. */
export interface OutboundAuth {
  /**
   * `forwardedBy`: the hosted address the message was forwarded from (SRS transactions), else null;
   * `sender`: the envelope sender (a list's bounce address when a built-in list expanded the message).
   */
  prefix(spoolFile: string, forwardedBy: string | null, sender?: string): Promise<string>;
}

export class OutboundSigner implements OutboundAuth {
  readonly #cache = new Map<string, { at: number; keys: SigningKey[] }>();
  readonly #now: () => Date;

  constructor(private readonly o: OutboundAuthOptions) {
    this.#now = o.now ?? (() => new Date());
  }

  /** The active keys of `domain`, or of its nearest parent that has some (cached). */
  async keysFor(domain: string): Promise<SigningKey[]> {
    const labels = domain.toLowerCase().split('.');
    for (let i = 0; i < labels.length - 1; i++) {
      const candidate = labels.slice(i).join('.');
      const cached = this.#cache.get(candidate);
      const now = this.#now().getTime();
      let keys: SigningKey[];
      if (cached && now - cached.at < (this.o.cacheMs ?? 60_000)) keys = cached.keys;
      else {
        keys = await this.o.keys.dkimSigningKeys(candidate);
        this.#cache.set(candidate, { at: now, keys });
      }
      if (keys.length > 0) return keys;
    }
    return [];
  }

  async prefix(spoolFile: string, forwardedBy: string | null, sender = ''): Promise<string> {
    try {
      const section = await readHeaderSection(spoolFile);
      const ours = ownResults(section, this.o.authservId);
      if (ours.length === 0) return await this.#sign(spoolFile, section);
      // Mail from outside leaving again: forwarded (SRS), or expanded by a built-in list (its bounce address,
      // a hosted one, is the envelope sender); sealed by that hosted domain when it has keys.
      const by = forwardedBy ?? (sender.includes('@') ? sender : null);
      if (by) return await this.#seal(spoolFile, by, ours[0] ?? '');
      return '';
    } catch (err) {
      // Unsigned mail still goes out (SPF may carry it); the failure is logged.
      logEventAt(
        this.o.logger,
        'warn',
        'msgauth.sign_failed',
        { err: (err as Error).message },
        'DKIM/ARC failed',
      );
      return '';
    }
  }

  async #sign(spoolFile: string, section: string): Promise<string> {
    const domain = authorDomain(section);
    if (!domain) return '';
    const keys = await this.keysFor(domain);
    if (keys.length === 0) return '';
    // Both keys in `signatureData` only (top-level key fields would add a third signature).
    const options = {
      canonicalization: 'relaxed/relaxed',
      signTime: this.#now(),
      signatureData: keys.map((k) => ({
        signingDomain: k.domain,
        selector: k.selector,
        privateKey: k.privateKey,
        algorithm: k.algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256',
      })),
    };
    const result = await dkimSign(createReadStream(spoolFile), options as unknown as DKIMSignOptions);
    if (result.errors?.length)
      throw new Error(`DKIM signing: ${result.errors.map((e) => e.err?.message ?? String(e)).join('; ')}`);
    return result.signatures;
  }

  async #seal(spoolFile: string, forwardedBy: string, results: string): Promise<string> {
    const domain = forwardedBy.slice(forwardedBy.lastIndexOf('@') + 1).toLowerCase();
    const key = (await this.keysFor(domain)).find((k) => k.algorithm === 'rsa');
    if (!key) return '';
    const section = await readHeaderSection(spoolFile);
    const arc = /\barc=(pass|fail|none)\b/i.exec(results)?.[1]?.toLowerCase() ?? 'none';
    // RFC 8617 §5.1.2: a chain that failed is sealed with cv=fail; without ARC sets on the message, none.
    const hasChain = headerFields(section).some(([name]) => name === 'arc-seal');
    const sealed = await sealMessage(createReadStream(spoolFile), {
      signingDomain: key.domain,
      selector: key.selector,
      privateKey: key.privateKey,
      algorithm: 'rsa-sha256',
      authResults: results,
      cv: hasChain ? arc : 'none',
      signTime: this.#now(),
    });
    return sealed.toString('latin1');
  }
}
