/** `npm run access -- <command>`: departments, purposes, API keys and grants. See src/access/admin-cli.ts. */
import { runAccessCli } from '../src/access/admin-cli.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { migrate, openDatabase } from '../src/db/index.ts';

const code = await runAccessCli(
  process.argv.slice(2),
  { out: (line) => console.log(line), err: (line) => console.error(line) },
  async (work) => {
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig();
    } catch (error) {
      if (error instanceof ConfigError) throw new Error(error.message);
      throw error;
    }
    const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    try {
      await migrate(db);
      await work(db);
    } finally {
      await db.close();
    }
  },
);
process.exit(code);
