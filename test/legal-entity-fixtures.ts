import { buildUscc } from '../src/codes/index.ts';
import type { Queryable } from '../src/db/index.ts';
import {
  type EntityInput,
  type HolderInput,
  insertEntities,
  insertShareholdings,
} from '../src/registries/legal-entity/entity-writes.ts';

/** Builders for the legal-entity tests: valid codes, small registrations and holdings. */

let serial = 0;

/** A fresh valid USCC for a company registered in `division`. */
export function nextUscc(division = '440305', dept = '9', category = '1'): string {
  serial++;
  const body = `T${String(serial).padStart(7, '0')}`.replaceAll('0', 'A');
  return buildUscc(dept, category, division, body);
}

export async function registerEntity(
  db: Queryable,
  seed: Partial<EntityInput> & { name: string },
): Promise<{ id: number; uscc: string }> {
  const division = seed.divisionCode ?? '440305';
  const uscc = seed.uscc ?? nextUscc(division);
  const [id] = await insertEntities(
    db,
    [
      {
        legalForm: 'limited_liability_company',
        registeredCapital: '1000000.00',
        establishedOn: '2015-06-01',
        divisionCode: division,
        registrationAuthority: '深圳市南山区市场监督管理局',
        address: '广东省深圳市南山区科技路88号',
        point: [113.93, 22.53],
        ...seed,
        uscc,
      },
    ],
    { dept: 'SAMR', batch: 'test' },
  );
  return { id: id!, uscc };
}

/** `holder` holds `percentage` % of `entity`. */
export async function hold(
  db: Queryable,
  entity: { id: number },
  holder: { id: number; kind?: 'entity' | 'person' } | { name: string },
  percentage: number,
): Promise<number> {
  const h: HolderInput =
    'name' in holder
      ? { kind: 'other', name: holder.name }
      : holder.kind === 'person'
        ? { kind: 'person', personId: holder.id }
        : { kind: 'entity', entityId: holder.id };
  const [id] = await insertShareholdings(
    db,
    [{ entityId: entity.id, holder: h, percentage, acquiredOn: '2016-01-01' }],
    { dept: 'SAMR', batch: 'test' },
  );
  return id!;
}
