/**
 * npm run attributes -- define (--file DEF.json | --record-type T --code C --name N --description D --type TYPE
 *                              --owner DEPT --frequency F --level L --share S --mask M [--layer ID] [--min V]
 *                              [--max V] [--pattern RE] [--codes a,b,c])
 * npm run attributes -- retire --record-type T --code C --reason TEXT
 * npm run attributes -- list [--record-type T] [--all] [--json]
 *
 * Manages attributes (fields on demand, src/attributes): a definition, or its next version when something
 * changed; a retirement (versions and value history stay); the current definitions. Every define and retire
 * appends an audit record (channel script) through the audit writer. Exit codes: 0 done, 1 refused (typed
 * error with its code) or unexpected failure, 2 bad arguments.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ATTRIBUTE_RECORD_TYPES, type AttributeRecordType } from '../schema/attributes.ts';
import { AuditLog } from '../src/access/audit.ts';
import { sm3Hex } from '../src/access/sm3.ts';
import {
  currentDefinitions,
  type DefineAttributeInput,
  defineAttribute,
  retireAttribute,
} from '../src/attributes/definitions.ts';
import { loadConfig } from '../src/config.ts';
import { type Database, migrate, openDatabase } from '../src/db/index.ts';
import { GovError } from '../src/errors.ts';

const USAGE = `usage: npm run attributes -- define --file DEF.json
       npm run attributes -- define --record-type person|entity|feature --code C --name N --description D
            --type text|integer|decimal|date|boolean|code|geometry --owner DEPT --frequency F
            --level public|internal|restricted|sensitive --share unconditional|conditional|none --mask M
            [--layer ID] [--min V] [--max V] [--pattern RE] [--codes a,b,c]
       npm run attributes -- retire --record-type T --code C --reason TEXT
       npm run attributes -- list [--record-type T] [--all] [--json]`;

export interface MainOptions {
  db?: Database;
  log?: (line: string) => void;
  error?: (line: string) => void;
}

function cliUser(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

function recordType(value: unknown): AttributeRecordType | null {
  return ATTRIBUTE_RECORD_TYPES.includes(value as AttributeRecordType)
    ? (value as AttributeRecordType)
    : null;
}

export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const log = options.log ?? ((line: string) => console.log(line));
  const error = options.error ?? ((line: string) => console.error(line));
  const [command, ...rest] = argv;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        file: { type: 'string' },
        'record-type': { type: 'string' },
        code: { type: 'string' },
        name: { type: 'string' },
        description: { type: 'string' },
        type: { type: 'string' },
        owner: { type: 'string' },
        frequency: { type: 'string' },
        level: { type: 'string' },
        share: { type: 'string' },
        mask: { type: 'string' },
        layer: { type: 'string' },
        min: { type: 'string' },
        max: { type: 'string' },
        pattern: { type: 'string' },
        codes: { type: 'string' },
        reason: { type: 'string' },
        all: { type: 'boolean' },
        json: { type: 'boolean' },
      },
    }));
  } catch (e) {
    error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (command !== 'define' && command !== 'retire' && command !== 'list') {
    error(`unknown command '${command ?? ''}'\n${USAGE}`);
    return 2;
  }
  let input: DefineAttributeInput | null = null;
  if (command === 'define') {
    if (values.file) {
      try {
        input = JSON.parse(readFileSync(String(values.file), 'utf8')) as DefineAttributeInput;
      } catch (e) {
        error(`--file ${values.file}: ${(e as Error).message}`);
        return 2;
      }
    } else {
      const missing = [
        'record-type',
        'code',
        'name',
        'description',
        'type',
        'owner',
        'frequency',
        'level',
        'share',
        'mask',
      ].filter((k) => !values[k]);
      if (missing.length > 0) {
        error(`define needs --file or ${missing.map((m) => `--${m}`).join(', ')}\n${USAGE}`);
        return 2;
      }
      input = {
        recordType: values['record-type'] as AttributeRecordType,
        layerId: (values.layer as string | undefined) ?? null,
        code: String(values.code),
        name: String(values.name),
        description: String(values.description),
        dataType: values.type as DefineAttributeInput['dataType'],
        minValue: (values.min as string | undefined) ?? null,
        maxValue: (values.max as string | undefined) ?? null,
        pattern: (values.pattern as string | undefined) ?? null,
        codeValues: values.codes ? String(values.codes).split(',') : null,
        ownerDept: String(values.owner),
        updateFrequency: values.frequency as DefineAttributeInput['updateFrequency'],
        level: values.level as DefineAttributeInput['level'],
        share: values.share as DefineAttributeInput['share'],
        mask: values.mask as DefineAttributeInput['mask'],
      };
    }
  }
  if (command === 'retire' && (!recordType(values['record-type']) || !values.code || !values.reason)) {
    error(`retire needs --record-type (person, entity or feature), --code and --reason\n${USAGE}`);
    return 2;
  }
  if (command === 'list' && values['record-type'] && !recordType(values['record-type'])) {
    error(`--record-type must be person, entity or feature\n${USAGE}`);
    return 2;
  }

  const config = loadConfig();
  const db = options.db ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir }));
  try {
    if (!options.db) await migrate(db);
    const user = cliUser();
    const audit = (operation: string, document: unknown, outcome: 'ok' | 'error') =>
      new AuditLog(db).append({
        principal: `system:attributes:${user}`,
        departmentCode: null,
        purpose: null,
        channel: 'script',
        operation,
        documentHash: sm3Hex(JSON.stringify(document)),
        fields: {},
        rowCounts: outcome === 'ok' ? { 'governance.attribute_definitions': 1 } : {},
        subjects: [],
        outcome,
      });
    if (command === 'list') {
      const defs = (await currentDefinitions(db, recordType(values['record-type']) ?? undefined)).filter(
        (d) => values.all || d.status === 'active',
      );
      if (values.json) log(JSON.stringify(defs, null, 2));
      else
        for (const d of defs)
          log(
            `${`${d.recordType}.${d.code}`.padEnd(36)} v${d.version} ${d.dataType.padEnd(8)} ${d.level.padEnd(10)} ` +
              `${d.share.padEnd(13)} ${d.ownerDept.padEnd(12)} ${d.status}${d.layerId ? ` layer ${d.layerId}` : ''}  ${d.name}`,
          );
      return 0;
    }
    try {
      if (command === 'define') {
        const result = await defineAttribute(db, input!, `system:attributes:${user}`);
        const d = result.definition;
        await audit(
          `attributes:define:${d.recordType}.${d.code}@v${d.version}:${result.outcome}`,
          input,
          'ok',
        );
        log(`${d.recordType}.${d.code}: ${result.outcome} (version ${d.version})`);
      } else {
        const type = recordType(values['record-type'])!;
        const d = await retireAttribute(
          db,
          type,
          String(values.code),
          `system:attributes:${user}`,
          String(values.reason),
        );
        await audit(`attributes:retire:${d.recordType}.${d.code}@v${d.version}`, { ...values }, 'ok');
        log(`${d.recordType}.${d.code}: retired (version ${d.version})`);
      }
      return 0;
    } catch (e) {
      if (!(e instanceof GovError)) throw e;
      await audit(`attributes:${command}:refused:${e.code}`, input ?? { ...values }, 'error');
      error(`${e.code}: ${e.message}`);
      return 1;
    }
  } finally {
    if (!options.db) await db.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
