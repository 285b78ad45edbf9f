/** Syntax of the addresses Delegato hosts: a strict subset of RFC 5321. */
import { toASCII } from 'tr46';
import { AddressingError } from './names.js';

/** RFC 5321 §4.5.3.1.1: at most 64 octets in a local part. */
const MAX_LOCAL_PART = 64;
/** RFC 1035 §2.3.4: at most 63 octets a label and 255 a name on the wire, i.e. 253 in text form. */
const MAX_LABEL = 63;
const MAX_DOMAIN = 253;
/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets. */
const MAX_ADDRESS = 254;

/**
 * RFC 5321 §4.1.2 `Atom` (atext of RFC 5322 §3.2.3), lower-case, without '%' and '!': the percent
 * hack (`user%host@relay`) and bang paths (`host!user`) are old source-routing tricks used to turn a
 * server into an open relay, so Delegato never hosts local parts containing them.
 */
const ATOM = "[a-z0-9#$&'*+/=?^_`{|}~-]+";
/** RFC 5321 §4.1.2 `Dot-string`: atoms separated by single dots. Quoted strings are not accepted. */
const DOT_STRING = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`);
/** RFC 1035 §2.3.1 / RFC 5321 §4.1.2 `sub-domain`: letters, digits, inner hyphens, 1-63 chars. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/**
 * Normalises a mail domain: trims, lower-cases and converts an IDN to its A-label (punycode) form,
 * e.g. `Bücher.Example` -> `xn--bcher-kva.example`.
 *
 * Rejected: a trailing dot (`example.org.`: hosted domains are always written without it), a single
 * label, labels that are empty, longer than 63 octets or start/end with '-', names longer than 253
 * octets, ASCII characters other than letters, digits, '-' and '.', and an all-numeric top-level
 * label (RFC 3696 §2), which keeps IPv4 addresses such as `192.0.2.1` out.
 *
 * @throws AddressingError('invalid-domain')
 */
export function normaliseDomain(input: string): string {
  const trimmed = input.trim();
  const fail = (reason: string): never => {
    throw new AddressingError('invalid-domain', `Invalid domain ${JSON.stringify(input)}: ${reason}.`);
  };
  if (trimmed === '') fail('it is empty');
  if (trimmed.endsWith('.')) fail('remove the trailing dot');
  // Only let through ASCII that is valid in a hostname (non-ASCII is for IDNs).
  if (/[^a-zA-Z0-9.-]/.test(trimmed.replace(/[^\p{ASCII}]/gu, ''))) {
    fail('only letters, digits, hyphens and dots are allowed');
  }
  // UTS #46 processing (tr46) with the WHATWG URL standard's "domain to ASCII" options. tr46 also
  // decodes and checks every `xn--` label, which Node's own url.domainToASCII stopped doing in Node 22+
  // (it returns "xn--zz" unchanged).
  const ascii =
    toASCII(trimmed.toLowerCase(), {
      checkBidi: true,
      checkHyphens: false,
      checkJoiners: true,
      useSTD3ASCIIRules: false,
      transitionalProcessing: false,
      verifyDNSLength: false,
    }) ?? '';
  if (ascii === '') fail('it is not a valid internationalised domain name');
  // IDNA maps some non-ASCII full stops (e.g. U+3002 '。') to '.', so check the dots again.
  if (ascii.endsWith('.')) fail('remove the trailing dot');
  if (ascii.length > MAX_DOMAIN) fail(`it is longer than ${MAX_DOMAIN} characters`);
  const labels = ascii.split('.');
  if (labels.length < 2) fail('a mail domain needs at least two labels, e.g. example.org');
  for (const label of labels) {
    if (label === '') fail('it has an empty label (a leading or double dot)');
    if (label.length > MAX_LABEL) fail(`a label is longer than ${MAX_LABEL} characters`);
    if (!LABEL.test(label)) fail(`the label ${JSON.stringify(label)} is not a valid hostname label`);
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) fail('the top-level label is all digits');
  return ascii;
}

/**
 * Validates and lower-cases a local part. RFC 5321 §2.4 lets a server treat local parts as
 * case-sensitive; Delegato does not, so they are stored and compared in lower case. Only an ASCII
 * dot-atom is accepted (RFC 5321 §4.1.2), without '%' or '!', at most 64 octets (§4.5.3.1.1).
 *
 * @throws AddressingError('invalid-local-part')
 */
export function validateLocalPart(local: string): string {
  const lower = local.toLowerCase();
  const fail = (reason: string): never => {
    throw new AddressingError(
      'invalid-local-part',
      `Invalid local part ${JSON.stringify(local)}: ${reason}.`,
    );
  };
  if (lower === '') fail('it is empty');
  if (lower.length > MAX_LOCAL_PART) fail(`it is longer than ${MAX_LOCAL_PART} characters`);
  if (!DOT_STRING.test(lower)) {
    fail(
      "use letters, digits and #$&'*+/=?^_`{|}~- in atoms separated by single dots " +
        '(no quotes, @, %, !, white space, or leading, trailing or double dots)',
    );
  }
  return lower;
}

export interface ParsedAddress {
  local: string;
  domain: string;
  /** `local@domain`, lower-case, domain in A-label form. */
  address: string;
}

/**
 * Parses a bare address `local@domain` as typed by an administrator. Nothing is trimmed: white
 * space, `<...>` brackets, source routes (`@a:b@c`, RFC 5321 §4.1.2 / Appendix C) and address
 * literals (`user@[192.0.2.1]`, §4.1.3) are rejected, as is anything rejected by validateLocalPart
 * or normaliseDomain (e.g. a trailing dot).
 *
 * @throws AddressingError('invalid-address'), with the underlying error as `cause`.
 */
export function parseAddress(input: string): ParsedAddress {
  const fail = (reason: string, cause?: unknown): never => {
    throw new AddressingError('invalid-address', `Invalid address ${JSON.stringify(input)}: ${reason}`, {
      cause,
    });
  };
  if (/[\s<>[\]:]/.test(input)) fail('write a bare address local@domain (no spaces, <>, [] or :).');
  const parts = input.split('@');
  if (parts.length !== 2) fail('it must contain exactly one @.');
  const [local = '', domain = ''] = parts;
  try {
    const normalised = { local: validateLocalPart(local), domain: normaliseDomain(domain) };
    const address = `${normalised.local}@${normalised.domain}`;
    if (address.length > MAX_ADDRESS) fail(`it is longer than ${MAX_ADDRESS} characters.`);
    return { ...normalised, address };
  } catch (error) {
    if (error instanceof AddressingError && error.code !== 'invalid-address') fail(error.message, error);
    throw error;
  }
}
