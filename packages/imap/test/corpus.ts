/** Tricky messages for the MIME tests (CRLF line ends unless said otherwise). */

const crlf = (lines: string[]) => `${lines.join('\r\n')}`;

/** multipart/mixed > (multipart/alternative > text/plain + text/html) + application/pdf (RFC 2231 name). */
export const NESTED = crlf([
  'From: =?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <joerg@example.test>',
  'To: "Smith, John" <john@example.test>, jane@example.test (Jane Doe)',
  'Cc: Undisclosed recipients:;',
  'Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= aus =?UTF-8?Q?K=C3=B6ln?=',
  'Date: Tue, 1 Mar 2022 10:00:00 +0100',
  'Message-ID: <nested@example.test>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed;',
  ' boundary="outer"',
  '',
  'This is the preamble.',
  '--outer',
  'Content-Type: multipart/alternative; boundary=inner',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Gr=C3=BC=C3=9Fe, sch=C3=B6ne Welt=',
  '!',
  '--inner',
  'Content-Type: text/html; charset="utf-8"',
  'Content-Transfer-Encoding: base64',
  '',
  'PHA+R3LDvMOfZSwgc2Now7ZuZSBXZWx0ITwvcD4=',
  '--inner--',
  '',
  '--outer',
  'Content-Type: application/pdf;',
  " name*0*=utf-8''%E2%82%AC%20rate;",
  ' name*1=".pdf"',
  'Content-Disposition: attachment; filename="rate.pdf"',
  'Content-Transfer-Encoding: base64',
  'Content-ID: <pdf1@example.test>',
  'Content-Description: The rate',
  '',
  'JVBERi0xLjQK',
  '--outer--',
  'Epilogue.',
  '',
]);

/** A message/rfc822 attachment whose message is itself multipart. */
export const FORWARD = crlf([
  'From: bob@example.test',
  'To: alice@example.test',
  'Subject: Fwd: report',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain',
  '',
  'See attached.',
  '--b1',
  'Content-Type: message/rfc822',
  'Content-Disposition: inline',
  '',
  'From: Carol <carol@example.test>',
  'To: bob@example.test',
  'Subject: report',
  'Date: Wed, 2 Mar 2022 08:00:00 +0000',
  'Content-Type: multipart/alternative; boundary="b2"',
  '',
  '--b2',
  'Content-Type: text/plain; charset=us-ascii',
  '',
  'numbers',
  '--b2',
  'Content-Type: text/html',
  '',
  '<b>numbers</b>',
  '--b2--',
  '',
  '--b1--',
  '',
]);

/** No MIME headers at all, an 8-bit body, LF line ends. */
export const BARE_8BIT =
  'From: x@example.test\nSubject: caf\xc3\xa9\n\nK\xc3\xb6ln und M\xc3\xbcnchen\nzweite Zeile\n';

/** Groups, route addresses, a missing host, comments, quoted local parts. */
export const ADDRESSES = crlf([
  'From: "Joe Q. Public" <@relay.example,@other.example:joe@example.test>',
  'Sender: root',
  'Reply-To: Team: a@example.test, "B" <b@example.test>; , c@example.test',
  'To: (comment only) "quoted local"@example.test',
  'Subject:',
  '  folded',
  '  subject',
  '',
  'body',
  '',
]);

/** multipart/digest: parts default to message/rfc822; missing close delimiter. */
export const DIGEST = crlf([
  'Content-Type: multipart/digest; boundary=d',
  'Subject: digest',
  '',
  '--d',
  '',
  'Subject: one',
  '',
  'first',
  '--d',
  '',
  'Subject: two',
  '',
  'second',
  '',
]);
