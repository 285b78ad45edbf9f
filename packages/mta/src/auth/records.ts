/**
 * The DNS records a hosted domain publishes (what `delegato dns zone <domain>` prints and the admin UI
 * shows and checks): MX to the domain's region, the client host names (CNAMEs), SPF (RFC 7208), DKIM
 * (RFC 6376 §3.6.2), DMARC (RFC 7489 §6.1), MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3), the names
 * mail clients look up (autoconfig, Autodiscover) and the RFC 6186 SRV records. A pure function of its
 * input; `checkRecords` looks them up through the appliance's resolver and says which are missing.
 */
import type { AuthResolver } from './resolver.js';

export interface ZoneInput {
  domain: string;
  /** The MX host of the domain's region (its `smtp.hostname`). */
  mxHost: string;
  /** Hosts that send the domain's mail (every region's MX host): the SPF record names them. */
  senders: string[];
  dkim: Array<{ dnsName: string; txt: string }>;
  /** The `id` of the MTA-STS policy served at https://mta-sts.<domain>/.well-known/mta-sts.txt. */
  mtaStsId: string;
  /** The ports users connect to (RFC 6186 SRV records). */
  ports: {
    submission: number;
    submissions: number;
    imap: number;
    imaps: number;
    pop3: number;
    pop3s: number;
  };
  ttl?: number;
}

export interface ZoneRecord {
  /** Owner name, absolute, no trailing dot. */
  name: string;
  type: 'MX' | 'CNAME' | 'TXT' | 'SRV';
  /** The value as the check compares it: the target host, the TXT text joined, or `prio weight port target`. */
  value: string;
  /** What the record is for (a comment in the zone, a line in the admin UI). */
  purpose: string;
}

const lower = (s: string) => s.toLowerCase().replace(/\.$/, '');

/** Every record of a domain, in the order of the zone fragment. */
export function zoneRecords(input: ZoneInput): ZoneRecord[] {
  const d = lower(input.domain);
  const mx = lower(input.mxHost);
  const out: ZoneRecord[] = [
    { name: d, type: 'MX', value: `10 ${mx}`, purpose: "mail for the domain goes to its region's MX" },
  ];
  for (const label of ['smtp', 'imap', 'pop', 'mail', 'autoconfig', 'autodiscover', 'mta-sts']) {
    const name = `${label}.${d}`;
    // A host name that is the MX itself (mail.<domain> as MX) needs no alias of itself.
    if (name === mx) continue;
    const purpose =
      label === 'mta-sts'
        ? 'MTA-STS policy host (RFC 8461 §3.3), served by the web listener'
        : label === 'autoconfig' || label === 'autodiscover'
          ? 'mail client autoconfiguration (Thunderbird, Outlook)'
          : 'the host name users configure';
    out.push({ name, type: 'CNAME', value: mx, purpose });
  }
  const senders = [...new Set(input.senders.map(lower))].map((h) => `a:${h}`).join(' ');
  out.push({
    name: d,
    type: 'TXT',
    value: `v=spf1 mx ${senders} -all`,
    purpose: 'SPF (RFC 7208): who sends for the domain',
  });
  for (const k of input.dkim)
    out.push({ name: lower(k.dnsName), type: 'TXT', value: k.txt, purpose: 'DKIM public key (RFC 6376)' });
  out.push({
    name: `_dmarc.${d}`,
    type: 'TXT',
    value: `v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:postmaster@${d}`,
    purpose: 'DMARC policy (RFC 7489)',
  });
  out.push({
    name: `_mta-sts.${d}`,
    type: 'TXT',
    value: `v=STSv1; id=${input.mtaStsId}`,
    purpose: 'MTA-STS (RFC 8461)',
  });
  out.push({
    name: `_smtp._tls.${d}`,
    type: 'TXT',
    value: `v=TLSRPTv1; rua=mailto:postmaster@${d}`,
    purpose: 'TLS reporting (RFC 8460): reports go to postmaster@',
  });
  const srv: Array<[string, number]> = [
    ['_submission._tcp', input.ports.submission],
    ['_submissions._tcp', input.ports.submissions],
    ['_imap._tcp', input.ports.imap],
    ['_imaps._tcp', input.ports.imaps],
    ['_pop3._tcp', input.ports.pop3],
    ['_pop3s._tcp', input.ports.pop3s],
  ];
  for (const [service, port] of srv)
    out.push({
      name: `${service}.${d}`,
      type: 'SRV',
      value: `0 1 ${port} ${mx}`,
      purpose: 'mail client service location (RFC 6186, RFC 8314)',
    });
  return out;
}

