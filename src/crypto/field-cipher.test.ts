import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
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

  it('MACs exactly `sm4.<v>.` ‖ iv ‖ ct with HMAC-SM3, as OpenSSL computes it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.nat(1000), (text, version) => {
        const k = { ...key, version };
        const stored = encryptField(k, text);
        expect(stored.startsWith(`sm4.${version}.`)).toBe(true);
        const raw = Buffer.from(stored.split('.')[2]!, 'base64url');
        const body = raw.subarray(0, raw.length - 32);
        const mac = createHmac('sm3', key.macKey).update(`sm4.${version}.`).update(body).digest();
        expect(raw.subarray(raw.length - 32).equals(mac)).toBe(true);
      }),
    );
  });

  it('blind indexes are HMAC-SM3(key, field ‖ 0x00 ‖ value), as OpenSSL computes them', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.string({ maxLength: 20 }),
        fc.string({ unit: 'grapheme', maxLength: 120 }),
        (k, field, value) => {
          const indexKey = Buffer.from(k);
          const expected = createHmac('sm3', indexKey)
            .update(field)
            .update('\u0000')
            .update(value)
            .digest('base64url');
          expect(blindIndex(indexKey, field, value)).toBe(expected);
        },
      ),
    );
  });

  it('reads values written by the OpenSSL-based implementation (known answers: stored data stays readable)', () => {
    // Written by the previous field-cipher.ts (OpenSSL SM4-ECB contexts + createHmac), fixed keys.
    const old = {
      version: 3,
      encKey: Buffer.from('00112233445566778899aabbccddeeff', 'hex'),
      macKey: Buffer.from('0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex'),
    };
    const oldKeys = (v: number) => (v === 3 ? old : undefined);
    expect(
      decryptField(
        oldKeys,
        'sm4.3.bMrVbqjQ8pkQMVqyOCjZ_hQZfEsVuR7Sqt7469UawcxPCeysDm3roLdhHNOY10On8-2NkBU6QxM_nDzFxpQVWXqo7tE7-TK6FlwKmpdmimo',
      ),
    ).toBe('11010519491231002X');
    expect(
      decryptField(
        oldKeys,
        'sm4.3.sauO8Tb6GKVqeJX5SbmHyj4bI6arOSQAMko4GR4S9-5PWhESZYxtkpHXx6j7C17dTfxYM1OK4CofiQnYKJK3MjCKJpZvaBGgBCZ1ikqBgVKXkZcDoLlJKfH20fYFY_VW1oyiyQ1owM0VKbccq61WhyV3ts1-uOSdtoyyC7ZaabA',
      ),
    ).toBe('北京市朝阳区望京街道阜通东大街6号院3号楼2单元501室');
    expect(
      decryptField(
        oldKeys,
        'sm4.3.XMSq7a8TFtjb-9Vv1QOqKXg3psaiALF8X-lPouOR7u9EdsK9o-jxel_z1QmvN1VtDIKMUTmvooNIwuUXMwFmXw',
      ),
    ).toBe('');
    expect(blindIndex(Buffer.from('a5'.repeat(32), 'hex'), 'citizenId', '11010519491231002X')).toBe(
      'svgrrCzwtXe4i4O06_gx01nufQw5LAnwrjD8Zh01J_I',
    );
    const kek = Buffer.from('5a'.repeat(32), 'hex');
    const wrapped =
      'sm4.0.66zfZAflh5aDy1FYtQhZwdW_ebK67Nlr9utrQS-lIF-_DfYNIRVn6JlpgC11oLAszQXKdMH3z4PAtg_LZ4FRBKGHzeXEQurvDFUHpyTep2g';
    expect(unwrapKey(kek, wrapped, 'dek-3').equals(old.encKey)).toBe(true);
  });
});
