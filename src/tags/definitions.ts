import type { LevelName, Share } from '../../schema/catalogue.ts';
import type { TagRegistry } from '../../schema/tags.ts';

/**
 * Every tag, declared once. A tag is classified like a field (level, sharing class, mask rule) and
 * decided per caller against the grant on its registry's dataset (src/tags/access.ts).
 *
 * Masking a tag: `redact` shows a caller one level below that *some* tag of that level applies ('***'),
 * never which one nor its provenance; `none` hides it entirely below its level. Filtering, counting and
 * assigning always need the tag in clear.
 *
 * A rule tag's predicate is a boolean SQL expression over the registry record, aliased `r` (persons r,
 * households r, entities r, features r). It may use registry fields and spatial relations through
 * EXISTS subqueries (never joins that multiply rows) and the named parameter `:as_of` (the reference
 * date, a date). It must not read persons' id_number, phone or address columns (encrypted at rest).
 * Change the predicate ⇒ bump `version`: assignments record the version that opened them.
 */

export type TagMask = 'none' | 'redact';

interface TagBase {
  code: string;
  name: string;
  description: string;
  registry: TagRegistry;
  /** Department code responsible for the tag. */
  owner: string;
  level: LevelName;
  share: Share;
  mask: TagMask;
}

export interface ManualTag extends TagBase {
  kind: 'manual';
  /** Department kinds (departments.kind) that may assign and end it, within their jurisdiction. */
  assignableBy: readonly string[];
}

export interface RuleTag extends TagBase {
  kind: 'rule';
  version: string;
  predicate: string;
}

export type TagDefinition = ManualTag | RuleTag;

/** The current ecological protection red lines (三区三线: 生态保护红线) as of :as_of, as a FROM item `z`. */
const RED_LINE_ZONES = `features z
   WHERE z.layer_id = 'planning-zones' AND z.properties->>'zone_kind' = 'ecological_protection_red_line'
     AND (z.valid_from IS NULL OR z.valid_from <= :as_of) AND (z.valid_to IS NULL OR z.valid_to > :as_of)`;

