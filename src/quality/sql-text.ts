/**
 * Composing rule SQL into the statements the runner sends, while remembering where every character came
 * from: a PostgreSQL error position in the composed statement maps back to the rule's own text (and so to
 * a line of its file).
 */

/** Named parameters a rule's SQL may use, with the type they are bound as. */
export const NAMED_PARAMETERS = {
  as_of: 'date',
  division_lo: 'text',
  division_hi: 'text',
  dataset_ids: 'text[]',
} as const;
export type ParameterName = keyof typeof NAMED_PARAMETERS;

export interface Token {
  kind: 'param' | 'semicolon';
  /** Offset in the scanned text. */
  at: number;
  /** Parameter name, for params (without the colon). */
  name?: string;
  length: number;
}

/**
 * Finds `:name` parameters and `;` outside string literals, quoted identifiers, comments and
 * dollar-quoted bodies. `::type` casts are not parameters.
 */
export function scanSql(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end + 1;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < text.length) {
        if (text[j] === c) {
          if (text[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      i = j + 1;
    } else if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
      if (tag) {
        const end = text.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? text.length : end + tag[0].length;
      } else i++;
    } else if (c === ':' && next === ':') {
      i += 2;
    } else if (c === ':') {
      const name = /^:([a-z_][a-z0-9_]*)/.exec(text.slice(i));
      if (name && text[i - 1] !== ':') {
        tokens.push({ kind: 'param', at: i, name: name[1]!, length: name[0].length });
        i += name[0].length;
      } else i++;
    } else if (c === ';') {
      tokens.push({ kind: 'semicolon', at: i, length: 1 });
      i++;
    } else i++;
  }
  return tokens;
}

interface Piece {
  text: string;
  /** The part of the rule this text comes from, and the offset in that part of its first character. */
  part?: string;
  start?: number;
  /** A substituted parameter: every offset inside maps to the token's start. */
  atomic?: boolean;
}

/** A statement under construction: literal text, rule parts with named parameters, bound values. */
export class Statement {
  private readonly pieces: Piece[] = [];
  private readonly bound = new Map<ParameterName, number>();
  readonly params: unknown[] = [];

  constructor(private readonly values: Partial<Record<ParameterName, unknown>> = {}) {}

  /** Runner text, no parameters. */
  raw(text: string): this {
    this.pieces.push({ text });
    return this;
  }

  /** Text before everything so far (e.g. EXPLAIN); positional numbers are unaffected. */
  prefixed(text: string): this {
    this.pieces.unshift({ text });
    return this;
  }

  /** A positional parameter bound to a runner value (run id, rule id, …). */
  value(value: unknown, cast: string): this {
    this.params.push(value);
    this.pieces.push({ text: `$${this.params.length}::${cast}` });
    return this;
  }

  /** Text of a rule part (check, from, where, division): named parameters become positional ones. */
  part(part: string, text: string): this {
    let at = 0;
    for (const token of scanSql(text)) {
      if (token.kind !== 'param') continue;
      const name = token.name as ParameterName;
      if (!(name in NAMED_PARAMETERS)) continue; // left as is: PostgreSQL reports it with its position
      if (token.at > at) this.pieces.push({ text: text.slice(at, token.at), part, start: at });
      this.pieces.push({ text: this.placeholder(name), part, start: token.at, atomic: true });
      at = token.at + token.length;
    }
    if (at < text.length) this.pieces.push({ text: text.slice(at), part, start: at });
    return this;
  }

  private placeholder(name: ParameterName): string {
    let position = this.bound.get(name);
    if (position === undefined) {
      this.params.push(this.values[name] ?? null);
      position = this.params.length;
      this.bound.set(name, position);
    }
    return `$${position}::${NAMED_PARAMETERS[name]}`;
  }

  get text(): string {
    return this.pieces.map((p) => p.text).join('');
  }

  /** Where a 1-based character position of the composed text comes from, if from a rule part. */
  locate(position: number): { part: string; offset: number } | null {
    let offset = position - 1;
    for (const piece of this.pieces) {
      // PostgreSQL counts characters; rule text is BMP (UTF-16 unit = character) in practice.
      const length = piece.text.length;
      if (offset < length) {
        if (piece.part === undefined || piece.start === undefined) return null;
        return { part: piece.part, offset: piece.start + (piece.atomic ? 0 : offset) };
      }
      offset -= length;
    }
    return null;
  }
}

/** Named parameters a text uses that the runner does not know. */
export function unknownParameters(text: string): Token[] {
  return scanSql(text).filter((t) => t.kind === 'param' && !((t.name ?? '') in NAMED_PARAMETERS));
}
