/**
 * Directory replication (docs/federation.md, "One writer"; decision 0009): the continuous pull of every
 * region, and the writer region's write path.
 *
 * - `Replication` pulls the hub on a timer (tursodb 0.6.0 has no long-poll: a held pull returns at once) and
 *   keeps the state shown by `federation status` and `/healthz`. The writer region also pushes, after every
 *   change and whenever local changes are left over (migrations at start, sign-in events, a compensation).
 * - `ReplicatedWriter` is the writer region's `DirectoryWriter`: for each change, under one lock with the
 *   pull loop, it pushes what is left and pulls (the hub unreachable: refused before anything is written),
 *   notes the last change id, applies the change through `LocalWriter` (one transaction per commit step),
 *   pushes, and only then answers. When that push fails, it undoes the change with the compensating write
 *   (cdc.ts) and answers `unavailable`: the refused change never appears anywhere, even once the hub is back.
 */
import type { Engine } from './engine.js';
import { DirectoryError } from './errors.js';
import type { Actor } from './scope.js';
import type { AuthEvent } from './service/audit.js';
import type { ChangeKind, ChangeResult } from './service/changes.js';
import type { DirectoryChange, DirectoryWriter, LocalWriter } from './service/writer.js';

/** What a region shows of its replication. Times are ISO strings, or null when it never happened. */
export interface ReplicationState {
  role: 'writer' | 'replica';
  /** The writer region's id. */
  writer: string;
  /** Last successful pull; null before the first. */
  lastPullAt: string | null;
  /** Milliseconds since the last successful pull (how stale the local replica may be); null before it. */
  lagMs: number | null;
  /** Last pull attempt failed: its message (the hub or the gateway unreachable…); null when it worked. */
  pullError: string | null;
  /** The hub answered the last pull. */
  hubReachable: boolean;
  /** The writer region answered its last request (the writer itself: the hub answered). null: not asked yet. */
  writerReachable: boolean | null;
  /** Local changes not pushed yet (the engine's count; replicas have none but sign-in records). */
  pendingLocalChanges: number;
  /** Pulls that brought changes since start. */
  pullsWithChanges: number;
  /** Schema migrations this code expects that the replica does not have yet (a replica waits for them). */
  waitingForSchema: string[];
}

export interface ReplicationOptions {
  role: 'writer' | 'replica';
  writer: string;
  /** Pull period; default 500 ms. */
  intervalMs?: number;
  /** After a pull that brought changes (caches, session checks). */
  onChanges?: () => void;
  /** When the pull starts or stops failing (logged by the appliance). */
  onPullState?: (ok: boolean, error?: string) => void;
  now?: () => number;
}

/** The hub or transport error as one line, without stack or request data. */
export function syncErrorText(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    parts.push(code && !e.message.includes(code) ? `${e.message} (${code})` : e.message);
  }
  return (parts.join(': ') || String(err)).replace(/\s+/g, ' ').slice(0, 300);
}

export class Replication {
  #role: 'writer' | 'replica';
  #writer: string;
  #timer: NodeJS.Timeout | undefined;
  #lock: Promise<unknown> = Promise.resolve();
  #lastPull: number | null = null;
  #pullError: string | null = null;
  #writerReachable: boolean | null = null;
  #pullsWithChanges = 0;
  #needsPush = false;
  #waitingForSchema: string[] = [];
  #stopped = false;
  readonly #now: () => number;

  constructor(
    readonly engine: Engine,
    readonly opts: ReplicationOptions,
  ) {
    this.#role = opts.role;
    this.#writer = opts.writer;
    this.#now = opts.now ?? Date.now;
    // The writer's own start-up writes (migrations, its region row) go out with the first tick.
    this.#needsPush = opts.role === 'writer';
  }

  /** This region's role: `writer` while the replica names this region as the writer (decision 0011). */
  get role(): 'writer' | 'replica' {
    return this.#role;
  }

  /** The writer region's id, as the replica names it (or `federation.writer` while no move is recorded). */
  get writer(): string {
    return this.#writer;
  }

