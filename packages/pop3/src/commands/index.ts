/**
 * The command registry: keyword → spec. Explicit, no string-built dispatch. APOP (RFC 1939 §7) is
 * deliberately absent: it needs the plain-text password on the server and MD5; SASL covers it.
 */
import type { CommandSpec } from '../context.js';
import { auth } from './auth.js';
import { capa } from './capa.js';
import { dele } from './dele.js';
import { list } from './list.js';
import { noop } from './noop.js';
import { pass } from './pass.js';
import { quit } from './quit.js';
import { retr } from './retr.js';
import { rset } from './rset.js';
import { stat } from './stat.js';
import { stls } from './stls.js';
import { top } from './top.js';
import { uidl } from './uidl.js';
import { user } from './user.js';

export const COMMANDS = Object.freeze({
  AUTH: auth,
  CAPA: capa,
  DELE: dele,
  LIST: list,
  NOOP: noop,
  PASS: pass,
  QUIT: quit,
  RETR: retr,
  RSET: rset,
  STAT: stat,
  STLS: stls,
  TOP: top,
  UIDL: uidl,
  USER: user,
} satisfies Record<string, CommandSpec<unknown>>);

export type CommandName = keyof typeof COMMANDS;

/** The spec for an upper-case keyword, or undefined for an unknown command. */
export function findCommand(keyword: string): CommandSpec<unknown> | undefined {
  return Object.hasOwn(COMMANDS, keyword)
    ? (COMMANDS[keyword as CommandName] as CommandSpec<unknown>)
    : undefined;
}
