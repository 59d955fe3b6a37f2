import { encryptedColumns, encryptedTables } from '../crypto/at-rest.ts';
import type { RuleProblem } from './rule-file.ts';
import type { SqlRule } from './types.ts';

/** Words that follow a table name where an alias could stand. */
const NOT_ALIASES = new Set(
  'where join left right full inner cross natural on using group order limit union except intersect having window for as'.split(
    ' ',
  ),
);

/**
 * A SQL rule cannot look inside a column encrypted at rest (src/crypto/at-rest.ts): it would see a
 * ciphertext and, say, flag every phone number as malformed. The problems name each such use, except
 * `… IS [NOT] NULL` (a blank value is stored as NULL, so presence is visible) and the `<column>_bidx`
 * blind index (exact matches). Values are checked by code rules, which the runner feeds decrypted rows.
 */
export function encryptedColumnProblems(rule: SqlRule): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const parts = [
    { key: 'check', text: rule.check },
    { key: 'where', text: rule.population.where ?? '' },
    { key: 'division', text: rule.population.division ?? '' },
  ];
  const fromTable = rule.population.from
    .trim()
    .split(/\s+/)[0]
    ?.replace(/^public\./, '');
  const everything = `${rule.population.from}\n${parts.map((p) => p.text).join('\n')}`;
  for (const table of encryptedTables()) {
    // Names the table goes by: itself, and each alias after it.
    const names = new Set([table]);
    for (const m of everything.matchAll(new RegExp(`\\b${table}\\s+(?:as\\s+)?([a-z_][a-z0-9_]*)`, 'gi'))) {
      if (!NOT_ALIASES.has(m[1]!.toLowerCase())) names.add(m[1]!);
    }
    for (const { column } of encryptedColumns(table)) {
      const qualified = [...names].map((n) => `${n}\\.${column}`);
      // A bare column name counts when the rule's own table is this one.
      const pattern =
        fromTable === table
          ? `(?<![.\\w])(?:${qualified.join('|')}|${column})\\b`
          : `\\b(?:${qualified.join('|')})\\b`;
      for (const part of parts) {
        const text = part.text.replace(/'(?:[^']|'')*'/g, (s) => ' '.repeat(s.length));
        for (const m of text.matchAll(new RegExp(pattern, 'gi'))) {
          if (/^\s+is\s+(not\s+)?null\b/i.test(text.slice(m.index! + m[0].length))) continue;
          const line =
            part.key === 'check' && rule.lines
              ? rule.lines.checkLine + (text.slice(0, m.index).match(/\n/g)?.length ?? 0)
              : (rule.lines?.keys[part.key] ?? 0);
          problems.push({
            file: rule.lines?.file ?? `${rule.source} (rule ${rule.id})`,
            line,
            message:
              `${table}.${column} is encrypted at rest, so SQL sees only a ciphertext: test ${column} IS NULL ` +
              `for presence, compare ${column}_bidx for an exact match, or check the value in a code rule`,
          });
        }
      }
    }
  }
  return problems;
}
