import type { FieldEntry } from '../../schema/catalogue.ts';
import { type Decision, decideField } from '../access/policy.ts';
import type { RequestAccess } from '../access/request-access.ts';
import { errors } from '../errors.ts';
import type { TagDefinition } from './definitions.ts';
import { REGISTRIES } from './registries.ts';

/**
 * A tag is decided like a field: its own level, sharing class and mask rule, against the caller's grant on
 * the tag's registry dataset (persons, households, entities, features) and owned by the tag's department —
 * the same policy function (src/access/policy.ts) that decides every catalogue field. Decisions are
 * cached per request and every one is tallied for the audit under `<Type>.tags.<code>`.
 */

/** The catalogue-style entry of a tag, as the policy reads it. */
export function tagEntry(tag: TagDefinition): FieldEntry {
  return {
    level: tag.level,
    share: tag.share,
    mask: tag.mask,
    description: `Tag ${tag.code}: ${tag.description}`,
    ...(tag.level === 'sensitive' && tag.registry === 'person' ? { sensitivePersonal: true } : {}),
  };
}

const cache = new WeakMap<RequestAccess, Map<string, Decision>>();

export function decideTag(access: RequestAccess, tag: TagDefinition): Decision {
  let decisions = cache.get(access);
  if (!decisions) {
    decisions = new Map();
    cache.set(access, decisions);
  }
  let decision = decisions.get(tag.code);
  if (!decision) {
    const dataset = REGISTRIES[tag.registry].dataset;
    decision = decideField(access.principal, dataset.id, tag.owner, tagEntry(tag));
    // A mask decision on a tag that cannot be masked is a denial (fail closed), as for fields.
    if (decision.kind === 'mask' && tag.mask === 'none') decision = { kind: 'deny', reason: 'forbidden' };
    decisions.set(tag.code, decision);
  }
  return decision;
}

/** The path a tag decision is audited under. */
export function tagPath(tag: TagDefinition): string {
  return `${REGISTRIES[tag.registry].typeName}.tags.${tag.code}`;
}

/**
 * Throws unless the caller may use the tag in clear; notes the decision for the audit. A filter gets
 * FORBIDDEN_FILTER (like filtering on a field), anything else FORBIDDEN_FIELD; a missing or unapproved
 * purpose says so (PURPOSE_REQUIRED / PURPOSE_NOT_APPROVED).
 */
export function requireTagClear(
  access: RequestAccess,
  tag: TagDefinition,
  path: string,
  use: 'filter' | 'read' = 'read',
): void {
  const decision = decideTag(access, tag);
  access.noteField(tagPath(tag), decision);
  if (decision.kind === 'allow') return;
  if (decision.kind === 'deny' && decision.reason !== 'forbidden') throw access.denial(decision, path);
  if (use === 'filter') throw errors.forbiddenFilter(path, `tag ${tag.code}`);
  throw errors.forbiddenField(
    path,
    decision.kind === 'mask'
      ? `tag '${tag.code}' is visible to this caller only masked`
      : 'no grant covers its classification',
  );
}
