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
import { DirectoryError, type DirectoryErrorCode, forbidden, invalid } from './errors.js';
import { type Replication, syncErrorText } from './replication.js';
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

  async mutate<K extends ChangeKind>(actor: Actor, change: DirectoryChange<K>): Promise<ChangeResult<K>> {
    const res = await this.#post(MUTATE_PATH, { actor, change: this.#localised(change) });
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
    const b = (body ?? {}) as { actor?: unknown; change?: { kind?: unknown; input?: unknown } };
    if (typeof b.change?.kind !== 'string' || typeof b.change.input !== 'object' || b.change.input === null)
      throw invalid('forwarded change without a kind or an input');
    const actor = await rebuildActor(target.db, region, b.actor);
    const result = await target.writer.mutate(actor, {
      kind: b.change.kind as ChangeKind,
      input: b.change.input,
    } as DirectoryChange);
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
