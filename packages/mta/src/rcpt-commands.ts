/**
 * A cap on RCPT commands per transaction, counted before smtp-server looks at them: the library answers
 * some RCPTs itself (syntax errors, `452` once its recipient list is full, repeated addresses it folds into
 * one entry) without calling `onRcptTo`, so the application cannot count those. As Postfix's
 * `smtpd_recipient_overshoot_limit`, a client that keeps sending RCPT past the cap, accepted, refused or
 * repeated, gets `421 4.5.3` and the connection is closed (replies.ts `tooManyRecipientCommands`).
 *
 * Installed once per process on `SMTPConnection.prototype`; it applies only to servers whose options carry
 * `[MAX_RECIPIENT_COMMANDS]` (other smtp-server users, such as the test sink, keep the library's behaviour).
 * The count is kept per envelope object, which smtp-server replaces on RSET, HELO/EHLO and after DATA, so
 * it is per transaction.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { REPLIES } from './replies.js';

/** Server option: the most RCPT commands one transaction may send (a positive integer). */
export const MAX_RECIPIENT_COMMANDS = Symbol.for('delegato.smtp-server.maxRecipientCommands');

interface ConnectionInternals {
  _server: { options: Record<string | symbol, unknown> };
  session: { envelope: object };
  send(code: number, data?: string | string[], context?: string | false): void;
  handler_RCPT(command: Buffer | string, callback: () => void): void;
}

const counts = new WeakMap<object, number>();
let installed = false;

export function limitRecipientCommands(): void {
  if (installed) return;
  const proto = SMTPConnection.prototype as unknown as ConnectionInternals;
  if (typeof proto.handler_RCPT !== 'function')
    throw new Error('smtp-server has no SMTPConnection#handler_RCPT: see rcpt-commands.ts');
  installed = true;
  const original = proto.handler_RCPT;
  proto.handler_RCPT = function handlerRcpt(this: ConnectionInternals, command, callback) {
    const cap = this._server.options[MAX_RECIPIENT_COMMANDS];
    if (typeof cap === 'number' && cap > 0) {
      const envelope = this.session.envelope;
      const n = (counts.get(envelope) ?? 0) + 1;
      counts.set(envelope, n);
      if (n > cap) {
        const reply = REPLIES.tooManyRecipientCommands;
        // A 421 makes smtp-server close the connection once it is sent.
        this.send(reply.code, `${reply.enhanced} ${reply.text}`);
        callback();
        return;
      }
    }
    original.call(this, command, callback);
  };
}
