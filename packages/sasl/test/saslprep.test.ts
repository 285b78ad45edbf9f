import { describe, expect, it } from 'vitest';
import { saslprep } from '../src/saslprep.js';

describe('saslprep (RFC 4013 §3 examples and more)', () => {
  it('maps and normalises', () => {
    expect(saslprep('I\u00ADX')).toBe('IX'); // soft hyphen mapped to nothing
    expect(saslprep('user')).toBe('user');
    expect(saslprep('USER')).toBe('USER'); // case preserved
    expect(saslprep('\u00AA')).toBe('a'); // NFKC
    expect(saslprep('\u2168')).toBe('IX'); // NFKC
    expect(saslprep('a\u00A0b')).toBe('a b'); // non-ASCII space to SPACE
    expect(saslprep('\uFF41lice')).toBe('alice'); // full-width
  });

  it('prohibits control, private-use, non-character, display and tagging characters', () => {
    expect(saslprep('\u0007')).toBeNull(); // RFC 4013 example: prohibited
    expect(saslprep('a\u0000b')).toBeNull();
    expect(saslprep('a\u007Fb')).toBeNull();
    expect(saslprep('a\u0085b')).toBeNull();
    expect(saslprep('a\uE000b')).toBeNull();
    expect(saslprep('a\uFDD0b')).toBeNull();
    expect(saslprep('a\u{1FFFF}b')).toBeNull();
    expect(saslprep('a\u202Eb')).toBeNull();
    expect(saslprep('a\u{E0041}b')).toBeNull();
    expect(saslprep('a\u2FF0b')).toBeNull();
  });

  it('refuses what maps to nothing at all', () => {
    expect(saslprep('')).toBeNull();
    expect(saslprep('\u00AD')).toBeNull();
  });
});
