import type { PropertyType } from './collections.ts';
import { problems } from './problems.ts';
import type { SqlBuilder } from './sql.ts';

/**
 * CQL2 text (OGC 21-065r2), the subset claimed in /conformance: Basic CQL2 (comparisons, IS NULL, AND, OR,
 * NOT, boolean literals), Advanced Comparison Operators (LIKE, BETWEEN, IN), Basic Spatial Functions (+ plus:
 * S_INTERSECTS with any WKT literal or BBOX). Parsed into a tree, then compiled into a parameterised SQL
 * predicate: literal values only ever become parameters.
 *
 * Not supported (a 400 says so): arithmetic, functions, CASEI/ACCENTI, property-property comparisons,
 * other spatial, temporal and array operators.
 */

export type Operand =
  | { kind: 'property'; name: string; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'boolean'; value: boolean; pos: number }
  | { kind: 'date'; value: string; pos: number }
  | { kind: 'timestamp'; value: string; pos: number }
  | { kind: 'geometry'; geometry: GeometryLiteral; pos: number };

export type ComparisonOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type Cql2Node =
  | { kind: 'and' | 'or'; args: Cql2Node[] }
  | { kind: 'not'; arg: Cql2Node }
  | { kind: 'bool'; value: boolean }
  | { kind: 'compare'; op: ComparisonOp; left: Operand; right: Operand }
  | { kind: 'like'; not: boolean; operand: Operand; pattern: Operand }
  | { kind: 'between'; not: boolean; operand: Operand; low: Operand; high: Operand }
  | { kind: 'in'; not: boolean; operand: Operand; list: Operand[] }
  | { kind: 'isNull'; not: boolean; operand: Operand }
  | { kind: 'intersects'; left: Operand; right: Operand };

type Coord = number[];
export type GeometryLiteral =
  | { type: 'POINT'; coords: Coord }
  | { type: 'LINESTRING'; coords: Coord[] }
  | { type: 'POLYGON'; coords: Coord[][] }
  | { type: 'MULTIPOINT'; coords: Coord[] }
  | { type: 'MULTILINESTRING'; coords: Coord[][] }
  | { type: 'MULTIPOLYGON'; coords: Coord[][][] }
  | { type: 'GEOMETRYCOLLECTION'; members: GeometryLiteral[] }
  | { type: 'BBOX'; coords: Coord };

// --- tokens ------------------------------------------------------------------------------------------------

type Token =
  | { t: 'lp' | 'rp' | 'comma' | 'eof'; pos: number }
  | { t: 'op'; v: ComparisonOp; pos: number }
  | { t: 'string'; v: string; pos: number }
  | { t: 'number'; v: number; pos: number }
  | { t: 'ident'; v: string; quoted: boolean; pos: number };

const NUMBER = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const IDENT = /[\p{L}_:][\p{L}\p{N}_.:]*/uy;

function fail(reason: string, pos?: number): never {
  throw problems.badParameter(
    'filter',
    `is not valid CQL2 text: ${reason}${pos === undefined ? '' : ` (at character ${pos + 1})`}`,
  );
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const pos = i;
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ t: c === '(' ? 'lp' : c === ')' ? 'rp' : 'comma', pos });
      i++;
      continue;
    }
    if (c === '<' || c === '>' || c === '=') {
      const two = text.slice(i, i + 2);
      const op = (['<>', '<=', '>='] as const).find((o) => o === two) ?? (c as '<' | '>' | '=');
      tokens.push({ t: 'op', v: op, pos });
      i += op.length;
      continue;
    }
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) fail('unterminated string literal', pos);
        const ch = text[i]!;
        if (ch === "'" && text[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (ch === '\\' && text[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (ch === "'") {
          i++;
          break;
        } else {
          value += ch;
          i++;
        }
      }
      tokens.push({ t: 'string', v: value, pos });
      continue;
    }
    if (c === '"') {
      const close = text.indexOf('"', i + 1);
      if (close < 0) fail('unterminated quoted property name', pos);
      tokens.push({ t: 'ident', v: text.slice(i + 1, close), quoted: true, pos });
      i = close + 1;
      continue;
    }
    if (/[\d.]/.test(c) || ((c === '-' || c === '+') && /[\d.]/.test(text[i + 1] ?? ''))) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) fail(`bad number`, pos);
      tokens.push({ t: 'number', v: Number(m[0]), pos });
      i += m[0].length;
      continue;
    }
    IDENT.lastIndex = i;
    const m = IDENT.exec(text);
    if (m) {
      tokens.push({ t: 'ident', v: m[0], quoted: false, pos });
      i += m[0].length;
      continue;
    }
    fail(`unexpected character '${c}'`, pos);
  }
  tokens.push({ t: 'eof', pos: text.length });
  return tokens;
}

