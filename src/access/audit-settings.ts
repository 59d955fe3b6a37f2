import { ConfigError } from '../config.ts';
import type { AuditSynchronousCommit } from './audit.ts';

/**
 * Settings of the access audit, read from the environment once and validated like src/config.ts (a bad
 * value fails loudly with the variable's name). README.md lists them.
 */
export interface AuditSettings {
  /** GOVBASE_AUDIT_LINGER_MS: how long a batch waits for requests still executing. @default 2 */
  lingerMs: number;
  /**
   * GOVBASE_AUDIT_SYNCHRONOUS_COMMIT: `synchronous_commit` of the audit transactions: on (default), local,
   * remote_write or remote_apply. Never off: a record must be durable before its data is answered.
   */
  synchronousCommit: AuditSynchronousCommit;
  /** GOVBASE_AUDIT_ANCHOR_FILE: where checkpoints of the chain head are appended (see audit-anchor.ts). */
  anchorFile: string | undefined;
  /** GOVBASE_AUDIT_ANCHOR_KEY: HMAC-SM3 key for checkpoints, hex (≥ 32 digits) or text (≥ 16 chars). */
  anchorKey: Buffer | undefined;
  /** GOVBASE_AUDIT_ANCHOR_INTERVAL_MS: the gateway's checkpoint interval while records are written. @default 60000 */
  anchorIntervalMs: number;
}

const COMMIT_LEVELS: readonly AuditSynchronousCommit[] = ['on', 'local', 'remote_write', 'remote_apply'];

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return value;
}

export function anchorKeyFrom(
  raw: string | undefined,
  variable = 'GOVBASE_AUDIT_ANCHOR_KEY',
): Buffer | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (/^[0-9a-fA-F]{32,}$/.test(raw) && raw.length % 2 === 0) return Buffer.from(raw, 'hex');
  if (raw.length < 16) throw new ConfigError(variable, 'must be at least 16 characters (or 32 hex digits)');
  return Buffer.from(raw, 'utf8');
}

export function auditSettings(env: NodeJS.ProcessEnv = process.env): AuditSettings {
  const commit = (env.GOVBASE_AUDIT_SYNCHRONOUS_COMMIT?.trim() || 'on') as AuditSynchronousCommit;
  if (!COMMIT_LEVELS.includes(commit)) {
    throw new ConfigError(
      'GOVBASE_AUDIT_SYNCHRONOUS_COMMIT',
      `must be one of ${COMMIT_LEVELS.join(', ')} (off would answer reads whose audit a crash can lose), got '${commit}'`,
    );
  }
  return {
    lingerMs: integer(env, 'GOVBASE_AUDIT_LINGER_MS', 2, 0, 1000),
    synchronousCommit: commit,
    anchorFile: env.GOVBASE_AUDIT_ANCHOR_FILE?.trim() || undefined,
    anchorKey: anchorKeyFrom(env.GOVBASE_AUDIT_ANCHOR_KEY),
    anchorIntervalMs: integer(env, 'GOVBASE_AUDIT_ANCHOR_INTERVAL_MS', 60_000, 0, 86_400_000),
  };
}
