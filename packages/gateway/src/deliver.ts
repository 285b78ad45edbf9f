/**
 * The gateway at delivery into the mail store. `gatewayDelivery(target, opts)` returns a `deliver` with the
 * mail store's signature: recipients the gateway does not apply to get the message as it came (straight
 * through, no copy, when none of them is registered); registered ones, grouped by their domain's rules,
 * get the transformed copy.
 *
 * When one recipient is registered the message is first spooled to the gateway's tmp/ (bounded memory
 * whatever its size; `maxBytes` enforced there), then per group: scan (scan.ts) and splice (splice.ts)
 * into the store; a group whose scan finds nothing, a sender registration that does not match, and
 * malformed MIME get the spooled original unmodified.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Logger, logEvent } from '@delegato/observability';
import { type PolicySource, policyKey, type RecipientPolicy } from './policy.js';
import { gatewayHeader, type ReplacedPart, replacementPart } from './replacement.js';
import { scanMessage } from './scan.js';
import { type Edit, spliceFile } from './splice.js';
import type { GatewayStore } from './store.js';

export interface DeliveryRequest {
  users: string[];
  source: Readable;
  internalDate?: Date;
  maxBytes?: number;
}

export interface DeliveryResult {
  size: number;
  uids: Map<string, number>;
  /** Passed on from the mail store (users near their quota), merged over the groups. */
  nearQuota?: string[];
}

export type Deliver = (req: DeliveryRequest) => Promise<DeliveryResult>;

export interface GatewayDeliveryOptions {
  store: GatewayStore;
  policies: PolicySource;
  /** Download URLs are `${baseUrl}/gateway/<token>` (the public web listener, HTTPS); read at delivery. */
  baseUrl: string | (() => string);
  /** Named in the header the gateway adds. */
  host: string;
  logger?: Logger;
  now?: () => Date;
}

/** What the MX and the federation listener check for (packages/mta's too-large handling). */
function tooLarge(): Error {
  return Object.assign(new Error('message too large'), { code: 'too-large' });
}

async function spool(source: Readable, path: string, maxBytes: number | undefined): Promise<number> {
  let seen = 0;
  await pipeline(
    source,
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        if (maxBytes !== undefined && seen > maxBytes) cb(tooLarge());
        else cb(null, chunk);
      },
    }),
    createWriteStream(path),
  );
  return seen;
}

export function gatewayDelivery(deliver: Deliver, opts: GatewayDeliveryOptions): Deliver {
  const now = opts.now ?? (() => new Date());
  return async (req) => {
    const users = [...new Set(req.users)];
    const policies = await opts.policies.policiesFor(users);
    const groups = new Map<string, { policy: RecipientPolicy; users: string[] }>();
    const plain: string[] = [];
    for (const u of users) {
      const p = policies.get(u);
      if (!p) {
        plain.push(u);
        continue;
      }
      const key = policyKey(p);
      const g = groups.get(key) ?? { policy: p, users: [] };
      g.users.push(u);
      groups.set(key, g);
    }
    if (groups.size === 0) return deliver(req);

    const spoolPath = opts.store.tmpPath('eml');
    try {
      const size = await spool(req.source, spoolPath, req.maxBytes);
      const uids = new Map<string, number>();
      const nearQuota: string[] = [];
      const merge = (r: DeliveryResult) => {
        for (const [k, v] of r.uids) uids.set(k, v);
        if (r.nearQuota) nearQuota.push(...r.nearQuota);
      };
      const base = { internalDate: req.internalDate ?? now() };
      for (const g of groups.values()) {
        const source = await transformed(spoolPath, g.policy, g.users, opts, now);
        if (!source) {
          plain.push(...g.users);
          continue;
        }
        merge(await deliver({ ...base, users: g.users, source }));
      }
      if (plain.length > 0) {
        merge(await deliver({ ...base, users: plain, source: createReadStream(spoolPath) }));
      }
      return { size, uids, ...(nearQuota.length > 0 ? { nearQuota } : {}) };
    } finally {
      await rm(spoolPath, { force: true });
    }
  };
}

/** The transformed message for one group, or null when it gets the original. */
async function transformed(
  spoolPath: string,
  policy: RecipientPolicy,
  users: string[],
  opts: GatewayDeliveryOptions,
  now: () => Date,
): Promise<Readable | null> {
  const scan = await scanMessage(spoolPath, {
    rules: policy.rules,
    senders: policy.always ? null : policy.senders,
    tmpPath: () => opts.store.tmpPath('part'),
  });
  if (scan.outcome === 'malformed') {
    logEvent(
      opts.logger,
      'gateway.malformed',
      { domain: policy.domain, reason: scan.reason },
      'malformed MIME delivered unmodified',
    );
  }
  if (scan.outcome !== 'transform') return null;
  const expiresAt = new Date(now().getTime() + policy.rules.expiryDays * 86_400_000);
  const parts: ReplacedPart[] = [];
  const edits: Edit[] = [];
  for (const r of scan.replacements) {
    await opts.store.keepFile(r.part.tmp, r.part.sha256, r.part.size);
    const token = await opts.store.createLink({
      sha256: r.part.sha256,
      size: r.part.size,
      fileName: r.part.fileName,
      mediaType: r.part.mediaType,
      domain: policy.domain,
      mailboxes: users,
      expiresAt,
      loginRequired: policy.rules.loginRequired,
    });
    const part: ReplacedPart = {
      fileName: r.part.fileName,
      mediaType: r.part.mediaType,
      size: r.part.size,
      sha256: r.part.sha256,
      url: `${typeof opts.baseUrl === 'function' ? opts.baseUrl() : opts.baseUrl}/gateway/${token}`,
      expiresAt,
      loginRequired: policy.rules.loginRequired,
    };
    parts.push(part);
    edits.push({ start: r.start, end: r.end, bytes: replacementPart(part, scan.eol) });
  }
  const header = gatewayHeader({ host: opts.host, parts, dkimSigned: scan.dkimSigned }, scan.eol);
  edits.push({ start: scan.headerEnd, end: scan.headerEnd, bytes: header });
  logEvent(
    opts.logger,
    'gateway.replaced',
    {
      domain: policy.domain,
      recipients: users.length,
      parts: parts.length,
      bytes: parts.reduce((n, p) => n + p.size, 0),
    },
    'attachments replaced by download links',
  );
  return spliceFile(spoolPath, edits);
}
