/**
 * Prometheus metrics (`GET /metrics` on the admin listener, text format 0.0.4) with prom-client.
 *
 * Process-wide (one registry per process): Node's default metrics (event-loop lag, heap, CPU, handles),
 * the count of every logged event by name, and counters derived from the events the services already log
 * (commands, deliveries, authentication failures, lockouts, TLS handshake failures), connections accepted
 * per listener (Node's `net.server.socket` diagnostics channel, so no listener needs a hook), and the
 * attachment gateway's bytes (`countGatewayBytes`). Per appliance: gauges read at scrape time (queue size
 * and oldest age, replication lag), given to `applianceMetrics` as functions.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { type TLSSocket, Server as TlsServer } from 'node:tls';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { type LogEvent, observeEvents } from './events.js';

export interface ScrapeGauges {
  /** Messages in the outbound queue with a recipient still to deliver, and the oldest one's age. */
  queue?: () => Promise<{ messages: number; oldestAgeSeconds: number }>;
  /** Seconds since the directory replica's last successful pull; null when standalone or before it. */
  replicationLag?: () => Promise<number | null>;
}

interface ProcessMetrics {
  registry: Registry;
  events: Counter<'event'>;
  connections: Counter<'listener'>;
  commands: Counter<'protocol'>;
  deliveries: Counter<'kind'>;
  authFailures: Counter<'protocol'>;
  lockouts: Counter<'kind'>;
  tlsFailures: Counter;
  tlsHandshakes: Counter<'listener'>;
  gatewayBytes: Counter<'direction'>;
}

let processMetrics: ProcessMetrics | undefined;
/** Listener names by local port (several appliances in one test process share this map). */
const listenerPorts = new Map<number, string>();

const COMMAND_EVENTS: Record<string, string> = {
  'imap.command': 'imap',
  'pop3.command': 'pop3',
  'smtp.protocol': 'smtp',
};
const AUTH_FAILED: Record<string, string> = {
  'imap.auth_failed': 'imap',
  'pop3.auth_failed': 'pop3',
  'smtp.auth_failed': 'smtp',
  'admin.signin_failed': 'admin',
};
const LOCKOUTS: Record<string, string> = { 'auth.lockout': 'mailbox', 'admin.lockout': 'admin' };

function countEvent(m: ProcessMetrics, event: LogEvent, fields: Record<string, unknown> | undefined): void {
  m.events.inc({ event });
  const command = COMMAND_EVENTS[event];
  if (
    (event === 'imap.connection' || event === 'pop3.connection') &&
    /^(starttls|stls)/.test(String(fields?.what))
  ) {
    m.tlsHandshakes.inc({ listener: event === 'imap.connection' ? 'imap' : 'pop3' });
    return;
  }
  if (command) {
    // smtp.protocol logs replies too: only the client's command verbs count.
    if (event !== 'smtp.protocol' || typeof fields?.verb === 'string') m.commands.inc({ protocol: command });
    return;
  }
  const auth = AUTH_FAILED[event];
  const lockout = LOCKOUTS[event];
  if (auth) m.authFailures.inc({ protocol: auth });
  else if (lockout) m.lockouts.inc({ kind: lockout });
  else if (event === 'tls.handshake_failed') m.tlsFailures.inc();
  else if (event === 'smtp.received') {
    const local = Number(fields?.local ?? 0);
    const queued = Number(fields?.queued ?? 0);
    if (local > 0) m.deliveries.inc({ kind: 'local' }, local);
    if (queued > 0) m.deliveries.inc({ kind: 'queued' }, queued);
  } else if (event === 'gateway.replaced' || event === 'gateway.download') {
    const bytes = Number(fields?.bytes ?? 0);
    if (bytes > 0)
      m.gatewayBytes.inc({ direction: event === 'gateway.replaced' ? 'stored' : 'served' }, bytes);
  } else if (event === 'queue.outcome' && typeof fields?.kind === 'string') {
    const n = Array.isArray(fields.recipients) ? fields.recipients.length : 1;
    m.deliveries.inc({ kind: fields.kind }, n);
  }
}

