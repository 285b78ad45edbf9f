/**
 * The statistics and the health of every region for the operator's pages: each region answers for
 * itself on its federation API (decision 0011; mutual TLS with federation certificates, so only the
 * federation's own regions ask), and the region showing a page asks every peer of `federation.peers`:
 *
 * - `POST /federation/stats` `{ from, to, domains }`: this region's rolled-up rows, answered
 *   `{ region, rows }` (the asking region applied the admin's scope to `domains` already);
 * - `POST /federation/health`: this region's health (`RegionHealth`).
 *
 * A peer that cannot be asked is named in the answer (the page says which regions are missing).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RegionHealth, StatsAnswer, StatsRow } from '@delegato/admin';
import { federationFetch, type RegionTls } from '@delegato/federation';
import type { OperationsDb } from '@delegato/mailstore';
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import { answer, federationApiUrl, readJson } from '../services/federation-directory.js';

export const STATS_PATH = '/federation/stats';
export const HEALTH_PATH = '/federation/health';
const PEER_TIMEOUT_MS = 5000;

const DAY = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const statsRequest = z.object({
  from: DAY,
  to: DAY,
  domains: z.array(z.string().min(1).max(253)).max(10_000).nullable(),
});

type Route = (req: IncomingMessage, res: ServerResponse, region: string) => void;

export function operationsRoutes(
  config: Config,
  db: OperationsDb,
  health: () => Promise<RegionHealth>,
): Record<string, Route> {
  return {
    [`POST ${STATS_PATH}`]: (req, res) => {
      void readJson(req)
        .then(async (body) => {
          const q = statsRequest.safeParse(body);
          if (!q.success) return answer(res, 400, { error: 'expected { from, to, domains }' });
          const rows = await db.daily(q.data);
          answer(res, 200, { region: config.region.id, rows });
        })
        .catch(() => {
          if (!res.headersSent) answer(res, 400, { error: 'malformed stats request' });
        });
    },
    [`POST ${HEALTH_PATH}`]: (req, res) => {
      void readJson(req)
        .then(async () => answer(res, 200, await health()))
        .catch(() => {
          if (!res.headersSent) answer(res, 500, { error: 'health unavailable' });
        });
    },
  };
}

/** The peers of `federation.peers` other than this region. */
function peers(config: Config): string[] {
  return config.federation.peers.map((p) => p.region).filter((r) => r !== config.region.id);
}

async function ask<T>(
  config: Config,
  tls: RegionTls,
  region: string,
  path: string,
  body: unknown,
): Promise<T> {
  const url = federationApiUrl(config, region);
  if (!url) throw new Error('not in federation.peers');
  const transport = federationFetch({ hubRegion: region, tls });
  try {
    const res = await transport.fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new TextEncoder().encode(JSON.stringify(body)),
      signal: AbortSignal.timeout(PEER_TIMEOUT_MS),
    });
    if (res.status !== 200) throw new Error(`answered ${res.status}`);
    return (await res.json()) as T;
  } finally {
    transport.close();
  }
}

const reason = (err: unknown) =>
  (err instanceof Error
    ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}`
    : String(err)
  )
    .replace(/\s+/g, ' ')
    .slice(0, 200);

/** Every peer's rows for the period (none when this region has no federation certificate). */
export function peerStats(config: Config, tls: () => RegionTls | undefined) {
  return async (q: { from: string; to: string; domains: readonly string[] | null }): Promise<StatsAnswer> => {
    const regionTls = tls();
    if (!regionTls) return { rows: [], unreachable: [] };
    const out: StatsAnswer = { rows: [], unreachable: [] };
    await Promise.all(
      peers(config).map(async (region) => {
        try {
          const r = await ask<{ region: string; rows: StatsRow[] }>(config, regionTls, region, STATS_PATH, q);
          // Rows are the peer's own: its region, whatever the body says.
          out.rows.push(...r.rows.map((row) => ({ ...row, region })));
        } catch (err) {
          out.unreachable.push({ region, error: reason(err) });
        }
      }),
    );
    return out;
  };
}

/** Every peer's health; a peer that does not answer is a region with an error. */
export function peerHealth(config: Config, tls: () => RegionTls | undefined) {
  return async (): Promise<RegionHealth[]> => {
    const regionTls = tls();
    if (!regionTls) return [];
    return Promise.all(
      peers(config).map(async (region) => {
        try {
          const h = await ask<RegionHealth>(config, regionTls, region, HEALTH_PATH, {});
          return { ...h, region };
        } catch (err) {
          return { region, sections: [], error: `did not answer: ${reason(err)}` };
        }
      }),
    );
  };
}
