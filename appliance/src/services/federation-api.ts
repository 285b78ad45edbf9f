/**
 * The federation API (decision 0011): a small HTTPS listener with mutual TLS (federation certificates
 * only, the verified certificate names the calling region) on `port.sync` in every region that has its
 * federation certificate. In the hub region it is the sync gateway as before (the sync requests go on to
 * the hub); elsewhere it answers only its own routes:
 *
 * - `POST /directory/mutate`, `POST /directory/auth-event`: changes for the writer region, answered by
 *   whichever region the replica names as the writer (federation-directory.ts `writerRoutes`);
 * - `POST /federation/trace` `{ query }`: this region's delivery log for a Message-ID (what
 *   `delegato trace` shows), answered `{ region, entries }`.
 *
 * `traceAtPeers` is the client side of the trace: for the local entries of a message relayed to another
 * region, it asks that region's federation API for the same Message-ID.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PeerCertificate } from 'node:tls';
import type { Directory } from '@delegato/directory';
import { federationFetch, type RegionTls, type SyncGateway, startSyncGateway } from '@delegato/federation';
import type { LogEntry, OutboundQueue } from '@delegato/mta';
import { type Logger, logEvent, logEventAt } from '@delegato/observability';
import type { Config } from '../config/schema.js';
import { answer, federationApiUrl, readJson } from './federation-directory.js';

export const TRACE_PATH = '/federation/trace';

type Route = (req: IncomingMessage, res: ServerResponse, region: string) => void;

/** The trace route: this region's delivery log for a Message-ID (never an address: peers ask by message). */
export function traceRoutes(config: Config, queue: OutboundQueue, logger: Logger): Record<string, Route> {
  return {
    [`POST ${TRACE_PATH}`]: (req, res, region) => {
      void readJson(req)
        .then(async (body) => {
          const query = String((body as { query?: unknown })?.query ?? '').trim();
          if (query.length === 0 || query.length > 998 || !query.includes('@')) {
            answer(res, 400, { error: 'expected { query: <Message-ID> }' });
            return;
          }
          // Only entries of that Message-ID: a peer may follow its own message, not list an address's mail.
          const bare = query.replace(/^<|>$/g, '');
          const entries = (await queue.trace(query)).filter(
            (e) => e.headerMessageId !== null && e.headerMessageId.replace(/^<|>$/g, '') === bare,
          );
          logEvent(logger, 'federation.trace_served', { region, entries: entries.length });
          answer(res, 200, { region: config.region.id, entries });
        })
        .catch(() => {
          if (!res.headersSent) answer(res, 400, { error: 'malformed trace request' });
        });
    },
  };
}

/**
 * Opens the federation API where the hub gateway does not already serve it: every region with its
 * federation certificate (`port.sync`, listener line `sync`). Undefined without a certificate.
 */
export async function startFederationApi(opts: {
  config: Config;
  tls: RegionTls | undefined;
  logger: Logger;
  routes: Record<string, Route>;
  /** Revoked region certificates (decision 0013): 403. */
  revoked?: (region: string, cert: PeerCertificate) => boolean;
}): Promise<SyncGateway | undefined> {
  if (!opts.tls) return undefined;
  return startSyncGateway({
    tls: opts.tls,
    // Nothing is forwarded here (no hub in this region): every other request gets 404.
    upstream: 'http://127.0.0.1:9',
    allowed: [],
    logger: opts.logger,
    host: opts.config.listen,
    port: opts.config.port.sync,
    routes: opts.routes,
    ...(opts.revoked ? { revoked: opts.revoked } : {}),
  });
}

/** One region's part of a trace across regions. */
export interface PeerTrace {
  region: string;
  /** The Message-ID asked for. */
  query: string;
  entries?: LogEntry[];
  /** Why the region could not be asked or did not answer. */
  error?: string;
}

/** How long a peer may take to answer a trace. */
const TRACE_TIMEOUT_MS = 5000;

/**
 * For `delegato trace`: the peer regions the local entries relayed a message to (recipients of domains
 * homed in another region, delivered or relayed over the federation channel), asked for that message's
 * trace by its Message-ID. Regions are asked one after the other, each once per Message-ID.
 */
export async function traceAtPeers(opts: {
  config: Config;
  tls: RegionTls | undefined;
  directory: Directory;
  entries: LogEntry[];
  logger: Logger;
}): Promise<PeerTrace[]> {
  const { config, entries } = opts;
  const relayed = entries.filter(
    (e) => (e.event === 'delivered' || e.event === 'relayed') && e.recipient && e.headerMessageId,
  );
  if (relayed.length === 0) return [];
  const homes = new Map(
    (await opts.directory.listDomains({ kind: 'system', name: 'trace', from: 'local' })).map((d) => [
      d.name.toLowerCase(),
      d.region,
    ]),
  );
  const wanted = new Map<string, { region: string; query: string }>();
  for (const e of relayed) {
    const domain = (e.recipient ?? '').split('@').pop()?.toLowerCase() ?? '';
    const region = homes.get(domain);
    if (!region || region === config.region.id) continue;
    const query = e.headerMessageId as string;
    wanted.set(`${region} ${query}`, { region, query });
  }
  const out: PeerTrace[] = [];
  for (const { region, query } of wanted.values()) {
    const url = federationApiUrl(config, region);
    if (!url || !opts.tls) {
      out.push({
        region,
        query,
        error: opts.tls ? 'not in federation.peers' : 'this region has no federation certificate',
      });
      continue;
    }
    const transport = federationFetch({ hubRegion: region, tls: opts.tls });
    try {
      const res = await transport.fetch(`${url}${TRACE_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new TextEncoder().encode(JSON.stringify({ query })),
        signal: AbortSignal.timeout(TRACE_TIMEOUT_MS),
      });
      const body = (await res.json().catch(() => undefined)) as { entries?: LogEntry[] } | undefined;
      if (res.status !== 200 || !Array.isArray(body?.entries))
        out.push({ region, query, error: `answered ${res.status}` });
      else out.push({ region, query, entries: body.entries });
    } catch (err) {
      out.push({ region, query, error: `unreachable (${url}: ${errorText(err)})` });
    } finally {
      transport.close();
    }
    const last = out[out.length - 1] as PeerTrace;
    if (last.error)
      logEventAt(opts.logger, 'warn', 'federation.trace_peer', { region, ok: false, error: last.error });
    else logEvent(opts.logger, 'federation.trace_peer', { region, ok: true, entries: last.entries?.length });
  }
  return out;
}

function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    parts.push(code && !e.message.includes(code) ? `${e.message} (${code})` : e.message);
  }
  return (parts.join(': ') || String(err)).replace(/\s+/g, ' ').slice(0, 200);
}
