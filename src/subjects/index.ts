import { ecologicalProtection } from './ecological-protection.ts';
import { elderlyCare } from './elderly-care.ts';
import { enterpriseCredit } from './enterprise-credit.ts';
import type { SubjectDefinition } from './subject.ts';

/**
 * Every subject, declared in its own module here; importing this registers their GraphQL types and
 * queries and, for subjects with a geometry, their OGC collections. The data-resource catalogue lists
 * them from this array.
 */
export const SUBJECTS: readonly SubjectDefinition[] = [elderlyCare, enterpriseCredit, ecologicalProtection];

export type { SubjectDefinition } from './subject.ts';
