/** Shared plumbing of the line-based mail protocol servers. See README.md. */
export {
  type ListenedSession,
  type ListenOptions,
  listenForSessions,
  type SessionListener,
} from './listener.js';
