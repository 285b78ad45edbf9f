/**
 * One log catalogue (docs/log-events.md, "Rules the tests check"): every `.ts`/`.tsx` under packages/*\/src
 * and appliance/src, packages/observability/src excepted (it holds `logEvent` itself), is scanned as text.
 *
 * 1. No `event: '<a.b>'` literal (a dotted name, the form of every log event): a log event is named as
 *    the argument of `logEvent` / `logEventAt`, where the compiler checks it against LOG_EVENTS, never as
 *    a raw field. Undotted names (the outbound queue's delivery-log rows, `event: 'deferred'`) are data.
 * 2. No direct call of a pino logger method (`log.info(`, `this.log?.debug(`, `ctx.log?.warn(`,
 *    `this.opts.logger.error(`, `logger[level](`: a receiver whose last name ends in `log`/`logger`):
 *    every line goes through `logEvent` / `logEventAt`, so none is free text only or names no event.
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
    ...readdirSync(join(ROOT, 'packages'))
      .filter((p) => p !== 'observability')
      .map((p) => join(ROOT, 'packages', p, 'src')),
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

const EVENT_LITERAL = /\bevent:\s*(['"`])([\w-]+\.[\w.-]+)\1/g;
const LOGGER_CALL =
  /(?<![\w$])((?:[\w$#]+\??\.)*[\w$#]*(?:log|logger|Logger))(?:\??\.(trace|debug|info|warn|error|fatal)|\??\.?\[[^\]\n]+\])\(/g;
const LOG_EVENT_CALL =
  /\blogEvent(?:At)?\(\s*[^,()\n]+,\s*(?:'(?:trace|debug|info|warn|error|fatal)'\s*,\s*)?(['"`])([\w-]+\.[\w.-]+)\1/g;

/** The rule breaks in one file's text: `line: what`. */
export function logProblems(src: string): string[] {
  const problems: string[] = [];
  for (const m of src.matchAll(EVENT_LITERAL)) {
    problems.push(`${LINE(src, m.index)}: raw event '${m[2]}': name it through logEvent / logEventAt`);
  }
  for (const m of src.matchAll(LOG_EVENT_CALL)) {
    if (!known.has(m[2] as string))
      problems.push(`${LINE(src, m.index)}: logEvent '${m[2]}' is not in LOG_EVENTS`);
  }
  for (const m of src.matchAll(LOGGER_CALL)) {
    problems.push(`${LINE(src, m.index)}: ${m[0]} called directly: log through logEvent / logEventAt`);
  }
  return problems;
}

describe('the log catalogue', () => {
  it('the scan finds what it looks for', () => {
    expect(logProblems("logEvent(log, 'job.run', { job: 'x' }, 'ran');")).toEqual([]);
    expect(logProblems("logEventAt(logger, 'warn', 'job.error', { err });")).toEqual([]);
    expect(
      logProblems(
        "logEventAt(\n  this.log,\n  'debug',\n  'imap.command',\n  { command },\n  'imap command',\n);",
      ),
    ).toEqual([]);
    // A raw event literal in a logger call: both the call and the literal.
    expect(logProblems("log.info({ event: 'job.run', job: 'x' }, 'ran');")).toHaveLength(2);
    expect(
      logProblems("this.log?.debug(\n  { event: 'imap.command', command },\n  'imap command',\n);"),
    ).toHaveLength(2);
    expect(logProblems("ctx.log?.info('imap login failed');")).toHaveLength(1);
    expect(logProblems("this.opts.logger.warn({ err }, 'oops');")).toHaveLength(1);
    expect(logProblems("logger[gone ? 'debug' : level]({ cid }, 'socket error');")).toHaveLength(1);
    expect(logProblems("o.logger?.error({ event: 'made.up', err });")).toHaveLength(2);
    // A raw event literal outside a logger call (a fields object logged later) fails too.
    expect(logProblems("const row = { event: 'job.run' };")).toHaveLength(1);
    expect(logProblems("logEvent(logger, 'not.an_event', {});")).toHaveLength(1);
    // Not log events: an undotted delivery-log row, a parameter type, the console, a child logger.
    expect(
      logProblems(
        "push({ event: 'deferred', at });\nonce(event: 'data', listener: () => void): void;\n" +
          "console.log('x');\nconst child = logger.child({ cid });",
      ),
    ).toEqual([]);
  });

  it('every source file logs through logEvent / logEventAt, with events of LOG_EVENTS only', () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(100);
    const problems = files.flatMap((file) =>
      logProblems(readFileSync(file, 'utf8')).map((p) => `${relative(ROOT, file)}:${p}`),
    );
    expect(problems).toEqual([]);
  });
});