  /** The writer role moved (`federation writer`): this region becomes or stops being the writer. */
  setRole(role: 'writer' | 'replica', writer: string): void {
    if (role === 'writer' && this.#role !== 'writer') this.#needsPush = true;
    this.#role = role;
    this.#writer = writer;
  }

  /** Runs `fn` alone: no pull and no other writer step in between. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#lock.then(fn, fn);
    this.#lock = result.catch(() => undefined);
    return result;
  }

  /** Starts the pull timer. */
  start(): void {
    if (this.#timer || this.#stopped) return;
    const tick = async () => {
      await this.exclusive(() => this.#tick()).catch(() => undefined);
      if (!this.#stopped) this.#timer = setTimeout(() => void tick(), this.opts.intervalMs ?? 500);
    };
    this.#timer = setTimeout(() => void tick(), 0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#lock.catch(() => undefined);
  }

  /** The writer's leftovers go out, then the hub's changes come in. */
  async #tick(): Promise<void> {
    // Also after the writer role moved away: what the old writer had left still goes out.
    if (this.#needsPush) {
      try {
        await this.engine.push();
        this.#needsPush = false;
      } catch {
        // Reported by the pull below, which fails the same way.
      }
    }
    await this.pullNow().catch(() => undefined);
  }

  /** One pull now (callers outside the lock: use `exclusive`). Throws the hub's error. */
  async pullNow(): Promise<boolean> {
    try {
      const changed = await this.engine.pull();
      const wasFailing = this.#pullError !== null;
      this.#lastPull = this.#now();
      this.#pullError = null;
      if (wasFailing || this.#lastPull === null) this.opts.onPullState?.(true);
      if (changed) {
        this.#pullsWithChanges++;
        this.opts.onChanges?.();
      }
      return changed;
    } catch (err) {
      const text = syncErrorText(err);
      if (this.#pullError === null) this.opts.onPullState?.(false, text);
      this.#pullError = text;
      throw err;
    }
  }

  /** Marks local changes to push with the next tick (the writer's sign-in records, start-up writes). */
  markPending(): void {
    this.#needsPush = true;
  }

  noteWriterReachable(reachable: boolean): void {
    this.#writerReachable = reachable;
  }

  setWaitingForSchema(pending: string[]): void {
    this.#waitingForSchema = pending;
  }

  async state(): Promise<ReplicationState> {
    const stats = await this.engine.syncStats().catch(() => undefined);
    const now = this.#now();
    return {
      role: this.role,
      writer: this.writer,
      lastPullAt: this.#lastPull === null ? null : new Date(this.#lastPull).toISOString(),
      lagMs: this.#lastPull === null ? null : now - this.#lastPull,
      pullError: this.#pullError,
      hubReachable: this.#lastPull !== null && this.#pullError === null,
      writerReachable:
        this.role === 'writer' ? this.#pullError === null && this.#lastPull !== null : this.#writerReachable,
      pendingLocalChanges: this.#needsPush ? Math.max(1, stats?.cdcOperations ?? 0) : 0,
      pullsWithChanges: this.#pullsWithChanges,
      waitingForSchema: this.#waitingForSchema,
    };
  }
}

/** A change refused before anything was written: the replica names another writer region (decision 0011). */
export class WriterMoved extends DirectoryError {
  constructor(
    readonly region: string,
    readonly to: string,
  ) {
    super(
      'unavailable',
      `directory change refused, nothing was changed: region ${region} is no longer the writer (the directory names ${to})`,
    );
  }
}

/** Message of a change refused because the hub is unreachable from the writer region. */
export function hubUnreachable(writer: string, err: unknown): DirectoryError {
  return new DirectoryError(
    'unavailable',
    `directory change refused, nothing was changed: the replication hub is unreachable from the writer region ${writer} (${syncErrorText(err)})`,
  );
}

export interface ReplicatedWriterHooks {
  /**
   * The writer region the replica names after the pre-change pull (decision 0011); another region than
   * this one: the change is refused with `WriterMoved` before anything is written.
   */
  currentWriter?: () => Promise<string>;
  /** This region's id; default: the replication's writer (the region is the writer from the start). */
  regionId?: string;
  /** Tests: runs between the commit and the push (e.g. stops the hub). */
  beforePush?: () => Promise<void>;
  /** After a compensating write (the appliance logs it; never the change's input); `rows` -1: it failed. */
  onCompensated?: (info: { kind: string; rows: number; error: string }) => void;
}

/** The writer region's writer: pull, apply locally, push, and only then confirm (module comment). */
export class ReplicatedWriter implements DirectoryWriter {
  /** This region's id (the writer region when it writes). */
  readonly self: string;
  constructor(
    readonly local: LocalWriter,
    readonly replication: Replication,
    readonly hooks: ReplicatedWriterHooks = {},
  ) {
    this.self = hooks.regionId ?? replication.writer;
  }

  mutate<K extends ChangeKind>(actor: Actor, change: DirectoryChange<K>): Promise<ChangeResult<K>> {
    return this.#apply(actor, change, true);
  }

  /**
   * A takeover of the writer role (`federation writer <this region> --takeover`, when the writer region is
   * gone): the change is applied here although the replica names another writer, with the same pull,
   * push-before-confirm and compensating write as any change. The hub orders it: the old writer, should it
   * come back, finds the record with the pull that precedes each of its changes and forwards from then on.
   */
  takeOver<K extends ChangeKind>(actor: Actor, change: DirectoryChange<K>): Promise<ChangeResult<K>> {
    return this.#apply(actor, change, false);
  }

  #apply<K extends ChangeKind>(
    actor: Actor,
    change: DirectoryChange<K>,
    onlyAsWriter: boolean,
  ): Promise<ChangeResult<K>> {
    const { engine } = this.replication;
    return this.replication.exclusive(async () => {
      // Fail fast: with the hub unreachable nothing is written.
      try {
        await engine.push();
        await this.replication.pullNow();
      } catch (err) {
        throw hubUnreachable(this.replication.writer, err);
      }
      const named = onlyAsWriter ? await this.hooks.currentWriter?.() : undefined;
      if (named !== undefined && named !== this.self) throw new WriterMoved(this.self, named);
      const mark = await engine.changeMark();
      let result: ChangeResult<K> | undefined;
      let failure: unknown;
      try {
        result = await this.local.mutate(actor, change);
      } catch (err) {
        // A change that failed after some of its commits: those are pushed (or undone) all the same.
        failure = err;
      }
      if ((await engine.changeMark()) > mark) {
        try {
          await this.hooks.beforePush?.();
          await engine.push();
        } catch (err) {
          this.replication.markPending();
          let rows: number;
          try {
            rows = await engine.compensateSince(mark);
          } catch (undoErr) {
            // Left in place, the change would go out with a later push: say so loudly.
            this.hooks.onCompensated?.({
              kind: change.kind,
              rows: -1,
              error: `${syncErrorText(err)}; undoing it failed: ${syncErrorText(undoErr)}`,
            });
            throw new DirectoryError(
              'unavailable',
              `directory change refused, but undoing it at the writer region ${this.replication.writer} failed: it may still appear once the hub is back (${syncErrorText(undoErr)})`,
            );
          }
          this.hooks.onCompensated?.({ kind: change.kind, rows, error: syncErrorText(err) });
          throw new DirectoryError(
            'unavailable',
            `directory change refused and undone: the replication hub became unreachable before the writer region ${this.replication.writer} could push it (${syncErrorText(err)})`,
          );
        }
      }
      if (failure !== undefined) throw failure;
      return result as ChangeResult<K>;
    });
  }

  /** Sign-in records are appended locally and go out with the next push; they conflict with nothing. */
  async recordAuthEvent(event: AuthEvent): Promise<void> {
    await this.replication.exclusive(() => this.local.recordAuthEvent(event));
    this.replication.markPending();
  }
}