// --- parser ------------------------------------------------------------------------------------------------

const GEOMETRY_TAGS = new Set([
  'POINT',
  'LINESTRING',
  'POLYGON',
  'MULTIPOINT',
  'MULTILINESTRING',
  'MULTIPOLYGON',
  'GEOMETRYCOLLECTION',
  'BBOX',
]);
const SUPPORTED = 'comparisons (= <> < <= > >=), LIKE, BETWEEN, IN, IS NULL, AND, OR, NOT, S_INTERSECTS';

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    const token = this.peek();
    if (token.t !== 'eof') this.i++;
    return token;
  }
  private isKeyword(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.t === 'ident' && !token.quoted && token.v.toUpperCase() === word;
  }
  private keyword(word: string): boolean {
    if (!this.isKeyword(word)) return false;
    this.i++;
    return true;
  }
  private expect<T extends Token['t']>(t: T, what: string): Extract<Token, { t: T }> {
    const token = this.next();
    if (token.t !== t) fail(`expected ${what}`, token.pos);
    return token as Extract<Token, { t: T }>;
  }

  parse(): Cql2Node {
    const node = this.or();
    const rest = this.peek();
    if (rest.t !== 'eof') fail('unexpected text after the end of the expression', rest.pos);
    return node;
  }

  private or(): Cql2Node {
    const args = [this.and()];
    while (this.keyword('OR')) args.push(this.and());
    return args.length === 1 ? args[0]! : { kind: 'or', args };
  }

  private and(): Cql2Node {
    const args = [this.not()];
    while (this.keyword('AND')) args.push(this.not());
    return args.length === 1 ? args[0]! : { kind: 'and', args };
  }

  private not(): Cql2Node {
    if (this.keyword('NOT')) return { kind: 'not', arg: this.not() };
    return this.primary();
  }

  private primary(): Cql2Node {
    const token = this.peek();
    if (token.t === 'lp') {
      this.next();
      const inner = this.or();
      this.expect('rp', "')'");
      return inner;
    }
    if (token.t === 'ident' && !token.quoted && this.peek(1).t === 'lp') {
      const name = token.v.toUpperCase();
      if (name === 'S_INTERSECTS') {
        this.next();
        this.next();
        const left = this.scalar();
        this.expect('comma', "','");
        const right = this.scalar();
        this.expect('rp', "')'");
        return { kind: 'intersects', left, right };
      }
      if (!['DATE', 'TIMESTAMP'].includes(name) && !GEOMETRY_TAGS.has(name)) {
        fail(`'${token.v}' is not supported (supported: ${SUPPORTED})`, token.pos);
      }
    }
    const operand = this.scalar();
    const after = this.peek();
    if (after.t === 'op') {
      this.next();
      return { kind: 'compare', op: after.v, left: operand, right: this.scalar() };
    }
    const negated = this.isKeyword('NOT') && ['LIKE', 'BETWEEN', 'IN'].some((k) => this.isKeyword(k, 1));
    if (negated) this.next();
    if (this.keyword('LIKE')) return { kind: 'like', not: negated, operand, pattern: this.scalar() };
    if (this.keyword('BETWEEN')) {
      const low = this.scalar();
      if (!this.keyword('AND')) fail('expected AND in BETWEEN … AND …', this.peek().pos);
      return { kind: 'between', not: negated, operand, low, high: this.scalar() };
    }
    if (this.keyword('IN')) {
      this.expect('lp', "'(' after IN");
      const list = [this.scalar()];
      while (this.peek().t === 'comma') {
        this.next();
        list.push(this.scalar());
      }
      this.expect('rp', "')' closing the IN list");
      return { kind: 'in', not: negated, operand, list };
    }
    if (this.keyword('IS')) {
      const not = this.keyword('NOT');
      if (!this.keyword('NULL')) fail('expected NULL after IS', this.peek().pos);
      return { kind: 'isNull', not, operand };
    }
    if (operand.kind === 'boolean') return { kind: 'bool', value: operand.value };
    fail(`expected a comparison after the operand (supported: ${SUPPORTED})`, after.pos);
  }

  private scalar(): Operand {
    const token = this.next();
    const pos = token.pos;
    switch (token.t) {
      case 'string':
        return { kind: 'string', value: token.v, pos };
      case 'number':
        if (!Number.isFinite(token.v)) fail('number out of range', pos);
        return { kind: 'number', value: token.v, pos };
      case 'ident': {
        if (token.quoted) return { kind: 'property', name: token.v, pos };
        const upper = token.v.toUpperCase();
        if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'boolean', value: upper === 'TRUE', pos };
        if ((upper === 'DATE' || upper === 'TIMESTAMP') && this.peek().t === 'lp') {
          this.next();
          const literal = this.expect('string', `a quoted ${upper.toLowerCase()}`);
          this.expect('rp', "')'");
          const ok =
            upper === 'DATE'
              ? /^\d{4}-\d{2}-\d{2}$/.test(literal.v)
              : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(literal.v);
          if (!ok || Number.isNaN(Date.parse(literal.v)))
            fail(`'${literal.v}' is not a valid ${upper}`, literal.pos);
          return { kind: upper === 'DATE' ? 'date' : 'timestamp', value: literal.v, pos };
        }
        if (GEOMETRY_TAGS.has(upper) && (this.peek().t === 'lp' || this.isKeyword('Z'))) {
          return { kind: 'geometry', geometry: this.geometry(upper), pos };
        }
        if (this.peek().t === 'lp') fail(`function '${token.v}' is not supported`, pos);
        if (['AND', 'OR', 'NOT', 'LIKE', 'BETWEEN', 'IN', 'IS', 'NULL'].includes(upper)) {
          fail(`unexpected keyword ${upper}`, pos);
        }
        return { kind: 'property', name: token.v, pos };
      }
      default:
        fail('expected a property name or a literal', pos);
    }
  }

  // WKT, read into coordinates (re-serialised later, so nothing of the text reaches SQL).
  private geometry(tag: string): GeometryLiteral {
    this.keyword('Z');
    switch (tag) {
      case 'POINT': {
        this.expect('lp', "'('");
        const coords = this.coord();
        this.expect('rp', "')'");
        return { type: 'POINT', coords };
      }
      case 'LINESTRING':
        return { type: 'LINESTRING', coords: this.line(2) };
      case 'POLYGON':
        return { type: 'POLYGON', coords: this.polygon() };
      case 'MULTIPOINT': {
        this.expect('lp', "'('");
        const points: Coord[] = [];
        do {
          if (this.peek().t === 'lp') {
            this.next();
            points.push(this.coord());
            this.expect('rp', "')'");
          } else points.push(this.coord());
        } while (this.comma());
        this.expect('rp', "')'");
        return { type: 'MULTIPOINT', coords: points };
      }
      case 'MULTILINESTRING':
        return { type: 'MULTILINESTRING', coords: this.list(() => this.line(2)) };
      case 'MULTIPOLYGON':
        return { type: 'MULTIPOLYGON', coords: this.list(() => this.polygon()) };
      case 'GEOMETRYCOLLECTION':
        return {
          type: 'GEOMETRYCOLLECTION',
          members: this.list(() => {
            const t = this.next();
            if (t.t !== 'ident' || !GEOMETRY_TAGS.has(t.v.toUpperCase()) || t.v.toUpperCase() === 'BBOX') {
              fail('expected a geometry inside GEOMETRYCOLLECTION', t.pos);
            }
            return this.geometry(t.v.toUpperCase());
          }),
        };
      default: {
        this.expect('lp', "'('");
        const values = [this.number()];
        while (this.comma()) values.push(this.number());
        this.expect('rp', "')'");
        if (values.length !== 4 && values.length !== 6)
          fail('BBOX takes four or six numbers', this.peek().pos);
        const [w, s, e, n] = values.length === 6 ? [values[0]!, values[1]!, values[3]!, values[4]!] : values;
        return { type: 'BBOX', coords: [w!, s!, e!, n!] };
      }
    }
  }
  private comma(): boolean {
    if (this.peek().t !== 'comma') return false;
    this.next();
    return true;
  }
  private number(): number {
    const token = this.expect('number', 'a number');
    return token.v;
  }
  private coord(): Coord {
    const c = [this.number(), this.number()];
    if (this.peek().t === 'number') c.push(this.number());
    return c;
  }
  private list<T>(item: () => T): T[] {
    this.expect('lp', "'('");
    const items = [item()];
    while (this.comma()) items.push(item());
    this.expect('rp', "')'");
    return items;
  }
  private line(min: number): Coord[] {
    const start = this.peek().pos;
    const coords = this.list(() => this.coord());
    if (coords.length < min) fail(`a line needs at least ${min} points`, start);
    return coords;
  }
  private polygon(): Coord[][] {
    return this.list(() => {
      const start = this.peek().pos;
      const ring = this.line(4);
      const first = ring[0]!;
      const last = ring[ring.length - 1]!;
      if (first[0] !== last[0] || first[1] !== last[1]) fail('a polygon ring must be closed', start);
      return ring;
    });
  }
}

