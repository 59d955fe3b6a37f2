import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
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

  it('is exactly OpenSSL sm4-cbc (PKCS#7) under the IV it stores, both ways', () => {
    // GB/T 32907-2016 appendix A: one block, key = plaintext.
    const vector = Buffer.from('0123456789abcdeffedcba9876543210', 'hex');
    const ecb = createCipheriv('sm4-ecb', vector, null).setAutoPadding(false);
    expect(ecb.update(vector).toString('hex')).toBe('681edf34d206965e86b3e94f536e4246');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (text) => {
        const raw = Buffer.from(encryptField(key, text).split('.')[2]!, 'base64url');
        const iv = raw.subarray(0, 16);
        const ciphertext = raw.subarray(16, raw.length - 32);
        const openssl = createDecipheriv('sm4-cbc', key.encKey, iv);
        expect(Buffer.concat([openssl.update(ciphertext), openssl.final()]).toString('utf8')).toBe(text);
        const again = createCipheriv('sm4-cbc', key.encKey, iv);
        expect(Buffer.concat([again.update(text, 'utf8'), again.final()]).equals(ciphertext)).toBe(true);
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
