import { describe, expect, it } from 'vitest';
import {
  ageOn,
  birthDateFor,
  birthDateForAge,
  createRng,
  ethnicityPickerFor,
  householdAddress,
  maritalStatusFor,
  memberSurname,
  planHousehold,
  type Rng,
  sampleEducation,
  sampleGivenName,
  sampleMobilePhone,
  sampleSurname,
} from './index.ts';

const AS_OF = new Date(Date.UTC(2020, 10, 1));

interface SyntheticPerson {
  readonly name: string;
  readonly sex: string;
  readonly birthDate: string;
  readonly ethnicity: string;
  readonly maritalStatus: string;
  readonly education: string | null;
  readonly phone: string | null;
  readonly relation: string;
  readonly address: string;
}

/** The generator's inner loop, as a caller would write it: one forked stream per household. */
function generateCounty(
  seed: string,
  countyCode: string,
  countyName: string,
  persons: number,
  emit: (p: SyntheticPerson) => void,
): number {
  const countyRng: Rng = createRng(seed).fork(`county:${countyCode}`);
  const pickEthnicity = ethnicityPickerFor(countyCode);
  let made = 0;
  for (let h = 0; made < persons; h++) {
    const rng = countyRng.fork(h);
    const plan = planHousehold(rng);
    const address = householdAddress(rng, countyName);
    const headBirth = birthDateForAge(rng, plan.headAge, AS_OF);
    const headSurname = sampleSurname(rng);
    const householdEthnicity = pickEthnicity(rng);
    let spouseSurname: string | null = null;
    for (const role of plan.roles) {
      const birthDate = birthDateFor(role, headBirth, rng, AS_OF);
      const age = ageOn(birthDate, AS_OF);
      const surname = memberSurname(plan, role, headSurname, spouseSurname, rng);
      if (role.relation === '10') spouseSurname = surname;
      emit({
        name: surname + sampleGivenName(rng, role.sex),
        sex: role.sex,
        birthDate,
        ethnicity: role.relation === '10' || role.relation === '99' ? pickEthnicity(rng) : householdEthnicity,
        maritalStatus: maritalStatusFor(plan, role, age, rng),
        education: sampleEducation(rng, age),
        phone: age < 12 ? null : sampleMobilePhone(rng),
        relation: role.relation,
        address,
      });
      made++;
    }
  }
  return made;
}

describe('synthetic population end to end', () => {
  it('generates 100 000 persons’ attributes deterministically', () => {
    const first: SyntheticPerson[] = [];
    let count = 0;
    let married = 0;
    const made = generateCounty('speed', '450102', '兴宁区', 100_000, (p) => {
      if (first.length < 50) first.push(p);
      if (p.maritalStatus === '20') married++;
      count++;
    });
    expect(made).toBe(count);
    expect(count).toBeGreaterThanOrEqual(100_000);
    expect(married / count).toBeGreaterThan(0.4);

    const again: SyntheticPerson[] = [];
    generateCounty('speed', '450102', '兴宁区', 50, (p) => {
      if (again.length < 50) again.push(p);
    });
    expect(again).toEqual(first);
    const other: SyntheticPerson[] = [];
    generateCounty('speed', '450103', '青秀区', 50, (p) => {
      if (other.length < 50) other.push(p);
    });
    expect(other).not.toEqual(first);
  });
});
