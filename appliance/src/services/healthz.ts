/** `GET /healthz` of the HTTPS listeners: 200 when the directory answers, 503 naming what fails. */
import type { Directory } from '@delegato/directory';
import type { Context } from 'hono';

export function healthz(directory: Directory, region: string) {
  return async (c: Context) => {
    try {
      await directory.listRegions();
      return c.json({ status: 'ok', region });
    } catch {
      return c.json({ status: 'error', region, failing: 'directory' }, 503);
    }
  };
}
