/**
 * `GET /metrics` (issue 16): Debian's `promtool check metrics` accepts the exposition, and a real
 * Prometheus server started here on loopback (random port, temp storage and config) scrapes it over
 * HTTPS: its API answers `up == 1` for the appliance and has the appliance's own series. A client
 * outside `operations.metricsNetworks` gets 403.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { LineClient, tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenerPort, startTestAppliance } from './admin-support.js';
import { mxSend } from './operations-support.js';

let t: Awaited<ReturnType<typeof startTestAppliance>>;
const work = tempDir('delegato-prometheus-');
let prometheus: ReturnType<typeof spawn> | undefined;

function get(
  port: number,
  path: string,
  localAddress = '127.0.0.1',
): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? '') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  // Only 127.0.0.1 may read the metrics: 127.0.0.2 (also loopback) is the stranger.
  t = await startTestAppliance('delegato-metrics-', { DELEGATO_OPERATIONS_METRICS_NETWORKS: '127.0.0.1/32' });
  await t.app.directory.addDomain({ kind: 'operator', name: 'test', from: 'local' }, 'iat.example');
  await t.app.directory.addMailbox(
    { kind: 'operator', name: 'test', from: 'local' },
    { domain: 'iat.example', kind: 'role', localPart: 'rose', password: 'Mailbox-Pass-1' },
  );
  await mxSend(listenerPort(t.app, 'smtp'), 'a@outside.example', 'rose@iat.example', 'hello');
  // TLS on SMTP (smtp-server wraps its sockets itself): implicit on submissions, STARTTLS on the MX.
  const implicit = await LineClient.connect(listenerPort(t.app, 'submissions'), '127.0.0.1', { tls: true });
  expect((await implicit.smtpReply()).code).toBe(220);
  implicit.close();
  const upgraded = await LineClient.connect(listenerPort(t.app, 'smtp'));
  await upgraded.smtpReply();
  await upgraded.smtp('EHLO client.example');
  expect((await upgraded.smtp('STARTTLS')).code).toBe(220);
  await upgraded.startTls();
  expect((await upgraded.smtp('EHLO client.example')).code).toBe(250);
  upgraded.close();
}, 60_000);

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus?.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await t?.stop();
  work.remove();
});

describe('Prometheus metrics', { timeout: 90_000 }, () => {
  it('serves the text format that promtool accepts, with the appliance series', async () => {
    const res = await get(listenerPort(t.app, 'admin'), '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const series of [
      'delegato_connections_total{listener="smtp"}',
      'delegato_tls_handshakes_total{listener="admin"}',
      'delegato_tls_handshakes_total{listener="submissions"}',
      'delegato_tls_handshakes_total{listener="smtp"}',
      'delegato_deliveries_total{kind="local"}',
      'delegato_log_events_total{event="smtp.received"}',
      'delegato_queue_messages',
      'delegato_queue_oldest_age_seconds',
      'nodejs_eventloop_lag_seconds',
    ])
      expect(res.body, series).toContain(series);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: res.body, encoding: 'utf8' });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
  });

  it('refuses a client outside operations.metricsNetworks', async () => {
    const res = await get(listenerPort(t.app, 'admin'), '/metrics', '127.0.0.2');
    expect(res.status).toBe(403);
    expect(res.body).not.toContain('delegato_');
  });

  it('a Prometheus server on loopback scrapes it: up == 1', async () => {
    const port = await freePort();
    const admin = listenerPort(t.app, 'admin');
    const config = join(work.path, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: delegato',
        '    scheme: https',
        '    metrics_path: /metrics',
        '    tls_config:',
        '      insecure_skip_verify: true',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${admin}']`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(work.path, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    prometheus.stderr?.on('data', (c: Buffer) => {
      log = (log + c.toString()).slice(-4000);
    });
    const query = async (q: string) => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
      return (await r.json()) as {
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
    };
    let up: string | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        const r = await query('up{job="delegato"} == 1');
        up = r.data.result[0]?.value[1];
        if (up === '1') break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(up, log).toBe('1');
    const events = await query('delegato_log_events_total{event="smtp.received"}');
    expect(Number(events.data.result[0]?.value[1])).toBeGreaterThanOrEqual(1);
    expect(events.data.result[0]?.metric.region).toBeUndefined();
    const queue = await query('delegato_queue_messages');
    expect(queue.data.result[0]?.metric.region).toBe(t.region);
  });
});
