/** Queue ids of received messages (ULIDs: time-ordered, unique across regions). */
import { randomFillSync } from 'node:crypto';
import { ulid } from 'ulid';

/**
 * Randomness for message ids: ulid's default draws one `crypto.randomFillSync` per character (16 per id,
 * ~3% of the MX's time under load); this one hands out bytes of a 4 KiB pool refilled from the same CSPRNG.
 * A byte / 256 is a fraction in [0, 1) that ulid maps to its 32 characters without bias (256 = 8 x 32).
 */
function pooledRandom(): () => number {
  const pool = new Uint8Array(4096);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    return (pool[next++] as number) / 256;
  };
}

const messageIdRandom = pooledRandom();

/** A new message id (the MX's `Message accepted as <id>`, the queue's and the delivery log's key). */
export function newMessageId(): string {
  return ulid(undefined, messageIdRandom);
}
