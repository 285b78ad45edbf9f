/**
 * One path segment: percent-encoded, except `@`, which RFC 3986 allows in a path (`pchar`) and which
 * makes mailbox URLs readable: /d/iat.example/mailboxes/rose.pinkcheeks@iat.example.
 */
export const seg = (s: string): string => encodeURIComponent(s).replace(/%40/g, '@');
