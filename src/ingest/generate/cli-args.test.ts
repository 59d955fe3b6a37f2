import { describe, expect, it } from 'vitest';
import { parseCliArgs, parseCount, parseDefects, UsageError } from './cli-args.ts';

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
});
