import { RULE_TAGS, type RuleTag } from '../../src/tags/definitions.ts';
import {
  countStatement,
  type RecomputeResult,
  recomputeTag,
  syncTagDefinitions,
} from '../../src/tags/store.ts';
import type { BenchContext } from './context.ts';
import { type Comparison, compare, type Measurement, timeBulk } from './harness.ts';

/**
 * Rule tags over the bench population (1M persons on the server): the set-based recompute of each person
 * rule tag against its bare predicate, `SELECT count(*) FROM persons r WHERE <predicate>`, measured in the
 * same run. Three recomputes per tag:
 *  - first: no assignment yet, every match is opened (the table is emptied, untimed, before each round);
 *  - unchanged: nothing changed since the last recompute, so nothing moves (the steady state of a schedule);
 *  - a year later (elderly only): the reference date moves a year, opening the persons who reached 60.
 * Figures are persons/s over the whole table; the ratio is recompute time over predicate time.
 */

const noteOf = (r: RecomputeResult | undefined) =>
  r
    ? `${r.matched.toLocaleString()} matched, ${r.opened.toLocaleString()} opened, ${r.closed.toLocaleString()} closed`
    : '';

export async function benchTags(ctx: BenchContext): Promise<Comparison[]> {
  const { db, persons, quick } = ctx;
  const rounds = quick ? 2 : 3;
  const asOf = new Date().toISOString().slice(0, 10);
  const later = `${Number(asOf.slice(0, 4)) + 1}${asOf.slice(4)}`;
  await syncTagDefinitions(db);
  const out: Comparison[] = [];
  const tags = RULE_TAGS.filter((t) => t.registry === 'person');

  const recompute = (tag: RuleTag, day: string) => recomputeTag(db, tag, { asOf: day, triggeredBy: 'bench' });
  const predicate = (tag: RuleTag, day: string): Promise<Measurement> => {
    const bare = countStatement(tag, day);
    return timeBulk(`${tag.code}: SELECT count(*) WHERE predicate`, persons, () =>
      db.query(bare.text, bare.params),
    );
  };

  for (const tag of tags) {
    let last: RecomputeResult | undefined;
    const first = await compare(
      'tags',
      rounds,
      async () => {
        await db.query('DELETE FROM tag_assignments WHERE tag_code = $1', [tag.code]);
        await db.query('ANALYZE tag_assignments');
        return timeBulk(`${tag.code}: first recompute (opens every match)`, persons, async () => {
          last = await recompute(tag, asOf);
        });
      },
      () => predicate(tag, asOf),
    );
    out.push({ ...first, note: noteOf(last) });
    const unchanged = await compare(
      'tags',
      rounds,
      () =>
        timeBulk(`${tag.code}: recompute, nothing changed`, persons, async () => {
          last = await recompute(tag, asOf);
        }),
      () => predicate(tag, asOf),
    );
    out.push({ ...unchanged, note: noteOf(last) });
    console.log(`tags: ${tag.code} done`);
  }

  const elderly = tags.find((t) => t.code === 'elderly')!;
  let moved: RecomputeResult | undefined;
  const yearLater = await compare(
    'tags',
    rounds,
    async () => {
      await recompute(elderly, asOf); // back to the reference date, untimed
      return timeBulk('elderly: recompute a year later (opens who turned 60)', persons, async () => {
        moved = await recompute(elderly, later);
      });
    },
    () => predicate(elderly, later),
  );
  out.push({ ...yearLater, note: noteOf(moved) });
  await recompute(elderly, asOf);
  return out;
}
