/**
 * Every scheduled job of the appliance, declared here and nowhere else (appliance.ts starts them with
 * scheduler.ts; `delegato jobs` lists them). To add a job, add one entry to JOBS; what it needs goes into
 * JobContext (optional when not every appliance has it: the job's `schedule` then answers null and the
 * job is not declared). Schedules are cron expressions in `directory.timezone`.
 */
import type { Directory } from '@delegato/directory';
import type { MailStore, OperationsDb } from '@delegato/mailstore';
import type { OutboundQueue, QueueWorker } from '@delegato/mta';
import type { Logger } from '@delegato/observability';
import type { Config } from '../config/schema.js';
import { dataPaths } from '../data-dir.js';
import { rollUp } from '../stats/rollup.js';
import type { TrafficCounter } from '../stats/traffic-counter.js';
import type { AcmeSettings } from '../tls/acme.js';
import type { ListenerTls } from '../tls/sni.js';
import { ACME_RENEW_SCHEDULE, renewCertificates } from './acme-renew.js';
import type { BackupResult } from './backup.js';
import { runCertificateExpiry } from './certificate-expiry.js';
import { GATEWAY_CLEANUP_SCHEDULE } from './gateway-cleanup.js';
import { runMailboxExpiry } from './mailbox-expiry.js';
import { purgeRemovedMailboxes } from './purge-removed.js';
import type { JobSpec } from './scheduler.js';
import type { SystemMailer } from './system-mail.js';

export interface JobContext {
  config: Config;
  directory: Directory;
  store: MailStore;
  queue: OutboundQueue;
  worker: QueueWorker;
  logger: Logger;
  ops: OperationsDb;
  counter: TrafficCounter;
  mailer: SystemMailer;
  /** Ends IMAP/POP3 sessions that are no longer valid (the session sweep). */
  endSessions: () => Promise<void>;
  /** The certificates this region presents, read at each run. */
  certificates: () => Promise<Array<{ name: string; pem: string }>>;
  /** Takes a backup into `dir` keeping `keep` snapshots (recorded for the health page). */
  backup: (dir: string, keep: number) => Promise<BackupResult>;
  /** The listeners' certificates; `acme` where acme.directoryUrl is set. */
  tls: ListenerTls;
  /** The attachment gateway (services/gateway.ts). */
  gateway: { cleanup(): Promise<unknown> };
  /** Built-in lists (services/lists.ts): their held posts. */
  lists: { moderation: { expire(): Promise<number> } };
}

export interface JobDeclaration {
  name: string;
  description: string;
  /** The cron expression; null: not scheduled in this appliance (configuration, what it has). */
  schedule: (ctx: JobContext) => string | null;
  run: (ctx: JobContext) => Promise<unknown>;
}

export const JOBS: JobDeclaration[] = [
  {
    name: 'queue-runner',
    description: 'wakes the outbound queue worker for messages due (it also runs on its own timer)',
    schedule: () => '* * * * *',
    run: async ({ queue, worker }) => {
      const due = await queue.due({ limit: 1000 });
      worker.kick();
      return { due: due.length };
    },
  },
  {
    name: 'mailbox-expiry',
    description: 'warns contact persons before expiration dates; ends sessions of expired mailboxes',
    schedule: () => '5 * * * *',
    run: (ctx) =>
      runMailboxExpiry({
        directory: ctx.directory,
        db: ctx.ops,
        mailer: ctx.mailer,
        region: ctx.config.region.id,
        timezone: ctx.config.directory.timezone,
        warningDays: ctx.config.operations.expiryWarningDays,
        logger: ctx.logger,
        endSessions: ctx.endSessions,
      }),
  },
  {
    name: 'purge-removed',
    description: 'deletes removed mailboxes and their mail after directory.retentionDays',
    // Daily, at a quiet hour.
    schedule: () => '17 3 * * *',
    run: ({ directory, store }) => purgeRemovedMailboxes(directory, store),
  },
  {
    name: 'gateway-cleanup',
    description: 'removes expired attachment-gateway links and the files no link points at',
    // Hourly: an expired link already answers 404 until then (jobs/gateway-cleanup.ts).
    schedule: () => GATEWAY_CLEANUP_SCHEDULE,
    run: ({ gateway }) => gateway.cleanup(),
  },
  {
    name: 'list-posts-expiry',
    description: 'discards list posts held past lists.holdDays, with a notice to their senders',
    schedule: () => '41 * * * *',
    run: ({ lists }) => lists.moderation.expire(),
  },
  {
    name: 'stats-rollup',
    description: 'rolls the per-domain traffic counters up into the daily statistics (yesterday and today)',
    schedule: () => '7 * * * *',
    run: (ctx) =>
      rollUp({
        directory: ctx.directory,
        db: ctx.ops,
        counter: ctx.counter,
        queueDir: dataPaths(ctx.config.data.dir).queue,
        region: ctx.config.region.id,
        timezone: ctx.config.directory.timezone,
      }),
  },
  {
    name: 'certificate-expiry',
    description: 'warns of TLS and federation certificates close to their expiry',
    schedule: () => '23 6 * * *',
    run: (ctx) =>
      runCertificateExpiry({
        certificates: ctx.certificates,
        warningDays: ctx.config.operations.certificateWarningDays,
        logger: ctx.logger,
      }),
  },
  {
    name: 'acme-renew',
    description: 'issues and renews certificates from the ACME CA (acme.directoryUrl)',
    schedule: ({ tls }) => (tls.acme ? ACME_RENEW_SCHEDULE : null),
    run: ({ config, directory, tls, logger }) =>
      renewCertificates({
        config,
        directory,
        acme: tls.acme as AcmeSettings,
        certificates: tls.certificates,
        logger,
      }),
  },
  {
    name: 'backup',
    description: 'backs the data dir up into operations.backupDir, keeping operations.backupKeep snapshots',
    schedule: ({ config }) => (config.operations.backupDir ? config.operations.backupSchedule : null),
    run: (ctx) => ctx.backup(ctx.config.operations.backupDir as string, ctx.config.operations.backupKeep),
  },
];

/** The jobs of this configuration, ready for the scheduler. */
export function declareJobs(ctx: JobContext, declarations: JobDeclaration[] = JOBS): JobSpec[] {
  return declarations.flatMap((d) => {
    const schedule = d.schedule(ctx);
    return schedule === null
      ? []
      : [{ name: d.name, schedule, description: d.description, run: () => d.run(ctx) }];
  });
}
