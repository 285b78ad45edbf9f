/**
 * Revoked region certificates, as every listener of the federation channel checks them (decision 0013):
 * the sync gateway and the federation API (`port.sync`), inter-region SMTP (`port.federation`, both ways)
 * and the IMAP/POP3 proxy (`port.proxy`). The list is the directory's (`federation revoke`), held in memory
 * so that a TLS handshake never waits for a query: loaded at start, reloaded after every pull that brought
 * changes and after a revocation made here.
 *
 * A certificate is revoked when its region has a revocation at or after the time it was issued. Region
 * certificates are issued with `notBefore` one minute before the issue (clock skew between regions,
 * packages/federation pki.ts), so the issue time is `notBefore` + 60 s; `valid_from` has whole seconds, and
 * rounding down makes a certificate issued in the same second as the revocation count as revoked.
 */
import type { PeerCertificate } from 'node:tls';
import type { Directory } from '@delegato/directory';
import { type Logger, logEventAt } from '@delegato/observability';

/** `notBefore` of a region certificate is its issue time minus this (pki.ts `issueRegionBundle`). */
const NOT_BEFORE_BACKDATE_MS = 60_000;

export class RevocationList {
  /** The latest revocation per region, ms since the epoch. */
  #latest = new Map<string, number>();

  constructor(
    private readonly directory: Directory,
    private readonly logger?: Logger,
  ) {}

  /** Reloads the list from the directory (a failed read keeps the previous one, logged). */
  async refresh(): Promise<void> {
    try {
      const next = new Map<string, number>();
      for (const r of await this.directory.listRevocations()) {
        const at = Date.parse(r.revokedAt);
        if (Number.isFinite(at) && at > (next.get(r.region) ?? 0)) next.set(r.region, at);
      }
      this.#latest = next;
    } catch (err) {
      logEventAt(this.logger, 'warn', 'federation.revocations', {
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** Whether `cert`, a verified certificate of `region`, was issued at or before a revocation of it. */
  revoked(region: string, cert: Pick<PeerCertificate, 'valid_from'>): boolean {
    const at = this.#latest.get(region);
    if (at === undefined) return false;
    const issued = Date.parse(cert.valid_from) + NOT_BEFORE_BACKDATE_MS;
    // An unreadable date is not trusted.
    return !Number.isFinite(issued) || issued <= at;
  }

  /** Regions with a revocation, for `federation status`. */
  get regions(): string[] {
    return [...this.#latest.keys()].sort();
  }
}

const lists = new WeakMap<Directory, RevocationList>();

/**
 * The revocation list of `directory`, created and loaded on first use; `onPulled` (the federated
 * directory's listeners) reloads it after every pull that brought changes.
 */
export async function watchRevocations(
  directory: Directory,
  onPulled: Set<() => void> | undefined,
  logger?: Logger,
): Promise<RevocationList> {
  let list = lists.get(directory);
  if (list) return list;
  list = new RevocationList(directory, logger);
  lists.set(directory, list);
  await list.refresh();
  const reload = list;
  onPulled?.add(() => void reload.refresh());
  return list;
}

/** The list `watchRevocations` made for `directory`; undefined before (nothing revoked is known then). */
export function revocationsOf(directory: Directory): RevocationList | undefined {
  return lists.get(directory);
}
