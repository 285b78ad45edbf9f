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
 * 4. **RCPT commands per transaction** (`MAX_RECIPIENT_COMMANDS` option, a number): the library answers
 *    some RCPTs itself (syntax errors, `452` once its recipient list is full, repeated addresses it folds
 *    into one entry) without calling `onRcptTo`, so the application cannot count them. As Postfix's
 *    `smtpd_recipient_overshoot_limit`, the RCPT after that many in one transaction, accepted, refused or
 *    repeated, gets `421 4.5.3` and the connection is closed (replies.ts `tooManyRecipientCommands`). The
 *    count is kept per envelope object, which the library replaces on RSET, HELO/EHLO and after DATA.
 * 5. **Nothing read after the close** (`STOP_READING_AFTER_CLOSE` option): once the library has closed a
 *    connection (a `421`, QUIT) it stops parsing but keeps reading and dropping what arrives, to see the
 *    client's FIN, until its 5 s half-close deadline. A client that still sends after that is flooding:
 *    its first chunk pauses the socket, so nothing more is read until the deadline destroys it. A client
 *    that just closes is seen at once, as before.
 */
import { createRequire } from 'node:module';
import type { SMTPServerAddress } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { REPLIES } from './replies.js';

/** The smtp-server version these changes were written against (the adapter test checks it). */
export const SMTP_SERVER_VERSION = '3.21.6';

/** Server option: send the greeting without the library's fixed 100 ms pause. */
export const GREET_AT_ONCE = Symbol.for('delegato.smtp-server.greetAtOnce');

/** Server option: the most RCPT commands one transaction may send (a positive integer). */
export const MAX_RECIPIENT_COMMANDS = Symbol.for('delegato.smtp-server.maxRecipientCommands');

/** Server option: after the library closed a connection, the socket is paused at the client's next byte. */
export const STOP_READING_AFTER_CLOSE = Symbol.for('delegato.smtp-server.stopReadingAfterClose');

/** Where the raw parameters are kept on a parsed MAIL/RCPT command. */
const RAW = Symbol.for('delegato.smtp-server.rawArgs');

/** What the adapter touches on a connection (smtp-server's private members, as of SMTP_SERVER_VERSION). */
interface ConnectionInternals {
  _server: {
    options: Record<string | symbol, unknown> & { maxClients?: number };
    connections: { size: number };
  };
  name: string;
  session: { envelope: object };
  _socket: { destroyed: boolean; once(event: 'data', listener: () => void): void; pause(): void };
  _upgrading: boolean;
  init(): void;
  close(): void;
  handler_RCPT(command: Buffer | string, callback: () => void): void;
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
/** RCPT commands seen per envelope (one transaction). */
const rcptCommands = new WeakMap<object, number>();

/** Installs the changes (idempotent). MxServer calls it before creating its server. */
export function adaptSmtpServer(): void {
  if (installed) return;
  for (const name of [
    'init',
    'connectionReady',
    '_setListeners',
    '_parseAddressCommand',
    'send',
    'close',
    'handler_RCPT',
  ] as const)
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

  const handleRcpt = proto.handler_RCPT;
  proto.handler_RCPT = function patchedRcpt(command, callback) {
    const cap = this._server.options[MAX_RECIPIENT_COMMANDS];
    if (typeof cap === 'number' && cap > 0) {
      const envelope = this.session.envelope;
      const n = (rcptCommands.get(envelope) ?? 0) + 1;
      rcptCommands.set(envelope, n);
      if (n > cap) {
        const reply = REPLIES.tooManyRecipientCommands;
        // A 421 makes the library close the connection once it is sent.
        this.send(reply.code, `${reply.enhanced} ${reply.text}`);
        callback();
        return;
      }
    }
    handleRcpt.call(this, command, callback);
  };

  const close = proto.close;
  proto.close = function patchedClose() {
    const closing = (this as unknown as { _closing?: boolean })._closing;
    close.call(this);
    if (closing || this._server.options[STOP_READING_AFTER_CLOSE] !== true) return;
    const socket = this._socket;
    if (!socket.destroyed && !this._upgrading) socket.once('data', () => socket.pause());
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