export function parseCql2(text: string): Cql2Node {
  if (text.trim() === '') fail('the filter is empty');
  return new Parser(tokenize(text)).parse();
}

// --- geometry literal → WKT ----------------------------------------------------------------------------------

/** WKT in the storage axis order (lon, lat); `latLon` swaps the literal's axes first (filter-crs EPSG:4490). */
export function literalToWkt(g: GeometryLiteral, latLon: boolean): string {
  const xy = (c: Coord) => {
    const [a, b] = latLon ? [c[1]!, c[0]!] : [c[0]!, c[1]!];
    return `${a} ${b}`;
  };
  const line = (cs: Coord[]) => `(${cs.map(xy).join(', ')})`;
  const polygon = (rings: Coord[][]) => `(${rings.map(line).join(', ')})`;
  switch (g.type) {
    case 'POINT':
      return `POINT(${xy(g.coords)})`;
    case 'LINESTRING':
      return `LINESTRING${line(g.coords)}`;
    case 'POLYGON':
      return `POLYGON${polygon(g.coords)}`;
    case 'MULTIPOINT':
      return `MULTIPOINT(${g.coords.map((c) => `(${xy(c)})`).join(', ')})`;
    case 'MULTILINESTRING':
      return `MULTILINESTRING(${g.coords.map(line).join(', ')})`;
    case 'MULTIPOLYGON':
      return `MULTIPOLYGON(${g.coords.map(polygon).join(', ')})`;
    case 'GEOMETRYCOLLECTION':
      return `GEOMETRYCOLLECTION(${g.members.map((m) => literalToWkt(m, latLon)).join(', ')})`;
    case 'BBOX': {
      const [a, b, c, d] = g.coords as [number, number, number, number];
      const [w, s, e, n] = latLon ? [b, a, d, c] : [a, b, c, d];
      const box = (x0: number, x1: number) =>
        `((${x0} ${s}, ${x1} ${s}, ${x1} ${n}, ${x0} ${n}, ${x0} ${s}))`;
      return w <= e ? `POLYGON${box(w, e)}` : `MULTIPOLYGON(${box(w, 180)}, ${box(-180, e)})`;
    }
  }
}

