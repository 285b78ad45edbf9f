/**
 * Forwarding directory changes to the writer region (decision 0009): the forwarding side
 * (`ForwardingWriter`, the `DirectoryWriter` of every region that is not the writer) and the writer side
 * (`applyForwarded`, behind the writer's `/directory/mutate` route on the federation channel).
 *
 * Wire: `POST /directory/mutate` with `{ actor, change }` (JSON) over mutual TLS; the answer is
 * `{ ok: true, result }` or `{ ok: false, error: { code, message } }` (a `DirectoryError` of the writer,
 * re-thrown as the same code and message: `duplicate` stays "already exists"). `POST /directory/auth-event`
 * carries a sign-in record. A change's input carries passwords and TOTP secrets: it is never logged, on
 * either side.
 */
import { eq } from 'drizzle-orm';
import type { DirectoryDb } from './engine.js';
import { conflict, DirectoryError, type DirectoryErrorCode, forbidden, invalid } from './errors.js';
import { ReplicatedWriter, type Replication, syncErrorText, WriterMoved } from './replication.js';
import { admins } from './schema.js';
import type { Actor } from './scope.js';
import type { AuthEvent } from './service/audit.js';
import type { ChangeKind, ChangeResult } from './service/changes.js';
import { adminDomainNames } from './service/login.js';
import type { DirectoryChange, DirectoryWriter } from './service/writer.js';

export const MUTATE_PATH = '/directory/mutate';
export const AUTH_EVENT_PATH = '/directory/auth-event';

/** How long a forwarded change may take at the writer (argon2 hashing included). */
export const FORWARD_TIMEOUT_MS = 20_000;

export type ForwardAnswer =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: DirectoryErrorCode; message: string } };

const CODES: readonly DirectoryErrorCode[] = [
  'invalid',
  'not-found',
  'duplicate',
  'conflict',
  'forbidden',
  'unavailable',
];

export interface ForwardingWriterOptions {
  /** The writer region's id (named in refusals). */
  writer: string;
  /**
   * This region's id: what a change's handler would take from the local options at the writer instead
   * (a domain added without `region` is homed here, where it was added, not in the writer region).
   */
  regionId: string;
  /** `https://<writer host>:<port>` of the writer's federation endpoint. */
  url: string;
  /** The federation transport (this region's certificate; only the writer's accepted). */
  fetch: typeof fetch;
  /** This region's replication: pulled after a confirmed change (read-your-writes). */
  replication?: Replication;
  timeoutMs?: number;
}

/** The writer of a region that is not the writer: sends every change there and returns its answer. */
export class ForwardingWriter implements DirectoryWriter {
  constructor(readonly opts: ForwardingWriterOptions) {}

