/**
 * The attachment gateway in the appliance (issue 15; docs/gateway.md): its store in `<data.dir>/gateway`,
 * the mail store seen by the MX, submission and federation listeners with the gateway in front of
 * `deliver`, the download route of the public web listener, the cleanup job, disk usage, and the
 * `delegato gateway` commands of the control socket.
 */
import { Readable } from 'node:stream';
import type { Directory } from '@delegato/directory';
import {
  type CleanupResult,
  type DomainUsage,
  download,
  GatewayStore,
  gatewayDelivery,
} from '@delegato/gateway';
import type { MailStore } from '@delegato/mailstore';
import { type Logger, logEvent } from '@delegato/observability';
import type { LoginRateLimiter } from '@delegato/sasl';
import { Hono } from 'hono';
import { gatewayDir } from '../cli/gateway.js';
import type { Config } from '../config/schema.js';

export interface ApplianceGateway {
  store: GatewayStore;
  /** `store` with the gateway in front of `deliver` (every other method is the store's own). */
  delivering(store: MailStore): MailStore;
  /** GET/HEAD /gateway/<token> for the public web listener. */
  routes(opts: { limiter?: LoginRateLimiter }): Hono;
  /** Tells delivery the web listener's real port (download URLs name it). */
  setWebPort(port: number): void;
  cleanup(): Promise<CleanupResult>;
  usage(domain?: string): Promise<DomainUsage[]>;
  close(): void;
}

/**
 * The store with `deliver` replaced; every other method is the store's own, bound to it (its private fields
 * need it as `this`) once per name.
 */
function withDeliver(store: MailStore, deliver: MailStore['deliver']): MailStore {
  const bound = new Map<PropertyKey, unknown>([['deliver', deliver]]);
  return new Proxy(store, {
    get(target, prop) {
      if (bound.has(prop)) return bound.get(prop);
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value.bind(target);
      bound.set(prop, method);
      return method;
    },
  });
}

export async function openGateway(opts: {
  config: Config;
  directory: Directory;
  logger: Logger;
}): Promise<ApplianceGateway> {
  const { config, directory, logger } = opts;
  const store = await GatewayStore.open({ dir: gatewayDir(config.data.dir) });
  let webPort = config.port.web;
  // The public name of this region's web listener: the MX's host name (docs/gateway.md).
  const baseUrl = () => `https://${config.smtp.hostname}${webPort === 443 ? '' : `:${webPort}`}`;
  const usage = (domain?: string) => store.usage(domain);
  return {
    store,
    delivering(mailStore) {
      const deliver = gatewayDelivery((req) => mailStore.deliver(req), {
        store,
        policies: { policiesFor: (ids) => directory.gatewayPolicies(ids) },
        baseUrl,
        host: config.smtp.hostname,
        logger,
      });
      return withDeliver(mailStore, deliver);
    },
    routes({ limiter }) {
      const app = new Hono();
      app.get('/gateway/:token', async (c) => {
        const client = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
          ?.socket?.remoteAddress;
        const peer = client ?? 'unknown';
        const answer = await download(
          store,
          {
            token: c.req.param('token'),
            range: c.req.header('range'),
            ifRange: c.req.header('if-range'),
            authorization: c.req.header('authorization'),
          },
          async (login, password) => {
            // The shared login budget (per client address and per account), as IMAP and POP3 use it.
            if (limiter && !limiter.check(peer, login).allowed) return null;
            const mb = await directory.authenticateMailbox(login, password);
            if (!mb) limiter?.fail(peer, login);
            else limiter?.succeed(peer, login);
            return mb?.mailboxId ?? null;
          },
        );
        logEvent(logger, 'gateway.download', {
          status: answer.status,
          range: c.req.header('range') !== undefined,
          bytes: Number(answer.headers['Content-Length'] ?? 0),
          ...(answer.domain ? { domain: answer.domain } : {}),
        });
        const headers = new Headers(answer.headers);
        if (!answer.body || c.req.method === 'HEAD') {
          answer.body?.destroy();
          return new Response(c.req.method === 'HEAD' ? null : (answer.text ?? ''), {
            status: answer.status,
            headers,
          });
        }
        return new Response(Readable.toWeb(answer.body) as ReadableStream, {
          status: answer.status,
          headers,
        });
      });
      return app;
    },
    setWebPort(port) {
      webPort = port;
    },
    cleanup: () => store.cleanup(),
    usage,
    close: () => store.close(),
  };
}
