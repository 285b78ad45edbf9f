/** Test support: a federation (CA + region certificates) in a temp dir, and a logger whose lines we read. */
import { PassThrough } from 'node:stream';
import { createLogger, type Logger } from '@delegato/observability';
import {
  createFederationCa,
  type FederationCa,
  issueRegionCertificate,
  type RegionTls,
} from '../src/index.js';

export interface LogLine {
  level: number;
  event?: string;
  [key: string]: unknown;
}

/** A debug-level logger and the JSON lines it wrote so far. */
export function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const stream = new PassThrough();
  const lines: LogLine[] = [];
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    rest += chunk.toString('utf8');
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) if (part.trim()) lines.push(JSON.parse(part) as LogLine);
  });
  return { logger: createLogger({ destination: stream, level: 'debug' }), lines };
}

/** A federation CA in `<dataDir>/federation/` and a function issuing region TLS material from it. */
export async function testFederation(
  dataDir: string,
  name = 'Test federation CA',
): Promise<{ ca: FederationCa; region: (id: string, hosts?: string[]) => Promise<RegionTls> }> {
  const ca = await createFederationCa(dataDir, { name });
  return {
    ca,
    region: async (id, hosts = []) => ({
      ...(await issueRegionCertificate(ca, { region: id, hosts })),
      caCertPem: ca.certPem,
    }),
  };
}

/** True while a process with this PID exists and is not a zombie. */
export async function processExists(pid: number): Promise<boolean> {
  const { readFile } = await import('node:fs/promises');
  try {
    return !/\) Z /.test(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
