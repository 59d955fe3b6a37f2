import { errors } from '../errors.ts';

/**
 * Forward-only keyset pagination over internal ids. Cursors carry only an id (internal level), so they
 * reveal no value a caller could not read.
 */
export function encodeCursor(kind: string, id: number): string {
  return Buffer.from(`${kind}:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string, argument: string, kind: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const [prefix, id] = text.split(':');
  const value = Number(id);
  if (prefix !== kind || !Number.isSafeInteger(value) || value < 0) throw errors.invalidCursor(argument);
  return value;
}

/** The page size asked for; over the maximum is an error, not a silent clamp. */
export function pageSize(
  args: { first?: number | null; last?: number | null; before?: string | null },
  max: number,
  fallback = 20,
): number {
  if (args.last !== null && args.last !== undefined)
    throw errors.invalidArgument('last', 'is not supported: page forward with first/after');
  if (args.before) throw errors.invalidArgument('before', 'is not supported: page forward with first/after');
  const first = args.first ?? fallback;
  if (first < 1) throw errors.invalidArgument('first', 'must be at least 1');
  if (first > max) throw errors.pageSizeTooLarge('first', first, max);
  return first;
}
