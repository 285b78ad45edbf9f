/**
 * The command registry: name → spec. Explicit, no string-built dispatch. UID variants are registered
 * under `UID <NAME>` (the session joins `UID` and the next atom).
 */
import type { CommandSpec } from '../context.js';
import { append } from './append.js';
import { authenticate } from './authenticate.js';
import { cancelupdate } from './cancelupdate.js';
import { capability } from './capability.js';
import { check } from './check.js';
import { close } from './close.js';
import { copy, uidCopy } from './copy.js';
import { create } from './create.js';
import { del } from './delete.js';
import { enable } from './enable.js';
import { expunge, uidExpunge } from './expunge.js';
import { fetch, uidFetch } from './fetch.js';
import { getquota } from './getquota.js';
import { getquotaroot } from './getquotaroot.js';
import { id } from './id.js';
import { idle } from './idle.js';
import { list } from './list.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { lsub } from './lsub.js';
import { move, uidMove } from './move.js';
import { namespace } from './namespace.js';
import { noop } from './noop.js';
import { rename } from './rename.js';
import { searchCommand, uidSearch } from './search.js';
import { examine, select } from './select.js';
import { setquota } from './setquota.js';
import { sort, uidSort } from './sort.js';
import { starttls } from './starttls.js';
import { status } from './status.js';
import { store, uidStore } from './store.js';
import { subscribe } from './subscribe.js';
import { thread, uidThread } from './thread.js';
import { unselect } from './unselect.js';
import { unsubscribe } from './unsubscribe.js';

export const COMMANDS = Object.freeze({
  APPEND: append,
  AUTHENTICATE: authenticate,
  CANCELUPDATE: cancelupdate,
  CAPABILITY: capability,
  CHECK: check,
  CLOSE: close,
  COPY: copy,
  CREATE: create,
  DELETE: del,
  ENABLE: enable,
  EXAMINE: examine,
  EXPUNGE: expunge,
  FETCH: fetch,
  GETQUOTA: getquota,
  GETQUOTAROOT: getquotaroot,
  ID: id,
  IDLE: idle,
  LIST: list,
  LOGIN: login,
  LOGOUT: logout,
  LSUB: lsub,
  MOVE: move,
  NAMESPACE: namespace,
  NOOP: noop,
  RENAME: rename,
  SEARCH: searchCommand,
  SELECT: select,
  SETQUOTA: setquota,
  SORT: sort,
  STARTTLS: starttls,
  STATUS: status,
  STORE: store,
  SUBSCRIBE: subscribe,
  THREAD: thread,
  'UID COPY': uidCopy,
  'UID EXPUNGE': uidExpunge,
  'UID FETCH': uidFetch,
  'UID MOVE': uidMove,
  'UID SEARCH': uidSearch,
  'UID SORT': uidSort,
  'UID STORE': uidStore,
  'UID THREAD': uidThread,
  UNSELECT: unselect,
  UNSUBSCRIBE: unsubscribe,
} satisfies Record<string, CommandSpec<unknown>>);

export type CommandName = keyof typeof COMMANDS;

/** The spec for an upper-case command name, or undefined for an unknown command. */
export function findCommand(name: string): CommandSpec<unknown> | undefined {
  return Object.hasOwn(COMMANDS, name) ? (COMMANDS[name as CommandName] as CommandSpec<unknown>) : undefined;
}
