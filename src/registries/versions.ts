import { type SQL, sql } from 'drizzle-orm';

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
