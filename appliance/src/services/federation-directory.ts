/**
 * The replicated directory of a federated region (issue 14 item 1; decision 0009):
 *
 * - opens the directory replica with this region's sync options (`directorySyncOptions`): the hub on loopback
 *   in the hub region, the hub region's sync gateway with this region's certificate elsewhere;
 * - the writer region (the one the replica names, decision 0011; before any move `federation.writer`,
 *   default the hub region) migrates, and writes through `ReplicatedWriter` (pull, one transaction, push,
 *   confirm; compensating write when the push fails); every region serves `POST /directory/mutate` on its
 *   federation API (`port.sync`) to the regions holding a federation certificate (`writerRoutes`), applying
 *   while it is the writer and forwarding otherwise (`RoutingWriter`);
 * - every other region waits for the writer's schema (pulling) instead of migrating, and sends every change
 *   to the writer (`ForwardingWriter`), over the same mutual TLS, accepting only the writer's certificate;
 * - `federation writer <region>` (`moveWriterRole`) records a move, applied and pushed by the current writer;
 * - every region pulls on a timer (`REPLICATION_PULL_MS`) and, after a pull that brought changes, forgets
 *   cached lookups and rechecks its open mail sessions (`onPulled`).
 *
 * Never logged: a change's input (passwords, TOTP secrets).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Actor,
  AUTH_EVENT_PATH,
  applyForwarded,
  applyForwardedAuthEvent,
  type Directory,
  DirectoryError,
  type DirectoryWriter,
  ForwardingWriter,
  MUTATE_PATH,
  ReplicatedWriter,
  type ReplicatedWriterHooks,
  Replication,
  type ReplicationState,
  type Revocation,
  RoutingWriter,
} from '@delegato/directory';
import { federationFetch, loadRegionTls, type RegionTls } from '@delegato/federation';
import { type Logger, logEvent, logEventAt } from '@delegato/observability';
import type { Config } from '../config/schema.js';
import { openDirectory } from '../open-directory.js';
import { revocationsOf } from './federation-revocations.js';
import { type DirectorySync, directorySyncOptions } from './federation-sync.js';

/** Pull period of every replica (tursodb 0.6.0 has no long-poll). */
export const REPLICATION_PULL_MS = 500;

/**
 * The federation API of `region` (decision 0011): `federation.hubUrl` for the hub region (its sync
 * listener), else `https://<peer host>:<syncPort, or this region's port.sync>` from `federation.peers`;
 * undefined when `region` is not listed.
 */
export function federationApiUrl(
  config: Pick<Config, 'federation' | 'port'>,
  region: string,
): string | undefined {
  if (region === config.federation.hubRegion && config.federation.hubUrl !== undefined)
    return config.federation.hubUrl;
  const peer = config.federation.peers.find((p) => p.region === region);
  if (!peer) return undefined;
  const host = peer.host.includes(':') ? `[${peer.host}]` : peer.host;
  return `https://${host}:${peer.syncPort ?? config.port.sync}`;
}

/** The writer region: `federation.writer`, else the hub region; undefined when standalone. */
export function writerRegion(config: Config): string | undefined {
  const { federation } = config;
  return (
    federation.writer ??
    federation.hubRegion ??
    (federation.hub || config.directory.syncUrl !== undefined ? config.region.id : undefined)
  );
}

export interface FederatedDirectory {
  directory: Directory;
  /** Absent when standalone. */
  replication?: Replication;
  /** This region's writer: applies changes while the replica names this region, forwards otherwise. */
  writer?: RoutingWriter;
  /** Called after a pull that brought changes (the appliance adds the session check once IMAP/POP3 run). */
  onPulled: Set<() => void>;
  close(): Promise<void>;
}

/**
 * Opens the directory: standalone as before, or as a replica of the federation's hub. `hubUrl` is the
 * loopback URL of the hub this appliance runs (hub region only).
 */
