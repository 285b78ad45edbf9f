/**
 * The contract on the second implementation: testkit's in-memory backend, which protocol tests use when
 * storage is not what they test. Both implementations passing one suite keeps the suite about the
 * interface, not about one store.
 */
import { MemoryBackend } from '@delegato/testkit';
import type { MailBackend } from '../src/backend.js';
import { backendContract } from './contract.js';

backendContract('MemoryBackend (testkit)', async () => {
  const backend: MailBackend = new MemoryBackend();
  return { backend, cleanup: () => backend.close() };
});
