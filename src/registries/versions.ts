import { type SQL, sql } from 'drizzle-orm';
import type { builder } from '../gateway/builder.ts';

/**
 * Every version of one record of a registry table that keeps history (`<table>_history`, written by the
 * table's trigger), newest first: the current row, valid until now (validTo null), and each superseded row,
 * valid until its superseded_at. `columns` select through `alias` and name `version` and `validFrom`.
 */
export function versionsSql(table: string, alias: string, columns: SQL, id: SQL): SQL {
  const a = sql.raw(alias);
  return sql`SELECT ${columns}, NULL::timestamptz AS "validTo" FROM ${sql.raw(table)} ${a} WHERE ${a}.id = ${id}
             UNION ALL
             SELECT ${columns}, ${a}.superseded_at AS "validTo" FROM ${sql.raw(`${table}_history`)} ${a}
              WHERE ${a}.id = ${id}
             ORDER BY "version" DESC, "validFrom" DESC`;
}

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/** A version as the version types expose it: its number and the transaction times it was current over. */
export interface VersionTimes {
  version: number;
  validFrom: Date;
  /** When this version was replaced; null for the current version. */
  validTo: Date | null;
}

/** The fields every `…Version` type shares (validTo is the history dataset's supersededAt). */
export function versionTimeFields<T extends VersionTimes>(t: PothosSchemaTypes.ObjectFieldBuilder<Types, T>) {
  return {
    version: t.int({ resolve: (v) => v.version }),
    validFrom: t.field({ type: 'DateTime', resolve: (v) => v.validFrom }),
    validTo: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it was replaced (null: the current version)',
      access: { field: 'supersededAt' },
      resolve: (v) => v.validTo,
    }),
  };
}
