/**
 * smtp-server adds an enhanced status code chosen from the reply code alone (550 → 5.1.1), so an
 * application cannot answer `550 5.1.4` (ambiguous) or `550 5.2.1` (disabled). This adapter keeps an
 * enhanced code the application put at the start of its message (RFC 3463; replies.ts) instead of adding
 * a second one. It is the only change we make to the library's behaviour, at its boundary.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const OWN_ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;
let patched = false;

export function keepApplicationEnhancedCodes(): void {
  if (patched) return;
  patched = true;
  const proto = SMTPConnection.prototype as unknown as {
    send(code: number, data?: string | string[], context?: string | false): void;
  };
  const original = proto.send;
  proto.send = function send(code, data, context) {
    if (typeof data === 'string' && OWN_ENHANCED.test(data)) return original.call(this, code, data, false);
    if (Array.isArray(data) && data.length > 0 && OWN_ENHANCED.test(data[0] ?? '')) {
      const enhanced = (data[0] ?? '').split(' ')[0];
      return original.call(
        this,
        code,
        data.map((line) => (OWN_ENHANCED.test(line) ? line : `${enhanced} ${line}`)),
        false,
      );
    }
    return original.call(this, code, data, context);
  };
}
