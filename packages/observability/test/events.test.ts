import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, LOG_EVENTS, type LogEvent, logEvent, logEventAt } from '../src/index.js';

const docPath = new URL('../../../docs/log-events.md', import.meta.url);

/** Rows of the events table: `| \`name\` | description |`. */
function documentedEvents(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readFileSync(docPath, 'utf8').split('\n')) {
    const match = /^\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|\s*$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) rows.set(match[1], match[2]);
  }
  return rows;
}

describe('log events', () => {
  it('docs/log-events.md lists exactly the events in LOG_EVENTS, with the same descriptions', () => {
    const documented = documentedEvents();
    const declared = Object.keys(LOG_EVENTS);
    expect(declared.length).toBeGreaterThanOrEqual(17);
    for (const name of declared) {
      expect(documented.has(name), `${name} is missing from docs/log-events.md`).toBe(true);
      expect(documented.get(name)).toBe(LOG_EVENTS[name as LogEvent]);
    }
    for (const name of documented.keys()) {
      expect(declared, `${name} is documented but not in LOG_EVENTS`).toContain(name);
    }
  });

  it('logEvent writes an info line with the event name and fields', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
    const logger = createLogger({ destination: stream, level: 'info' });

    logEvent(logger, 'listener.open', { port: 2525, proto: 'smtp' }, 'listening');
    logEvent(logger, 'config.loaded');
    // A field named `event` cannot replace the event name.
    logEvent(logger, 'job.run', { event: 'forged', job: 'expire' });
    await new Promise((resolve) => setImmediate(resolve));

    const lines = chunks
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      level: 30,
      event: 'listener.open',
      port: 2525,
      proto: 'smtp',
      msg: 'listening',
    });
    expect(lines[1]).toMatchObject({ level: 30, event: 'config.loaded' });
    expect(lines[1]).not.toHaveProperty('msg');
    expect(lines[2]).toMatchObject({ event: 'job.run', job: 'expire' });
  });

  it('logEventAt needs only the method of its level; an absent logger logs nothing', () => {
    const lines: [object, string | undefined][] = [];
    const warnOnly = { warn: (obj: object, msg?: string) => lines.push([obj, msg]) };
    logEventAt(warnOnly, 'warn', 'admin.lockout', { target: 'rose' }, 'locked');
    logEventAt(undefined, 'error', 'admin.error', { err: new Error('x') });
    logEvent(undefined, 'admin.signin');
    expect(lines).toEqual([[{ event: 'admin.lockout', target: 'rose' }, 'locked']]);
  });
});