export async function openFederatedDirectory(
  config: Config,
  opts: { hubUrl?: string; logger: Logger; writerHooks?: ReplicatedWriterHooks },
): Promise<FederatedDirectory> {
  const onPulled = new Set<() => void>();
  const sync: DirectorySync | undefined = await directorySyncOptions(config, {
    ...(opts.hubUrl ? { hubUrl: opts.hubUrl } : {}),
  });
  if (!sync) {
    const directory = await openDirectory(config);
    return { directory, onPulled, close: () => directory.close() };
  }
  const { logger } = opts;
  // The initial writer (decision 0011): the directory's record of a move, once there is one, wins.
  const initialWriter = writerRegion(config) ?? config.region.id;
  let writer = initialWriter;
  let isWriter = writer === config.region.id;

  let replication: Replication | undefined;
  let routing: RoutingWriter | undefined;
  let directoryRef: Directory | undefined;
  // Every region may become the writer or forward to another one: the region certificate when installed.
  const regionTls: RegionTls | undefined = await loadRegionTls(config.data.dir).catch(() => undefined);
  const transports = new Map<string, ReturnType<typeof federationFetch>>();
  const forwarders = new Map<string, ForwardingWriter>();
  // The writer the replica names; before the directory is open (region.ensure at the writer's open): what
  // the open decided.
  const named = async (): Promise<string | null> =>
    directoryRef ? directoryRef.recordedWriter() : writer === initialWriter ? null : writer;
  const forwarder = (region: string): ForwardingWriter | undefined => {
    const url = federationApiUrl(config, region);
    if (!url || !regionTls || !replication) return undefined;
    let f = forwarders.get(region);
    if (!f) {
      const transport = federationFetch({ hubRegion: region, tls: regionTls });
      transports.set(region, transport);
      f = new ForwardingWriter({
        writer: region,
        regionId: config.region.id,
        url,
        fetch: transport.fetch as typeof fetch,
        replication,
      });
      forwarders.set(region, f);
    }
    return f;
  };
  let waitLogged = '';
  let directory: Directory;
  try {
    directory = await openDirectory(config, {
      sync: sync.options,
      role: (recorded) => {
        writer = recorded ?? initialWriter;
        isWriter = writer === config.region.id;
        return isWriter ? 'writer' : 'replica';
      },
      waitForSchema: {
        intervalMs: 1000,
        onWait: (pending) => {
          const key = pending.join(',');
          if (key === waitLogged) return;
          waitLogged = key;
          logEventAt(
            logger,
            'warn',
            'federation.schema_wait',
            { writer, missing: pending },
            `directory schema is behind this code (missing ${pending.join(', ')}): waiting for the writer region ${writer} to migrate; pulling every second`,
          );
        },
      },
      writer: (local) => {
        // The engine is open once the writer is asked for: Directory's constructor.
        replication = new Replication(local.engine, {
          role: isWriter ? 'writer' : 'replica',
          writer,
          intervalMs: REPLICATION_PULL_MS,
          onChanges: () => {
            for (const listener of onPulled) listener();
          },
          onPullState: (ok, error) =>
            ok
              ? logEvent(logger, 'federation.replication_pull', { ok: true, kind: sync.kind })
              : logEventAt(
                  logger,
                  'warn',
                  'federation.replication_pull',
                  { ok: false, kind: sync.kind, error },
                  'directory pull failed: serving the local replica',
                ),
        });
        const rep = replication;
        const local_ = new ReplicatedWriter(local, rep, {
          ...opts.writerHooks,
          regionId: config.region.id,
          currentWriter: async () => (await named()) ?? initialWriter,
          onCompensated: (info) => {
            logEventAt(logger, info.rows < 0 ? 'error' : 'warn', 'federation.change_compensated', {
              kind: info.kind,
              rows: info.rows,
              error: info.error,
            });
            opts.writerHooks?.onCompensated?.(info);
          },
        });
        routing = new RoutingWriter({
          regionId: config.region.id,
          initial: initialWriter,
          // Before the constructor returns (region.ensure at the writer's open): what the open decided.
          recorded: named,
          replication: rep,
          local: local_,
          forwarder,
          onRole: (role, named) =>
            logEvent(logger, 'federation.writer_role', { role, writer: named, region: config.region.id }),
        });
        return routing;
      },
    });
  } catch (err) {
    for (const t of transports.values()) t.close();
    sync.close();
    throw err;
  }
  directoryRef = directory;
  const routed = routing as RoutingWriter;
  onPulled.add(() => directory.invalidateCaches());
  // A pull may bring a move of the writer role: the replication's role follows the replica's record.
  onPulled.add(() => void routed.current().catch(() => undefined));
  if (waitLogged) logEvent(logger, 'federation.schema_wait', { writer, missing: [], done: true });
  const started = replication as Replication | undefined;
  started?.start();
  // A region that is not the writer has its region row created by the writer (it never writes itself).
  const ensuring = isWriter ? undefined : ensureRegion(directory, routed, config, logger);
  return {
    directory,
    ...(started ? { replication: started } : {}),
    writer: routed,
    onPulled,
    close: async () => {
      ensuring?.stop();
      await started?.stop();
      await directory.close();
      for (const t of transports.values()) t.close();
      sync.close();
    },
  };
}

