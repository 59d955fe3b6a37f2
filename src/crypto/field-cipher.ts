import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Field encryption with the national algorithms: SM4-CBC (GB/T 32907) with a fresh IV per value, and an
 * HMAC-SM3 (GB/T 32905) over version, IV and ciphertext (encrypt-then-MAC), so a tampered value or a wrong
 * key fails loudly instead of decrypting to garbage.
 *
 * Stored form (text, so columns keep their type): `sm4.<version>.<base64url(iv ‖ ciphertext ‖ mac)>`.
 */

export const SM4_KEY_BYTES = 16;
const IV_BYTES = 16;
const MAC_BYTES = 32;
const PREFIX = 'sm4.';

export class CryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CryptoError';
  }
}

/** A data key: an SM4 key and a separate HMAC-SM3 key, under a version number. */
export interface DataKey {
  version: number;
  encKey: Buffer;
  macKey: Buffer;
}

function mac(key: DataKey, iv: Buffer, ciphertext: Buffer): Buffer {
  return createHmac('sm3', key.macKey)
    .update(`${PREFIX}${key.version}.`)
    .update(iv)
    .update(ciphertext)
    .digest();
}

export function encryptField(key: DataKey, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('sm4-cbc', key.encKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${PREFIX}${key.version}.${Buffer.concat([iv, ciphertext, mac(key, iv, ciphertext)]).toString('base64url')}`;
}

/** The key version a stored value was written with, or null when the value is not ours. */
export function keyVersionOf(stored: string): number | null {
  if (!stored.startsWith(PREFIX)) return null;
  const dot = stored.indexOf('.', PREFIX.length);
  const version = Number(stored.slice(PREFIX.length, dot));
  return dot > 0 && Number.isInteger(version) ? version : null;
}

export function decryptField(keys: (version: number) => DataKey | undefined, stored: string): string {
  const version = keyVersionOf(stored);
  if (version === null) throw new CryptoError('value is not an SM4 field ciphertext');
  const key = keys(version);
  if (!key) throw new CryptoError(`no data key of version ${version} is loaded`);
  const raw = Buffer.from(stored.slice(stored.indexOf('.', PREFIX.length) + 1), 'base64url');
  if (raw.length < IV_BYTES + 16 + MAC_BYTES) throw new CryptoError('ciphertext is truncated');
  const iv = raw.subarray(0, IV_BYTES);
  const ciphertext = raw.subarray(IV_BYTES, raw.length - MAC_BYTES);
  const tag = raw.subarray(raw.length - MAC_BYTES);
  if (!timingSafeEqual(tag, mac(key, iv, ciphertext))) {
    throw new CryptoError(
      `authentication failed for a value under key version ${version} (wrong key or tampered)`,
    );
  }
  const decipher = createDecipheriv('sm4-cbc', key.encKey, iv);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
}

/** Keyed SM3-HMAC of a normalised value: equality lookups without a plaintext copy or an unkeyed hash. */
export function blindIndex(indexKey: Buffer, field: string, normalised: string): string {
  return createHmac('sm3', indexKey).update(field).update('\u0000').update(normalised).digest('base64url');
}

/** Wraps a key with the key-encryption key (SM4-CBC + HMAC-SM3, keys derived from the KEK). */
export function wrapKey(kek: Buffer, key: Buffer, label: string): string {
  return encryptField(kekAsDataKey(kek, label), key.toString('base64'));
}

export function unwrapKey(kek: Buffer, wrapped: string, label: string): Buffer {
  try {
    return Buffer.from(
      decryptField(() => kekAsDataKey(kek, label), wrapped),
      'base64',
    );
  } catch (error) {
    throw new CryptoError(
      `cannot unwrap ${label}: ${(error as Error).message} — is GOVBASE_KEK the right key?`,
    );
  }
}

function kekAsDataKey(kek: Buffer, label: string): DataKey {
  const derive = (purpose: string) => createHmac('sm3', kek).update(`${label}/${purpose}`).digest();
  return { version: 0, encKey: derive('enc').subarray(0, SM4_KEY_BYTES), macKey: derive('mac') };
}

export function newDataKey(version: number): DataKey {
  return { version, encKey: randomBytes(SM4_KEY_BYTES), macKey: randomBytes(32) };
}
