/**
 * Shared by the security-admin tests: HTTPS JSON requests and IMAP, POP3 and SMTP AUTH logins from a
 * chosen loopback source address (127.0.0.0/8 is all ours), so that a test can spread its failures over
 * many client addresses the way a distributed guesser does, and time single attempts.
 */

import { spawn } from 'node:child_process';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { LineClient } from '@delegato/testkit';

const BIN = fileURLToPath(new URL('../bin/delegato.mjs', import.meta.url));

/** `127.0.0.<n>`: a loopback source address of its own. */
export const source = (n: number) => `127.0.0.${(n % 250) + 2}`;

export interface JsonResponse {
  status: number;
  body: unknown;
  ms: number;
}

/** One HTTPS JSON request to the admin listener, from `localAddress`; timed from send to last byte. */
export function httpsJson(
  origin: string,
  method: string,
  path: string,
  opts: { json?: unknown; bearer?: string; localAddress?: string } = {},
): Promise<JsonResponse> {
  const url = new URL(path, origin);
  if (url.hostname !== '127.0.0.1') throw new Error(`refusing to leave loopback: ${url.href}`);
  const body = opts.json === undefined ? undefined : JSON.stringify(opts.json);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body) headers['content-type'] = 'application/json';
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      url,
      {
        method,
        headers,
        rejectUnauthorized: false,
        agent: false,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ms = performance.now() - started;
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: parsed, ms });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const quote = (s: string) => `"${s.replace(/[\\"]/g, '\\$&')}"`;

/** An IMAPS connection from `localAddress`, greeting read. */
export async function imapConnect(port: number, localAddress: string): Promise<LineClient> {
  const c = await LineClient.connect(port, '127.0.0.1', { tls: true, localAddress });
  const greeting = await c.line();
  if (!greeting.startsWith('* OK')) throw new Error(`IMAP greeting: ${greeting}`);
  return c;
}

/** Sends one tagged IMAP command; returns the untagged lines and the tagged one. */
export async function imapCommand(c: LineClient, tag: string, command: string) {
  c.write(`${tag} ${command}\r\n`);
  const untagged: string[] = [];
  for (;;) {
    const l = await c.line();
    if (l.startsWith(`${tag} `)) return { untagged, tagged: l };
    untagged.push(l);
  }
}

/** IMAP LOGIN over IMAPS from `localAddress`: the tagged reply and how long it took. */
export async function imapLogin(port: number, localAddress: string, user: string, password: string) {
  const c = await imapConnect(port, localAddress);
  try {
    const started = performance.now();
    const { tagged } = await imapCommand(c, 'a1', `LOGIN ${quote(user)} ${quote(password)}`);
    return { tagged, ms: performance.now() - started };
  } finally {
    c.close();
  }
}

/** POP3 USER/PASS over POP3S from `localAddress`: the PASS reply. */
export async function pop3Login(port: number, localAddress: string, user: string, password: string) {
  const c = await LineClient.connect(port, '127.0.0.1', { tls: true, localAddress });
  try {
    await c.line();
    c.write(`USER ${user}\r\n`);
    await c.line();
    c.write(`PASS ${password}\r\n`);
    return await c.line();
  } finally {
    c.close();
  }
}

/** SMTP AUTH PLAIN on the implicit-TLS submission port from `localAddress`: the AUTH reply code. */
export async function smtpAuth(port: number, localAddress: string, user: string, password: string) {
  const c = await LineClient.connect(port, '127.0.0.1', { tls: true, localAddress });
  try {
    await c.smtpReply();
    await c.smtp('EHLO client.example');
    const plain = Buffer.from(`\0${user}\0${password}`).toString('base64');
    return (await c.smtp(`AUTH PLAIN ${plain}`)).code;
  } finally {
    c.close();
  }
}

/** Runs the real `delegato` CLI against the running appliance's data dir (its control socket). */
export function runCli(
  dataDir: string,
  args: string[],
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, DELEGATO_DATA_DIR: dataDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

/** The median of some numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}
