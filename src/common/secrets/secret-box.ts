import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** Stored form of a sealed value: `enc:v1:<key id>:<base64url of iv | ciphertext | tag>`. */
const PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretsKeyError extends Error {}

interface Key {
  id: string;
  /** AES-256-GCM key. */
  seal: Buffer;
  /** HMAC-SHA-256 key for values looked up by value (verify tokens), kept apart from the sealing key. */
  lookup: Buffer;
}

/**
 * The keys of SECRETS_KEY: comma-separated, each 32 bytes in base64. The first seals; every one opens, so keys can
 * rotate (add the new one first, run `npm run secrets:rotate`, then drop the old one). A key's id is derived from the
 * key itself (a hash), so an operator names nothing and a wrong key shows as an unknown id.
 */
export class SecretBox {
  private readonly keys: Key[];

  constructor(spec: string) {
    const parts = spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (parts.length === 0) throw new SecretsKeyError('SECRETS_KEY is empty: it must hold one or more 32-byte keys in base64, comma-separated');
    this.keys = parts.map((part, i) => {
      const raw = /^[A-Za-z0-9+/_-]+={0,2}$/.test(part) ? Buffer.from(part, 'base64') : Buffer.alloc(0);
      if (raw.length !== 32) {
        throw new SecretsKeyError(`SECRETS_KEY key #${i + 1} is ${raw.length} bytes once base64-decoded; each key must be exactly 32 bytes (e.g. openssl rand -base64 32)`);
      }
      return {
        id: createHash('sha256').update('testigo-secrets-key-id:').update(raw).digest('hex').slice(0, 12),
        seal: raw,
        lookup: Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), 'testigo-secret-lookup', 32)),
      };
    });
  }

  static generateKey(): string {
    return randomBytes(32).toString('base64');
  }

  /** The id of the key that seals. */
  get currentKeyId(): string {
    return this.keys[0].id;
  }

  get keyIds(): string[] {
    return this.keys.map((k) => k.id);
  }

  static isSealed(value: string): boolean {
    return value.startsWith(PREFIX);
  }

  /** The key id a stored value was sealed under (null for a clear value). */
  static keyIdOf(value: string): string | null {
    return SecretBox.isSealed(value) ? value.slice(PREFIX.length).split(':', 1)[0] : null;
  }

  seal(plaintext: string): string {
    const key = this.keys[0];
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.seal, iv);
    // The key id is authenticated too: a value cannot be relabelled to another key.
    cipher.setAAD(Buffer.from(key.id));
    const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}${key.id}:${body.toString('base64url')}`;
  }

  /** Opens a sealed value; a clear one (stored before sealing began) is returned as it is. */
  open(stored: string): string {
    if (!SecretBox.isSealed(stored)) return stored;
    const [keyId, data] = stored.slice(PREFIX.length).split(':');
    const key = this.keys.find((k) => k.id === keyId);
    if (!key) {
      throw new SecretsKeyError(
        `A stored secret is sealed under key id ${keyId}, which SECRETS_KEY does not hold (it holds ${this.keyIds.join(', ')}): SECRETS_KEY is wrong or lacks an older key`,
      );
    }
    const body = Buffer.from(data ?? '', 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.seal, body.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(key.id));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretsKeyError(`A stored secret sealed under key id ${keyId} does not open: it was altered`);
    }
  }

  /** Keyed hashes of `value` under every key (the first is the one stored): lookups by value match any of them. */
  lookupHashes(value: string): string[] {
    return this.keys.map((k) => `${k.id}:${createHmac('sha256', k.lookup).update(value).digest('hex')}`);
  }

  lookupHash(value: string): string {
    return this.lookupHashes(value)[0];
  }
}

/**
 * The process's SecretBox, installed once at start (SecretsModule, the rotation script). Entity column transformers
 * read it: TypeORM builds them statically, before any provider exists.
 */
let current: SecretBox | null = null;

export function installSecretBox(box: SecretBox): void {
  current = box;
}

export function secretBox(): SecretBox {
  if (!current) throw new SecretsKeyError('No SECRETS_KEY installed: secrets cannot be sealed or opened');
  return current;
}
