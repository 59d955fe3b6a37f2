import { parseArgs } from 'node:util';
import type { Database } from '../db/index.ts';
import {
  AdminError,
  addDepartment,
  addGrant,
  addPurpose,
  createKey,
  listDepartments,
  listGrants,
  listKeys,
  listPurposes,
  revokeGrant,
  revokeKey,
} from './admin.ts';

/** The `npm run access -- <command>` command line: argument parsing, dispatch and output. */

export const USAGE = `usage: npm run access -- <command> [options]

  departments add   --code C --name N --kind K --level national|province|city|county [--jurisdiction DIVCODE]
  departments list
  keys create       --department C --application NAME [--roles a,b] [--expires YYYY-MM-DD]
  keys list
  keys revoke       --prefix gbk_…
  grants add        --department C --dataset ID --level public|internal|restricted|sensitive
                    [--purposes a,b] [--write] [--until YYYY-MM-DD] [--by WHO]
  grants list       [--department C]
  grants revoke     --id N
  purposes add      --code C --name N --legal-basis TEXT
  purposes list

Dates are inclusive, Beijing time: --until 2027-06-30 ends at the end of that day.
The key secret is printed once by 'keys create'; only its prefix and SM3 hash are stored.
Running gateways pick up changes within their principal cache time (30 s).
Exit codes: 0 done, 2 rejected (nothing was written), 1 unexpected failure.`;

type Options = Record<string, string | boolean | undefined>;

export interface AccessCommand {
  group: 'departments' | 'keys' | 'grants' | 'purposes' | 'help';
  action: string;
  options: Options;
}

const COMMANDS: Record<string, Record<string, Record<string, { type: 'string' | 'boolean' }>>> = {
  departments: {
    add: {
      code: { type: 'string' },
      name: { type: 'string' },
      kind: { type: 'string' },
      level: { type: 'string' },
      jurisdiction: { type: 'string' },
    },
    list: {},
  },
  keys: {
    create: {
      department: { type: 'string' },
      application: { type: 'string' },
      roles: { type: 'string' },
      expires: { type: 'string' },
    },
    list: {},
    revoke: { prefix: { type: 'string' } },
  },
  grants: {
    add: {
      department: { type: 'string' },
      dataset: { type: 'string' },
      level: { type: 'string' },
      purposes: { type: 'string' },
      write: { type: 'boolean' },
      until: { type: 'string' },
      by: { type: 'string' },
    },
    list: { department: { type: 'string' } },
    revoke: { id: { type: 'string' } },
  },
  purposes: {
    add: { code: { type: 'string' }, name: { type: 'string' }, 'legal-basis': { type: 'string' } },
    list: {},
  },
};

