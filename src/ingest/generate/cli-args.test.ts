import { describe, expect, it } from 'vitest';
import { parseCliArgs, parseCount, parseDefects, parseEntityDefects, UsageError } from './cli-args.ts';

describe('generate command line', () => {
  it('parses the options', () => {
    expect(
      parseCliArgs([
        '--persons',
        '200k',
        '--seed',
        'demo/1',
        '--defects',
        'bad_check_digit=0.001,duplicate_person=0.0005',
        '--as-of',
        '2024-06-30',
      ]),
    ).toEqual({
      options: {
        persons: 200_000,
        seed: 'demo/1',
        asOf: '2024-06-30',
        defects: { bad_check_digit: 0.001, duplicate_person: 0.0005 },
      },
      manifestPath: 'reports/generate-manifest-demo_1.json',
    });
    expect(parseCliArgs(['--persons', '10', '--seed', 's', '--manifest', 'm.json'])?.manifestPath).toBe(
      'm.json',
    );
    expect(parseCliArgs(['--help'])).toBeNull();
    expect(parseCount('1_000_000', 'n')).toBe(1_000_000);
    expect(parseCount('1M', 'n')).toBe(1_000_000);
  });

  it.each([
    [[], /--persons is required/],
    [['--persons', '10'], /--seed is required/],
    [['--persons', 'many', '--seed', 's'], /--persons must be a whole number/],
    [['--persons=-5', '--seed', 's'], /--persons must be a whole number/],
    [['--persons', '-5', '--seed', 's'], /--persons/],
    [['--persons', '1.5', '--seed', 's'], /--persons must be a whole number/],
    [['--persons', '10', '--seed', 's', '--defects', 'typo=0.1'], /unknown defect kind 'typo'/],
    [['--persons', '10', '--seed', 's', '--defects', 'bad_check_digit=2'], /from 0 to 1/],
    [['--persons', '10', '--seed', 's', '--defects', 'bad_check_digit=-0.1'], /from 0 to 1/],
    [['--persons', '10', '--seed', 's', '--defects', 'bad_check_digit=x'], /from 0 to 1/],
    [['--persons', '10', '--seed', 's', '--defects', 'bad_check_digit'], /kind=rate/],
    [['--persons', '10', '--seed', 's', '--as-of', '2024-02-30'], /--as-of must be a real/],
    [['--persons', '10', '--seed', 's', '--colour'], /Unknown option/],
    [['--persons', '10', '--seed', 's', 'extra'], /positional/],
    [['--persons', '0', '--seed', 's', '--entities', 'lots'], /--entities must be a whole number/],
    [['--persons', '0', '--seed', 's', '--entities', '-1'], /--entities/],
    [['--persons', '0', '--seed', 's', '--entity-defects', 'bad_uscc_check=0.1'], /needs --entities/],
    [
      ['--persons', '0', '--seed', 's', '--entities', '10', '--entity-defects', 'bad_check_digit=0.1'],
      /--entity-defects: unknown defect kind 'bad_check_digit'/,
    ],
    [
      ['--persons', '0', '--seed', 's', '--entities', '10', '--entity-defects', 'bad_uscc_check=1.5'],
      /--entity-defects: rate of bad_uscc_check must be a number from 0 to 1/,
    ],
    [
      ['--persons', '0', '--seed', 's', '--entities', '10', '--entity-defects', 'bad_uscc_check'],
      /--entity-defects: expected kind=rate/,
    ],
    [
      [
        '--persons',
        '0',
        '--seed',
        's',
        '--entities',
        '1',
        '--entity-defects',
        'legal_rep_missing=.1,legal_rep_missing=.2',
      ],
      /legal_rep_missing given twice/,
    ],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });

  it('rejects rates that sum to more than 1', () => {
    expect(() => parseDefects('bad_check_digit=0.7,duplicate_person=0.7')).not.toThrow();
    expect(() =>
      parseCliArgs([
        '--persons',
        '10',
        '--seed',
        's',
        '--defects',
        'bad_check_digit=0.7,duplicate_person=0.7',
      ]),
    ).toThrow(/sum/);
  });

  it('parses --entities and --entity-defects for the entity generator', () => {
    expect(
      parseCliArgs([
        '--persons',
        '0',
        '--seed',
        'e1',
        '--entities',
        '1m',
        '--entity-defects',
        'bad_uscc_check=0.002,legal_rep_deceased=0',
        '--as-of',
        '2025-06-30',
      ]),
    ).toEqual({
      options: { persons: 0, seed: 'e1', asOf: '2025-06-30' },
      entities: {
        entities: 1_000_000,
        seed: 'e1',
        asOf: '2025-06-30',
        defects: { bad_uscc_check: 0.002, legal_rep_deceased: 0 },
      },
      manifestPath: 'reports/generate-manifest-e1.json',
    });
    // Without --entities there is no entity run; without --entity-defects the generator's defaults apply.
    expect(parseCliArgs(['--persons', '10', '--seed', 's'])).not.toHaveProperty('entities');
    expect(parseCliArgs(['--persons', '10', '--seed', 's', '--entities', '200k'])?.entities).toEqual({
      entities: 200_000,
      seed: 's',
    });
    expect(parseEntityDefects('point_outside_division=0.01, shareholdings_over_100=0.02')).toEqual({
      point_outside_division: 0.01,
      shareholdings_over_100: 0.02,
    });
  });

  it('rejects entity defect rates that sum to more than 1', () => {
    expect(() =>
      parseCliArgs([
        '--persons',
        '0',
        '--seed',
        's',
        '--entities',
        '10',
        '--entity-defects',
        'bad_uscc_check=0.6,legal_rep_missing=0.6',
      ]),
    ).toThrow(/--entity-defects: rates sum to 1\.2/);
  });
});
