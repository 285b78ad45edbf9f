/**
 * The boundary with smtp-server's internals: every change we make to the library's behaviour is here, and
 * `test/smtp-server-patch.test.ts` pins it to the version in use (`SMTP_SERVER_VERSION`). Each change is
 * installed once per process on `SMTPConnection.prototype`; the ones that change behaviour apply only to
 * servers whose options opt in (other smtp-server users, such as the test sink, keep the library's).
 *
 * 1. **Enhanced codes**: smtp-server adds an enhanced status code chosen
 *    from the reply code alone (550 → 5.1.1), so an application cannot answer `550 5.1.4` (ambiguous) or
 *    `550 5.2.1` (disabled). We keep an enhanced code the application put at the start of its message
 *    (RFC 3463; replies.ts) instead of adding a second one. Applies to every server.
 * 2. **No fixed greeting pause** (`GREET_AT_ONCE` option): the library waits 100 ms before every greeting
 *    (an early-talker check that cannot be configured), which caps a one-message-per-connection client.
 *    For a server with `[GREET_AT_ONCE]: true` the greeting goes out as soon as the socket (and, for
 *    implicit TLS, the handshake) is ready; the application's own pause (`onConnect` calling back later,
 *    `greetingDelayMs`) still makes the library answer early talkers `421 You talk too soon`.
 * 3. **Raw MAIL/RCPT parameters** (`rawParameters`): the library decodes xtext (RFC 3461 §4) before the
 *    application sees a value, and keeps a malformed `+` sequence as it is, so the application cannot tell
 *    `ENVID=a+2B` from `ENVID=a+`. The parsed command keeps the parameters as received too.
 */
import { createRequire } from 'node:module';
import type { SMTPServerAddress } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

/** The smtp-server version these changes were written against (the adapter test checks it). */
export const SMTP_SERVER_VERSION = '3.21.6';

/** Server option: send the greeting without the library's fixed 100 ms pause. */
export const GREET_AT_ONCE = Symbol.for('delegato.smtp-server.greetAtOnce');

/** Where the raw parameters are kept on a parsed MAIL/RCPT command. */
const RAW = Symbol.for('delegato.smtp-server.rawArgs');

/** What the adapter touches on a connection (smtp-server's private members, as of SMTP_SERVER_VERSION). */
interface ConnectionInternals {
  _server: {
    options: Record<string | symbol, unknown> & { maxClients?: number };
    connections: { size: number };
  };
  name: string;
  init(): void;
  connectionReady(next?: () => void): void;
  _setListeners(callback: () => void): void;
  _parseAddressCommand(name: string, command: string): (SMTPServerAddress & { [RAW]?: unknown }) | false;
  send(code: number, data?: string | string[], context?: string | false): void;
}

const proto = SMTPConnection.prototype as unknown as ConnectionInternals;

/** The installed version of smtp-server (its package.json). */
export function installedSmtpServerVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('smtp-server/package.json') as { version: string }).version;
}

function need(name: keyof ConnectionInternals): void {
  if (typeof proto[name] !== 'function')
    throw new Error(
      `smtp-server ${installedSmtpServerVersion()} has no SMTPConnection#${name}: see smtp-server-patch.ts`,
    );
}

const OWN_ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;
let installed = false;

/** Installs the three changes (idempotent). MxServer calls it before creating its server. */
export function adaptSmtpServer(): void {
  if (installed) return;
  for (const name of ['init', 'connectionReady', '_setListeners', '_parseAddressCommand', 'send'] as const)
    need(name);
  installed = true;

  const send = proto.send;
  proto.send = function patchedSend(code, data, context) {
    if (typeof data === 'string' && OWN_ENHANCED.test(data)) return send.call(this, code, data, false);
    if (Array.isArray(data) && data.length > 0 && OWN_ENHANCED.test(data[0] ?? '')) {
      const enhanced = (data[0] ?? '').split(' ')[0];
      return send.call(
        this,
        code,
        data.map((line) => (OWN_ENHANCED.test(line) ? line : `${enhanced} ${line}`)),
        false,
      );
    }
    return send.call(this, code, data, context);
  };

  const init = proto.init;
  proto.init = function patchedInit() {
    if (this._server.options[GREET_AT_ONCE] !== true) return init.call(this);
    // The library's init() without its `setTimeout(() => this.connectionReady(), 100)`.
    this._setListeners(() => {
      const { maxClients } = this._server.options;
      if (maxClients && this._server.connections.size > maxClients) {
        return this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
      }
      this.connectionReady();
    });
  };

  const parse = proto._parseAddressCommand;
  proto._parseAddressCommand = function patchedParse(name, command) {
    const parsed = parse.call(this, name, command);
    if (parsed) parsed[RAW] = splitParameters(command);
    return parsed;
  };
}

/**
 * `MAIL FROM:<a> K1=V1 K2` → `{ K1: 'V1', K2: true }` as received (names upper-cased, values not decoded),
 * split the way the library splits them (whitespace between parameters, the first `=` ends the name).
 */
function splitParameters(command: string): Record<string, string | true> {
  const words = String(command ?? '')
    .split(':')
    .slice(1)
    .join(':')
    .trim()
    .split(/\s+/)
    .slice(1);
  const out: Record<string, string | true> = {};
  for (const word of words) {
    const [key = '', ...rest] = word.split('=');
    if (key.trim() === '') continue;
    out[key.toUpperCase()] = rest.join('=') || true;
  }
  return out;
}

/** The parameters of a MAIL/RCPT command as the client sent them (xtext not decoded). */
export function rawParameters(address: SMTPServerAddress): Record<string, string | true> {
  return (address as { [RAW]?: Record<string, string | true> })[RAW] ?? {};
}
