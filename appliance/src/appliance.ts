/**
 * The appliance: opens the data dir, the directory and the listeners of every service that exists, and
 * shuts them down in order. `delegato start` (and `npm start`) run this.
 *
 * Services plug in here as their issues land (MTA, IMAP, POP3, admin UI, gateway, federation); until then
 * nothing pretends to be them: only the listeners that really serve something are opened.
 */
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { importTotpFile } from '@delegato/admin';
import { type Actor, type Directory, randomPassword } from '@delegato/directory';
import type { RegionTls } from '@delegato/federation';
import { MailStore } from '@delegato/mailstore';
import { createDsnSender, type ListService, OutboundQueue } from '@delegato/mta';
import { createLogger, type Logger, logEvent, logEventAt, nameListeners } from '@delegato/observability';
import { LoginRateLimiter } from '@delegato/sasl';
import type { Config } from './config/schema.js';
import { controlSocketPath } from './control/paths.js';
import { type ControlServer, startControlServer } from './control/server.js';
import { dataPaths, ensureDataDir } from './data-dir.js';
import { openOperations, startOperations } from './jobs/operations.js';
import type { Scheduler } from './jobs/scheduler.js';
import { adminApp, adminClientCa, listenHttps, type RunningHttps } from './services/admin-http.js';
import { shareLockouts } from './services/credentials.js';
import { federationControl, startFederationGateway, startFederationHub } from './services/federation.js';
import { startFederationApi, traceAtPeers, traceRoutes } from './services/federation-api.js';
import {
  moveWriterRole,
  openFederatedDirectory,
  registerReplication,
  replicationState,
  revokeRegionCertificates,
  writerRoutes,
} from './services/federation-directory.js';
import { federationLoginProxy, startFederationProxy } from './services/federation-proxy.js';
import { watchRevocations } from './services/federation-revocations.js';
import { federationRoutes, regionTlsIfInstalled, startFederationSmtp } from './services/federation-smtp.js';
import { openGateway } from './services/gateway.js';
import { startImap } from './services/imap.js';
import { startLists } from './services/lists.js';
import { dnsRecordSource, mtaStsApp } from './services/message-auth.js';
import { startMx } from './services/mx.js';
import { startPop3 } from './services/pop3.js';
import { startQueueWorker } from './services/queue.js';
import { quotaWarner } from './services/quota-warning.js';
import { startSessionRevocation } from './services/session-revocation.js';
import { startSubmission } from './services/submission.js';
import { webApp } from './services/web.js';
import { listenHttp } from './tls/http-listener.js';
import { ensureTlsMaterial } from './tls/self-signed.js';
import { listenerTls } from './tls/sni.js';

export const SHUTDOWN_DEADLINE_MS = 10_000;
export const OPERATOR_USERNAME = 'operator';

export interface Listener {
  name: string;
  host: string;
  port: number;
}

export interface RunningAppliance {
  listeners: Listener[];
  /** Built-in lists: the MTA's list service (services/lists.ts). */
  lists: ListService;
  scheduler: Scheduler;
  directory: Directory;
  store: MailStore;
  queue: OutboundQueue;
  logger: Logger;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Where the listener lines and the one-time operator password go (the terminal, not the logger). */
  out: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  logger?: Logger;
}

const SYSTEM: Actor = { kind: 'system', name: 'appliance', from: 'local' };

/** Creates the first operator when the directory has none; its password is shown once, never logged. */
async function bootstrapOperator(directory: Directory, config: Config, opts: StartOptions, logger: Logger) {
  if (await directory.hasOperator()) return;
  const fromEnv = opts.env.DELEGATO_OPERATOR_PASSWORD;
  const password = fromEnv && fromEnv.length > 0 ? fromEnv : randomPassword();
  await directory.addAdmin(SYSTEM, { username: OPERATOR_USERNAME, role: 'operator', password });
  const file = dataPaths(config.data.dir).operatorPassword;
  if (fromEnv) {
    opts.out.write(
      `operator account "${OPERATOR_USERNAME}" created with the password from DELEGATO_OPERATOR_PASSWORD\n`,
    );
  } else {
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    opts.out.write(
      `operator account "${OPERATOR_USERNAME}" created; password: ${password}\n` +
        `(shown once; also in ${file}, mode 0600)\n`,
    );
  }
  logEvent(logger, 'operator.bootstrap', {
    username: OPERATOR_USERNAME,
    passwordFrom: fromEnv ? 'env' : 'generated',
  });
}