function startProcessMetrics(): ProcessMetrics {
  if (processMetrics) return processMetrics;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters (`_total`), which promtool's lint refuses: the resource counts stay.
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ])
    registry.removeSingleMetric(name);
  const m: ProcessMetrics = {
    registry,
    events: new Counter({
      name: 'delegato_log_events_total',
      help: 'Events logged, by event name (docs/log-events.md).',
      labelNames: ['event'],
      registers: [registry],
    }),
    connections: new Counter({
      name: 'delegato_connections_total',
      help: 'TCP connections accepted, by listener.',
      labelNames: ['listener'],
      registers: [registry],
    }),
    commands: new Counter({
      name: 'delegato_commands_total',
      help: 'Protocol commands received, by protocol.',
      labelNames: ['protocol'],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'delegato_deliveries_total',
      help: 'Message copies accepted (local, queued) and queue outcomes (delivered, relayed, bounced, delayed).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'delegato_auth_failures_total',
      help: 'Failed or rate-limited logins, by protocol.',
      labelNames: ['protocol'],
      registers: [registry],
    }),
    lockouts: new Counter({
      name: 'delegato_lockouts_total',
      help: 'Accounts locked after too many failed logins (mailbox, admin).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    tlsFailures: new Counter({
      name: 'delegato_tls_handshake_failures_total',
      help: 'TLS handshakes that failed on the mail listeners.',
      registers: [registry],
    }),
    tlsHandshakes: new Counter({
      name: 'delegato_tls_handshakes_total',
      help: 'TLS handshakes completed, by listener: implicit TLS (every TLS server) and IMAP STARTTLS, POP3 STLS.',
      labelNames: ['listener'],
      registers: [registry],
    }),
    gatewayBytes: new Counter({
      name: 'delegato_gateway_bytes_total',
      help: 'Attachment bytes through the attachment gateway, by direction (stored, served).',
      labelNames: ['direction'],
      registers: [registry],
    }),
  };
  observeEvents((event, fields) => countEvent(m, event, fields as Record<string, unknown> | undefined));
  const tlsServers = new WeakSet<TlsServer>();
  subscribe('net.server.socket', (message) => {
    const socket = (message as { socket?: Socket & { server?: unknown } }).socket;
    const name = socket?.localPort === undefined ? undefined : listenerPorts.get(socket.localPort);
    if (name) m.connections.inc({ listener: name });
    // A TLS server's handshakes, counted from its first accepted connection on.
    const server = socket?.server;
    if (server instanceof TlsServer && !tlsServers.has(server)) {
      tlsServers.add(server);
      server.on('secureConnection', (tls: TLSSocket) => {
        m.tlsHandshakes.inc({ listener: listenerPorts.get(tls.localPort ?? 0) ?? 'other' });
      });
    }
  });
  processMetrics = m;
  return m;
}

/** Starts counting (events, connections) before the listeners open: call at start-up. */
export function startMetrics(): void {
  startProcessMetrics();
}

/** Names the listeners whose accepted connections `delegato_connections_total` counts. */
export function nameListeners(listeners: Array<{ name: string; port: number }>): void {
  for (const l of listeners) listenerPorts.set(l.port, l.name);
}

/**
 * A TLS handshake that completed on a listener that is not a TLS server (smtp-server wraps its sockets
 * itself, for implicit TLS and for STARTTLS alike): counted by the listener's port. Nothing before start-up.
 */
export function countTlsHandshake(localPort: number | undefined): void {
  processMetrics?.tlsHandshakes.inc({ listener: listenerPorts.get(localPort ?? 0) ?? 'other' });
}

/** For the attachment gateway: bytes stored or served. */
export function countGatewayBytes(direction: 'stored' | 'served', bytes: number): void {
  startProcessMetrics().gatewayBytes.inc({ direction }, bytes);
}

export interface MetricsEndpoint {
  contentType: string;
  /** The exposition text: the process metrics and this appliance's gauges. */
  render(): Promise<string>;
}

export function applianceMetrics(opts: { region: string; gauges: ScrapeGauges }): MetricsEndpoint {
  const m = startProcessMetrics();
  const local = new Registry();
  const labels = { region: opts.region };
  const { queue, replicationLag } = opts.gauges;
  if (queue) {
    let last: Promise<{ messages: number; oldestAgeSeconds: number }> | undefined;
    // One queue query per scrape for both gauges.
    const read = () => {
      last ??= queue().finally(() => {
        setTimeout(() => {
          last = undefined;
        }, 100).unref();
      });
      return last;
    };
    new Gauge({
      name: 'delegato_queue_messages',
      help: 'Messages in the outbound queue with a recipient still to deliver.',
      labelNames: ['region'],
      registers: [local],
      async collect() {
        this.set(labels, (await read()).messages);
      },
    });
    new Gauge({
      name: 'delegato_queue_oldest_age_seconds',
      help: 'Age of the oldest message in the outbound queue (0 when empty).',
      labelNames: ['region'],
      registers: [local],
      async collect() {
        this.set(labels, (await read()).oldestAgeSeconds);
      },
    });
  }
  if (replicationLag) {
    new Gauge({
      name: 'delegato_replication_lag_seconds',
      help: "Seconds since the directory replica's last successful pull (absent when standalone).",
      labelNames: ['region'],
      registers: [local],
      async collect() {
        const lag = await replicationLag();
        if (lag === null) this.reset();
        else this.set(labels, lag);
      },
    });
  }
  return {
    contentType: m.registry.contentType,
    async render() {
      const merged = Registry.merge([m.registry, local]);
      return merged.metrics();
    },
  };
}
