import type { AttributeRecordType } from '../../schema/attributes.ts';
import type { Dataset, FieldEntry } from '../../schema/catalogue.ts';
import { featuresDataset } from '../../schema/geospatial.ts';
import { entitiesDataset } from '../../schema/legal-entity.ts';
import { personsDataset } from '../../schema/population.ts';
import { type Decision, decideField } from '../access/policy.ts';
import type { RequestAccess } from '../access/request-access.ts';
import { errors } from '../errors.ts';
import type { AttributeDefinition } from './definitions.ts';

/**
 * An attribute is decided like a column: its definition is its catalogue entry (level, sharing class, mask
 * rule, owner), decided by the same policy function (src/access/policy.ts) against the caller's grant on
 * the record's dataset (persons, entities, features). Decisions are cached per request and every one is
 * tallied for the audit under `<Type>.attributes.<code>`.
 */

export const RECORD_DATASETS: Readonly<Record<AttributeRecordType, Dataset>> = {
  person: personsDataset as unknown as Dataset,
  entity: entitiesDataset as unknown as Dataset,
  feature: featuresDataset as unknown as Dataset,
};

export const RECORD_TYPE_NAMES: Readonly<Record<AttributeRecordType, string>> = {
  person: 'Person',
  entity: 'Entity',
  feature: 'Feature',
};

/** The field-catalogue entry of an attribute, built from its definition: the one classification it has. */
export function attributeEntry(def: AttributeDefinition): FieldEntry {
  return {
    level: def.level,
    share: def.share,
    mask: def.mask,
    description: `${def.name}: ${def.description}`,
    ...(def.level === 'sensitive' && def.recordType === 'person' ? { sensitivePersonal: true } : {}),
    // Open (may appear in open data) is derived, not declared: public level and unconditional sharing.
    ...(def.level === 'public' && def.share === 'unconditional' ? { open: true } : {}),
  };
}

const cache = new WeakMap<RequestAccess, Map<string, Decision>>();

export function decideAttribute(access: RequestAccess, def: AttributeDefinition): Decision {
  let decisions = cache.get(access);
  if (!decisions) {
    decisions = new Map();
    cache.set(access, decisions);
  }
  const key = `${def.recordType}\u0000${def.code}\u0000${def.version}`;
  let decision = decisions.get(key);
  if (!decision) {
    decision = decideField(
      access.principal,
      RECORD_DATASETS[def.recordType].id,
      def.ownerDept,
      attributeEntry(def),
    );
    // A mask decision on an attribute that cannot be masked is a denial (fail closed), as for fields.
    if (decision.kind === 'mask' && def.mask === 'none') decision = { kind: 'deny', reason: 'forbidden' };
    decisions.set(key, decision);
  }
  return decision;
}

/** The path an attribute decision is audited under, as a field path: `Person.attributes.disability_level`. */
export function attributePath(def: Pick<AttributeDefinition, 'recordType' | 'code'>): string {
  return `${RECORD_TYPE_NAMES[def.recordType]}.attributes.${def.code}`;
}

/**
 * Throws unless the caller may use the attribute in clear (filters: FORBIDDEN_FILTER); notes the decision.
 * A missing or unapproved purpose says so (PURPOSE_REQUIRED / PURPOSE_NOT_APPROVED).
 */
export function requireAttributeClear(
  access: RequestAccess,
  def: AttributeDefinition,
  argument: string,
  use: 'filter' | 'read' = 'read',
): void {
  const decision = decideAttribute(access, def);
  access.noteField(attributePath(def), decision);
  if (decision.kind === 'allow') return;
  if (decision.kind === 'deny' && decision.reason !== 'forbidden') throw access.denial(decision, argument);
  if (use === 'filter') throw errors.forbiddenFilter(argument, attributePath(def));
  throw errors.forbiddenField(
    attributePath(def),
    decision.kind === 'mask' ? 'visible to this caller only masked' : 'no grant covers its classification',
  );
}
