import {
  entitiesDataset,
  entityFormerNamesDataset,
  onlineShopsDataset,
  qualificationsDataset,
  shareholdingsDataset,
} from '../../../schema/legal-entity.ts';
import { personsDataset } from '../../../schema/population.ts';
import { USCC_REGISTRATION_DEPTS } from '../../codes/index.ts';
import { builder } from '../../gateway/builder.ts';
import type { GatewayContext } from '../../gateway/context.ts';
import { pageSize } from '../../gateway/pagination.ts';
import { personById } from '../population/person-store.ts';
import { PersonRef } from '../population/person-types.ts';
import { divisionByCode } from '../spatial/division-directory.ts';
import { DivisionRef } from '../spatial/division-types.ts';
import {
  childrenOf,
  type EntityRow,
  entitiesRepresentedBy,
  entityById,
  type FormerNameRow,
  formerNamesOf,
} from './entity-store.ts';
import {
  type BeneficialOwnerRow,
  beneficialOwners,
  type ControlStepRow,
  controlChains,
  MAX_OWNERSHIP_DEPTH,
  MAX_RELATED_DEPTH,
  type RelatedEntityRow,
  relatedEntities,
  requireDepth,
  requireShare,
} from './ownership.ts';
import {
  type OnlineShopRow,
  type QualificationRow,
  qualificationsOf,
  shopsOfEntity,
  shopsOfPerson,
} from './qualification-store.ts';
import {
  holdingsOfPerson,
  investmentsOf,
  type ShareholdingRow,
  shareholdersOf,
} from './shareholding-store.ts';

export const LegalFormEnum = builder.enumType('LegalForm', {
  values: {
    LIMITED_LIABILITY_COMPANY: { value: 'limited_liability_company', description: '有限责任公司' },
    JOINT_STOCK_COMPANY: { value: 'joint_stock_company', description: '股份有限公司' },
    SOLE_PROPRIETORSHIP: { value: 'sole_proprietorship', description: '个人独资企业' },
    PARTNERSHIP: { value: 'partnership', description: '合伙企业' },
    BRANCH: { value: 'branch', description: '分公司 / 分支机构' },
    INDIVIDUAL_BUSINESS: { value: 'individual_business', description: '个体工商户' },
    FARMER_COOPERATIVE: { value: 'farmer_cooperative', description: '农民专业合作社' },
    STATE_ORGAN: { value: 'state_organ', description: '机关' },
    PUBLIC_INSTITUTION: { value: 'public_institution', description: '事业单位' },
    SOCIAL_ORGANISATION: { value: 'social_organisation', description: '社会团体' },
    PRIVATE_NON_ENTERPRISE: { value: 'private_non_enterprise', description: '民办非企业单位' },
    FOUNDATION: { value: 'foundation', description: '基金会' },
    OTHER: { value: 'other' },
  } as const,
});

export const EntityStatusEnum = builder.enumType('EntityStatus', {
  values: {
    ACTIVE: { value: 'active', description: '存续' },
    REVOKED: { value: 'revoked', description: '吊销 (business licence revoked)' },
    CANCELLED: { value: 'cancelled', description: '注销' },
    MOVED_OUT: { value: 'moved_out', description: '迁出 (moved to another registration authority)' },
  } as const,
});

export const UsccStatusEnum = builder.enumType('UsccStatus', {
  values: {
    VALID: { value: 'valid' },
    PILOT_EXCEPTION: {
      value: 'pilot_exception',
      description:
        'Early pilot code: the final check is right, the embedded GB 11714 check is not (valid, flagged)',
    },
    INVALID: {
      value: 'invalid',
      description: 'The final check character is wrong (a defect held from the source)',
    },
  } as const,
});

export const AssetBandEnum = builder.enumType('AssetBand', {
  description: 'Total assets in yuan',
  values: {
    UNDER_1M: { value: 'under_1m' },
    FROM_1M_TO_10M: { value: '1m_10m' },
    FROM_10M_TO_100M: { value: '10m_100m' },
    FROM_100M_TO_1B: { value: '100m_1b' },
    OVER_1B: { value: 'over_1b' },
  } as const,
});

