/**
 * Configuration: one validated module. Every variable is documented here and in README.md.
 * Values are normalised once at start-up; a bad value fails loudly with the variable's name.
 */

export type Mode = 'development' | 'production' | 'test';

export interface Config {
  /** PostgreSQL + PostGIS connection string. Unset: embedded PGlite + PostGIS. */
  databaseUrl: string | undefined;
  /** Where the embedded database persists its files. @default './.data' */
  dataDir: string;
  /** HTTP port. @default 4000 */
  port: number;
  /** HTTP bind address. @default '127.0.0.1' */
  host: string;
  /** production disables GraphiQL and introspection and demands real keys. @default 'development' */
  mode: Mode;
  /** Synthetic persons loaded by the embedded start into an empty database. @default 20000 */
  seedPersons: number;
  /** Largest page a connection may ask for; larger is an error, not a clamp. @default 1000 */
  maxPageSize: number;
  /** Database statement timeout in milliseconds. @default 15000 */
  statementTimeoutMs: number;
  /** Statistics cells below this count are suppressed for callers without clearance. @default 5 */
  suppressionThreshold: number;
  /** HS256 secret for people's JWTs (GOVBASE_JWT_SECRET). */
  jwtSecret: string | undefined;
  /** PEM file with the public key for RS256/ES256/EdDSA JWTs (GOVBASE_JWT_PUBLIC_KEY_FILE). */
  jwtPublicKeyFile: string | undefined;
  /** Expected JWT issuer (GOVBASE_JWT_ISSUER). */
  jwtIssuer: string | undefined;
  /** Key-encryption key of the encryption at rest, hex or base64, 16–64 bytes (GOVBASE_KEK). Unset and no
   * GOVBASE_KEK_FILE: production refuses to start; otherwise a development key is used (see src/crypto). */
  kek: string | undefined;
  /** File holding the key-encryption key (GOVBASE_KEK_FILE), instead of GOVBASE_KEK. */
  kekFile: string | undefined;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const modeRaw = env.GOVBASE_MODE ?? (env.NODE_ENV === 'production' ? 'production' : 'development');
  if (modeRaw !== 'development' && modeRaw !== 'production' && modeRaw !== 'test') {
    throw new ConfigError('GOVBASE_MODE', `must be development, production or test, got '${modeRaw}'`);
  }
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must start with postgres:// or postgresql://');
  }
  if (env.GOVBASE_KEK && env.GOVBASE_KEK_FILE) {
    throw new ConfigError('GOVBASE_KEK', 'and GOVBASE_KEK_FILE are both set: give the key one way');
  }
  return {
    databaseUrl,
    dataDir: env.GOVBASE_DATA_DIR?.trim() || './.data',
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: env.HOST?.trim() || '127.0.0.1',
    mode: modeRaw,
    seedPersons: integer(env, 'GOVBASE_SEED_PERSONS', 20000, 0, 10_000_000),
    maxPageSize: integer(env, 'GOVBASE_MAX_PAGE_SIZE', 1000, 1, 100_000),
    statementTimeoutMs: integer(env, 'GOVBASE_STATEMENT_TIMEOUT_MS', 15000, 100, 3_600_000),
    suppressionThreshold: integer(env, 'GOVBASE_SUPPRESSION_THRESHOLD', 5, 1, 1000),
    jwtSecret: env.GOVBASE_JWT_SECRET || undefined,
    jwtPublicKeyFile: env.GOVBASE_JWT_PUBLIC_KEY_FILE || undefined,
    jwtIssuer: env.GOVBASE_JWT_ISSUER || undefined,
    kek: env.GOVBASE_KEK || undefined,
    kekFile: env.GOVBASE_KEK_FILE || undefined,
  };
}
