/**
 * Pure, seeded building blocks for synthetic population data (`npm run generate`): a forkable
 * PRNG, names and addresses, demographic attributes and household composition. No I/O, no
 * database; every table is prepared once at module load.
 *
 * Determinism: derive one stream per unit of work from the root seed, e.g.
 * `createRng(seed).fork('county:' + code).fork(householdIndex)`, and draw that unit's attributes
 * from it in a fixed order. A fork depends only on its parent's seed and its label, so units can be
 * generated in any order or in parallel, and a new attribute drawn from a new fork label leaves the
 * existing output unchanged. (Appending a draw to an existing stream shifts everything after it in
 * that stream only.)
 *
 * Per household (see households.ts for the full loop): `planHousehold` → `birthDateForAge(plan.headAge)`
 * → for each role in order `birthDateFor`, `memberSurname` + `sampleGivenName`, `maritalStatusFor`,
 * `sampleEducation`, `sampleMobilePhone`, and the county's `ethnicityPickerFor(code)` (resolve the
 * picker once per county). `householdAddress` once per household.
 */

export * from './calendar.ts';
export * from './demography.ts';
export * from './households.ts';
export * from './names.ts';
export * from './rng.ts';