export const ParentRelationEnum = builder.enumType('ParentRelation', {
  values: {
    BRANCH: { value: 'branch', description: 'A branch (分支机构) of its head office' },
    SUBORDINATE: { value: 'subordinate', description: 'A unit under a superior unit (下级单位)' },
  } as const,
});

export const ShareholderKindEnum = builder.enumType('ShareholderKind', {
  values: {
    PERSON: { value: 'person', description: 'A natural person' },
    ENTITY: { value: 'entity', description: 'An entity of this registry' },
    OTHER: { value: 'other', description: 'Another holder known by name (state, foreign investor)' },
  } as const,
});

export const QualificationKindEnum = builder.enumType('QualificationKind', {
  values: {
    PERMIT: { value: 'permit', description: 'Administrative permit or access licence (行政许可)' },
    CERTIFICATION: { value: 'certification', description: 'Certification (认证)' },
    TRADEMARK: { value: 'trademark', description: 'Registered trademark (注册商标)' },
    PATENT: { value: 'patent', description: 'Patent (专利)' },
  } as const,
});

export const QualificationStatusEnum = builder.enumType('QualificationStatus', {
  values: {
    VALID: { value: 'valid' },
    EXPIRED: { value: 'expired' },
    REVOKED: { value: 'revoked' },
    SUSPENDED: { value: 'suspended' },
    PENDING: { value: 'pending' },
  } as const,
});

export const OnlineShopStatusEnum = builder.enumType('OnlineShopStatus', {
  values: {
    ACTIVE: { value: 'active' },
    SUSPENDED: { value: 'suspended' },
    CLOSED: { value: 'closed' },
  } as const,
});

export const RelationDirectionEnum = builder.enumType('RelationDirection', {
  values: {
    OWNER: { value: 'owner', description: 'Reached only upwards: owners, and their owners' },
    INVESTEE: { value: 'investee', description: 'Reached only downwards: investments, and theirs' },
    MIXED: { value: 'mixed', description: 'Reached through owners and investments' },
  } as const,
});

const personKey = (id: number | null | undefined) => (id ? `person:${id}` : null);

export const EntityRef = builder.objectRef<EntityRow>('Entity');
export const FormerNameRef = builder.objectRef<FormerNameRow>('EntityFormerName');
export const ShareholdingRef = builder.objectRef<ShareholdingRow>('Shareholding');
export const QualificationRef = builder.objectRef<QualificationRow>('Qualification');
export const OnlineShopRef = builder.objectRef<OnlineShopRow>('OnlineShop');
export const BeneficialOwnerRef = builder.objectRef<BeneficialOwnerRow>('BeneficialOwner');
export const ControlStepRef = builder.objectRef<ControlStepRow>('ControlStep');
export const RelatedEntityRef = builder.objectRef<RelatedEntityRow>('RelatedEntity');

function deptOf(code: string) {
  return USCC_REGISTRATION_DEPTS.find((d) => d.code === code);
}

/** Batched per argument combination: a page of entities asking the same question costs one statement. */
function uboLoader(ctx: GatewayContext, threshold: number, maxDepth: number) {
  return ctx.loaders.get<number, BeneficialOwnerRow[]>(`entity.ubo.${threshold}.${maxDepth}`, (ids) =>
    beneficialOwners(ctx.db, ids.map(Number), threshold, maxDepth),
  );
}

function controlLoader(ctx: GatewayContext, minShare: number, maxDepth: number) {
  return ctx.loaders.get<number, ControlStepRow[]>(`entity.control.${minShare}.${maxDepth}`, (ids) =>
    controlChains(ctx.db, ids.map(Number), minShare, maxDepth),
  );
}

