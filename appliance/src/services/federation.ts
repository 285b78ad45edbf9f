/**
 * The federation parts the appliance runs (issue 14 groundwork): in the hub region (`federation.hub`), the
 * replication hub (`tursodb --sync-server` on loopback, under `HubSupervisor`) and the sync gateway (HTTPS
 * with federation client certificates on `port.sync`), and the control-socket commands
 * `federation hub stop | start | status` and `federation status` that reach them.
 *
 * Order (appliance.ts): the hub starts before the directory opens (the hub region's replica will sync with
 * it over loopback) and stops after the directory closes; the gateway opens with the other listeners and
 * closes before the directory. The hub is started from the main thread: tursodb's parent-death signal
 * follows the spawning thread (packages/federation/src/hub.ts).
 */
import { join } from 'node:path';
import type { ReplicationState, Revocation } from '@delegato/directory';
import {
  HubSupervisor,
  loadRegionTls,
  PkiError,
  type RegionTls,
  type SyncGateway,
  startSyncGateway,
} from '@delegato/federation';
import type { Logger } from '@delegato/observability';
import { type CommandResult, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../cli/commands.js';
import type { Config } from '../config/schema.js';

/** What the hub region runs; absent elsewhere. */
export interface FederationHub {
  hub: HubSupervisor;
  tls: RegionTls;
  /** Set once the gateway listens ({@link startFederationGateway}). */
  gateway?: SyncGateway;
  /** Set by `federation hub stop` (control socket); cleared by `federation hub start` and at every start. */
  stoppedByOperator: boolean;
}

/** `<data dir>/hub`: the hub's database and pid file. */
export function hubDir(dataDir: string): string {
  return join(dataDir, 'hub');
}

/**
 * Starts the replication hub when this region runs it (`federation.hub`). Refuses to start without this
 * region's federation certificate, or with one of another region: the gateway presents it, and the other
 * regions accept only the hub region's.
 */
export async function startFederationHub(config: Config, logger: Logger): Promise<FederationHub | undefined> {
  if (!config.federation.hub) return undefined;
  let tls: RegionTls;
  try {
    tls = await loadRegionTls(config.data.dir);
  } catch (err) {
    if (err instanceof PkiError && err.code === 'missing') {
      throw new Error(
        `federation.hub is true but this region has no federation certificate in ${config.data.dir}/federation: run \`delegato federation init\` (first region) or \`delegato federation join <bundle>\``,
      );
    }
    throw err;
  }
  if (tls.region !== config.region.id) {
    throw new Error(
      `the federation certificate in ${config.data.dir}/federation is region ${tls.region}'s, but this region is ${config.region.id} (region.id)`,
    );
  }
  const hub = new HubSupervisor({
    dir: hubDir(config.data.dir),
    logger,
    ...(config.federation.hubPort ? { port: config.federation.hubPort } : {}),
  });
  await hub.start();
  return { hub, tls, stoppedByOperator: false };
}

/** Opens the sync gateway in front of the hub, on `listen`:`port.sync`. */
export async function startFederationGateway(
  config: Config,
  federation: FederationHub,
  logger: Logger,
  /** The writer region's `/directory/mutate` (federation-directory.ts `writerRoutes`). */
  routes?: Parameters<typeof startSyncGateway>[0]['routes'],
  /** Revoked region certificates (decision 0013): 403, nothing reaches the hub. */
  revoked?: Parameters<typeof startSyncGateway>[0]['revoked'],
): Promise<SyncGateway> {
  const gateway = await startSyncGateway({
    tls: federation.tls,
    upstream: () => federation.hub.url,
    logger,
    host: config.listen,
    port: config.port.sync,
    ...(routes ? { routes } : {}),
    ...(revoked ? { revoked } : {}),
  });
  federation.gateway = gateway;
  return gateway;
}

/** What `federation status` shows of a running appliance (`--json` of `delegato federation status`). */
export interface RunningFederationState {
  region: string;
  config: { hub: boolean; hubRegion: string | null; hubUrl: string | null; syncUrl: string | null };
  hub: null | {
    state: string;
    stoppedByOperator: boolean;
    pid: number | null;
    url: string;
    restarts: number;
    gateway: string | null;
  };
  /** The directory's replication (federation-directory.ts); null when standalone. */
  replication: ReplicationState | null;
}

export function runningFederationState(
  config: Config,
  federation: FederationHub | undefined,
  replication: ReplicationState | null = null,
) {
  const state: RunningFederationState = {
    region: config.region.id,
    config: {
      hub: config.federation.hub,
      hubRegion: config.federation.hubRegion ?? (config.federation.hub ? config.region.id : null),
      hubUrl: config.federation.hubUrl ?? null,
      syncUrl: config.directory.syncUrl ?? null,
    },
    hub: federation
      ? {
          state: federation.hub.state,
          stoppedByOperator: federation.stoppedByOperator,
          pid: federation.hub.pid ?? null,
          url: federation.hub.url,
          restarts: federation.hub.restarts,
          gateway: federation.gateway?.url ?? null,
        }
      : null,
    replication,
  };
  return state;
}

/**
 * The control-socket side of `delegato federation hub stop | start | status` and of the running part of
 * `federation status` (`federation state`, JSON). Returns undefined for any other command (the directory
 * command table takes it).
 *
 * `hub stop` stops tursodb and keeps it stopped (the supervisor does not restart it) until `hub start` or
 * the next start of the appliance; the gateway stays open and answers 502 meanwhile, as when the hub
 * crashes. It is the way to take the hub down for maintenance, and how `delegato lab stop hub` works.
 */
export function federationControl(
  config: Config,
  federation: FederationHub | undefined,
  replication: () => Promise<ReplicationState | null> = async () => null,
  /** `federation writer <region>` (decision 0011); absent: this region is standalone. */
  moveWriter?: (
    region: string,
    user: string,
    opts: { takeover: boolean },
  ) => Promise<{ region: string; previous: string }>,
  /** `federation revoke <region>` (decision 0013); absent: standalone. */
  revoke?: (region: string, user: string, reason: string | undefined) => Promise<Revocation>,
): (argv: string[], user?: string) => Promise<CommandResult> | undefined {
  return (argv, user = 'unknown') => {
    const words = argv.filter((a) => !a.startsWith('-'));
    if (words[0] !== 'federation') return undefined;
    const json = argv.includes('--json');
    const ok = (text: string, value: unknown): CommandResult => ({
      code: EXIT_OK,
      stdout: json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`,
      stderr: '',
    });
    const failWith = (code: number, message: string): CommandResult => ({
      code,
      stdout: '',
      stderr: `delegato: ${message}\n`,
    });
    const run = async (): Promise<CommandResult> => {
      if (words[1] === 'state' && words.length === 2) {
        return {
          code: EXIT_OK,
          stdout: `${JSON.stringify(runningFederationState(config, federation, await replication()))}\n`,
          stderr: '',
        };
      }
      if (words[1] === 'writer' && words.length === 3) {
        if (!moveWriter)
          return failWith(
            EXIT_USAGE,
            `this region (${config.region.id}) is standalone: there is no writer role to move`,
          );
        try {
          const takeover = argv.includes('--takeover');
          const moved = await moveWriter(words[2] as string, user, { takeover });
          return ok(
            takeover
              ? `writer role taken over: ${moved.previous} -> ${moved.region} (recorded and pushed by ${moved.region} without ${moved.previous}; ${moved.previous} forwards its changes once it is back and has pulled it)`
              : `writer role moved: ${moved.previous} -> ${moved.region} (recorded and pushed by ${moved.previous}; ${moved.region} accepts changes once it has pulled it)`,
            moved,
          );
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          const usage =
            code === 'invalid' || code === 'not-found' || code === 'conflict' || code === 'forbidden';
          return failWith(
            usage ? EXIT_USAGE : EXIT_FAILURE,
            err instanceof Error ? err.message : String(err),
          );
        }
      }
      if (words[1] === 'revoke' && words.length === 3) {
        if (!revoke)
          return failWith(
            EXIT_USAGE,
            `this region (${config.region.id}) is standalone: there is nothing to revoke`,
          );
        const reasonArg = argv.find((a) => a.startsWith('--reason='));
        try {
          const done = await revoke(words[2] as string, user, reasonArg?.slice('--reason='.length));
          return ok(
            `region ${done.region} revoked: its certificates issued until ${done.revokedAt} are refused on the federation channel by every region once they pulled this (issue it a new one: federation issue + join)`,
            done,
          );
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          const usage =
            code === 'invalid' || code === 'not-found' || code === 'conflict' || code === 'forbidden';
          return failWith(
            usage ? EXIT_USAGE : EXIT_FAILURE,
            err instanceof Error ? err.message : String(err),
          );
        }
      }
      if (words[1] !== 'hub' || words.length !== 3) {
        return failWith(EXIT_USAGE, 'usage: delegato federation hub stop|start|status [--json]');
      }
      if (!federation) {
        return failWith(
          EXIT_USAGE,
          `this region (${config.region.id}) does not run the replication hub (federation.hub is false)`,
        );
      }
      const { hub } = federation;
      const describe = () => {
        const s = runningFederationState(config, federation).hub;
        return {
          text: `hub ${s?.state}${s?.stoppedByOperator ? ' (stopped by the operator)' : ''}${s?.pid ? `, pid ${s.pid}` : ''}, ${s?.url}, restarts ${s?.restarts}`,
          value: s,
        };
      };
      switch (words[2]) {
        case 'status': {
          const d = describe();
          return ok(d.text, d.value);
        }
        case 'stop': {
          federation.stoppedByOperator = true;
          await hub.stop();
          const d = describe();
          return ok(d.text, d.value);
        }
        case 'start': {
          if (hub.state === 'stopped') await hub.start();
          else await hub.whenRunning(30_000);
          federation.stoppedByOperator = false;
          const d = describe();
          return ok(d.text, d.value);
        }
        default:
          return failWith(EXIT_USAGE, 'usage: delegato federation hub stop|start|status [--json]');
      }
    };
    return run().catch((err: unknown) =>
      failWith(EXIT_FAILURE, err instanceof Error ? err.message : String(err)),
    );
  };
}
