import type { Params } from '../sql-op.js';

// Operations are written with SQLite's placeholders (`?` positional or `@name` named, never both in one
// statement); PostgreSQL wants `$1..$n` and a positional array. The translation scans the statement once,
// skipping what is not SQL (string literals, quoted identifiers, comments) so a `?` or `@` inside them is left
// alone, and is cached by the statement text: operations use a fixed set of statements.

/** A statement ready for `client.query`. */
export interface PgQuery {
  text: string;
  values: unknown[];
}

type Shape =
  | { mode: 'none'; text: string }
  | { mode: 'positional'; text: string; count: number }
  | { mode: 'named'; text: string; names: readonly string[] };

const CACHE_LIMIT = 1000;
const cache = new Map<string, Shape>();

const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_]/;

/** Skip from `i` (on an opening `quote`) past the closing one; a doubled quote is an escaped one. */
function skipQuoted(sql: string, i: number, quote: string): number {
  let j = i + 1;
  for (;;) {
    const k = sql.indexOf(quote, j);
    if (k < 0)
      throw new Error(`toPg: unterminated ${quote === "'" ? 'string literal' : 'quoted identifier'} in: ${sql}`);
    if (sql[k + 1] === quote) {
      j = k + 2;
      continue;
    }
    return k + 1;
  }
}

/** Past what is not SQL at `i` (a quoted literal or identifier, a -- or /* comment), or null when `i` is SQL. */
function skipNonSql(sql: string, i: number): number | null {
  const c = sql[i];
  if (c === "'" || c === '"') return skipQuoted(sql, i, c);
  if (c === '-' && sql[i + 1] === '-') {
    const nl = sql.indexOf('\n', i);
    return nl < 0 ? sql.length : nl + 1;
  }
  if (c === '/' && sql[i + 1] === '*') {
    const end = sql.indexOf('*/', i + 2);
    if (end < 0) throw new Error(`toPg: unterminated /* comment in: ${sql}`);
    return end + 2;
  }
  return null;
}

function shapeOf(sql: string): Shape {
  let out = '';
  let count = 0;
  const names: string[] = [];
  let i = 0;
  let from = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    const skip = skipNonSql(sql, i);
    if (skip !== null) {
      i = skip;
    } else if (c === '?') {
      out += sql.slice(from, i) + `$${++count}`;
      from = ++i;
    } else if (c === '@' && NAME_START.test(sql[i + 1] ?? '')) {
      let j = i + 2;
      while (j < sql.length && NAME_PART.test(sql[j] as string)) j++;
      const name = sql.slice(i + 1, j);
      let n = names.indexOf(name);
      if (n < 0) n = names.push(name) - 1;
      out += sql.slice(from, i) + `$${n + 1}`;
      from = i = j;
    } else {
      i++;
    }
  }
  out += sql.slice(from);
  if (count > 0 && names.length > 0) {
    throw new Error(`toPg: a statement uses both ? and @name placeholders: ${sql}`);
  }
  if (count > 0) return { mode: 'positional', text: out, count };
  if (names.length > 0) return { mode: 'named', text: out, names };
  return { mode: 'none', text: out };
}

/**
 * Un-comment every `/*pg: ... *\/` clause (a clause only PostgreSQL needs, see sql-op.ts), skipping string
 * literals and quoted identifiers. A clause may use @name parameters (SQLite ignores a named value it does not
 * use) but never `?`, which would shift SQLite's positional count.
 */
function unPg(sql: string): string {
  let out = '';
  let from = 0;
  let i = 0;
  while (i < sql.length) {
    if (sql.startsWith('/*pg:', i)) {
      const end = sql.indexOf('*/', i + 5);
      if (end < 0) throw new Error(`toPg: unterminated /*pg: clause in: ${sql}`);
      const inner = sql.slice(i + 5, end);
      if (inner.includes('?')) throw new Error(`toPg: a ? placeholder inside a /*pg: */ clause: ${sql}`);
      out += sql.slice(from, i) + inner;
      from = i = end + 2;
    } else {
      i = skipNonSql(sql, i) ?? i + 1;
    }
  }
  return out + sql.slice(from);
}

function cachedShape(sql: string): Shape {
  let shape = cache.get(sql);
  if (shape === undefined) {
    shape = shapeOf(unPg(sql));
    // Statements are a fixed set; the limit only guards against a caller that builds SQL from data.
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(sql, shape);
  }
  return shape;
}

/**
 * Translate a statement with `?` or `@name` placeholders to PostgreSQL's `$n` and a positional values array.
 * Throws (a bug in the caller) on a missing named parameter, a wrong parameter count or mixed placeholders.
 */
export function toPg(sql: string, params: Params = []): PgQuery {
  const shape = cachedShape(sql);
  const positional = Array.isArray(params);
  switch (shape.mode) {
    case 'none': {
      const given = positional ? params.length : 0;
      if (given !== 0) throw new Error(`toPg: ${given} parameter(s) given to a statement with none: ${sql}`);
      return { text: shape.text, values: [] };
    }
    case 'positional': {
      if (!positional) throw new Error(`toPg: named parameters given to a statement with ? placeholders: ${sql}`);
      if (params.length !== shape.count) {
        throw new Error(`toPg: ${params.length} parameter(s) given to a statement with ${shape.count}: ${sql}`);
      }
      return { text: shape.text, values: (params as readonly unknown[]).slice() };
    }
    case 'named': {
      if (positional)
        throw new Error(`toPg: positional parameters given to a statement with @name placeholders: ${sql}`);
      const named = params as Readonly<Record<string, unknown>>;
      const values = shape.names.map((name) => {
        // undefined counts as missing, as in better-sqlite3: a typo in a property name must not become NULL.
        if (!Object.hasOwn(named, name) || named[name] === undefined) {
          throw new Error(`toPg: missing named parameter @${name} for: ${sql}`);
        }
        return named[name];
      });
      return { text: shape.text, values };
    }
    default: {
      const never: never = shape;
      throw new Error(`toPg: unhandled shape ${String(never)}`);
    }
  }
}
