/**
 * MTA-STS for outbound delivery (RFC 8461): a recipient domain's policy is discovered through its
 * `_mta-sts.<domain>` TXT record (§3.1), fetched over HTTPS from `https://mta-sts.<domain>/.well-known/
 * mta-sts.txt` with a verified certificate (§3.3), and cached for `max_age` (§5.1: a new `id` in DNS
 * triggers a refetch; a failed refetch keeps the cached policy). Under `enforce` (§5.2) mail goes only to
 * MX hosts the policy names, only over TLS with a valid certificate for the MX host name; a delivery that
 * cannot meet that is deferred (§5.1: "treat as temporary failure") and bounces when the queue gives up.
 * Policies are parsed and MX names matched by mailauth (parsePolicy, validateMx). DNS goes through the
 * appliance's resolver; the cache is kept in a file of the data dir across restarts.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { rootCertificates, type SecureContextOptions } from 'node:tls';
import { logEvent, logEventAt } from '@delegato/observability';
import { parsePolicy, validateMx } from 'mailauth/lib/mta-sts.js';
import type { Logger } from 'pino';
import { type AuthResolver, txtRecords } from './resolver.js';

export interface StsPolicy {
  id: string;
  mode: 'enforce' | 'testing' | 'none';
  mx: string[];
  maxAge: number;
  /** Epoch ms after which the cached policy is no longer used. */
  expires: number;
}

export interface MtaStsOptions {
  resolver: AuthResolver;
  /** Port of policy hosts; 443 (labs and tests use another). */
  port?: number;
  /** Extra trusted roots for policy hosts (labs and tests); the system's are always trusted. */
  ca?: SecureContextOptions['ca'];
  /** Time limit of one policy fetch, ms (RFC 8461 §3.3 suggests at most a minute). Default 30 s. */
  timeoutMs?: number;
  now?: () => Date;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /**
   * Where the cache is kept across restarts (RFC 8461 §5.1: a policy in force stays in force while the
   * domain's policy host cannot be reached); absent: memory only.
   */
  file?: string;
}

/** RFC 8461 §3.3: policy bodies are small; larger answers are refused. */
const MAX_POLICY_BYTES = 64 * 1024;

/** The `id` of a `v=STSv1` TXT record (§3.1); null when there is none (no policy). */
function stsId(records: string[]): string | null {
  const sts = records.filter((r) => /^v=STSv1\s*;/i.test(r));
  if (sts.length !== 1) return null; // §3.1: more than one record: no policy
  return /(?:^|;)\s*id=([A-Za-z0-9]{1,32})\s*(?:;|$)/.exec(sts[0] ?? '')?.[1] ?? null;
}

export class MtaSts {
  readonly #cache = new Map<string, StsPolicy>();
  readonly #now: () => Date;

  constructor(private readonly o: MtaStsOptions) {
    this.#now = o.now ?? (() => new Date());
    if (o.file && existsSync(o.file)) {
      try {
        const saved = JSON.parse(readFileSync(o.file, 'utf8')) as Record<string, StsPolicy>;
        for (const [domain, policy] of Object.entries(saved)) this.#cache.set(domain, policy);
      } catch (err) {
        this.#failed('(cache file)', err);
      }
    }
  }

  /** Writes the cache (temp file + rename: a crash leaves the old or the new one). */
  #save(): void {
    if (!this.o.file) return;
    const tmp = `${this.o.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.#cache)), { mode: 0o600 });
    renameSync(tmp, this.o.file);
  }

  /** The policy in force for `domain`; null when it has none (or none could be had and none is cached). */
  async policy(domain: string): Promise<StsPolicy | null> {
    const d = domain.toLowerCase().replace(/\.$/, '');
    const now = this.#now().getTime();
    const cached = this.#cache.get(d);
    const valid = cached && cached.expires > now ? cached : null;
    let id: string | null;
    try {
      id = stsId(await txtRecords(this.o.resolver, `_mta-sts.${d}`));
    } catch (err) {
      // §5.1: DNS failing: a cached policy stays in force.
      this.#failed(d, err);
      return valid;
    }
    if (id === null) return valid; // §5.1: no record: keep using a valid cached policy
    if (valid && valid.id === id) return valid;
    try {
      const body = await this.#fetch(d);
      const parsed = parsePolicy(body) as { mode: StsPolicy['mode']; mx?: string[]; maxAge: number };
      const policy: StsPolicy = {
        id,
        mode: parsed.mode,
        mx: parsed.mx ?? [],
        maxAge: parsed.maxAge,
        expires: now + parsed.maxAge * 1000,
      };
      this.#cache.set(d, policy);
      this.#save();
      logEvent(
        this.o.logger,
        'mtasts.policy',
        { domain: d, mode: policy.mode, maxAge: policy.maxAge, id, status: valid ? 'renewed' : 'found' },
        'MTA-STS policy fetched',
      );
      return policy;
    } catch (err) {
      this.#failed(d, err);
      return valid;
    }
  }

  /** Whether `mx` is a host the policy allows (§4.1: exact name or `*.` one left-most label). */
  static allows(policy: StsPolicy, mx: string): boolean {
    return (validateMx(mx, { mode: policy.mode, mx: policy.mx }) as { valid: boolean }).valid;
  }

  #failed(domain: string, err: unknown): void {
    logEventAt(
      this.o.logger,
      'warn',
      'mtasts.failed',
      { domain, err: (err as Error).message },
      'MTA-STS policy fetch failed',
    );
  }

  /** GET https://mta-sts.<domain>/.well-known/mta-sts.txt (§3.3): 200 only, no redirects, verified TLS. */
  async #fetch(domain: string): Promise<string> {
    const host = `mta-sts.${domain}`;
    let addresses: string[] = [];
    for (const type of ['A', 'AAAA'] as const) {
      try {
        addresses = (await this.o.resolver(host, type)) as string[];
      } catch {
        addresses = [];
      }
      if (addresses.length > 0) break;
    }
    const address = addresses[0];
    if (!address) throw new Error(`${host} has no address`);
    return new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: address,
          port: this.o.port ?? 443,
          path: '/.well-known/mta-sts.txt',
          method: 'GET',
          servername: host,
          headers: { host },
          rejectUnauthorized: true,
          ...(this.o.ca ? { ca: [...rootCertificates, ...[this.o.ca].flat()] } : {}),
          agent: false,
          timeout: this.o.timeoutMs ?? 30_000,
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`${host} answered HTTP ${res.statusCode}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_POLICY_BYTES) {
              req.destroy(new Error(`${host}: policy larger than ${MAX_POLICY_BYTES} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${host}: timed out`)));
      req.on('error', reject);
      req.end();
    });
  }
}
