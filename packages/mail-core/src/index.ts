/** Shared plumbing of the line-based mail protocol servers. See README.md. */
export { ConnectionClosedError, isConnectionError } from './connection-errors.js';
export { END_GRACE_MS, endGracefully } from './graceful-end.js';
export { LineConnection, type LineConnectionOptions, type LineInput } from './line-connection.js';
export {
  type ListenedSession,
  type ListenOptions,
  listenForSessions,
  type SessionListener,
  type TlsIdentity,
} from './listener.js';
export {
  type LoginProxy,
  type ProxiedUser,
  type ProxyChannel,
  pipeSessions,
} from './login-proxy.js';
export { OpenSessions } from './open-sessions.js';
export { isLocalConnection, normalizeAddress } from './peer-address.js';
export {
  ProtocolListeners,
  type ProtocolListenersOptions,
  type SessionTransport,
} from './protocol-listeners.js';
export { SessionServer, type SessionServerOptions } from './session-server.js';
export {
  attachSessionSocket,
  detachPlainSocket,
  type SessionSocketListeners,
} from './session-socket.js';
export { drained } from './socket-drain.js';
export { isStoreError, StoreError, type StoreErrorCode } from './store-error.js';
export { type TlsUpgradeOptions, upgradeToTls } from './tls-upgrade.js';
