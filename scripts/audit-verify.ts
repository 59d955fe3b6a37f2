/**
 * `npm run audit:verify`: re-computes the SM3 hash chain of the access audit and names the first record
 * that does not verify. Exit code 0 when the chain is intact, 1 when it is not (or cannot be read).
 */
import { runAuditVerify } from '../src/access/audit-verify-cli.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/index.ts';

const config = loadConfig();
const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
const tty = process.stderr.isTTY;
const started = Date.now();
let code = 1;
try {
  code = await runAuditVerify(db, {
    out: (line) => {
      if (tty) process.stderr.write('\n');
      console.log(line);
    },
    progress: (checked, total) => {
      const line = `verifying audit chain: ${checked}/${total} records (${((Date.now() - started) / 1000).toFixed(1)} s)`;
      process.stderr.write(tty ? `\r${line}` : `${line}\n`);
    },
  });
} catch (error) {
  console.error(`audit:verify failed: ${(error as Error).message}`);
} finally {
  await db.close();
}
process.exit(code);