function relatedLoader(ctx: GatewayContext, depth: number, limit: number) {
  return ctx.loaders.get<number, RelatedEntityRow[]>(`entity.related.${depth}.${limit}`, (ids) =>
    relatedEntities(ctx.db, ids.map(Number), depth, limit, ctx.access.principal.scope),
  );
}

builder.node(EntityRef, {
  description: 'A legal entity in the legal-entity base registry (法人单位基础信息库), keyed by its USCC',
  dataset: entitiesDataset,
  auditSubject: (e) => personKey(e.legalRepPersonId),
  id: { resolve: (e) => e.id, parse: (id) => Number(id) },
  loadMany: async (ids, ctx) => {
    if (!ctx.access.canReadDataset(entitiesDataset)) return ids.map(() => null);
    const found = await entityById(ctx).loadMany(ids);
    return found.map((e) => (e instanceof Error ? null : e));
  },
  fields: (t) => ({
    uscc: t.exposeString('uscc', { description: 'Unified social credit code (GB 32100)' }),
    usccStatus: t.field({ type: UsccStatusEnum, resolve: (e) => e.usccStatus }),
    name: t.exposeString('name'),
    formerNames: t.field({
      type: [FormerNameRef],
      requiresDataset: entityFormerNamesDataset,
      access: 'link',
      description: 'Names registered before, oldest first',
      resolve: (e, _args, ctx) => formerNamesOf(ctx).load(Number(e.id)),
    }),
    registrationDept: t.exposeString('registrationDept', { description: 'USCC position 1' }),
    registrationDeptName: t.string({
      nullable: true,
      resolve: (e) => deptOf(e.registrationDept)?.name ?? null,
    }),
    category: t.exposeString('category', { description: 'USCC position 2' }),
    categoryName: t.string({
      nullable: true,
      resolve: (e) =>
        (
          deptOf(e.registrationDept)?.categories as readonly { code: string; name: string }[] | undefined
        )?.find((c) => c.code === e.category)?.name ?? null,
    }),
    legalForm: t.field({ type: LegalFormEnum, resolve: (e) => e.legalForm }),
    legalRepresentativeName: t.exposeString('legalRepName', {
      nullable: true,
      access: { field: 'legalRepName' },
    }),
    legalRepresentativeIdNumber: t.exposeString('legalRepIdNumber', {
      nullable: true,
      access: { field: 'legalRepIdNumber' },
    }),
    legalRepresentative: t.field({
      type: PersonRef,
      requiresDataset: personsDataset,
      nullable: true,
      description:
        'The legal representative in the population registry (null when not found or out of scope)',
      access: { field: 'legalRepPersonId' },
      resolve: (e, _args, ctx) =>
        e.legalRepPersonId ? personById(ctx).load(Number(e.legalRepPersonId)) : null,
    }),
    registeredCapital: t.exposeString('registeredCapital', {
      nullable: true,
      description: 'Exact decimal, in capitalCurrency',
    }),
    capitalCurrency: t.exposeString('capitalCurrency'),
    establishedOn: t.expose('establishedOn', { type: 'Date' }),
    status: t.field({ type: EntityStatusEnum, resolve: (e) => e.status }),
    statusDate: t.expose('statusDate', { type: 'Date', nullable: true }),
    businessScope: t.exposeString('businessScope', { nullable: true }),
    industryCode: t.exposeString('industryCode', { nullable: true, description: 'GB/T 4754-2017 class' }),
    divisionCode: t.exposeString('divisionCode'),
    division: t.field({
      type: DivisionRef,
      nullable: true,
      access: { field: 'divisionCode' },
      resolve: (e, _args, ctx) => divisionByCode(ctx).load(e.divisionCode),
    }),
    address: t.exposeString('address', { nullable: true }),
    point: t.expose('point', { type: 'GeoJSON', nullable: true }),
    registrationAuthority: t.exposeString('registrationAuthority'),
    parent: t.field({
      type: EntityRef,
      nullable: true,
      description: 'Head office of a branch, or the unit above a subordinate unit',
      access: { field: 'parentEntityId' },
      resolve: (e, _args, ctx) => (e.parentEntityId ? entityById(ctx).load(Number(e.parentEntityId)) : null),
    }),
    parentRelation: t.field({ type: ParentRelationEnum, nullable: true, resolve: (e) => e.parentRelation }),
    branches: t.field({
      type: [EntityRef],
      access: { field: 'parentEntityId' },
      resolve: async (e, _args, ctx) =>
        (await childrenOf(ctx).load(Number(e.id))).filter((c) => c.parentRelation === 'branch'),
    }),
    subordinateUnits: t.field({
      type: [EntityRef],
      access: { field: 'parentEntityId' },
      resolve: async (e, _args, ctx) =>
        (await childrenOf(ctx).load(Number(e.id))).filter((c) => c.parentRelation === 'subordinate'),
    }),
    assetBand: t.field({ type: AssetBandEnum, nullable: true, resolve: (e) => e.assetBand }),
    totalAssets: t.exposeString('totalAssets', { nullable: true, description: 'Exact decimal, yuan' }),
    annualRevenue: t.exposeString('annualRevenue', { nullable: true, description: 'Exact decimal, yuan' }),
    shareholders: t.field({
      type: [ShareholdingRef],
      requiresDataset: shareholdingsDataset,
      access: 'link',
      description: 'Holders of this entity’s shares, largest first',
      args: { includeEnded: t.arg.boolean({ defaultValue: false }) },
      resolve: (e, args, ctx) => shareholdersOf(ctx, !!args.includeEnded).load(Number(e.id)),
    }),
    investments: t.field({
      type: [ShareholdingRef],
      requiresDataset: shareholdingsDataset,
      access: 'link',
      description: 'This entity’s holdings in other entities (within the caller’s jurisdiction)',
      args: { includeEnded: t.arg.boolean({ defaultValue: false }) },
      resolve: (e, args, ctx) => investmentsOf(ctx, !!args.includeEnded).load(Number(e.id)),
    }),
    qualifications: t.field({
      type: [QualificationRef],
      requiresDataset: qualificationsDataset,
      access: 'link',
      args: { kind: t.arg({ type: QualificationKindEnum }) },
      resolve: async (e, args, ctx) => {
        const all = await qualificationsOf(ctx).load(Number(e.id));
        return args.kind ? all.filter((q) => q.kind === args.kind) : all;
      },
    }),
    onlineShops: t.field({
      type: [OnlineShopRef],
      requiresDataset: onlineShopsDataset,
      access: 'link',
      resolve: (e, _args, ctx) => shopsOfEntity(ctx).load(Number(e.id)),
    }),
    ultimateBeneficialOwners: t.field({
      type: [BeneficialOwnerRef],
      requiresDataset: shareholdingsDataset,
      description:
        'Natural persons whose effective ownership (shares multiplied along every ownership path, summed over ' +
        'paths; a path does not revisit an entity) is at least the threshold',
      access: { dataset: shareholdingsDataset, field: 'beneficialOwnership' },
      args: {
        threshold: t.arg.float({ defaultValue: 0.25, description: 'Share from 0 to 1; 0.25 = 25%' }),
        maxDepth: t.arg.int({
          defaultValue: 10,
          description: `Holdings per path, 1 to ${MAX_OWNERSHIP_DEPTH}`,
        }),
      },
      resolve: (e, args, ctx) => {
        const threshold = requireShare(args.threshold ?? 0.25, 'threshold');
        const maxDepth = requireDepth(args.maxDepth ?? 10, 'maxDepth', MAX_OWNERSHIP_DEPTH);
        return uboLoader(ctx, threshold, maxDepth).load(Number(e.id));
      },
    }),
    controlChain: t.field({
      type: [ControlStepRef],
      requiresDataset: shareholdingsDataset,
      description:
        'From this entity up: each step’s controller is the largest holder, holding at least minShare and ' +
        'more than the next holder; ends at a person, a non-entity holder, no controller, a cycle or maxDepth',
      access: { dataset: shareholdingsDataset, field: 'beneficialOwnership' },
      args: {
        minShare: t.arg.float({ defaultValue: 0.5, description: 'Share from 0 to 1' }),
        maxDepth: t.arg.int({ defaultValue: 10, description: `Steps, 1 to ${MAX_OWNERSHIP_DEPTH}` }),
      },
      resolve: (e, args, ctx) => {
        const minShare = requireShare(args.minShare ?? 0.5, 'minShare');
        const maxDepth = requireDepth(args.maxDepth ?? 10, 'maxDepth', MAX_OWNERSHIP_DEPTH);
        return controlLoader(ctx, minShare, maxDepth).load(Number(e.id));
      },
    }),
    relatedEntities: t.field({
      type: [RelatedEntityRef],
      requiresDataset: shareholdingsDataset,
      description: 'Entities within `depth` shareholding edges, either direction, nearest first',
      access: { dataset: shareholdingsDataset, field: 'relatedEntities' },
      args: {
        depth: t.arg.int({ defaultValue: 2, description: `1 to ${MAX_RELATED_DEPTH}` }),
        first: t.arg.int({ defaultValue: 100 }),
      },
      resolve: (e, args, ctx) => {
        const depth = requireDepth(args.depth ?? 2, 'depth', MAX_RELATED_DEPTH);
        const first = pageSize({ first: args.first }, ctx.config.maxPageSize, 100);
        return relatedLoader(ctx, depth, first).load(Number(e.id));
      },
    }),
    version: t.exposeInt('version'),
    validFrom: t.expose('validFrom', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    sourceDept: t.exposeString('sourceDept'),
    sourceBatch: t.exposeString('sourceBatch', { nullable: true }),
  }),
});

FormerNameRef.implement({
  description: 'A name an entity was registered under before (曾用名)',
  dataset: entityFormerNamesDataset,
  fields: (t) => ({
    name: t.exposeString('name'),
    validFrom: t.expose('validFrom', { type: 'Date', nullable: true }),
    validTo: t.expose('validTo', { type: 'Date' }),
  }),
});

ShareholdingRef.implement({
  description: 'A holding of shares in an entity (股东及出资)',
  dataset: shareholdingsDataset,
  auditSubject: (s) => personKey(s.shareholderPersonId),
  fields: (t) => ({
    id: t.exposeID('id'),
    entity: t.field({
      type: EntityRef,
      requiresDataset: entitiesDataset,
      nullable: true,
      description: 'The entity whose shares are held',
      access: { field: 'entityId' },
      resolve: (s, _args, ctx) => entityById(ctx).load(Number(s.entityId)),
    }),
    shareholderKind: t.field({ type: ShareholderKindEnum, resolve: (s) => s.shareholderKind }),
    shareholderName: t.exposeString('shareholderName'),
    shareholderIdNumber: t.exposeString('shareholderIdNumber', { nullable: true }),
    shareholderPerson: t.field({
      type: PersonRef,
      requiresDataset: personsDataset,
      nullable: true,
      access: { field: 'shareholderPersonId' },
      resolve: (s, _args, ctx) =>
        s.shareholderPersonId ? personById(ctx).load(Number(s.shareholderPersonId)) : null,
    }),
    shareholderEntity: t.field({
      type: EntityRef,
      requiresDataset: entitiesDataset,
      nullable: true,
      access: { field: 'shareholderEntityId' },
      resolve: (s, _args, ctx) =>
        s.shareholderEntityId ? entityById(ctx).load(Number(s.shareholderEntityId)) : null,
    }),
    subscribedAmount: t.exposeString('subscribedAmount', { nullable: true, description: 'Exact decimal' }),
    currency: t.exposeString('currency'),
    percentage: t.float({
      description: 'Percent of the registered capital',
      resolve: (s) => Number(s.percentage),
    }),
    acquiredOn: t.expose('acquiredOn', { type: 'Date' }),
    endedOn: t.expose('endedOn', { type: 'Date', nullable: true }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    sourceDept: t.exposeString('sourceDept'),
    sourceBatch: t.exposeString('sourceBatch', { nullable: true }),
  }),
});

QualificationRef.implement({
  description: 'An administrative permit, certification, trademark or patent held by an entity',
  dataset: qualificationsDataset,
  fields: (t) => ({
    id: t.exposeID('id'),
    entity: t.field({
      type: EntityRef,
      requiresDataset: entitiesDataset,
      nullable: true,
      access: { field: 'entityId' },
      resolve: (q, _args, ctx) => entityById(ctx).load(Number(q.entityId)),
    }),
    kind: t.field({ type: QualificationKindEnum, resolve: (q) => q.kind }),
    number: t.exposeString('number'),
    type: t.exposeString('type'),
    title: t.exposeString('title', { nullable: true }),
    status: t.field({ type: QualificationStatusEnum, resolve: (q) => q.status }),
    validFrom: t.expose('validFrom', { type: 'Date', nullable: true }),
    validTo: t.expose('validTo', { type: 'Date', nullable: true }),
    issuingAuthority: t.exposeString('issuingAuthority'),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    sourceDept: t.exposeString('sourceDept'),
    sourceBatch: t.exposeString('sourceBatch', { nullable: true }),
  }),
});

OnlineShopRef.implement({
  description: 'A shop on an e-commerce platform and its operator (网络经营主体)',
  dataset: onlineShopsDataset,
  fields: (t) => ({
    id: t.exposeID('id'),
    platform: t.exposeString('platform'),
    shopName: t.exposeString('shopName'),
    shopUrl: t.exposeString('shopUrl'),
    operatorKind: t.exposeString('operatorKind', { description: 'person or entity' }),
    operatorName: t.exposeString('operatorName'),
    operatorEntity: t.field({
      type: EntityRef,
      requiresDataset: entitiesDataset,
      nullable: true,
      access: { field: 'operatorEntityId' },
      resolve: (o, _args, ctx) =>
        o.operatorEntityId ? entityById(ctx).load(Number(o.operatorEntityId)) : null,
    }),
    operatorPerson: t.field({
      type: PersonRef,
      requiresDataset: personsDataset,
      nullable: true,
      access: { field: 'operatorPersonId' },
      resolve: (o, _args, ctx) =>
        o.operatorPersonId ? personById(ctx).load(Number(o.operatorPersonId)) : null,
    }),
    divisionCode: t.exposeString('divisionCode'),
    division: t.field({
      type: DivisionRef,
      nullable: true,
      access: { field: 'divisionCode' },
      resolve: (o, _args, ctx) => divisionByCode(ctx).load(o.divisionCode),
    }),
    status: t.field({ type: OnlineShopStatusEnum, resolve: (o) => o.status }),
    openedOn: t.expose('openedOn', { type: 'Date', nullable: true }),
    closedOn: t.expose('closedOn', { type: 'Date', nullable: true }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    sourceDept: t.exposeString('sourceDept'),
    sourceBatch: t.exposeString('sourceBatch', { nullable: true }),
  }),
});

const ownership = { field: 'beneficialOwnership' } as const;

BeneficialOwnerRef.implement({
  description: 'A natural person who ultimately owns at least the threshold of an entity',
  dataset: shareholdingsDataset,
  auditSubject: (o) => personKey(o.personId),
  fields: (t) => ({
    person: t.field({
      type: PersonRef,
      requiresDataset: personsDataset,
      nullable: true,
      description: 'The person in the population registry (null when not found or out of scope)',
      access: ownership,
      resolve: (o, _args, ctx) => (o.personId ? personById(ctx).load(Number(o.personId)) : null),
    }),
    name: t.exposeString('name', { access: ownership, description: 'Name as registered on the holding' }),
    idNumber: t.exposeString('idNumber', { nullable: true, access: { field: 'shareholderIdNumber' } }),
    share: t.exposeFloat('share', { access: ownership, description: 'Effective share, 0 to 1' }),
    percentage: t.float({ access: ownership, resolve: (o) => o.share * 100 }),
    paths: t.exposeInt('paths', { access: ownership, description: 'Ownership paths that reach the person' }),
    shortestDepth: t.exposeInt('shortestDepth', {
      access: ownership,
      description: 'Holdings on the shortest path (1 = a direct shareholder)',
    }),
  }),
});

ControlStepRef.implement({
  description: 'One step of a control chain: who controls the entity at this step',
  dataset: shareholdingsDataset,
  fields: (t) => ({
    depth: t.exposeInt('depth', {
      access: ownership,
      description: '1 = the controller of the entity asked about',
    }),
    entity: t.field({
      type: EntityRef,
      requiresDataset: entitiesDataset,
      nullable: true,
      description: 'The controlled entity',
      access: ownership,
      resolve: (s, _args, ctx) => entityById(ctx).load(Number(s.entityId)),
    }),
    controllerKind: t.field({
      type: ShareholderKindEnum,
      access: ownership,
      resolve: (s) => s.controllerKind,
    }),
    controllerName: t.exposeString('controllerName', { access: ownership }),
    controllerEntity: t.field({
      type: EntityRef,
      requiresDataset: entitiesDataset,
      nullable: true,
      access: ownership,
      resolve: (s, _args, ctx) =>
        s.controllerEntityId ? entityById(ctx).load(Number(s.controllerEntityId)) : null,
    }),
    controllerPerson: t.field({
      type: PersonRef,
      requiresDataset: personsDataset,
      nullable: true,
      access: ownership,
      resolve: (s, _args, ctx) =>
        s.controllerPersonId ? personById(ctx).load(Number(s.controllerPersonId)) : null,
    }),
    percentage: t.exposeFloat('percentage', {
      access: ownership,
      description: 'Holding in the controlled entity',
    }),
    cumulativeShare: t.exposeFloat('cumulativeShare', {
      access: ownership,
      description: 'Product of the holdings from the entity asked about up to this controller, 0 to 1',
    }),
    closesCycle: t.exposeBoolean('closesCycle', {
      access: ownership,
      description: 'The controller is an entity already on the chain',
    }),
  }),
});

const related = { field: 'relatedEntities' } as const;

RelatedEntityRef.implement({
  description: 'An entity in the ownership neighbourhood',
  dataset: shareholdingsDataset,
  fields: (t) => ({
    entity: t.field({
      type: EntityRef,
      requiresDataset: entitiesDataset,
      nullable: true,
      access: related,
      resolve: (r, _args, ctx) => entityById(ctx).load(Number(r.entityId)),
    }),
    distance: t.exposeInt('distance', { access: related, description: 'Fewest shareholding edges' }),
    direction: t.field({ type: RelationDirectionEnum, access: related, resolve: (r) => r.direction }),
  }),
});

builder.objectFields(PersonRef, (t) => ({
  representedEntities: t.field({
    type: [EntityRef],
    requiresDataset: entitiesDataset,
    description: 'Entities this person is the legal representative (or operator) of, in scope',
    access: { dataset: entitiesDataset, field: 'legalRepPersonId' },
    resolve: (p, _args, ctx) => entitiesRepresentedBy(ctx).load(Number(p.id)),
  }),
  investments: t.field({
    type: [ShareholdingRef],
    requiresDataset: shareholdingsDataset,
    description: 'This person’s current shareholdings in entities, in scope',
    access: { dataset: shareholdingsDataset, field: 'shareholderPersonId' },
    resolve: (p, _args, ctx) => holdingsOfPerson(ctx).load(Number(p.id)),
  }),
  onlineShops: t.field({
    type: [OnlineShopRef],
    requiresDataset: onlineShopsDataset,
    description: 'Online shops this person operates, in scope',
    access: { dataset: onlineShopsDataset, field: 'operatorPersonId' },
    resolve: (p, _args, ctx) => shopsOfPerson(ctx).load(Number(p.id)),
  }),
}));
