import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toPg } from '../../src/store/pg/sql.js';

// toPg turns SQLite placeholders into PostgreSQL's $n, leaving literals, quoted identifiers and comments alone.

/** Text that is not SQL code: '...' (quotes doubled), "..." (quotes doubled) or a -- comment to end of line. */
const inert = fc.oneof(
  fc.string({ unit: fc.constantFrom('?', '@', 'a', ' ', "'", '$', '1', '-') }).map((s) => `'${s.replace(/'/g, "''")}'`),
  fc.string({ unit: fc.constantFrom('?', '@', 'b', '"', '_') }).map((s) => `"${s.replace(/"/g, '""')}"`),
  fc.string({ unit: fc.constantFrom('?', '@', 'c', ' ', "'", '"') }).map((s) => `-- ${s}\n`),
);
const name = fc.constantFrom('a', 'b', 'key', 'x_1');

type Piece = { kind: 'inert'; text: string } | { kind: 'param'; name: string };
const pieces = fc.array(
  fc.oneof(
    inert.map((text): Piece => ({ kind: 'inert', text })),
    name.map((n): Piece => ({ kind: 'param', name: n })),
  ),
  { maxLength: 12 },
);

function inertTexts(sql: string): string[] {
  return [...sql.matchAll(/'(?:[^']|'')*'|"(?:[^"]|"")*"|-- [^\n]*\n/g)].map((m) => m[0]);
}

describe('toPg', () => {
  it('numbers ? placeholders in order and leaves literals, identifiers and comments untouched', () => {
    fc.assert(
      fc.property(pieces, (ps) => {
        const sql = ps.map((p) => (p.kind === 'inert' ? p.text : ' ? ')).join(' ');
        const params = ps.filter((p) => p.kind === 'param').map((_, i) => i * 10);
        const q = toPg(sql, params);
        const expected = ps
          .map((p, i) =>
            p.kind === 'inert' ? p.text : ` $${ps.slice(0, i + 1).filter((x) => x.kind === 'param').length} `,
          )
          .join(' ');
        expect(q.text).toBe(expected);
        expect(q.values).toEqual(params);
        expect(inertTexts(q.text)).toEqual(inertTexts(sql));
      }),
    );
  });

  it('maps each @name to one $n, the same each time it repeats, in first-use order', () => {
    fc.assert(
      fc.property(pieces, (ps) => {
        const sql = ps.map((p) => (p.kind === 'inert' ? p.text : ` @${p.name} `)).join(' ');
        const params = { a: 'A', b: 'B', key: 'K', x_1: 'X', unused: 'U' };
        const q = toPg(sql, params);
        const order = [...new Set(ps.flatMap((p) => (p.kind === 'param' ? [p.name] : [])))];
        const expected = ps.map((p) => (p.kind === 'inert' ? p.text : ` $${order.indexOf(p.name) + 1} `)).join(' ');
        expect(q.text).toBe(expected);
        expect(q.values).toEqual(order.map((n) => params[n as keyof typeof params]));
      }),
    );
  });

  it('names what is wrong: missing named parameter, count mismatch, mixed or mismatched styles', () => {
    expect(() => toPg('SELECT @a, @b', { a: 1 })).toThrow(/missing named parameter @b/);
    expect(() => toPg('SELECT @a', { a: undefined })).toThrow(/missing named parameter @a/);
    expect(() => toPg('SELECT ?, ?', [1])).toThrow(/1 parameter\(s\) given to a statement with 2/);
    expect(() => toPg('SELECT 1', [1])).toThrow(/given to a statement with none/);
    expect(() => toPg('SELECT ?, @a', [1])).toThrow(/both \? and @name/);
    expect(() => toPg('SELECT ?', { a: 1 })).toThrow(/named parameters given to a statement with \?/);
    expect(() => toPg('SELECT @a', [1])).toThrow(/positional parameters given to a statement with @name/);
    expect(() => toPg(`SELECT 'open`, [])).toThrow(/unterminated string literal/);
  });

  it('un-comments a /*pg: */ clause, which SQLite reads as a comment; @name inside it, never ?', () => {
    expect(toPg('SELECT id FROM c WHERE h = ? ORDER BY id LIMIT 1 /*pg: FOR UPDATE SKIP LOCKED */', ['b'])).toEqual({
      text: 'SELECT id FROM c WHERE h = $1 ORDER BY id LIMIT 1  FOR UPDATE SKIP LOCKED ',
      values: ['b'],
    });
    expect(toPg(`SELECT 1 AS queued /*pg: , pg_notify('c', @host) */`, { host: 'b', extra: 1 })).toEqual({
      text: `SELECT 1 AS queued  , pg_notify('c', $1) `,
      values: ['b'],
    });
    expect(toPg(`SELECT '/*pg: x */'`)).toEqual({ text: `SELECT '/*pg: x */'`, values: [] });
    expect(() => toPg('SELECT 1 /*pg: WHERE x = ? */', [1])).toThrow(/a \? placeholder inside a \/\*pg: \*\/ clause/);
  });

  it('leaves operators and casts alone and keeps the cached translation per text', () => {
    expect(toPg(`SELECT x::text, a @> b, "q?" FROM t /* ? @c */ WHERE k = @k`, { k: 1 })).toEqual({
      text: `SELECT x::text, a @> b, "q?" FROM t /* ? @c */ WHERE k = $1`,
      values: [1],
    });
    const sql = 'UPDATE t SET v = ? WHERE id = ?';
    expect(toPg(sql, [1, 2]).values).toEqual([1, 2]);
    expect(toPg(sql, [3, 4])).toEqual({ text: 'UPDATE t SET v = $1 WHERE id = $2', values: [3, 4] });
  });
});
