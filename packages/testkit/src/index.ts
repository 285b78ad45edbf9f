/** Test-only helpers. */
export {
  type DnsEntry,
  type DnsErrorCode,
  type DnsRecords,
  type RunningDnsServer,
  startDnsServer,
} from './dns-server.js';
export { type DnsmasqRecords, type RunningDnsmasq, startDnsmasq } from './dnsmasq.js';
export { LineClient } from './line-client.js';
export {
  closeOnce,
  HARNESS_ACCOUNTS,
  type ListeningServer,
  listenOnLoopback,
  type MailServerTestOptions,
  mailServerTestOptions,
} from './mail-server-harness.js';
export { MemoryBackend, type MemoryMessage, type MemoryStoreEvent } from './memory-backend.js';
export { ALL_MECHANISMS, memoryCredentials } from './memory-credentials.js';
export { recordingLogger } from './recording-logger.js';
export {
  type RunningSmtpSink,
  type SinkRecipient,
  type SinkReply,
  type SinkTransaction,
  type SmtpSinkOptions,
  startSmtpSink,
} from './smtp-sink.js';
export { ALL_PORTS_ZERO, tempDir } from './temp.js';
export { ALICE, BOB, CAROL, type TestAccount } from './test-accounts.js';
export {
  type ClientCert,
  clientCert,
  selfSignedCert,
  type TestCa,
  type TestCert,
  testCa,
} from './tls-cert.js';
export { waitFor } from './wait-for.js';
