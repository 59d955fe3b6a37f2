import './global-types.ts';
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import type { Dataset, FieldEntry } from '../../../schema/catalogue.ts';
import { applyMask } from '../../access/masking.ts';
import type { RequestAccess } from '../../access/request-access.ts';
import { decodeStored } from '../../crypto/at-rest.ts';

const pluginName = 'govAccess';

function accessOf(context: unknown): RequestAccess {
  const access = (context as { access?: RequestAccess }).access;
  // Fail closed: a request without an access context reads nothing.
  if (!access) throw new Error('request has no access context');
  return access;
}

function argAt(args: Record<string, unknown>, path: string): unknown {
  let value: unknown = args;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function then<T, R>(value: T | Promise<T>, map: (v: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(map) : map(value);
}

/**
 * The one place where the field catalogue meets GraphQL: every field of a type that declares a dataset
 * is decided (allow / mask / deny) from its catalogue entry, tallied for the audit, and masked after the
 * resolver ran. A field with no entry fails the schema build, so nothing unclassified is ever served.
 */
export class GovAccessPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    const options = fieldConfig.pothosOptions as {
      access?: { dataset?: Dataset; field?: string } | 'link';
      filters?: Record<string, { dataset: Dataset; field: string }>;
      requiresDataset?: Dataset;
    };
    const typeName = fieldConfig.parentType;
    const coordinate = `${typeName}.${fieldConfig.name}`;
    const typeOptions = this.buildCache.getTypeConfig(typeName).pothosOptions as {
      dataset?: Dataset;
      auditSubject?: (row: unknown) => string | null | undefined;
    };
    const filters = Object.entries(options.filters ?? {});
    const required = options.requiresDataset ?? this.navigationTarget(fieldConfig, typeOptions.dataset);

    const guarded: GraphQLFieldResolver<unknown, Types['Context'], object> =
      filters.length === 0 && !required
        ? resolver
        : (parent, args, context, info) => {
            const access = accessOf(context);
            if (required) access.requireDataset(required, coordinate);
            for (const [path, filter] of filters) {
              const value = argAt(args as Record<string, unknown>, path);
              if (value !== undefined && value !== null)
                access.requireClear(filter.dataset, filter.field, path);
            }
            return resolver(parent, args, context, info);
          };

    const typeDataset = typeOptions.dataset;
    if (!typeDataset) {
      if (options.access && options.access !== 'link' && !options.access.dataset) {
        throw new Error(`${coordinate}: access option names no dataset and its type declares none`);
      }
      if (!options.access || options.access === 'link') return guarded;
    }

    if (options.access === 'link') {
      return (parent, args, context, info) => {
        accessOf(context).noteRow(typeName, parent as object);
        return guarded(parent, args, context, info);
      };
    }

    const dataset = (options.access?.dataset ?? typeDataset)!;
    const field = options.access?.field ?? fieldConfig.name;
    const entry = ((dataset.fields as Record<string, FieldEntry | undefined>)[field] ??
      (dataset.derived as Record<string, FieldEntry | undefined>)[field]) as FieldEntry | undefined;
    if (!entry) {
      throw new Error(
        `${coordinate} is not classified: add '${field}' to the catalogue of ${dataset.id}, or mark the field access: 'link'`,
      );
    }
    const encrypted = entry.atRest?.encrypt === true;
    const subjectOf = entry.sensitivePersonal ? typeOptions.auditSubject : undefined;
    if (entry.sensitivePersonal && !subjectOf) {
      throw new Error(`${coordinate} is sensitive personal data but ${typeName} declares no auditSubject`);
    }

    return (parent, args, context, info) => {
      const access = accessOf(context);
      const decision = access.decide(dataset, field);
      access.noteRow(typeName, parent as object);
      access.noteField(coordinate, decision);
      if (decision.kind === 'deny') throw access.denial(decision, coordinate);
      if (subjectOf) access.noteSubject(subjectOf(parent));
      let value = guarded(parent, args, context, info);
      // Encrypted at rest: decrypted here, only once the field is allowed (in clear or masked), and masked
      // from the clear value.
      if (encrypted) value = then(value, (v) => decodeStored((context as { db: object }).db, v));
      return decision.kind === 'mask' ? then(value, (v) => applyMask(entry.mask, v)) : value;
    };
  }

  /**
   * A field from one dataset's rows to another dataset's rows (Person.residences, Shareholding.
   * shareholderPerson) requires the target dataset even when it does not say so: fail closed for
   * navigation fields added later. Aggregates typed by the same dataset (PopulationStatistics.cells) and
   * root fields (no parent dataset) are not navigation and are left to their own options.
   */
  private navigationTarget(
    fieldConfig: PothosOutputFieldConfig<Types>,
    parentDataset: Dataset | undefined,
  ): Dataset | undefined {
    if (!parentDataset) return undefined;
    let type = fieldConfig.type;
    while (type.kind === 'List') type = type.type;
    if (type.kind !== 'Object') return undefined;
    const target = (this.buildCache.getTypeConfig(type.ref).pothosOptions as { dataset?: Dataset }).dataset;
    return target && target.id !== parentDataset.id ? target : undefined;
  }
}

SchemaBuilder.registerPlugin(pluginName, GovAccessPlugin);

export default pluginName;
