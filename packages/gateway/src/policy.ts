/**
 * Who the gateway applies to, and how (issue 15): a recipient is registered by mailbox, by domain, or for
 * mail from given senders; each hosted domain has its rules (threshold, media types, expiry, login).
 */

/** The rules of one recipient domain. */
export interface GatewayRules {
  /** Parts whose decoded size is over this many bytes are replaced. */
  thresholdBytes: number;
  /** Media types replaced (`application/pdf`, `image/*`); empty: every type. */
  mediaTypes: string[];
  /** Days a download link works. */
  expiryDays: number;
  /** Downloads need the recipient's mailbox login (HTTP Basic, over HTTPS). */
  loginRequired: boolean;
}

export const DEFAULT_RULES: GatewayRules = {
  thresholdBytes: 2 * 1024 * 1024,
  mediaTypes: [],
  expiryDays: 30,
  loginRequired: false,
};

/** What applies to one recipient mailbox at delivery. */
export interface RecipientPolicy {
  /** The recipient's domain (disk usage and links are counted per domain). */
  domain: string;
  /** Registered by mailbox or by domain: every message. Otherwise only mail from `senders`. */
  always: boolean;
  /** Sender addresses (`a@b.example`) and domains (`b.example`) whose mail is transformed. */
  senders: string[];
  rules: GatewayRules;
}

/** Where the policy of delivery recipients comes from (the directory, wired by the appliance). */
export interface PolicySource {
  /** The policy of each mailbox id; absent or null: the gateway does not apply. */
  policiesFor(mailboxIds: readonly string[]): Promise<Map<string, RecipientPolicy | null>>;
}

/** `type` (lower case, no parameters) is among `list`; `image/*` matches every image type. */
export function mediaTypeMatches(list: readonly string[], type: string): boolean {
  if (list.length === 0) return true;
  const t = type.toLowerCase();
  return list.some((entry) => {
    const e = entry.toLowerCase();
    return e.endsWith('/*') ? t.startsWith(e.slice(0, -1)) : e === t;
  });
}

/** One of `addresses` is a registered sender (exact address, or an address at a registered domain). */
export function senderMatches(senders: readonly string[], addresses: readonly string[]): boolean {
  const wanted = senders.map((s) => s.toLowerCase().replace(/^@/, ''));
  return addresses.some((raw) => {
    const a = raw.toLowerCase();
    const domain = a.slice(a.lastIndexOf('@') + 1);
    return wanted.includes(a) || wanted.includes(domain);
  });
}

/** The key under which recipients share one transformed copy. */
export function policyKey(p: RecipientPolicy): string {
  return JSON.stringify([p.domain, p.always, [...p.senders].sort(), p.rules]);
}