/**
 * `delegato federation writer <region>` (decision 0011): a `federation.writer` change, routed like every
 * change to the region the replica names as the writer, which records the move and pushes it before
 * confirming. From then on the old writer forwards, and the new one accepts once it has pulled the record.
 */
export async function moveWriterRole(
  config: Config,
  fed: FederatedDirectory,
  region: string,
  user: string,
  logger: Logger,
  opts: { takeover?: boolean } = {},
): Promise<{ region: string; previous: string }> {
  const actor: Actor = { kind: 'operator', name: `cli:${user}`, from: 'local' };
  if (opts.takeover) {
    if (region !== config.region.id || !fed.writer)
      throw new DirectoryError(
        'invalid',
        `a takeover is made at the region that takes the role: run "delegato federation writer ${region} --takeover" in ${region}`,
      );
    const moved = await fed.writer.takeOver(actor, (writer) => federationApiAnswers(config, writer));
    logEventAt(logger, 'warn', 'federation.writer_moved', {
      region: moved.region,
      previous: moved.previous,
      takeover: true,
    });
    return moved;
  }
  const moved = await fed.directory.setWriterRegion(actor, region, writerRegion(config) ?? config.region.id);
  await fed.writer?.current().catch(() => undefined);
  logEvent(logger, 'federation.writer_moved', { region: moved.region, previous: moved.previous });
  return moved;
}

/**
 * `delegato federation revoke <region>` (decision 0013): recorded at the writer like every change; the
 * revocation list here is reloaded at once (the other regions reload it with their next pull).
 */
export async function revokeRegionCertificates(
  config: Config,
  fed: FederatedDirectory,
  region: string,
  user: string,
  reason: string | undefined,
  logger: Logger,
): Promise<Revocation> {
  const actor: Actor = { kind: 'operator', name: `cli:${user}`, from: 'local' };
  const done = await fed.directory.revokeRegion(
    actor,
    region,
    writerRegion(config) ?? config.region.id,
    reason,
  );
  await revocationsOf(fed.directory)?.refresh();
  logEventAt(logger, 'warn', 'federation.revocations', {
    region: done.region,
    by: done.revokedBy,
    ...(done.reason ? { reason: done.reason } : {}),
  });
  return done;
}

/**
 * Whether `region`'s federation API answers within 5 s (any HTTP answer to a trace of nothing): the check
 * before a takeover, which is refused while the writer can still record a move itself.
 */
async function federationApiAnswers(config: Config, region: string): Promise<boolean> {
  const url = federationApiUrl(config, region);
  const tls = await loadRegionTls(config.data.dir).catch(() => undefined);
  if (!url || !tls) return false;
  const transport = federationFetch({ hubRegion: region, tls });
  try {
    const res = await transport.fetch(`${url}/federation/trace`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '<writer-takeover-probe@delegato.invalid>' }),
      signal: AbortSignal.timeout(5000),
    });
    await res.arrayBuffer().catch(() => undefined);
    return true;
  } catch {
    return false;
  } finally {
    transport.close();
  }
}

