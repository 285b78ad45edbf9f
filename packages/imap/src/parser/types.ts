/**
 * The generic shape of a parsed command (RFC 9051 §9 `command`): a tag, a command name, and a tree of
 * arguments. Each command's `parse` reads its typed arguments from this tree.
 *
 * Atoms keep their text as sent (flags such as `\Seen`, sequence sets such as `1:*`, fetch items such as
 * `BODY.PEEK[HEADER.FIELDS (From)]<0.100>` — the bracketed part of an atom may hold spaces and lists, as
 * in Dovecot's parser). `NIL` is an atom. Quoted strings and literals are bytes.
 */
export type Arg =
  | { kind: 'atom'; value: string }
  | { kind: 'string'; value: Buffer; literal: boolean }
  | { kind: 'list'; items: Arg[] };

export interface ParsedCommand {
  /** The client's tag (RFC 9051 §9 `tag`). */
  tag: string;
  /** The command name, upper-case (`UID FETCH` stays `UID` here; the session joins it). */
  name: string;
  args: Arg[];
}