  async #post(path: string, body: unknown): Promise<Response> {
    const { opts } = this;
    try {
      const res = await opts.fetch(`${opts.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new TextEncoder().encode(JSON.stringify(body)),
        signal: AbortSignal.timeout(opts.timeoutMs ?? FORWARD_TIMEOUT_MS),
      });
      opts.replication?.noteWriterReachable(true);
      return res;
    } catch (err) {
      opts.replication?.noteWriterReachable(false);
      throw new DirectoryError(
        'unavailable',
        `directory change refused, nothing was changed: the writer region ${opts.writer} is unreachable (${syncErrorText(err)})`,
      );
    }
  }

  /** `hops`: regions the change passed through before this one (decision 0011); 0 when made here. */
  async mutate<K extends ChangeKind>(
    actor: Actor,
    change: DirectoryChange<K>,
    hops = 0,
  ): Promise<ChangeResult<K>> {
    const res = await this.#post(MUTATE_PATH, {
      actor,
      change: this.#localised(change),
      ...(hops > 0 ? { hops } : {}),
    });
    const text = await res.text().catch(() => '');
    let answer: ForwardAnswer | undefined;
    try {
      answer = JSON.parse(text) as ForwardAnswer;
    } catch {
      answer = undefined;
    }
    if (!answer || typeof answer !== 'object' || typeof answer.ok !== 'boolean') {
      throw new DirectoryError(
        'unavailable',
        `directory change refused: the writer region ${this.opts.writer} answered ${res.status} ${text.slice(0, 120).trim()}`,
      );
    }
    if (!answer.ok) {
      const code = CODES.includes(answer.error?.code) ? answer.error.code : 'unavailable';
      throw new DirectoryError(code, String(answer.error?.message ?? 'refused by the writer region'));
    }
    // Read-your-writes: the change is at the hub; bring it here before confirming.
    const replication = this.opts.replication;
    if (replication) await replication.exclusive(() => replication.pullNow()).catch(() => undefined);
    return answer.result as ChangeResult<K>;
  }

  /** Fills in what the handler would otherwise take from the writer's own options. */
  #localised<K extends ChangeKind>(change: DirectoryChange<K>): DirectoryChange<K> {
    if (change.kind !== 'domain.add') return change;
    const input = change.input as { region?: string };
    if (input.region !== undefined) return change;
    return { ...change, input: { ...input, region: this.opts.regionId } } as unknown as DirectoryChange<K>;
  }

  async recordAuthEvent(event: AuthEvent): Promise<void> {
    // A sign-in record is not a change: a sign-in must work while the writer is unreachable, so the record
    // is dropped then (the appliance's log has the sign-in events too).
    try {
      const res = await this.#post(AUTH_EVENT_PATH, { event });
      await res.arrayBuffer().catch(() => undefined);
    } catch {
      // Dropped (see above).
    }
  }
}

/**
 * The actor a forwarded change runs as, rebuilt from the writer's own data: an administrator's role and
 * domains come from the directory, never from the request. The region's local actors (the `delegato` CLI
 * of that region's operator, `cli:<user>`, and the appliance's jobs) are taken as the verified region's.
 */
export async function rebuildActor(db: DirectoryDb, region: string, claimed: unknown): Promise<Actor> {
  const c = (claimed ?? {}) as { kind?: unknown; name?: unknown; from?: unknown };
  const name = typeof c.name === 'string' ? c.name : '';
  const from = `${region}/${typeof c.from === 'string' ? c.from : 'unknown'}`;
  if (name.length === 0 || name.length > 256) throw invalid('forwarded change without an actor');
  if (c.kind === 'system') return { kind: 'system', name, from };
  if (c.kind === 'operator' && name.startsWith('cli:'))
    return { kind: 'operator', name: `${name}@${region}`, from };
  if (c.kind !== 'operator' && c.kind !== 'domain-admin')
    throw invalid('forwarded change with an unknown actor');
  const [row] = await db.select().from(admins).where(eq(admins.username, name));
  if (!row)
    throw forbidden(`${name} may not change the directory: no such administrator at the writer region`);
  if (row.role === 'operator') return { kind: 'operator', name: row.username, from };
  return { kind: 'domain-admin', name: row.username, domains: await adminDomainNames(db, row.id), from };
}

/** The writer side of `POST /directory/mutate`: rebuild the actor, apply (pull, write, push), answer. */
export async function applyForwarded(
  target: { db: DirectoryDb; writer: DirectoryWriter },
  region: string,
  body: unknown,
): Promise<ForwardAnswer> {
  try {
    const b = (body ?? {}) as {
      actor?: unknown;
      change?: { kind?: unknown; input?: unknown };
      hops?: unknown;
    };
    if (typeof b.change?.kind !== 'string' || typeof b.change.input !== 'object' || b.change.input === null)
      throw invalid('forwarded change without a kind or an input');
    const actor = await rebuildActor(target.db, region, b.actor);
    const change = { kind: b.change.kind as ChangeKind, input: b.change.input } as DirectoryChange;
    // Regions this change passed through before it reached this one (decision 0011: at most two).
    const hops =
      typeof b.hops === 'number' && Number.isInteger(b.hops) && b.hops > 0 ? Math.min(b.hops, 8) + 1 : 1;
    const result =
      target.writer instanceof RoutingWriter
        ? await target.writer.route(actor, change, hops)
        : await target.writer.mutate(actor, change);
    return { ok: true, result: result ?? null };
  } catch (err) {
    if (err instanceof DirectoryError) return { ok: false, error: { code: err.code, message: err.message } };
    if (err instanceof TypeError && /unknown directory change/.test(err.message))
      return { ok: false, error: { code: 'invalid', message: err.message } };
    throw err;
  }
}

/** The writer side of `POST /directory/auth-event`. */
export async function applyForwardedAuthEvent(
  target: { writer: DirectoryWriter },
  region: string,
  body: unknown,
): Promise<void> {
  const event = (body as { event?: AuthEvent } | undefined)?.event;
  if (!event || typeof event !== 'object') throw invalid('forwarded sign-in record without an event');
  await target.writer.recordAuthEvent({
    ...event,
    from: `${region}/${String(event.from ?? 'unknown')}`,
  } as AuthEvent);
}

export interface RoutingWriterOptions {
  /** This region's id. */
  regionId: string;
  /** `federation.writer` (or the hub region): the writer while no move is recorded. */
  initial: string;
  /** The writer region the local replica names (`Directory.recordedWriter`); null: never moved. */
  recorded: () => Promise<string | null>;
  replication: Replication;
  /** This region's own write path (pull, write, push, confirm), used while the replica names this region. */
  local: DirectoryWriter;
  /** How to reach `region`'s federation API; undefined: no endpoint known for it. */
  forwarder: (region: string) => ForwardingWriter | undefined;
  /** The role of this region changed (the appliance logs it). */
  onRole?: (role: 'writer' | 'replica', writer: string) => void;
}

/**
 * The writer of every region of a federation whose writer role may move (decision 0011): while the local
 * replica names this region as the writer, changes are applied here (`local`); otherwise they are
 * forwarded to the region it names. A change forwarded here although the replica names another region
 * (the sender's replica or this one is behind) is forwarded once more after a pull; a change that already
 * made two hops is refused, never bounced around.
 */
export class RoutingWriter implements DirectoryWriter {
  constructor(readonly opts: RoutingWriterOptions) {}

  /** The writer region the replica names; updates the replication's role when it changed. */
  async current(): Promise<string> {
    const { opts } = this;
    const writer = (await opts.recorded()) ?? opts.initial;
    const role = writer === opts.regionId ? 'writer' : 'replica';
    if (opts.replication.role !== role || opts.replication.writer !== writer) {
      opts.replication.setRole(role, writer);
      opts.onRole?.(role, writer);
    }
    return writer;
  }

  mutate<K extends ChangeKind>(actor: Actor, change: DirectoryChange<K>): Promise<ChangeResult<K>> {
    return this.route(actor, change, 0);
  }

  /**
   * Takes the writer role for this region while the writer region is gone (decision 0011, takeover):
   * refused when this region writes already, or when `writerAnswers` says the writer's federation API
   * still answers (then the ordinary move, recorded by the writer itself, is the way). Applied here with
   * pull, push and confirm like any change (`ReplicatedWriter.takeOver`); the hub must be reachable.
   */
  async takeOver(
    actor: Actor,
    writerAnswers: (writer: string) => Promise<boolean>,
  ): Promise<{ region: string; previous: string }> {
    const { opts } = this;
    const writer = await this.current();
    if (writer === opts.regionId) throw conflict(`${opts.regionId} is already the writer region`);
    if (!(opts.local instanceof ReplicatedWriter))
      throw new DirectoryError('unavailable', 'this region cannot take the writer role (not replicated)');
    if (await writerAnswers(writer))
      throw conflict(
        `the writer region ${writer} answers: move the role without --takeover (the writer records the move itself)`,
      );
    const moved = await opts.local.takeOver(actor, {
      kind: 'federation.writer',
      input: { region: opts.regionId, initial: opts.initial },
    });
    await this.current();
    return moved;
  }

  /**
   * `hops`: how many regions the change passed through before this one (0: made here; 1: forwarded by the
   * region where it was made).
   */
  async route<K extends ChangeKind>(
    actor: Actor,
    change: DirectoryChange<K>,
    hops: number,
  ): Promise<ChangeResult<K>> {
    const { opts } = this;
    let writer = await this.current();
    if (writer !== opts.regionId && hops > 0) {
      // Somebody believes this region writes: the record may not have reached this replica yet.
      const replication = opts.replication;
      await replication.exclusive(() => replication.pullNow()).catch(() => undefined);
      writer = await this.current();
    }
    if (writer === opts.regionId) {
      try {
        return await opts.local.mutate(actor, change);
      } catch (err) {
        if (!(err instanceof WriterMoved)) throw err;
        writer = err.to;
        await this.current();
      }
    }
    if (hops >= 2 || writer === opts.regionId) {
      throw new DirectoryError(
        'unavailable',
        `directory change refused, nothing was changed: region ${opts.regionId} is not the writer (the directory names ${writer}); try again in a moment`,
      );
    }
    const forwarder = opts.forwarder(writer);
    if (!forwarder)
      throw new DirectoryError(
        'unavailable',
        `directory change refused, nothing was changed: no federation endpoint for the writer region ${writer} (federation.peers)`,
      );
    return forwarder.mutate(actor, change, hops);
  }

  async recordAuthEvent(event: AuthEvent): Promise<void> {
    const writer = await this.current();
    if (writer === this.opts.regionId) return this.opts.local.recordAuthEvent(event);
    await this.opts.forwarder(writer)?.recordAuthEvent(event);
  }
}