export async function startAppliance(config: Config, opts: StartOptions): Promise<RunningAppliance> {
  const logger =
    opts.logger ??
    createLogger({
      level: config.log.level,
      ...(config.log.file
        ? { file: config.log.file }
        : { destination: process.stderr, pretty: process.stderr.isTTY }),
      base: { region: config.region.id },
    });
  logEvent(logger, 'appliance.runtime', {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  });
  logEvent(logger, 'config.loaded', { region: config.region.id, dataDir: config.data.dir });
  ensureDataDir(config.data.dir);
  const paths = dataPaths(config.data.dir);
  // The replication hub, in the hub region only: before the directory, which will sync with it.
  const federation = await startFederationHub(config, logger);
  // A replica of the hub when federated (services/federation-directory.ts), standalone otherwise.
  const fed = await openFederatedDirectory(config, {
    ...(federation ? { hubUrl: federation.hub.url } : {}),
    logger,
  }).catch(async (err: unknown) => {
    await federation?.hub.stop();
    throw err;
  });
  const directory = fed.directory;
  registerReplication(fed);
  // Revoked region certificates, checked by every federation listener (decision 0013).
  const revocations = await watchRevocations(directory, fed.replication ? fed.onPulled : undefined, logger);
  logEvent(logger, 'directory.open', {
    path: paths.directoryDb,
    standalone: !fed.replication,
    ...(fed.replication ? { role: fed.replication.role, writer: fed.replication.writer } : {}),
  });

  const stack: Array<() => Promise<void>> = [() => fed.close()];
  if (federation) stack.unshift(() => federation.hub.stop());
  let store: MailStore | undefined;
  let queue: OutboundQueue | undefined;
  /** This region's federation certificate once loaded (the control socket's `trace` asks peers with it). */
  let regionTlsRef: RegionTls | undefined;
  let scheduler: Scheduler | undefined;
  let listsRef: ListService | undefined;
  const listeners: Listener[] = [];
  const stop = async () => {
    while (stack.length > 0)
      await stack
        .pop()?.()
        .catch((err) =>
          logEventAt(logger, 'error', 'appliance.stop_failed', { err }, 'shutdown step failed'),
        );
    logEvent(logger, 'appliance.stop', {});
  };
  try {
    await bootstrapOperator(directory, config, opts, logger);
    const material = await ensureTlsMaterial({
      dataDir: config.data.dir,
      certFile: config.tls.certFile,
      keyFile: config.tls.keyFile,
      hostnames: [`${config.region.id}.delegato.invalid`],
    });
    if (material.created) logEvent(logger, 'tls.self_signed_created', { certFile: material.certFile });
    // Every TLS listener: the default certificate, and one by SNI for users' names (tls/sni.ts).
    const tls = await listenerTls(config, material, logger);
    const acme = tls.acme;

    store = await MailStore.open({
      dir: paths.mailStore,
      quotaLimit: async (userId) => (await directory.mailboxById(userId))?.quotaBytes ?? null,
      onNearQuota: quotaWarner({ directory, store: () => store, logger }),
    });
    // The attachment gateway (issue 15; services/gateway.ts): in front of every delivery into the store.
    const gateway = await openGateway({ config, directory, logger });
    stack.push(async () => gateway.close());
    const openStore = gateway.delivering(store);
    stack.push(() => openStore.close());
    queue = await OutboundQueue.open({ dir: paths.queue });
    const openQueue = queue;
    stack.push(() => openQueue.close());
    // Statistics, jobs, backups, metrics (jobs/operations.ts): the counter before the listeners.
    const ops = await openOperations(config);
    stack.push(() => ops.close());
    const lists = startLists({ config, directory, store: openStore, queue: openQueue, logger });
    listsRef = lists;
    stack.push(() => lists.close());

    const control: ControlServer = await startControlServer({
      socketPath: controlSocketPath(config.data.dir),
      tokenFile: paths.controlToken,
      directory,
      logger,
      purgeMail: async (ids) => {
        for (const id of ids) await openStore.purgeUser(id);
      },
      queue: async () => openQueue,
      lists: lists.moderation,
      peerTrace: async (entries) => ({
        region: config.region.id,
        peers: await traceAtPeers({ config, tls: regionTlsRef, directory, entries, logger }),
      }),
      handle: (argv, user) =>
        federationControl(
          config,
          federation,
          () => replicationState(fed),
          fed.writer
            ? (region, user, opts) => moveWriterRole(config, fed, region, user, logger, opts)
            : undefined,
          fed.writer
            ? (region, user, reason) => revokeRegionCertificates(config, fed, region, user, reason, logger)
            : undefined,
        )(argv, user) ?? ops.control(argv),
    });
    stack.push(() => control.close());

    const dsn = createDsnSender({
      hostname: config.smtp.hostname,
      region: config.region.id,
      directory,
      store: openStore,
      queue: openQueue,
    });
    // This region's federation certificate (installed bundle), for mail between regions both ways.
    const regionTls = await regionTlsIfInstalled(config);
    regionTlsRef = regionTls;
    const worker = startQueueWorker({
      config,
      directory,
      queue: openQueue,
      logger,
      srsSecret: directory.options.key.derive('srs'),
      dsn,
      routeRegion: federationRoutes(config, regionTls, () => revocations),
    });
    stack.push(() => worker.stop());

    const mx = await startMx({
      traffic: ops.counter,
      config,
      directory,
      store: openStore,
      queue: openQueue,
      tls,
      logger,
      dsn,
      lists,
    });
    stack.push(() => mx.close());
    listeners.push({ name: 'smtp', host: config.listen, port: mx.address.port });

    // One limiter for every protocol: failed logins count per client address and per account.
    const rateLimiter = new LoginRateLimiter({ onAccountLocked: shareLockouts(directory, logger) });
    const submission = await startSubmission({
      traffic: ops.counter,
      config,
      directory,
      store: openStore,
      queue: openQueue,
      tls,
      logger,
      rateLimiter,
      dsn,
      lists,
    });
    stack.push(() => submission.starttls.close());
    stack.push(() => submission.implicit.close());
    listeners.push({ name: 'submission', host: config.listen, port: submission.starttls.address.port });
    listeners.push({ name: 'submissions', host: config.listen, port: submission.implicit.address.port });

    // IMAP and POP3 logins of mailboxes homed in another region continue there (decision 0010).
    const proxy = federationLoginProxy({ config, tls: regionTls, directory, logger });
    const imap = await startImap({ config, directory, store: openStore, tls, logger, rateLimiter, proxy });
    stack.push(() => imap.close());
    listeners.push({ name: 'imap', host: config.listen, port: imap.plain.address.port });
    listeners.push({ name: 'imaps', host: config.listen, port: imap.implicit.address.port });

    const pop3 = await startPop3({ config, directory, store: openStore, tls, logger, rateLimiter, proxy });
    stack.push(() => pop3.close());
    listeners.push({ name: 'pop3', host: config.listen, port: pop3.plain.address.port });
    listeners.push({ name: 'pop3s', host: config.listen, port: pop3.implicit.address.port });

    // A removed or disabled mailbox, or one whose password changed, loses its open IMAP/POP3 sessions.
    const revocation = startSessionRevocation({
      directory,
      servers: { imap: imap.server, pop3: pop3.server },
      logger,
    });
    stack.push(async () => revocation.stop());
    // A replicated change (a password, a removal in another region) ends sessions here promptly too.
    fed.onPulled.add(() => void revocation.sweep());

    // The scheduled jobs (declared in jobs/declarations.ts), the statistics and health pages, /metrics.
    const operations = startOperations(ops, {
      config,
      directory,
      store: openStore,
      queue: openQueue,
      worker,
      logger,
      tls,
      certFile: material.certFile,
      regionTls: () => regionTlsRef,
      listeners,
      replication: () => replicationState(fed),
      endSessions: () => revocation.sweep(),
      gateway,
      lists,
    });
    scheduler = operations.scheduler;
    const openScheduler = scheduler;
    stack.push(() => openScheduler.stop());

    // The set-up sheet shows the ports users really connect to (the config may say 0).
    const portOf = (name: string) => listeners.find((l) => l.name === name)?.port;
    const mailPorts = Object.fromEntries(
      ['imap', 'imaps', 'pop3', 'pop3s', 'submission', 'submissions'].flatMap((n) => {
        const p = portOf(n);
        return p ? [[n, p]] : [];
      }),
    );
    const clientCa = await adminClientCa(config);
    // Once: TOTP secrets of the former file store move into the directory (admin-totp.json.imported).
    await importTotpFile(join(config.data.dir, 'admin-totp.json'), directory.options.key, directory, SYSTEM);
    const adminUiApp = adminApp({
      directory,
      region: config.region.id,
      ports: mailPorts,
      limiter: rateLimiter,
      requireTotp: config.admin.requireTotp,
      allowedNetworks: config.admin.allowedNetworks
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n.length > 0),
      // Sessions and API tokens survive restarts; TOTP secrets are in the directory (see admin-http.ts).
      stateFile: join(config.data.dir, 'admin-state.db'),
      clientCertificates: config.admin.clientCertificates,
      gatewayUsage: async (domain) => (await gateway.usage(domain))[0] ?? null,
      dnsRecords: dnsRecordSource(config, directory),
      // Quotas (issue 19): what a mailbox's mail takes in the mail store, by its official address.
      mailboxUsage: async (address) => {
        const mb = await directory.resolveLogin(address);
        if (!mb || mb.address !== address) return null;
        return (await openStore.quota(mb.id).catch(() => ({ usedBytes: 0 }))).usedBytes;
      },
      // The operators' queue page (retry, remove), as `delegato queue` does.
      outboundQueue: openQueue,
      // A domain's usage: its active mailboxes' ids from the directory, their sizes in one store query.
      domainUsage: async (domain) => {
        const stmt = await directory.engine.raw.prepare(
          "SELECT m.id AS id, d.name AS domain FROM mailboxes m JOIN domains d ON d.id = m.domain_id WHERE m.state = 'active'",
        );
        const rows = (await stmt.all()) as Array<{ id: string; domain: string }>;
        const ids = rows.filter((r) => r.domain === domain).map((r) => String(r.id));
        let total = 0;
        for (const bytes of (await openStore.usage(ids)).values()) total += bytes;
        return total;
      },
      logger: logger.child({ proto: 'admin' }),
      operations: operations.source,
      metrics: { endpoint: operations.metrics, networks: config.operations.metricsNetworks },
      lists: lists.moderation,
    });
    stack.push(() => adminUiApp.close());
    const admin: RunningHttps = await listenHttps(adminUiApp, {
      host: config.listen,
      port: config.port.admin,
      cert: tls.cert,
      key: tls.key,
      // The CA for client certificates is part of each context: SNI contexts need it too.
      SNICallback: clientCa ? tls.certificates.SNICallbackWith({ ca: clientCa }) : tls.SNICallback,
      ...(clientCa ? { clientCa } : {}),
    });
    stack.push(() => admin.close());
    listeners.push({ name: 'admin', host: config.listen, port: admin.address.port });

    const web: RunningHttps = await listenHttps(
      webApp({
        directory,
        region: config.region.id,
        mtaSts: mtaStsApp(config, directory),
        ports: mailPorts,
        adminPort: admin.address.port,
        gateway: gateway.routes({ limiter: rateLimiter }),
      }),
      {
        host: config.listen,
        port: config.port.web,
        cert: tls.cert,
        key: tls.key,
        SNICallback: tls.SNICallback,
      },
    );
    stack.push(() => web.close());
    listeners.push({ name: 'web', host: config.listen, port: web.address.port });
    gateway.setWebPort(web.address.port);

    if (acme) {
      // ACME HTTP-01 challenges and redirects to the web listener, nothing else (tls/http-listener.ts).
      const http = await listenHttp({
        host: config.listen,
        port: config.port.http,
        challenges: acme.challenges,
        httpsPort: web.address.port,
      });
      stack.push(() => http.close());
      listeners.push({ name: 'http', host: config.listen, port: http.address.port });
    }

    const federationSmtp = await startFederationSmtp({
      traffic: ops.counter,
      config,
      tls: regionTls,
      directory,
      store: openStore,
      queue: openQueue,
      logger,
      dsn,
      lists,
    });
    if (federationSmtp) {
      stack.push(() => federationSmtp.close());
      listeners.push({ name: 'federation', host: config.listen, port: federationSmtp.address.port });
    }

    const federationProxy = await startFederationProxy({
      config,
      tls: regionTls,
      directory,
      imap: imap.server,
      pop3: pop3.server,
      logger,
    });
    if (federationProxy) {
      stack.push(() => federationProxy.close());
      listeners.push({ name: 'proxy', host: config.listen, port: federationProxy.address.port });
    }

    // The federation API on port.sync (decision 0011): the hub region's sync gateway serves it too.
    const apiRoutes = {
      ...operations.apiRoutes,
      ...writerRoutes(fed, logger),
      ...traceRoutes(config, openQueue, logger),
    };
    const revokedCert = (region: string, cert: PeerCertificate) => revocations.revoked(region, cert);
    const api = federation
      ? await startFederationGateway(config, federation, logger, apiRoutes, revokedCert)
      : await startFederationApi({ config, tls: regionTls, logger, routes: apiRoutes, revoked: revokedCert });
    if (api) {
      stack.push(() => api.close());
      listeners.push({ name: 'sync', host: api.host, port: api.port });
    }

    nameListeners(listeners);
    for (const l of listeners) {
      stack.push(async () => logEvent(logger, 'listener.close', { name: l.name, port: l.port }));
      opts.out.write(`${l.name} ${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}\n`);
      logEvent(logger, 'listener.open', { name: l.name, host: l.host, port: l.port });
    }
    logEvent(logger, 'appliance.start', {
      region: config.region.id,
      dataDir: config.data.dir,
      user: userInfo().username,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  if (!store || !queue || !scheduler || !listsRef) throw new Error('start-up did not complete');
  return { listeners, scheduler, directory, store, queue, lists: listsRef, logger, stop };
}
