import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type FieldEntry,
  f,
  LEVELS,
  type LevelName,
  type MaskRule,
  type Share,
} from '../../schema/catalogue.ts';
import { personsDataset } from '../../schema/population.ts';
import { type Decision, decideField } from './policy.ts';
import { type Grant, type Principal, PUBLIC_PRINCIPAL } from './principal.ts';

const DATASET = 'population.persons';
const OWNER = 'MPS';
const PURPOSES = ['social_assistance', 'criminal_investigation', 'market_supervision'] as const;

function principal(
  grant: { maxLevel: number; purposes: string[] } | null,
  purpose: string | null,
  department: string | null = 'CA-110105',
): Principal {
  const grants = new Map<string, Grant>();
  if (grant)
    grants.set(DATASET, { maxLevel: grant.maxLevel, purposes: new Set(grant.purposes), canWrite: false });
  return {
    ...PUBLIC_PRINCIPAL,
    id: department ? `key:${department}` : 'public',
    kind: department ? 'application' : 'public',
    department: department
      ? { code: department, name: department, kind: 'x', adminLevel: 'national', jurisdictionCode: null }
      : null,
    grants,
    purpose,
  };
}

const entryArb: fc.Arbitrary<FieldEntry> = fc.record({
  level: fc.constantFrom<LevelName>('public', 'internal', 'restricted', 'sensitive'),
  share: fc.constantFrom<Share>('unconditional', 'conditional', 'none'),
  mask: fc.constantFrom<MaskRule>('none', 'idNumber', 'phone', 'name', 'address', 'point', 'date', 'redact'),
  description: fc.constant('generated'),
});
const grantArb = fc.option(
  fc.record({
    maxLevel: fc.integer({ min: 1, max: 4 }),
    purposes: fc.subarray([...PURPOSES]),
  }),
  { nil: null },
);
const purposeArb = fc.option(fc.constantFrom(...PURPOSES, 'unknown_purpose'), { nil: null });
const departmentArb = fc.option(fc.constantFrom('CA-110105', 'SAMR-440000', OWNER), { nil: null });

const RANK: Record<Decision['kind'], number> = { deny: 0, mask: 1, allow: 2 };
const RUNS = { numRuns: 2000, seed: 20_261_127 };

describe('decideField: the documented examples', () => {
  const idNumber = personsDataset.fields.idNumber;
  const name = personsDataset.fields.name;
  const gender = personsDataset.fields.gender;
  const ethnicity = personsDataset.fields.ethnicity;
  const decide = (p: Principal, e: FieldEntry) => decideField(p, DATASET, OWNER, e);
  const county = principal({ maxLevel: 3, purposes: ['social_assistance'] }, null);
  const province = principal({ maxLevel: 2, purposes: ['market_supervision'] }, null, 'SAMR-440000');
  const national = (purpose: string | null) =>
    principal({ maxLevel: 4, purposes: ['criminal_investigation'] }, purpose, 'MPS-X');

  it('a grant at internal masks restricted fields with a mask rule and denies the others', () => {
    expect(decide(province, name)).toEqual({ kind: 'mask' });
    expect(decide(province, gender)).toEqual({ kind: 'allow' });
    expect(decide(province, ethnicity)).toEqual({ kind: 'deny', reason: 'forbidden' });
    expect(decide(province, idNumber)).toEqual({ kind: 'deny', reason: 'forbidden' });
  });

  it('a grant at restricted masks sensitive fields and needs no purpose for that', () => {
    expect(decide(county, idNumber)).toEqual({ kind: 'mask' });
    expect(decide(county, name)).toEqual({ kind: 'allow' });
  });

  it('sensitive data in clear needs a sensitive grant and an approved purpose', () => {
    expect(decide(national(null), idNumber)).toEqual({ kind: 'deny', reason: 'purpose_required' });
    expect(decide(national('social_assistance'), idNumber)).toEqual({
      kind: 'deny',
      reason: 'purpose_not_approved',
    });
    expect(decide(national('criminal_investigation'), idNumber)).toEqual({ kind: 'allow' });
  });

  it('public fields are open to everyone; closed fields only to their owner', () => {
    expect(decide(PUBLIC_PRINCIPAL, f.publicOpen('x'))).toEqual({ kind: 'allow' });
    expect(decide(PUBLIC_PRINCIPAL, gender)).toEqual({ kind: 'deny', reason: 'forbidden' });
    expect(decide(national('criminal_investigation'), f.closed('x'))).toEqual({
      kind: 'deny',
      reason: 'forbidden',
    });
    expect(decide(principal(null, null, OWNER), f.closed('x'))).toEqual({ kind: 'allow' });
  });
});