export const TAGS: readonly TagDefinition[] = [
  {
    kind: 'rule',
    code: 'elderly',
    name: '老年人 Elderly',
    description: 'Living persons aged 60 or more on the reference date',
    registry: 'person',
    owner: 'MCA',
    level: 'internal',
    share: 'unconditional',
    mask: 'none',
    version: '1',
    predicate: `r.status = 'alive' AND r.birth_date <= (:as_of - interval '60 years')::date`,
  },
  {
    kind: 'rule',
    code: 'living_alone',
    name: '独居 Living alone',
    description: 'Living persons who are the only current member of their registered household',
    registry: 'person',
    owner: 'MCA',
    level: 'restricted',
    share: 'unconditional',
    mask: 'redact',
    version: '1',
    predicate: `r.status = 'alive' AND EXISTS (
       SELECT 1 FROM household_members m
        WHERE m.person_id = r.id AND m.valid_to IS NULL
          AND NOT EXISTS (SELECT 1 FROM household_members o
                           WHERE o.household_id = m.household_id AND o.valid_to IS NULL AND o.person_id <> r.id))`,
  },
  {
    kind: 'rule',
    code: 'newborn_this_year',
    name: '本年新生儿 Newborn this year',
    description: 'Living persons born from 1 January of the reference year up to the reference date',
    registry: 'person',
    owner: 'MCA',
    level: 'internal',
    share: 'unconditional',
    mask: 'none',
    version: '1',
    predicate: `r.status = 'alive' AND r.birth_date BETWEEN date_trunc('year', :as_of)::date AND :as_of`,
  },
  {
    kind: 'rule',
    code: 'unregistered_online_operator',
    name: '无照网络经营者 Online operator without a registered entity',
    description:
      'Persons running an active online shop in their own name who are not the legal representative of an active registered entity',
    registry: 'person',
    owner: 'SAMR',
    level: 'restricted',
    share: 'unconditional',
    mask: 'none',
    version: '1',
    predicate: `EXISTS (SELECT 1 FROM online_shops s
                 WHERE s.operator_person_id = r.id AND s.operator_kind = 'person' AND s.status = 'active')
       AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.legal_rep_person_id = r.id AND e.status = 'active')`,
  },
  {
    kind: 'rule',
    code: 'in_ecological_red_line',
    name: '生态保护红线内企业 Entity inside an ecological protection red line',
    description:
      'Active entities whose geocoded registered address lies inside a current ecological protection red line zone',
    registry: 'entity',
    owner: 'MEE',
    level: 'public',
    share: 'unconditional',
    mask: 'none',
    version: '1',
    predicate: `r.status = 'active' AND r.point IS NOT NULL AND EXISTS (
       SELECT 1 FROM ${RED_LINE_ZONES}
          AND z.geom && r.point AND ST_Intersects(z.geom, r.point))`,
  },
  {
    kind: 'rule',
    code: 'expired_permit',
    name: '许可证过期 Entity with an expired permit',
    description:
      'Active entities holding an administrative permit that ended before the reference date (not revoked) with no valid permit of the same type covering it',
    registry: 'entity',
    owner: 'SAMR',
    level: 'internal',
    share: 'unconditional',
    mask: 'none',
    version: '1',
    predicate: `r.status = 'active' AND EXISTS (
       SELECT 1 FROM qualifications q
        WHERE q.entity_id = r.id AND q.kind = 'permit' AND q.valid_to < :as_of
          AND q.status IN ('valid', 'expired')
          AND NOT EXISTS (SELECT 1 FROM qualifications n
                           WHERE n.entity_id = r.id AND n.kind = 'permit' AND n.type = q.type AND n.status = 'valid'
                             AND (n.valid_from IS NULL OR n.valid_from <= :as_of)
                             AND (n.valid_to IS NULL OR n.valid_to >= :as_of)))`,
  },
  {
    kind: 'rule',
    code: 'farmland_in_red_line',
    name: '红线内耕地 Farmland parcel in an ecological red line',
    description:
      'Valid farmland parcels that intersect a current ecological protection red line zone (the zones and parcels to reconcile)',
    registry: 'feature',
    owner: 'MNR',
    level: 'public',
    share: 'unconditional',
    mask: 'none',
    version: '1',
    predicate: `r.layer_id = 'farmland' AND ST_IsValid(r.geom) AND EXISTS (
       SELECT 1 FROM ${RED_LINE_ZONES}
          AND z.geom && r.geom AND ST_Intersects(z.geom, r.geom))`,
  },
  {
    kind: 'manual',
    code: 'low_income',
    name: '低保对象 Minimum living allowance recipient',
    description: 'Persons receiving the minimum living allowance (最低生活保障), assigned by civil affairs',
    registry: 'person',
    owner: 'MCA',
    level: 'sensitive',
    share: 'conditional',
    mask: 'none',
    assignableBy: ['civil_affairs'],
  },
  {
    kind: 'manual',
    code: 'key_care',
    name: '重点关爱对象 Person needing regular visits',
    description:
      'Persons the community visits regularly (elderly living alone, disabled, left-behind children)',
    registry: 'person',
    owner: 'MCA',
    level: 'restricted',
    share: 'unconditional',
    mask: 'redact',
    assignableBy: ['civil_affairs'],
  },
  {
    kind: 'manual',
    code: 'key_supervision',
    name: '重点监管企业 Entity under key supervision',
    description: 'Entities market regulation inspects with priority',
    registry: 'entity',
    owner: 'SAMR',
    level: 'internal',
    share: 'unconditional',
    mask: 'none',
    assignableBy: ['market_regulation'],
  },
];

export function tagByCode(code: string): TagDefinition | undefined {
  return TAGS.find((t) => t.code === code);
}

export const RULE_TAGS: readonly RuleTag[] = TAGS.filter((t): t is RuleTag => t.kind === 'rule');

/** The predicate with `:as_of` bound to parameter `$n` (as a date). */
export function bindAsOf(predicate: string, parameter: number): string {
  return predicate.replace(/(?<!:):as_of\b/g, `$${parameter}::date`);
}
