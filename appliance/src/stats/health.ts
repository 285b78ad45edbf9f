/**
 * The operator's health page of this region: listeners (each answers a TCP connection), the outbound
 * queue, directory replication, disk space of the data dir, the last backup, certificate expiry, and the
 * scheduled jobs' last outcomes.
 */
import { statfs } from 'node:fs/promises';
import { connect } from 'node:net';
import type { HealthCheck, RegionHealth } from '@delegato/admin';
import type { ReplicationState } from '@delegato/directory';
import { type OperationsDb, readDatabase } from '@delegato/mailstore';
import { certificateStates } from '../jobs/certificate-expiry.js';
import type { JobStatus } from '../jobs/scheduler.js';

const LOW_DISK_FRACTION = 0.1;
const REPLICATION_LAG_LIMIT_MS = 60_000;
const BACKUP_AGE_LIMIT_MS = 2 * 86_400_000;

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const mb = (bytes: number) => `${Math.round(bytes / 1_000_000).toLocaleString('en-US')} MB`;

export async function regionHealth(opts: {
  region: string;
  dataDir: string;
  listeners: Array<{ name: string; host: string; port: number }>;
  queue: () => Promise<{ messages: number; oldestAgeSeconds: number }>;
  queueAgeLimitSeconds: number;
  replication: () => Promise<ReplicationState | null>;
  db: OperationsDb;
  backupConfigured: boolean;
  certificates: () => Promise<Array<{ name: string; pem: string }>>;
  certificateWarningDays: number;
  jobs: () => JobStatus[];
  now?: () => Date;
}): Promise<RegionHealth> {
  const now = opts.now?.() ?? new Date();
  const listeners: HealthCheck[] = await Promise.all(
    opts.listeners.map(async (l) => {
      const ok = await answers(l.host, l.port);
      return { name: l.name, ok, detail: `${l.host}:${l.port} ${ok ? 'answers' : 'does not answer'}` };
    }),
  );
  const q = await opts.queue();
  const queue: HealthCheck[] = [
    {
      name: 'outbound queue',
      ok: q.oldestAgeSeconds < opts.queueAgeLimitSeconds,
      detail: `${q.messages} message(s) waiting; oldest ${Math.round(q.oldestAgeSeconds / 60)} minute(s) old`,
    },
  ];
  const r = await opts.replication();
  const replication: HealthCheck[] = r
    ? [
        {
          name: `directory (${r.role}, writer ${r.writer})`,
          ok: r.pullError === null && r.lagMs !== null && r.lagMs < REPLICATION_LAG_LIMIT_MS,
          detail:
            r.pullError !== null
              ? `last pull failed: ${r.pullError}`
              : `last pull ${r.lastPullAt ?? 'never'} (${r.lagMs ?? '-'} ms ago); ${r.pendingLocalChanges} local change(s) to push`,
        },
      ]
    : [{ name: 'directory', ok: true, detail: 'standalone: not replicated' }];
  const fs = await statfs(opts.dataDir);
  const free = fs.bavail * fs.bsize;
  const total = fs.blocks * fs.bsize;
  const disk: HealthCheck[] = [
    {
      name: 'data dir',
      ok: total === 0 || free / total >= LOW_DISK_FRACTION,
      detail: `${mb(free)} free of ${mb(total)} (${total === 0 ? '-' : Math.round((100 * free) / total)}%)`,
    },
  ];
  const last = await opts.db.lastBackup();
  const backup: HealthCheck[] = [
    last
      ? {
          name: 'last backup',
          ok: last.outcome === 'ok' && now.getTime() - Date.parse(last.startedAt) < BACKUP_AGE_LIMIT_MS,
          detail: `${last.startedAt}: ${last.outcome} (${last.snapshot} in ${last.dir}, ${last.ms} ms)${last.detail ? `: ${last.detail}` : ''}`,
        }
      : {
          name: 'last backup',
          ok: false,
          detail: opts.backupConfigured
            ? 'none yet'
            : 'none: set operations.backupDir for scheduled backups, or run delegato backup <dir>',
        },
  ];
  const certificates: HealthCheck[] = certificateStates(await opts.certificates(), now).map((c) => ({
    name: c.name,
    ok: c.daysLeft >= opts.certificateWarningDays,
    detail: `${c.subject}: valid until ${c.notAfter} (${c.daysLeft} days)`,
  }));
  const jobs: HealthCheck[] = opts.jobs().map((j) => ({
    name: j.name,
    ok: j.lastRun === null || j.lastRun.outcome === 'ok',
    detail: j.lastRun
      ? `${j.lastRun.startedAt}: ${j.lastRun.outcome} in ${j.lastRun.ms} ms (${j.lastRun.detail})`
      : `not run yet; next ${j.nextRun ?? '-'}`,
  }));
  return {
    region: opts.region,
    sections: [
      { title: 'Listeners', checks: listeners },
      { title: 'Queue', checks: queue },
      { title: 'Replication', checks: replication },
      { title: 'Disk', checks: disk },
      { title: 'Backup', checks: backup },
      { title: 'Certificates', checks: certificates },
      { title: 'Scheduled jobs', checks: jobs },
    ],
  };
}

/** Queue size and oldest age from queue.db (recipients still `queued`). */
export async function queueFigures(
  queueDb: string,
  now: Date = new Date(),
): Promise<{ messages: number; oldestAgeSeconds: number }> {
  return readDatabase(queueDb, async (c) => {
    const rs = await c.execute(
      `SELECT count(*) AS n, min(created_at) AS oldest FROM queue_messages m
        WHERE EXISTS (SELECT 1 FROM queue_recipients r WHERE r.message_id = m.id AND r.state = 'queued')`,
    );
    const row = rs.rows[0];
    const oldest = row?.oldest ? Date.parse(String(row.oldest)) : Number.NaN;
    return {
      messages: Number(row?.n ?? 0),
      oldestAgeSeconds: Number.isNaN(oldest) ? 0 : Math.max(0, Math.round((now.getTime() - oldest) / 1000)),
    };
  });
}
