/**
 * The replicated directory of a federated region (issue 14 item 1; decision 0009):
 *
 * - opens the directory replica with this region's sync options (`directorySyncOptions`): the hub on loopback
 *   in the hub region, the hub region's sync gateway with this region's certificate elsewhere;
 * - the writer region (`federation.writer`, default the hub region) migrates, and writes through
 *   `ReplicatedWriter` (pull, one transaction, push, confirm; compensating write when the push fails); it
 *   serves `POST /directory/mutate` on its sync listener (`port.sync`) to the regions holding a federation
 *   certificate (`writerRoutes`);
 * - every other region waits for the writer's schema (pulling) instead of migrating, and sends every change
 *   to the writer (`ForwardingWriter`), over the same mutual TLS, accepting only the writer's certificate;
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
  type DirectoryWriter,
  ForwardingWriter,
  MUTATE_PATH,
  ReplicatedWriter,
  type ReplicatedWriterHooks,
  Replication,
  type ReplicationState,
} from '@delegato/directory';
import { federationFetch, loadRegionTls } from '@delegato/federation';
import { type Logger, logEvent, logEventAt } from '@delegato/observability';
import type { Config } from '../config/schema.js';
import { openDirectory } from '../open-directory.js';
import { type DirectorySync, directorySyncOptions } from './federation-sync.js';

/** Pull period of every replica (tursodb 0.6.0 has no long-poll). */
export const REPLICATION_PULL_MS = 500;

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
  /** The writer region's writer (this region is the writer); absent elsewhere. */
  writer?: DirectoryWriter;
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
  const writer = writerRegion(config) ?? config.region.id;
  const isWriter = writer === config.region.id;
  const hubRegion = config.federation.hubRegion ?? (config.federation.hub ? config.region.id : undefined);
  let forwardUrl: string | undefined;
  if (!isWriter) {
    // The writer's endpoint is its sync listener; for now the writer is the hub region (decision 0009).
    if (writer !== hubRegion || config.federation.hubUrl === undefined) {
      sync.close();
      throw new Error(
        `federation.writer is ${writer}, but only the hub region (${hubRegion ?? 'none configured'}) can be reached as the writer for now: set federation.writer to ${hubRegion ?? 'the hub region'}`,
      );
    }
    forwardUrl = config.federation.hubUrl;
  }

  let replication: Replication | undefined;
  let replicatedWriter: ReplicatedWriter | undefined;
  let forwarding: ForwardingWriter | undefined;
  const forwardTls = isWriter ? undefined : await loadRegionTls(config.data.dir);
  const forwardTransport = forwardTls ? federationFetch({ hubRegion: writer, tls: forwardTls }) : undefined;
  let waitLogged = '';
  let directory: Directory;
  try {
    directory = await openDirectory(config, {
      sync: sync.options,
      role: isWriter ? 'writer' : 'replica',
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
        if (isWriter) {
          replicatedWriter = new ReplicatedWriter(local, replication, {
            ...opts.writerHooks,
            onCompensated: (info) => {
              logEventAt(logger, info.rows < 0 ? 'error' : 'warn', 'federation.change_compensated', {
                kind: info.kind,
                rows: info.rows,
                error: info.error,
              });
              opts.writerHooks?.onCompensated?.(info);
            },
          });
          return replicatedWriter;
        }
        forwarding = new ForwardingWriter({
          writer,
          regionId: config.region.id,
          url: forwardUrl as string,
          fetch: forwardTransport?.fetch as typeof fetch,
          replication,
        });
        return forwarding;
      },
    });
  } catch (err) {
    forwardTransport?.close();
    sync.close();
    throw err;
  }
  onPulled.add(() => directory.invalidateCaches());
  if (waitLogged) logEvent(logger, 'federation.schema_wait', { writer, missing: [], done: true });
  const started = replication as Replication | undefined;
  started?.start();
  // A region that is not the writer has its region row created by the writer (it never writes itself).
  const ensuring = forwarding
    ? ensureRegion(directory, forwarding as ForwardingWriter, config, logger)
    : undefined;
  return {
    directory,
    ...(started ? { replication: started } : {}),
    ...(replicatedWriter ? { writer: replicatedWriter } : {}),
    onPulled,
    close: async () => {
      ensuring?.stop();
      await started?.stop();
      await directory.close();
      forwardTransport?.close();
      sync.close();
    },
  };
}

const APPLIANCE: Actor = { kind: 'system', name: 'appliance', from: 'local' };

/** Asks the writer for this region's row until it is in the replica (every 2 s while the writer is away). */
function ensureRegion(directory: Directory, writer: ForwardingWriter, config: Config, logger: Logger) {
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
function readJson(req: IncomingMessage): Promise<unknown> {
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

function answer(res: ServerResponse, status: number, body: unknown): void {
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
