/**
 * The appliance's operations, wired in two steps by appliance.ts: `openOperations` before the listeners
 * (the operations database, the traffic counter the SMTP listeners feed, the metrics' event counting),
 * `startOperations` once the services run (the scheduled jobs, the backup command, the statistics and
 * health pages' source, the /metrics endpoint).
 */
import { readFile } from 'node:fs/promises';
import type { OperationsSource } from '@delegato/admin';
import type { Directory, ReplicationState } from '@delegato/directory';
import type { RegionTls } from '@delegato/federation';
import { type MailStore, OperationsDb } from '@delegato/mailstore';
import type { OutboundQueue, QueueWorker } from '@delegato/mta';
import { applianceMetrics, type Logger, type MetricsEndpoint, startMetrics } from '@delegato/observability';
import { backupControl } from '../cli/backup.js';
import type { CommandResult } from '../cli/commands.js';
import { jobsControl } from '../cli/jobs.js';
import type { Config } from '../config/schema.js';
import { dataPaths } from '../data-dir.js';
import { operationsRoutes, peerHealth, peerStats } from '../stats/federation.js';
import { queueFigures, regionHealth } from '../stats/health.js';
import { operationsSource } from '../stats/source.js';
import { TrafficCounter } from '../stats/traffic-counter.js';
import type { ListenerTls } from '../tls/sni.js';
import { type BackupResult, takeBackup } from './backup.js';
import { declareJobs, type JobContext } from './declarations.js';
import { type Scheduler, startScheduler } from './scheduler.js';
import { systemMailer } from './system-mail.js';

export interface OpenOperations {
  db: OperationsDb;
  counter: TrafficCounter;
  /** Control-socket commands of the operations (`jobs`, `backup`); undefined for any other. */
  control(argv: string[]): Promise<CommandResult> | undefined;
  /** Set by startOperations. */
  scheduler?: Scheduler;
  close(): Promise<void>;
}

export async function openOperations(config: Config): Promise<OpenOperations> {
  startMetrics();
  const db = await OperationsDb.open(config.data.dir);
  const counter = new TrafficCounter(db, { timezone: config.directory.timezone });
  let backupFn: ((dir: string, keep: number | undefined) => Promise<BackupResult>) | undefined;
  const jobs = jobsControl(() => ops.scheduler);
  const backup = backupControl((dir, keep) => {
    if (!backupFn) throw new Error('the appliance is still starting');
    return backupFn(dir, keep);
  });
  const ops: OpenOperations & { setBackup(fn: typeof backupFn): void } = {
    db,
    counter,
    control: (argv) => jobs(argv) ?? backup(argv),
    setBackup(fn) {
      backupFn = fn;
    },
    async close() {
      await counter.stop().catch(() => undefined);
      db.close();
    },
  };
  return ops;
}

export function startOperations(
  ops: OpenOperations,
  deps: {
    config: Config;
    directory: Directory;
    store: MailStore;
    queue: OutboundQueue;
    worker: QueueWorker;
    logger: Logger;
    tls: ListenerTls;
    /** The default certificate's file (re-read at each check: it may be replaced). */
    certFile: string;
    regionTls: () => RegionTls | undefined;
    listeners: Array<{ name: string; host: string; port: number }>;
    replication: () => Promise<ReplicationState | null>;
    endSessions: () => Promise<void>;
    /** The attachment gateway (its cleanup job). */
    gateway: JobContext['gateway'];
    /** Built-in lists (the expiry of held posts). */
    lists: JobContext['lists'];
  },
): {
  scheduler: Scheduler;
  source: OperationsSource;
  metrics: MetricsEndpoint;
  /** Routes of the federation API: this region's statistics and health for the other regions. */
  apiRoutes: ReturnType<typeof operationsRoutes>;
} {
  const { config, directory, logger } = deps;
  const paths = dataPaths(config.data.dir);
  const queueDb = `${paths.queue}/queue.db`;
  const certificates = async () => {
    const list = [{ name: 'TLS certificate (listeners)', pem: await readFile(deps.certFile, 'utf8') }];
    const region = deps.regionTls();
    if (region) {
      list.push({ name: 'federation region certificate', pem: region.certPem });
      list.push({ name: 'federation CA', pem: region.caCertPem });
    }
    return list;
  };
  let backupRunning = false;
  const backup = async (dir: string, keep: number | undefined): Promise<BackupResult> => {
    if (backupRunning) throw new Error('a backup is already running');
    backupRunning = true;
    const started = new Date();
    try {
      const r = await takeBackup({
        dataDir: config.data.dir,
        backupDir: dir,
        directory,
        region: config.region.id,
        ...(keep ? { keep } : {}),
      });
      await ops.db.recordBackup({
        snapshot: r.snapshot,
        dir,
        startedAt: started.toISOString(),
        ms: Date.now() - started.getTime(),
        outcome: 'ok',
        filesCopied: r.filesCopied,
        bytesCopied: r.bytesCopied,
        detail: null,
      });
      return r;
    } catch (err) {
      await ops.db
        .recordBackup({
          snapshot: '-',
          dir,
          startedAt: started.toISOString(),
          ms: Date.now() - started.getTime(),
          outcome: 'error',
          filesCopied: 0,
          bytesCopied: 0,
          detail: err instanceof Error ? err.message : String(err),
        })
        .catch(() => undefined);
      throw err;
    } finally {
      backupRunning = false;
    }
  };
  (ops as OpenOperations & { setBackup(fn: typeof backup): void }).setBackup(backup);
  const mailer = systemMailer({
    hostname: config.smtp.hostname,
    region: config.region.id,
    directory,
    store: deps.store,
    queue: deps.queue,
  });
  const scheduler = startScheduler(
    declareJobs({
      config,
      directory,
      store: deps.store,
      queue: deps.queue,
      worker: deps.worker,
      logger,
      ops: ops.db,
      counter: ops.counter,
      mailer,
      tls: deps.tls,
      endSessions: deps.endSessions,
      gateway: deps.gateway,
      lists: deps.lists,
      certificates,
      backup: (dir, keep) => backup(dir, keep),
    }),
    { timezone: config.directory.timezone, logger },
  );
  ops.scheduler = scheduler;
  const queue = () => queueFigures(queueDb);
  const localHealth = () =>
    regionHealth({
      region: config.region.id,
      dataDir: config.data.dir,
      listeners: deps.listeners,
      queue,
      queueAgeLimitSeconds: config.queue.delayNotifyAfterSeconds,
      replication: deps.replication,
      db: ops.db,
      backupConfigured: config.operations.backupDir !== undefined,
      certificates,
      certificateWarningDays: config.operations.certificateWarningDays,
      jobs: () => scheduler.list(),
    });
  const otherRegions = peerHealth(config, deps.regionTls);
  const source = operationsSource({
    db: ops.db,
    timezone: config.directory.timezone,
    peers: peerStats(config, deps.regionTls),
    health: async () => [await localHealth(), ...(await otherRegions())],
  });
  const metrics = applianceMetrics({
    region: config.region.id,
    gauges: {
      queue,
      replicationLag: async () => {
        const r = await deps.replication();
        return r?.lagMs === null || r?.lagMs === undefined ? null : r.lagMs / 1000;
      },
    },
  });
  return { scheduler, source, metrics, apiRoutes: operationsRoutes(config, ops.db, localHealth) };
}
