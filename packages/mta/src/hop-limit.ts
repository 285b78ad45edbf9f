/**
 * Loop detection by counting `Received:` fields (RFC 5321 §6.3): a message that has passed more than
 * `MAX_RECEIVED_FIELDS` hops is refused at the end of DATA with `554 5.4.6` (RFC 3463 X.4.6, routing loop
 * detected). Every region adds one `Received:` line as it accepts a message (MX, submission, the federation
 * channel), so an alias chain that runs from region to region (north's alias to an address in south whose
 * alias leads back to north) ends here instead of circling for ever; within one region the recipient
 * policy already stops alias loops (policy.ts).
 *
 * This Transform passes the bytes through unchanged while it reads the header block. Once the count is
 * exceeded it calls `onExceeded` (the caller fails the delivery: it is atomic, nothing is stored or queued)
 * and swallows the rest, so the client's stream is still read to its end.
 */
import { Transform } from 'node:stream';
import { replyError, type SmtpReplyError } from './replies.js';

/** RFC 5321 §6.3: "a large rejection threshold, normally at least 100 Received entries". */
export const MAX_RECEIVED_FIELDS = 100;

/** The header block is not counted beyond this (a longer one is refused elsewhere, or passes as it is). */
const MAX_SCANNED_BYTES = 1024 * 1024;

export function hopLimit(
  onExceeded: (err: SmtpReplyError) => void,
  max: number = MAX_RECEIVED_FIELDS,
): Transform {
  let count = 0;
  let scanned = 0;
  let done = false;
  let refused = false;
  /** The start of a line not complete yet (at most one line long). */
  let partial = '';
  return new Transform({
    transform(chunk: Buffer, _enc, callback) {
      if (refused) {
        callback();
        return;
      }
      if (!done) {
        scanned += chunk.length;
        const lines = (partial + chunk.toString('latin1')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (line === '' || line === '\r') {
            done = true; // the end of the header block
            break;
          }
          if (/^received[ \t]*:/i.test(line) && ++count > max) {
            done = true;
            refused = true;
            onExceeded(replyError('tooManyHops', `(${count} Received fields)`));
            callback();
            return;
          }
        }
        if (scanned > MAX_SCANNED_BYTES) done = true;
        if (done) partial = '';
        else if (partial.length > 64 * 1024) partial = partial.slice(-1024);
      }
      callback(null, chunk);
    },
  });
}
