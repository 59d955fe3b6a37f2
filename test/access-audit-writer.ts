/**
 * A separate audit-writing process for the multi-process test: appends `count` records labelled `label`,
 * `concurrency` at a time, through its own AuditLog, then prints its writer statistics as JSON.
 * It prints `ready` once connected and starts when the file `go` exists, so that several start together.
 *   tsx test/access-audit-writer.ts <database url> <label> <count> <concurrency> <go>
 */
import { existsSync } from 'node:fs';
import { AuditLog } from '../src/access/audit.ts';
import { openDatabase } from '../src/db/index.ts';

const [url, label, count, concurrency, go] = process.argv.slice(2);
const db = await openDatabase({ url: url!, poolSize: 2 });
console.log('ready');
while (!existsSync(go!)) await new Promise((resolve) => setTimeout(resolve, 10));
const log = new AuditLog(db, { lingerMs: 0 });
let next = 0;
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (next < Number(count)) {
      const i = next++;
      await log.append({
        principal: `system:${label}`,
        departmentCode: null,
        purpose: null,
        channel: 'script',
        operation: `${label}-${i}`,
        documentHash: null,
        fields: {},
        rowCounts: {},
        subjects: [],
        outcome: 'ok',
      });
    }
  }),
);
console.log(JSON.stringify(log.stats));
await db.close();
