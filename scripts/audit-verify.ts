/**
 * npm run audit:verify [-- --anchor] [--anchor-file FILE] [--no-checkpoint]
 *
 * Re-computes the SM3 hash chain of the access audit, names the first record that does not verify and
 * prints the head. With an anchor file (GOVBASE_AUDIT_ANCHOR_FILE or --anchor-file) a verified head is
 * appended to it as a checkpoint; --anchor compares the chain with every checkpoint in the file, so a cut
 * at the end of the chain is found too. Exit code 0 when everything holds, 1 when not (or unreadable).
 */
import { parseArgs } from 'node:util';
import { anchorKeyFrom } from '../src/access/audit-settings.ts';
import { runAuditVerify } from '../src/access/audit-verify-cli.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/index.ts';

const { values } = parseArgs({
  options: {
    anchor: { type: 'boolean', default: false },
    'anchor-file': { type: 'string' },
    'no-checkpoint': { type: 'boolean', default: false },
  },
});

const config = loadConfig();
const anchorFile = values['anchor-file'] ?? (process.env.GOVBASE_AUDIT_ANCHOR_FILE?.trim() || undefined);
const anchorKey = anchorKeyFrom(process.env.GOVBASE_AUDIT_ANCHOR_KEY);
const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
const tty = process.stderr.isTTY;
const started = Date.now();
let code = 1;
let progressShown = false;
try {
  code = await runAuditVerify(
    db,
    {
      out: (line) => {
        if (tty && progressShown) process.stderr.write('\n');
        progressShown = false;
        console.log(line);
      },
      progress: (checked, total) => {
        progressShown = true;
        const line = `verifying audit chain: ${checked}/${total} records (${((Date.now() - started) / 1000).toFixed(1)} s)`;
        process.stderr.write(tty ? `\r${line}` : `${line}\n`);
      },
    },
    { anchorFile, anchorKey, compare: values.anchor, record: !values['no-checkpoint'] },
  );
} catch (error) {
  console.error(`audit:verify failed: ${(error as Error).message}`);
} finally {
  await db.close();
}
process.exit(code);
