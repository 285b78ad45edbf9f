/**
 * BODY and BODYSTRUCTURE (RFC 9051 §7.5.2 `body`): for a multipart, the children then the subtype (and,
 * in BODYSTRUCTURE, parameters, disposition, language, location); for other parts type, subtype,
 * parameters, id, description, encoding, size, then lines for text/*, envelope + body + lines for
 * message/rfc822 (RFC 9051 §7.5.2 body-type-msg), then (BODYSTRUCTURE) md5, disposition, language,
 * location.
 */
import { nstring, paren, str, type Wire } from '../wire.js';
import { envelopeOf, envelopeWire } from './envelope.js';
import { findField, unfoldedValue } from './header.js';
import type { MimeParam } from './params.js';
import type { MimePart } from './parser.js';

function params(list: readonly MimeParam[]): Wire {
  if (list.length === 0) return 'NIL';
  return paren(
    list.flatMap((p) => [str(Buffer.from(p.wireName, 'latin1')), str(Buffer.from(p.wireValue, 'latin1'))]),
  );
}

function headerValue(raw: Buffer, part: MimePart, key: string): Buffer | null {
  const f = findField(part.fields, key);
  return f ? unfoldedValue(raw, f) : null;
}

function disposition(part: MimePart): Wire {
  if (!part.disposition) return 'NIL';
  return paren([str(Buffer.from(part.disposition.value, 'latin1')), params(part.disposition.params)]);
}

function language(raw: Buffer, part: MimePart): Wire {
  const v = headerValue(raw, part, 'content-language');
  if (!v) return 'NIL';
  const tags = v
    .toString('latin1')
    .replace(/\([^)]*\)/g, '')
    .split(/[\s,]+/)
    .filter((t) => t !== '');
  if (tags.length === 0) return 'NIL';
  if (tags.length === 1) return str(Buffer.from(tags[0] as string, 'latin1'));
  return paren(tags.map((t) => str(Buffer.from(t, 'latin1'))));
}

/** The media type as written for output; the defaults when the part had none. */
function typeWire(part: MimePart): [Wire, Wire] {
  return [str(part.type), str(part.subtype)];
}

/** BODY (extensible = false) or BODYSTRUCTURE (extensible = true) of a part. */
export function bodyStructure(raw: Buffer, part: MimePart, extensible: boolean): Wire {
  if (part.type === 'multipart' && part.children.length > 0) {
    const items: Wire[] = [
      part.children.map((c) => bodyStructure(raw, c, extensible)),
      ' ',
      str(part.subtype),
    ];
    if (extensible) {
      items.push(
        ' ',
        params(part.params),
        ' ',
        disposition(part),
        ' ',
        language(raw, part),
        ' ',
        nstring(headerValue(raw, part, 'content-location')),
      );
    }
    return ['(', items, ')'];
  }
  const [type, subtype] = typeWire(part);
  const fields: Wire[] = [
    type,
    subtype,
    params(part.params),
    nstring(headerValue(raw, part, 'content-id')),
    nstring(headerValue(raw, part, 'content-description')),
    str(Buffer.from(part.encoding ?? '7BIT', 'latin1')),
    String(part.end - part.bodyStart),
  ];
  if (part.type === 'message' && part.message) {
    fields.push(
      envelopeWire(envelopeOf(raw, part.message)),
      bodyStructure(raw, part.message, extensible),
      String(part.lines),
    );
  } else if (part.type === 'text') {
    fields.push(String(part.lines));
  }
  if (extensible) {
    fields.push(
      nstring(headerValue(raw, part, 'content-md5')),
      disposition(part),
      language(raw, part),
      nstring(headerValue(raw, part, 'content-location')),
    );
  }
  return paren(fields);
}
