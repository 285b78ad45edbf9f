/**
 * A tiny authoritative DNS server on loopback UDP for tests: answers A, AAAA and MX queries from a data
 * table (RFC 1035 §4 wire format, written by hand), NXDOMAIN for names not in the table, NODATA for a known
 * name without records of the asked type. Entries can also answer SERVFAIL or REFUSED, or not at all
 * (a timeout), for every type or for some types only (`rcodeFor`: a server that answers A but refuses
 * AAAA, as dnsmasq does for names it is not authoritative for). The table is read at every query, so a test may change it while the server runs.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

export type DnsErrorCode = 'SERVFAIL' | 'REFUSED' | 'NXDOMAIN';

export interface DnsEntry {
  A?: string[];
  AAAA?: string[];
  /** Use exchange `.` for a null MX (RFC 7505). */
  MX?: Array<{ priority: number; exchange: string }>;
  /** Answer with this error instead of records. */
  rcode?: DnsErrorCode;
  /** Answer questions of these types with this error (the others as usual). */
  rcodeFor?: Partial<Record<'A' | 'AAAA' | 'MX', DnsErrorCode>>;
  /** Never answer (the client times out). */
  drop?: boolean;
}

/** Names (case-insensitive, no trailing dot needed) → their records. */
export type DnsRecords = Record<string, DnsEntry>;

export interface RunningDnsServer {
  port: number;
  address: string;
  /** `address:port`, for `createResolver([...])` / DELEGATO_DNS_SERVERS. */
  server: string;
  /** Every question received: `name TYPE`. */
  queries: string[];
  close(): Promise<void>;
}

const TYPES: Record<number, 'A' | 'AAAA' | 'MX'> = { 1: 'A', 28: 'AAAA', 15: 'MX' };
const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

function encodeName(name: string): Buffer {
  const trimmed = name.replace(/\.$/, '');
  if (trimmed === '') return Buffer.from([0]);
  const parts = trimmed.split('.').map((label) => {
    const b = Buffer.from(label, 'ascii');
    if (b.length === 0 || b.length > 63) throw new Error(`bad DNS label in ${name}`);
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

function ipv6Bytes(address: string): Buffer {
  // No embedded IPv4 (`::ffff:192.0.2.1`): tests write plain IPv6.
  const [head, tail] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return out;
}

/** Reads the question: its name (lowercase), type, and where it ends. Null when malformed. */
function parseQuestion(msg: Buffer): { name: string; type: number; end: number } | null {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return null;
  const labels: string[] = [];
  let i = 12;
  for (;;) {
    const len = msg[i];
    if (len === undefined || len > 63) return null;
    i++;
    if (len === 0) break;
    labels.push(msg.subarray(i, i + len).toString('ascii'));
    i += len;
  }
  if (i + 4 > msg.length) return null;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(i), end: i + 4 };
}

function answer(type: number, ttl: number, rdata: Buffer): Buffer {
  const rr = Buffer.alloc(12);
  rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question's name
  rr.writeUInt16BE(type, 2);
  rr.writeUInt16BE(1, 4); // class IN
  rr.writeUInt32BE(ttl, 6);
  rr.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([rr, rdata]);
}

function respond(query: Buffer, records: DnsRecords, ttl: number, log: string[]): Buffer | null {
  const q = parseQuestion(query);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.length >= 2 ? query.readUInt16BE(0) : 0, 0);
  const flagsIn = query.length >= 4 ? query.readUInt16BE(2) : 0;
  // QR, the query's opcode and RD, AA, RA.
  const flags = 0x8000 | (flagsIn & 0x7800) | 0x0400 | (flagsIn & 0x0100) | 0x0080;
  if (!q) {
    header.writeUInt16BE(flags | RCODES.FORMERR, 2);
    return header;
  }
  const typeName = TYPES[q.type];
  log.push(`${q.name} ${typeName ?? q.type}`);
  const entry = Object.entries(records).find(([k]) => k.toLowerCase().replace(/\.$/, '') === q.name)?.[1];
  const question = query.subarray(12, q.end);
  header.writeUInt16BE(1, 4);
  if (entry?.drop) return null;
  let rcode: number = RCODES.NOERROR;
  const answers: Buffer[] = [];
  if (!entry) rcode = RCODES.NXDOMAIN;
  else if (entry.rcode) rcode = RCODES[entry.rcode];
  else if (typeName && entry.rcodeFor?.[typeName]) rcode = RCODES[entry.rcodeFor[typeName]];
  else if (typeName === 'A')
    for (const a of entry.A ?? []) {
      if (!isIPv4(a)) throw new Error(`bad A record ${a}`);
      answers.push(answer(1, ttl, Buffer.from(a.split('.').map(Number))));
    }
  else if (typeName === 'AAAA')
    for (const a of entry.AAAA ?? []) {
      if (!isIPv6(a)) throw new Error(`bad AAAA record ${a}`);
      answers.push(answer(28, ttl, ipv6Bytes(a)));
    }
  else if (typeName === 'MX')
    for (const mx of entry.MX ?? []) {
      const pref = Buffer.alloc(2);
      pref.writeUInt16BE(mx.priority, 0);
      answers.push(answer(15, ttl, Buffer.concat([pref, encodeName(mx.exchange)])));
    }
  header.writeUInt16BE(flags | rcode, 2);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, question, ...answers]);
}

/** Starts the server on 127.0.0.1 (port 0 unless given). `ttl` defaults to 0: nothing is cached. */
export function startDnsServer(
  records: DnsRecords,
  opts: { host?: string; port?: number; ttl?: number } = {},
): Promise<RunningDnsServer> {
  const host = opts.host ?? '127.0.0.1';
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  const queries: string[] = [];
  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    let out: Buffer | null;
    try {
      out = respond(msg, records, opts.ttl ?? 0, queries);
    } catch {
      out = null;
    }
    if (out) socket.send(out, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port ?? 0, host, () => {
      socket.off('error', reject);
      const { port, address } = socket.address();
      resolve({
        port,
        address,
        server: isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`,
        queries,
        close: () => new Promise<void>((done) => socket.close(() => done())),
      });
    });
  });
}
