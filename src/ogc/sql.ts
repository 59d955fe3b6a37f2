/**
 * Parameterised SQL assembly for the OGC and tile endpoints. Values from a request only ever travel as
 * parameters (`$n`); SQL text comes from collection definitions (trusted, written by engineers) and from
 * this module's own fixed fragments.
 */

export interface SqlStatement {
  text: string;
  params: unknown[];
}

export class SqlBuilder {
  readonly params: unknown[] = [];

  /** Adds a parameter and returns its placeholder, with an optional cast (`$3::date`). */
  param(value: unknown, cast?: string): string {
    this.params.push(value);
    return `$${this.params.length}${cast ? `::${cast}` : ''}`;
  }

  statement(text: string): SqlStatement {
    return { text, params: [...this.params] };
  }
}

/** Joins predicates with AND; an empty list is TRUE. */
export function and(predicates: readonly (string | null | undefined)[]): string {
  const present = predicates.filter((p): p is string => !!p);
  return present.length === 0 ? 'TRUE' : present.map((p) => `(${p})`).join(' AND ');
}

/** A double-quoted SQL identifier (for output column aliases built from property names). */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
