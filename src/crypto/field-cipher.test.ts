import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  blindIndex,
  CryptoError,
  decryptField,
  encryptField,
  keyVersionOf,
  newDataKey,
  unwrapKey,
  wrapKey,
} from './field-cipher.ts';

const key = newDataKey(1);
const keys = (v: number) => (v === 1 ? key : undefined);

describe('SM4 field encryption', () => {
  it('round-trips any text and never repeats a ciphertext (fresh IV)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (text) => {
        const a = encryptField(key, text);
        const b = encryptField(key, text);
        expect(a).not.toBe(b);
        expect(decryptField(keys, a)).toBe(text);
        expect(keyVersionOf(a)).toBe(1);
        if (text.length >= 4) expect(a).not.toContain(text);
      }),
    );
  });

  it('fails loudly with a wrong key or a tampered value instead of returning garbage', () => {
    const stored = encryptField(key, '11010519491231002X');
    const other = newDataKey(1);
    expect(() => decryptField(() => other, stored)).toThrow(CryptoError);
    const raw = stored.split('.');
    const body = Buffer.from(raw[2]!, 'base64url');
    body[20] = body[20]! ^ 1;
    expect(() => decryptField(keys, `${raw[0]}.${raw[1]}.${body.toString('base64url')}`)).toThrow(
      /authentication failed/,
    );
    expect(() => decryptField(keys, '11010519491231002X')).toThrow(/not an SM4/);
    expect(() => decryptField(keys, stored.replace('sm4.1.', 'sm4.2.'))).toThrow(/version 2/);
  });

  it('gives equal blind indexes for equal values only under the same key and field', () => {
    const k1 = randomBytes(32);
    expect(blindIndex(k1, 'id_number', 'A')).toBe(blindIndex(k1, 'id_number', 'A'));
    expect(blindIndex(k1, 'id_number', 'A')).not.toBe(blindIndex(k1, 'phone', 'A'));
    expect(blindIndex(k1, 'id_number', 'A')).not.toBe(blindIndex(randomBytes(32), 'id_number', 'A'));
  });

  it('wraps data keys under the KEK and refuses a wrong KEK', () => {
    const kek = randomBytes(32);
    const wrapped = wrapKey(kek, key.encKey, 'dek-1');
    expect(unwrapKey(kek, wrapped, 'dek-1').equals(key.encKey)).toBe(true);
    expect(() => unwrapKey(randomBytes(32), wrapped, 'dek-1')).toThrow(/GOVBASE_KEK/);
  });
});
