import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  getHashes,
  randomBytes,
} from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacSm3, hmacSm3Stream, Sm3, Sm3HmacKey, sm3 } from './sm3.ts';
import { cbcDecrypt, cbcEncrypt, cbcPaddedLength, decryptBlock, encryptBlock, Sm4Key } from './sm4.ts';

/**
 * The TypeScript SM3/SM4 (./sm3.ts, ./sm4.ts) against the standards' examples and against OpenSSL, which
 * the stored format was first written with: any difference would make existing data unreadable.
 */

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));

describe('SM3 (GB/T 32905-2016)', () => {
  it('gives the standard example digests', () => {
    expect(hex(sm3(Buffer.from('abc')))).toBe(
      '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0',
    );
    expect(hex(sm3(Buffer.from('abcd'.repeat(16))))).toBe(
      'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732',
    );
  });

  it('equals OpenSSL sm3 for any message, however it is split into updates', () => {
    expect(getHashes()).toContain('sm3');
    fc.assert(
      fc.property(bytes(300), fc.nat(300), fc.nat(300), (data, a, b) => {
        const [i, j] = [Math.min(a, b) % (data.length + 1), Math.max(a, b) % (data.length + 1)].sort(
          (x, y) => x - y,
        );
        const h = new Sm3().update(data, 0, i!).update(data, i, j).update(data, j);
        const out = Buffer.alloc(32);
        h.digestInto(out);
        expect(out.toString('hex')).toBe(createHash('sm3').update(data).digest('hex'));
      }),
    );
  });
});

describe('HMAC-SM3 with prepared keys', () => {
  it('equals createHmac("sm3") for keys of 16, 32, 64 and 100 bytes and messages of 0..200 bytes', () => {
    for (const keyLength of [16, 32, 64, 100]) {
      const key = randomBytes(keyLength);
      const prepared = new Sm3HmacKey(key);
      for (let length = 0; length <= 200; length++) {
        const message = randomBytes(length);
        const expected = createHmac('sm3', key).update(message).digest('hex');
        expect(hex(hmacSm3(prepared, message)), `key ${keyLength} B, message ${length} B`).toBe(expected);
      }
    }
  });

  it('streams parts without concatenation and is reusable across keys', () => {
    fc.assert(
      fc.property(bytes(100), bytes(40), bytes(120), bytes(80), (key, a, b, c) => {
        const prepared = new Sm3HmacKey(key);
        const out = Buffer.alloc(40);
        hmacSm3Stream.begin(prepared).update(a).update(b).update(c).digestInto(out, 8);
        const expected = createHmac('sm3', key).update(a).update(b).update(c).digest();
        expect(out.subarray(8).equals(expected)).toBe(true);
        expect(hex(hmacSm3(key, Buffer.concat([a, b, c])))).toBe(expected.toString('hex'));
      }),
    );
  });

  it('differs when a single key or message bit differs (the comparison can fail)', () => {
    const key = randomBytes(32);
    const message = randomBytes(50);
    const mac = hex(hmacSm3(key, message));
    const flipped = Buffer.from(message);
    flipped[7] = flipped[7]! ^ 1;
    expect(hex(hmacSm3(key, flipped))).not.toBe(mac);
    const otherKey = Buffer.from(key);
    otherKey[0] = otherKey[0]! ^ 0x80;
    expect(hex(hmacSm3(otherKey, message))).not.toBe(mac);
  });
});

describe('SM4 (GB/T 32907-2016)', () => {
  const vector = Buffer.from('0123456789abcdeffedcba9876543210', 'hex');

  it('gives the standard example, once and after 1,000,000 encryptions, and decrypts back', () => {
    const key = new Sm4Key(vector);
    const block = Buffer.from(vector);
    encryptBlock(key, block, 0, block, 0);
    expect(block.toString('hex')).toBe('681edf34d206965e86b3e94f536e4246');
    decryptBlock(key, block, 0, block, 0);
    expect(block.equals(vector)).toBe(true);
    for (let i = 0; i < 1_000_000; i++) encryptBlock(key, block, 0, block, 0);
    expect(block.toString('hex')).toBe('595298c7c6fd271f0402f804c33d3f66');
  });

  it('equals OpenSSL sm4-ecb on single blocks at any offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), bytes(40), fc.nat(24), (k, data, at) => {
        const input = Buffer.concat([data, randomBytes(40)]);
        const offset = at % (input.length - 15);
        const key = new Sm4Key(k);
        const out = Buffer.alloc(20);
        encryptBlock(key, input, offset, out, 3);
        const openssl = createCipheriv('sm4-ecb', k, null).setAutoPadding(false);
        expect(out.subarray(3, 19).equals(openssl.update(input.subarray(offset, offset + 16)))).toBe(true);
        decryptBlock(key, out, 3, out, 3);
        expect(out.subarray(3, 19).equals(input.subarray(offset, offset + 16))).toBe(true);
      }),
    );
  });

  it('CBC with PKCS#7 equals OpenSSL sm4-cbc both ways, for random lengths', () => {
    for (let length = 0; length <= 100; length++) {
      const k = randomBytes(16);
      const iv = randomBytes(16);
      const plain = randomBytes(length);
      const key = new Sm4Key(k);
      const out = Buffer.alloc(5 + cbcPaddedLength(length));
      const written = cbcEncrypt(key, iv, 0, plain, 0, length, out, 5);
      expect(written).toBe(cbcPaddedLength(length));
      const cipher = createCipheriv('sm4-cbc', k, iv);
      const reference = Buffer.concat([cipher.update(plain), cipher.final()]);
      expect(out.subarray(5).equals(reference), `length ${length}`).toBe(true);
      // OpenSSL's ciphertext through ours (in place), and ours through OpenSSL.
      const back = Buffer.from(reference);
      const n = cbcDecrypt(key, iv, 0, back, 0, back.length, back, 0);
      expect(back.subarray(0, n).equals(plain)).toBe(true);
      const decipher = createDecipheriv('sm4-cbc', k, iv);
      expect(Buffer.concat([decipher.update(out.subarray(5)), decipher.final()]).equals(plain)).toBe(true);
    }
  });

  it('rejects bad padding and partial blocks', () => {
    const k = randomBytes(16);
    const iv = randomBytes(16);
    const key = new Sm4Key(k);
    // A last block that decrypts to …0x02 0x03: invalid PKCS#7.
    const padded = Buffer.alloc(16, 0x41);
    padded[14] = 2;
    padded[15] = 3;
    const raw = createCipheriv('sm4-cbc', k, iv).setAutoPadding(false).update(padded);
    expect(cbcDecrypt(key, iv, 0, raw, 0, 16, Buffer.alloc(16), 0)).toBe(-1);
    padded[13] = 3;
    padded[14] = 3;
    const good = createCipheriv('sm4-cbc', k, iv).setAutoPadding(false).update(padded);
    expect(cbcDecrypt(key, iv, 0, good, 0, 16, Buffer.alloc(16), 0)).toBe(13);
    expect(() => cbcDecrypt(key, iv, 0, good, 0, 15, Buffer.alloc(16), 0)).toThrow(/whole blocks/);
  });
});