/** Parses argv (after `--`) into a command, or throws AdminError naming what is wrong. */
export function parseAccessCommand(argv: readonly string[]): AccessCommand {
  const [group, action, ...rest] = argv;
  if (!group) throw new AdminError('no command given');
  if (group === 'help' || group === '--help' || group === '-h') {
    return { group: 'help', action: '', options: {} };
  }
  const actions = COMMANDS[group];
  if (!actions) throw new AdminError(`unknown command '${group}'`);
  const spec = action ? actions[action] : undefined;
  if (!action || !spec) {
    throw new AdminError(
      `'${group}' needs one of: ${Object.keys(actions).join(', ')}${action ? ` (got '${action}')` : ''}`,
    );
  }
  let values: Options;
  try {
    ({ values } = parseArgs({ args: [...rest], options: spec, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new AdminError(`${group} ${action}: ${(error as Error).message}`);
  }
  return { group: group as AccessCommand['group'], action, options: values };
}

/** Display width: CJK characters take two columns in a terminal. */
function width(text: string): number {
  let w = 0;
  for (const ch of text) w += ch.codePointAt(0)! >= 0x2e80 ? 2 : 1;
  return w;
}

/** A plain aligned table (no colours, so it pipes and diffs well). */
export function formatTable<R extends object>(
  rows: readonly R[],
  columns: readonly (keyof R & string)[],
): string[] {
  const cell = (v: unknown) =>
    v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') || '-' : String(v);
  const body = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(width(c), ...body.map((b) => width(b[i]!))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c + ' '.repeat(widths[i]! - width(c)))
      .join('  ')
      .trimEnd();
  return [line([...columns]), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);

/** Runs a parsed command against the database; AdminError for a rejected one. */
export async function executeAccessCommand(db: Database, command: AccessCommand, io: CliIo): Promise<void> {
  const o = command.options;
  const key = `${command.group} ${command.action}`;
  switch (key) {
    case 'departments add': {
      const d = await addDepartment(db, {
        code: str(o.code),
        name: str(o.name),
        kind: str(o.kind),
        level: str(o.level),
        jurisdiction: str(o.jurisdiction),
      });
      io.out(
        `added department ${d.code} (${d.name}), ${d.adminLevel}` +
          (d.jurisdictionCode ? `, jurisdiction ${d.jurisdictionCode} ${d.jurisdictionName ?? ''}` : ''),
      );
      return;
    }
    case 'departments list':
      for (const line of formatTable(await listDepartments(db), [
        'code',
        'name',
        'kind',
        'adminLevel',
        'jurisdictionCode',
        'jurisdictionName',
        'grants',
        'keys',
      ]))
        io.out(line);
      return;
    case 'keys create': {
      const { key: secret, row } = await createKey(db, {
        department: str(o.department),
        application: str(o.application),
        roles: str(o.roles),
        expires: str(o.expires),
      });
      io.out(`created API key ${row.prefix} for ${row.departmentCode} / ${row.application}`);
      io.out(`roles: ${row.roles.join(',') || '-'}   expires: ${row.expiresAt ?? 'never'}`);
      io.out('');
      io.out(`  ${secret}`);
      io.out('');
      io.out('This secret is shown once and is not stored. Give it to the application now.');
      return;
    }
    case 'keys list':
      for (const line of formatTable(await listKeys(db), [
        'prefix',
        'departmentCode',
        'application',
        'roles',
        'status',
        'createdAt',
        'expiresAt',
        'revokedAt',
      ]))
        io.out(line);
      return;
    case 'keys revoke': {
      const row = await revokeKey(db, { prefix: str(o.prefix) });
      io.out(
        `revoked API key ${row.prefix} (${row.departmentCode} / ${row.application}) at ${row.revokedAt}`,
      );
      return;
    }
    case 'grants add': {
      const { grant, notes } = await addGrant(db, {
        department: str(o.department),
        dataset: str(o.dataset),
        level: str(o.level),
        purposes: str(o.purposes),
        write: o.write === true,
        until: str(o.until),
        grantedBy: str(o.by),
      });
      io.out(
        `granted #${grant.id}: ${grant.departmentCode} may read ${grant.dataset} up to '${grant.level}'` +
          (grant.purposes.length ? `, conditional data for ${grant.purposes.join(', ')}` : '') +
          (grant.canWrite ? ', and submit corrections' : '') +
          (grant.validTo ? `, until ${grant.validTo}` : ''),
      );
      for (const note of notes) io.out(`note: ${note}`);
      return;
    }
    case 'grants list':
      for (const line of formatTable(await listGrants(db, { department: str(o.department) }), [
        'id',
        'departmentCode',
        'dataset',
        'level',
        'purposes',
        'canWrite',
        'status',
        'validFrom',
        'validTo',
        'grantedBy',
      ]))
        io.out(line);
      return;
    case 'grants revoke': {
      const grant = await revokeGrant(db, { id: str(o.id) });
      io.out(`revoked grant #${grant.id} (${grant.departmentCode} on ${grant.dataset}) at ${grant.validTo}`);
      return;
    }
    case 'purposes add': {
      const p = await addPurpose(db, {
        code: str(o.code),
        name: str(o.name),
        legalBasis: str(o['legal-basis']),
      });
      io.out(`added purpose ${p.code} (${p.name}), legal basis: ${p.legalBasis}`);
      return;
    }
    case 'purposes list':
      for (const line of formatTable(await listPurposes(db), ['code', 'name', 'legalBasis'])) io.out(line);
      return;
    default:
      throw new AdminError(`unknown command '${key}'`);
  }
}

/**
 * The whole command line: parse (without touching the database), then run with a database from `open`.
 * Returns the exit code: 0 done, 2 rejected, 1 unexpected failure.
 */
export async function runAccessCli(
  argv: readonly string[],
  io: CliIo,
  withDatabase: (work: (db: Database) => Promise<void>) => Promise<void>,
): Promise<number> {
  let command: AccessCommand;
  try {
    command = parseAccessCommand(argv);
  } catch (error) {
    if (!(error instanceof AdminError)) throw error;
    io.err(`error: ${error.message}`);
    io.err('');
    io.err(USAGE);
    return 2;
  }
  if (command.group === 'help') {
    io.out(USAGE);
    return 0;
  }
  try {
    await withDatabase((db) => executeAccessCommand(db, command, io));
    return 0;
  } catch (error) {
    if (error instanceof AdminError) {
      io.err(`error: ${error.message}`);
      return 2;
    }
    io.err(`failed: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}