describe('decideField: properties', () => {
  it('never allows a non-public field above the grant level (closed fields aside, which only the owner reads)', () => {
    fc.assert(
      fc.property(entryArb, grantArb, purposeArb, departmentArb, (entry, grant, purpose, dept) => {
        const decision = decideField(principal(grant, purpose, dept), DATASET, OWNER, entry);
        const level = LEVELS[entry.level];
        if (decision.kind === 'allow' && level > LEVELS.public && entry.share !== 'none') {
          expect(grant).not.toBeNull();
          expect(grant!.maxLevel).toBeGreaterThanOrEqual(level);
        }
      }),
      RUNS,
    );
  });

  it('never reveals anything to a principal without a grant, except public fields and closed ones to the owner', () => {
    fc.assert(
      fc.property(entryArb, purposeArb, departmentArb, (entry, purpose, dept) => {
        const decision = decideField(principal(null, purpose, dept), DATASET, OWNER, entry);
        const expected =
          entry.level === 'public' || (entry.share === 'none' && dept === OWNER) ? 'allow' : 'deny';
        expect(decision.kind).toBe(expected);
      }),
      RUNS,
    );
  });

  it('masks only one level below the field, and only fields with a mask rule', () => {
    fc.assert(
      fc.property(entryArb, grantArb, purposeArb, departmentArb, (entry, grant, purpose, dept) => {
        const decision = decideField(principal(grant, purpose, dept), DATASET, OWNER, entry);
        if (decision.kind === 'mask') {
          expect(entry.mask).not.toBe('none');
          expect(entry.share).not.toBe('none');
          expect(grant!.maxLevel).toBe(LEVELS[entry.level] - 1);
        }
      }),
      RUNS,
    );
  });

  it('allows conditional data only for a declared purpose the grant approves', () => {
    fc.assert(
      fc.property(entryArb, grantArb, purposeArb, departmentArb, (entry, grant, purpose, dept) => {
        const decision = decideField(principal(grant, purpose, dept), DATASET, OWNER, entry);
        if (decision.kind === 'allow' && entry.share === 'conditional' && entry.level !== 'public') {
          expect(purpose).not.toBeNull();
          expect(grant!.purposes).toContain(purpose);
        }
        if (decision.kind === 'deny' && decision.reason !== 'forbidden') {
          expect(entry.share).toBe('conditional');
          expect(decision.reason).toBe(purpose === null ? 'purpose_required' : 'purpose_not_approved');
        }
      }),
      RUNS,
    );
  });

  it('closed fields: the owner only, whatever the grant', () => {
    fc.assert(
      fc.property(entryArb, grantArb, purposeArb, departmentArb, (entry, grant, purpose, dept) => {
        fc.pre(entry.share === 'none' && entry.level !== 'public');
        const decision = decideField(principal(grant, purpose, dept), DATASET, OWNER, entry);
        expect(decision.kind).toBe(dept === OWNER ? 'allow' : 'deny');
      }),
      RUNS,
    );
  });

  it('more is never less: a higher grant or an extra approved purpose never reduces access to unconditional data', () => {
    fc.assert(
      fc.property(entryArb, grantArb, purposeArb, departmentArb, (entry, grant, purpose, dept) => {
        fc.pre(grant !== null && grant.maxLevel < 4 && entry.share !== 'conditional');
        const before = decideField(principal(grant, purpose, dept), DATASET, OWNER, entry);
        const higher = decideField(
          principal({ ...grant!, maxLevel: grant!.maxLevel + 1 }, purpose, dept),
          DATASET,
          OWNER,
          entry,
        );
        expect(RANK[higher.kind]).toBeGreaterThanOrEqual(RANK[before.kind]);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(entryArb, grantArb, purposeArb, departmentArb, (entry, grant, purpose, dept) => {
        fc.pre(grant !== null && purpose !== null);
        const before = decideField(principal(grant, purpose, dept), DATASET, OWNER, entry);
        const approved = decideField(
          principal({ ...grant!, purposes: [...grant!.purposes, purpose!] }, purpose, dept),
          DATASET,
          OWNER,
          entry,
        );
        expect(RANK[approved.kind]).toBeGreaterThanOrEqual(RANK[before.kind]);
      }),
      RUNS,
    );
  });

  it('documents a gap: for conditional data, a higher grant without a purpose sees less than a lower one', () => {
    // A restricted grant masks a conditional sensitive field; a sensitive grant without a purpose is denied
    // it (PURPOSE_REQUIRED). Deliberate (declare a purpose to read), but not monotonic; see the report.
    const entry = personsDataset.fields.phone;
    expect(decideField(principal({ maxLevel: 3, purposes: [] }, null), DATASET, OWNER, entry).kind).toBe(
      'mask',
    );
    expect(decideField(principal({ maxLevel: 4, purposes: [] }, null), DATASET, OWNER, entry).kind).toBe(
      'deny',
    );
  });
});
