/**
 * What the two client-discovery documents (Thunderbird autoconfig, Outlook Autodiscover) share: the
 * server names and ports to announce, the hosted-domain check, and XML escaping.
 */
import { type Directory, normaliseDomain } from '@delegato/directory';
import { type MailPorts, type ServerNames, STANDARD_PORTS } from './env.js';

export interface DiscoveryOptions {
  directory: Directory;
  /** The names users put in their mail client; default `imap.<domain>`, `pop.<domain>`, `smtp.<domain>`. */
  hostnames?: ServerNames | ((domain: string) => ServerNames);
  /** The ports users connect to; default the standard ones. */
  ports?: Partial<MailPorts>;
}

export const xmlText = (s: string) =>
  s.replace(
    /[<>&'"]/g,
    (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[ch] ?? ch,
  );

export interface Discovery {
  ports: MailPorts;
  names(domain: string): ServerNames;
  /**
   * The normalised domain when it is hosted here, else null. Only the domain is checked (its postmaster
   * always exists), so an answer never reveals whether a mailbox exists.
   */
  hostedDomain(raw: string): Promise<string | null>;
}

export function discovery(opts: DiscoveryOptions): Discovery {
  return {
    ports: { ...STANDARD_PORTS, ...opts.ports },
    names(domain) {
      const h = opts.hostnames;
      if (typeof h === 'function') return h(domain);
      return h ?? { imap: `imap.${domain}`, pop: `pop.${domain}`, smtp: `smtp.${domain}` };
    },
    async hostedDomain(raw) {
      let domain: string;
      try {
        domain = normaliseDomain(raw);
      } catch {
        return null;
      }
      const found = await opts.directory.lookupRecipient(`postmaster@${domain}`);
      return found.kind === 'not-hosted' || found.kind === 'invalid' ? null : domain;
    },
  };
}