// --- compiler ------------------------------------------------------------------------------------------------

export interface ResolvedQueryable {
  /** SQL expression over the source. */
  sql: string;
  type: PropertyType | 'geometry';
}

export interface CompileOptions {
  /** Looks a property up; throws for an unknown or forbidden one. */
  resolve: (name: string) => ResolvedQueryable;
  /** Literal coordinates are in lat, lon order (filter-crs EPSG:4490). */
  latLon: boolean;
  srid: number;
}

const CAST: Record<PropertyType, string> = {
  string: 'text',
  integer: 'numeric',
  number: 'numeric',
  boolean: 'boolean',
  date: 'date',
  'date-time': 'timestamptz',
};

const FLIP: Record<ComparisonOp, ComparisonOp> = {
  '=': '=',
  '<>': '<>',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
};

function describe(o: Operand): string {
  return o.kind === 'property' ? `property '${o.name}'` : `a ${o.kind} literal`;
}

/** Compiles the tree into an SQL predicate; every literal becomes a parameter of `sql`. */
export function compileCql2(node: Cql2Node, sql: SqlBuilder, options: CompileOptions): string {
  const property = (o: Operand, role: string): ResolvedQueryable & { name: string } => {
    if (o.kind !== 'property') fail(`${role} must be a property, not ${describe(o)}`, o.pos);
    return { ...options.resolve(o.name), name: o.name };
  };

  /** A literal as a parameter typed like the property it is compared with. */
  const literal = (o: Operand, p: ResolvedQueryable & { name: string }): string => {
    if (o.kind === 'property')
      fail(`comparing two properties ('${p.name}', '${o.name}') is not supported`, o.pos);
    if (p.type === 'geometry') fail(`property '${p.name}' is a geometry: use S_INTERSECTS`, o.pos);
    const mismatch = () =>
      fail(
        `property '${p.name}' is ${p.type === 'integer' ? 'an' : 'a'} ${p.type}; it cannot be compared with ${describe(o)}`,
        o.pos,
      );
    switch (p.type) {
      case 'string':
        if (o.kind !== 'string') return mismatch();
        return sql.param(o.value, 'text');
      case 'integer':
      case 'number':
        if (o.kind !== 'number') return mismatch();
        return sql.param(String(o.value), 'numeric');
      case 'boolean':
        if (o.kind !== 'boolean') return mismatch();
        return sql.param(o.value, 'boolean');
      case 'date':
      case 'date-time':
        if (o.kind === 'timestamp') return sql.param(o.value, 'timestamptz');
        if (o.kind === 'date') return sql.param(o.value, p.type === 'date' ? 'date' : 'timestamptz');
        if (o.kind === 'string' && /^\d{4}-\d{2}-\d{2}/.test(o.value) && !Number.isNaN(Date.parse(o.value))) {
          return sql.param(o.value, CAST[p.type]);
        }
        return mismatch();
    }
  };

  const compile = (n: Cql2Node): string => {
    switch (n.kind) {
      case 'and':
      case 'or':
        return n.args.map((a) => `(${compile(a)})`).join(n.kind === 'and' ? ' AND ' : ' OR ');
      case 'not':
        return `NOT (${compile(n.arg)})`;
      case 'bool':
        return n.value ? 'TRUE' : 'FALSE';
      case 'compare': {
        const flipped = n.left.kind !== 'property' && n.right.kind === 'property';
        const [left, right, op] = flipped ? [n.right, n.left, FLIP[n.op]] : [n.left, n.right, n.op];
        const p = property(left, 'one side of a comparison');
        return `${p.sql} ${op} ${literal(right, p)}`;
      }
      case 'like': {
        const p = property(n.operand, 'the operand of LIKE');
        if (p.type !== 'string')
          fail(`LIKE needs a string property; '${p.name}' is ${p.type}`, n.operand.pos);
        if (n.pattern.kind !== 'string') fail('LIKE needs a quoted pattern', n.pattern.pos);
        return `${p.sql} ${n.not ? 'NOT LIKE' : 'LIKE'} ${sql.param(n.pattern.value, 'text')}`;
      }
      case 'between': {
        const p = property(n.operand, 'the operand of BETWEEN');
        if (p.type === 'boolean' || p.type === 'geometry') {
          fail(
            `BETWEEN needs a numeric, string or temporal property; '${p.name}' is ${p.type}`,
            n.operand.pos,
          );
        }
        return `${p.sql} ${n.not ? 'NOT BETWEEN' : 'BETWEEN'} ${literal(n.low, p)} AND ${literal(n.high, p)}`;
      }
      case 'in': {
        const p = property(n.operand, 'the operand of IN');
        const placeholders = n.list.map((item) => literal(item, p));
        return `${p.sql} ${n.not ? 'NOT IN' : 'IN'} (${placeholders.join(', ')})`;
      }
      case 'isNull': {
        const p = property(n.operand, 'the operand of IS NULL');
        return `${p.sql} IS ${n.not ? 'NOT ' : ''}NULL`;
      }
      case 'intersects': {
        const [propOperand, geomOperand] = n.left.kind === 'property' ? [n.left, n.right] : [n.right, n.left];
        const p = property(propOperand, 'one argument of S_INTERSECTS');
        if (p.type !== 'geometry')
          fail(`S_INTERSECTS needs the geometry property; '${p.name}' is ${p.type}`, propOperand.pos);
        if (geomOperand.kind !== 'geometry')
          fail('S_INTERSECTS needs a WKT geometry or BBOX literal', geomOperand.pos);
        const wkt = literalToWkt(geomOperand.geometry, options.latLon);
        return `ST_Intersects(${p.sql}, ST_GeomFromText(${sql.param(wkt, 'text')}, ${options.srid}))`;
      }
    }
  };
  return compile(node);
}

/** The property names a filter uses (for the access check before compiling). */
export function cql2Properties(node: Cql2Node): string[] {
  const names = new Set<string>();
  const operand = (o: Operand) => {
    if (o.kind === 'property') names.add(o.name);
  };
  const walk = (n: Cql2Node): void => {
    switch (n.kind) {
      case 'and':
      case 'or':
        n.args.forEach(walk);
        return;
      case 'not':
        walk(n.arg);
        return;
      case 'bool':
        return;
      case 'compare':
      case 'intersects':
        operand(n.left);
        operand(n.right);
        return;
      case 'like':
        operand(n.operand);
        operand(n.pattern);
        return;
      case 'between':
        [n.operand, n.low, n.high].forEach(operand);
        return;
      case 'in':
        [n.operand, ...n.list].forEach(operand);
        return;
      case 'isNull':
        operand(n.operand);
        return;
    }
  };
  walk(node);
  return [...names];
}
