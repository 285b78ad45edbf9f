/**
 * `GET /healthz` of the HTTPS listeners: 200 when the directory answers, 503 naming what fails. A federated
 * region adds `replication` (role, writer, last pull, lag, hub and writer reachable, pending local
 * changes): the hub or the writer unreachable keeps 200, since mail, login, IMAP and POP3 work from the local
 * replica; only directory changes are refused meanwhile (docs/federation.md).
 */
import type { Directory } from '@delegato/directory';
import type { Context } from 'hono';
import { replicationOf } from './federation-directory.js';

export function healthz(directory: Directory, region: string) {
  return async (c: Context) => {
    try {
      await directory.listRegions();
      const replication = await replicationOf(directory)?.state();
      return c.json({ status: 'ok', region, ...(replication ? { replication } : {}) });
    } catch {
      return c.json({ status: 'error', region, failing: 'directory' }, 503);
    }
  };
}
