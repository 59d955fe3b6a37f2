import type { FieldNullability, InputFieldMap, SchemaTypes, TypeParam } from '@pothos/core';
import type { Dataset } from '../../../schema/catalogue.ts';
import type { GovAccessPlugin } from './index.ts';

/** A field's place in the catalogue; `field` defaults to the GraphQL field's name. */
export interface FieldAccessOption {
  dataset?: Dataset;
  field?: string;
}

/** An argument (dotted path into input objects) that filters on a classified field. */
export interface FilterAccessOption {
  dataset: Dataset;
  field: string;
}

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      govAccess: GovAccessPlugin<Types>;
    }

    interface ObjectTypeOptions<Types extends SchemaTypes = SchemaTypes, Shape = unknown> {
      /** The dataset whose catalogue classifies this type's fields. Every field then needs an entry. */
      dataset?: Dataset;
      /** The person key recorded in the audit when sensitive personal fields of this row are read. */
      auditSubject?: (row: Shape) => string | null | undefined;
    }

    interface FieldOptions<
      Types extends SchemaTypes = SchemaTypes,
      ParentShape = unknown,
      Type extends TypeParam<Types> = TypeParam<Types>,
      Nullable extends FieldNullability<Type> = FieldNullability<Type>,
      Args extends InputFieldMap = InputFieldMap,
      ResolveShape = unknown,
      ResolveReturnShape = unknown,
    > {
      /** Classification of the value: a catalogue entry, or 'link' for a field that only navigates to
       * another classified type (its own fields are decided there). */
      access?: FieldAccessOption | 'link';
      /** Arguments that filter on classified fields: the caller must be allowed to read them in clear. */
      filters?: Record<string, FilterAccessOption>;
      /**
       * The caller needs a grant on (or public fields in) this dataset to call the field at all. Every field
       * that navigates from one dataset's rows to another's (Person.residences, Household.head) names its
       * target here: without it the rows, and their number, would show to a caller with no grant on them.
       */
      requiresDataset?: Dataset;
    }
  }
}
