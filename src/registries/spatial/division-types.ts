import { sql } from 'drizzle-orm';
import { divisionsDataset } from '../../../schema/spatial.ts';
import { rows } from '../../db/index.ts';
import { errors } from '../../errors.ts';
import { builder } from '../../gateway/builder.ts';
import {
  type DivisionRow,
  divisionBoundary,
  divisionByCode,
  divisionChildren,
  metresToDegrees,
  requireDivision,
} from './division-directory.ts';

export const DivisionLevel = builder.enumType('DivisionLevel', {
  values: {
    PROVINCE: { value: 'province', description: '省级' },
    CITY: { value: 'city', description: '地级' },
    COUNTY: { value: 'county', description: '县级' },
    TOWN: { value: 'town', description: '乡级 (NBS code)' },
  } as const,
});

export const DivisionRef = builder.objectRef<DivisionRow>('Division');

DivisionRef.implement({
  description: 'An administrative division (GB/T 2260; towns by NBS statistical code), current or abolished',
  dataset: divisionsDataset,
  fields: (t) => ({
    code: t.exposeString('code'),
    name: t.exposeString('name'),
    level: t.field({ type: DivisionLevel, resolve: (d) => d.level }),
    parentCode: t.exposeString('parentCode'),
    codeSystem: t.exposeString('codeSystem'),
    validFrom: t.expose('validFrom', { type: 'Date' }),
    validTo: t.expose('validTo', { type: 'Date' }),
    current: t.boolean({ resolve: (d) => d.validTo === null }),
    parent: t.field({
      type: DivisionRef,
      access: 'link',
      resolve: (d, _args, ctx) => (d.parentCode ? divisionByCode(ctx).load(d.parentCode) : null),
    }),
    children: t.field({
      type: [DivisionRef],
      access: 'link',
      args: { includeAbolished: t.arg.boolean({ defaultValue: false }) },
      resolve: async (d, args, ctx) => {
        const children = await divisionChildren(ctx).load(d.code);
        return args.includeAbolished ? children : children.filter((c) => c.validTo === null);
      },
    }),
    ancestors: t.field({
      type: [DivisionRef],
      access: 'link',
      description: 'From the province down to the parent',
      resolve: async (d, _args, ctx) => {
        const chain: DivisionRow[] = [];
        let code = d.parentCode;
        while (code) {
          const parent = await divisionByCode(ctx).load(code);
          if (!parent) break;
          chain.unshift(parent);
          code = parent.parentCode;
        }
        return chain;
      },
    }),
    boundary: t.field({
      type: 'GeoJSON',
      description: 'Boundary (MultiPolygon, CGCS2000), optionally simplified; null where none is held',
      args: {
        simplifyMetres: t.arg.float({ description: 'Simplification tolerance in metres (0 = full detail)' }),
      },
      resolve: (d, args, ctx) => {
        const metres = args.simplifyMetres ?? 0;
        if (metres < 0 || metres > 100_000)
          throw errors.invalidArgument('simplifyMetres', 'must be from 0 to 100000');
        return divisionBoundary(ctx).load(`${d.code}|${metresToDegrees(metres)}`) as never;
      },
    }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    sourceDept: t.exposeString('sourceDept'),
    sourceBatch: t.exposeString('sourceBatch'),
  }),
});

builder.queryField('division', (t) =>
  t.field({
    type: DivisionRef,
    description: 'A division by its code; an unknown code is an INVALID_DIVISION_CODE error',
    args: { code: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => requireDivision(ctx, args.code, 'code'),
  }),
);

builder.queryField('provinces', (t) =>
  t.field({
    type: [DivisionRef],
    description: 'The current provincial-level divisions',
    resolve: async (_root, _args, ctx) => {
      const codes = await rows<{ code: string }>(
        ctx.db,
        sql`SELECT code FROM divisions WHERE level = 'province' AND valid_to IS NULL ORDER BY code`,
      );
      const found = await divisionByCode(ctx).loadMany(codes.map((c) => c.code));
      return found.filter((d): d is DivisionRow => d !== null && !(d instanceof Error));
    },
  }),
);