/** A TXT value as zone-file character-strings of at most 255 bytes (RFC 1035 §3.3.14). */
function txtStrings(text: string): string {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += 255)
    parts.push(`"${text.slice(i, i + 255).replace(/(["\\])/g, '\\$1')}"`);
  return parts.join(' ');
}

/** The zone-file fragment (RFC 1035 §5 master file format, absolute names). */
export function zoneFragment(input: ZoneInput): string {
  const ttl = input.ttl ?? 3600;
  const records = zoneRecords(input);
  const width = Math.max(...records.map((r) => r.name.length + 1));
  const lines = [`; DNS records for ${lower(input.domain)} (Delegato). Add them to the domain's zone.`];
  let purpose = '';
  for (const r of records) {
    if (r.purpose !== purpose) {
      lines.push(`; ${r.purpose}`);
      purpose = r.purpose;
    }
    // Host names absolute (a trailing dot), TXT values as character-strings.
    const value = r.type === 'TXT' ? txtStrings(r.value) : `${r.value}.`;
    lines.push(`${`${r.name}.`.padEnd(width)} ${ttl} IN ${r.type.padEnd(5)} ${value}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface RecordCheck extends ZoneRecord {
  ok: boolean;
  /** What DNS answered (joined), or the lookup error. */
  found: string;
}

/** Looks every record up; `ok` when DNS has it as expected (SPF, DMARC: a record of that kind exists). */
export async function checkRecords(resolve: AuthResolver, records: ZoneRecord[]): Promise<RecordCheck[]> {
  return Promise.all(
    records.map(async (r): Promise<RecordCheck> => {
      try {
        const answer = await resolve(r.name, r.type);
        let found: string[];
        if (r.type === 'MX')
          found = (answer as Array<{ priority: number; exchange: string }>).map(
            (m) => `${m.priority} ${lower(m.exchange)}`,
          );
        else if (r.type === 'SRV')
          found = (answer as Array<{ priority: number; weight: number; port: number; name: string }>).map(
            (s) => `${s.priority} ${s.weight} ${s.port} ${lower(s.name)}`,
          );
        else if (r.type === 'TXT') found = (answer as string[][]).map((parts) => parts.join(''));
        else found = (answer as string[]).map(lower);
        const ok =
          r.type === 'MX'
            ? found.some((f) => f.split(' ')[1] === r.value.split(' ')[1])
            : r.type === 'TXT' && r.value.startsWith('v=spf1')
              ? found.some((f) => /^v=spf1\b/i.test(f))
              : r.type === 'TXT' && r.value.startsWith('v=DMARC1')
                ? found.some((f) => /^v=DMARC1\b/i.test(f))
                : r.type === 'TXT' && r.value.startsWith('v=DKIM1')
                  ? found.some((f) => f.replace(/\s+/g, '') === r.value.replace(/\s+/g, ''))
                  : found.includes(r.value);
        return { ...r, ok, found: found.join(' | ') || '(none)' };
      } catch (err) {
        const code = (err as { code?: string }).code ?? (err as Error).message;
        return {
          ...r,
          ok: false,
          found: code === 'ENOTFOUND' || code === 'ENODATA' ? '(none)' : `lookup failed: ${code}`,
        };
      }
    }),
  );
}
