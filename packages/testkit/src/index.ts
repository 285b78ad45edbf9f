/** Test-only helpers. */
export {
  type DnsEntry,
  type DnsRecords,
  type RunningDnsServer,
  startDnsServer,
} from './dns-server.js';
export { LineClient } from './line-client.js';
export {
  type RunningSmtpSink,
  type SinkRecipient,
  type SinkReply,
  type SinkTransaction,
  type SmtpSinkOptions,
  startSmtpSink,
} from './smtp-sink.js';
export { ALL_PORTS_ZERO, tempDir } from './temp.js';
export {
  type ClientCert,
  clientCert,
  selfSignedCert,
  type TestCa,
  type TestCert,
  testCa,
} from './tls-cert.js';
