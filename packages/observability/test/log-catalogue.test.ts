/**
 * One log catalogue (docs/log-events.md, "Rules the tests check"): every `.ts`/`.tsx` under packages/*\/src
 * and appliance/src is scanned as text.
 *
 * 1. An `event: '<a.b>'` literal (a dotted name, the form of every log event) names an event of LOG_EVENTS.
 * 2. Every call of a pino logger method (`log.info(`, `this.log?.debug(`, `ctx.log?.warn(`,
 *    `this.opts.logger.error(`, ...: a receiver whose last name ends in `log`/`logger`) passes an object
 *    literal first, with an `event: '<name>'` of LOG_EVENTS in it: no free-text-only line.
 * 3. `logEvent(logger, '<a.b>'` and `logEventAt(logger, level, '<a.b>'` name events of LOG_EVENTS (the
 *    compiler checks it too: the name is a `LogEvent`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LOG_EVENTS } from '../src/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function sourceFiles(): string[] {
  const roots = [
    ...readdirSync(join(ROOT, 'packages')).map((p) => join(ROOT, 'packages', p, 'src')),
    join(ROOT, 'appliance', 'src'),
  ];
  const files: string[] = [];
  const walk = (dir: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) files.push(path);
    }
  };
  for (const r of roots) walk(r);
  return files;
}

const known = new Set(Object.keys(LOG_EVENTS));
const LINE = (src: string, index: number) => src.slice(0, index).split('\n').length;

/** The text of the first argument of a call whose `(` ends at `start`: up to a top-level `,` or `)`. */
function firstArgument(src: string, start: number): string {
  let depth = 0;
  let quote: string | null = null;
  let i = start;
  for (; i < src.length; i++) {
    const ch = src[i] as string;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) {
      if (depth === 0) break;
      depth--;
    } else if (ch === ',' && depth === 0) break;
  }
  return src.slice(start, i).trim();
}

const EVENT_LITERAL = /\bevent:\s*(['"`])([\w-]+\.[\w.-]+)\1/g;
const LOGGER_CALL =
  /(?<![\w$])((?:[\w$#]+\??\.)*[\w$#]*(?:log|logger|Logger))\??\.(trace|debug|info|warn|error|fatal)\(/g;
const LOG_EVENT_CALL =
  /\blogEvent(?:At)?\(\s*[^,()\n]+,\s*(?:'(?:trace|debug|info|warn|error|fatal)'\s*,\s*)?(['"`])([\w-]+\.[\w.-]+)\1/g;

/** The rule breaks in one file's text: `line: what`. */
export function logProblems(src: string): string[] {
  const problems: string[] = [];
  for (const m of src.matchAll(EVENT_LITERAL)) {
    if (!known.has(m[2] as string))
      problems.push(`${LINE(src, m.index)}: event '${m[2]}' is not in LOG_EVENTS`);
  }
  for (const m of src.matchAll(LOG_EVENT_CALL)) {
    if (!known.has(m[2] as string))
      problems.push(`${LINE(src, m.index)}: logEvent '${m[2]}' is not in LOG_EVENTS`);
  }
  for (const m of src.matchAll(LOGGER_CALL)) {
    const arg = firstArgument(src, m.index + m[0].length);
    const event = /^\{[\s\S]*?\bevent:\s*(['"`])([^'"`]+)\1/.exec(arg);
    if (!event) problems.push(`${LINE(src, m.index)}: ${m[0]} without an event from LOG_EVENTS`);
    else if (!known.has(event[2] as string)) {
      problems.push(`${LINE(src, m.index)}: ${m[0]} with event '${event[2]}', not in LOG_EVENTS`);
    }
  }
  return problems;
}

describe('the log catalogue', () => {
  it('the scan finds what it looks for', () => {
    expect(logProblems("log.info({ event: 'job.run', job: 'x' }, 'ran');")).toEqual([]);
    expect(
      logProblems("this.log?.debug(\n  { event: 'imap.command', command },\n  'imap command',\n);"),
    ).toEqual([]);
    expect(logProblems("ctx.log?.info('imap login failed');")).toHaveLength(1);
    expect(logProblems("this.opts.logger.warn({ err }, 'oops');")).toHaveLength(1);
    expect(logProblems("o.logger?.error({ event: 'made.up', err });")).toHaveLength(2);
    expect(logProblems("const row = { event: 'nope.never' };")).toHaveLength(1);
    expect(logProblems("logEvent(logger, 'not.an_event', {});")).toHaveLength(1);
    expect(logProblems("logEventAt(logger, 'warn', 'job.error', { err });")).toEqual([]);
    // Not log events: an undotted delivery-log row, a parameter type.
    expect(
      logProblems("push({ event: 'deferred', at });\nonce(event: 'data', listener: () => void): void;"),
    ).toEqual([]);
  });

  it('every source file logs events of LOG_EVENTS only, and no free-text-only line', () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(100);
    const problems = files.flatMap((file) =>
      logProblems(readFileSync(file, 'utf8')).map((p) => `${relative(ROOT, file)}:${p}`),
    );
    expect(problems).toEqual([]);
  });
});
