/** A minimal SCRAM-SHA-256 client (RFC 5802 §3) for the tests. */
import { createHmac } from 'node:crypto';
import { deriveScramKeys } from './memory-store.js';

export function scramClientFinal(opts: {
  password: string;
  clientFirstBare: string;
  serverFirst: string;
  gs2Header?: string;
}): { message: string; expectedServerFinal: string } {
  const attrs = Object.fromEntries(opts.serverFirst.split(',').map((p) => [p.slice(0, 1), p.slice(2)]));
  const salt = Buffer.from(attrs.s ?? '', 'base64');
  const iterations = Number(attrs.i);
  const { clientKey, storedKey, serverKey } = deriveScramKeys(opts.password, salt, iterations);
  const withoutProof = `c=${Buffer.from(opts.gs2Header ?? 'n,,').toString('base64')},r=${attrs.r}`;
  const authMessage = `${opts.clientFirstBare},${opts.serverFirst},${withoutProof}`;
  const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
  const proof = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) proof[i] = (clientKey[i] ?? 0) ^ (clientSignature[i] ?? 0);
  const serverSignature = createHmac('sha256', serverKey).update(authMessage).digest();
  return {
    message: `${withoutProof},p=${proof.toString('base64')}`,
    expectedServerFinal: `v=${serverSignature.toString('base64')}`,
  };
}