const APPLIANCE: Actor = { kind: 'system', name: 'appliance', from: 'local' };

/** Asks the writer for this region's row until it is in the replica (every 2 s while the writer is away). */
function ensureRegion(directory: Directory, writer: DirectoryWriter, config: Config, logger: Logger) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let warned = false;
  const attempt = async () => {
    if (stopped) return;
    try {
      const known = await directory.listRegions();
      if (known.some((r) => r.name === config.region.id)) return;
      await writer.mutate(APPLIANCE, {
        kind: 'region.ensure',
        input: { name: config.region.id, ...(config.region.name ? { title: config.region.name } : {}) },
      });
      return;
    } catch (err) {
      if (!warned)
        logEventAt(
          logger,
          'warn',
          'federation.replication_pull',
          { ok: false, error: err instanceof Error ? err.message : String(err) },
          `this region (${config.region.id}) is not in the directory yet; asking the writer again every 2 s`,
        );
      warned = true;
    }
    if (!stopped) timer = setTimeout(() => void attempt(), 2000);
  };
  void attempt();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** Reads a JSON body of at most 1 MiB. */
export function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1 << 20) {
        req.destroy();
        fail(new Error('body too large'));
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        done(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        fail(err);
      }
    });
    req.on('error', fail);
  });
}

export function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The writer's routes on its sync listener, for the sync gateway (`routes`): verified regions only (the
 * gateway checks the certificate and passes its region). Logs the kind and outcome, never the input.
 */
export function writerRoutes(
  fed: FederatedDirectory,
  logger: Logger,
): Record<string, (req: IncomingMessage, res: ServerResponse, region: string) => void> {
  const writer = fed.writer;
  if (!writer) return {};
  const target = { db: fed.directory.db, writer };
  return {
    [`POST ${MUTATE_PATH}`]: (req, res, region) => {
      const began = Date.now();
      void readJson(req)
        .then(async (body) => {
          const kind = String((body as { change?: { kind?: unknown } })?.change?.kind ?? '');
          const out = await applyForwarded(target, region, body);
          logEvent(logger, 'federation.change_forwarded', {
            region,
            kind,
            outcome: out.ok ? 'applied' : out.error.code,
            ms: Date.now() - began,
          });
          answer(res, 200, out);
        })
        .catch((err: unknown) => {
          logEventAt(logger, 'error', 'federation.change_forwarded', {
            region,
            outcome: 'error',
            // The name only: a query error's message carries its parameters (hashes, sealed secrets).
            error: err instanceof Error ? err.name : typeof err,
          });
          if (!res.headersSent)
            answer(res, 500, {
              ok: false,
              error: { code: 'unavailable', message: 'the writer region failed to apply the change' },
            });
        });
    },
    [`POST ${AUTH_EVENT_PATH}`]: (req, res, region) => {
      void readJson(req)
        .then(async (body) => {
          await applyForwardedAuthEvent(target, region, body);
          res.writeHead(204).end();
        })
        .catch(() => {
          if (!res.headersSent) answer(res, 400, { ok: false });
        });
    },
  };
}

/** The replication part of `federation status` and `/healthz`; null when standalone. */
export async function replicationState(
  fed: FederatedDirectory | undefined,
): Promise<ReplicationState | null> {
  return fed?.replication ? fed.replication.state() : null;
}

/** The replication of each open federated directory, for `/healthz` (healthz.ts). */
const replications = new WeakMap<Directory, Replication>();

/** Registers `fed`'s replication for {@link replicationOf}. */
export function registerReplication(fed: FederatedDirectory): void {
  if (fed.replication) replications.set(fed.directory, fed.replication);
}

/** The replication of `directory` when it is a federated replica; undefined when standalone. */
export function replicationOf(directory: Directory): Replication | undefined {
  return replications.get(directory);
}
