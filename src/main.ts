import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { DEMO_PRINCIPALS, installDemoAccess } from './access/demo.ts';
import { ConfigError, loadConfig } from './config.ts';
import { openAtRest } from './crypto/at-rest.ts';
import { developmentKekNotice, resolveKek } from './crypto/keyring.ts';
import { migrate, openDatabase } from './db/index.ts';
import { createGateway } from './gateway/server.ts';
import { loadReferenceData } from './ingest/reference-data.ts';
import { seedLayers, seedPopulation } from './ingest/seed.ts';
import { mapRoute } from './map/route.ts';
import { ogcRoute, tilesRoute } from './ogc/index.ts';
import { openDataRoute } from './open-data/index.ts';

/** Starts the service: open and migrate the database, load reference data (and the demo seed), serve. */
async function main(): Promise<void> {
  const config = loadConfig();
  // Before anything is opened: production without a key-encryption key stops here.
  const kek = resolveKek(config);
  const embedded = !config.databaseUrl;
  console.log(
    embedded
      ? `database: embedded PGlite + PostGIS in ${config.dataDir}`
      : `database: PostgreSQL at ${config.databaseUrl!.replace(/\/\/[^@/]*@/, '//***@')}`,
  );
  const db = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    statementTimeoutMs: config.statementTimeoutMs,
  });
  await migrate(db);
  // Sensitive fields are encrypted at rest under data keys wrapped by the KEK; a wrong KEK fails here.
  await openAtRest(db, kek.key);
  if (kek.development) console.error(developmentKekNotice(kek));
  else console.log(`encryption at rest: key-encryption key from ${kek.source}`);
  const loaded = await loadReferenceData(db);
  if (loaded.divisions > 0) {
    console.log(
      `reference data: ${loaded.divisions} divisions, ${loaded.boundaries} boundaries, ${loaded.codes} codes`,
    );
  }
  if (embedded && config.mode !== 'production') {
    await installDemoAccess(db);
    const seeded = await seedPopulation(db, config.seedPersons);
    if (seeded > 0) console.log(`seed: ${seeded} synthetic persons generated`);
    const features = await seedLayers(db);
    if (features > 0) console.log(`seed: ${features} thematic-layer features generated`);
    console.log('demo API keys (development only):');
    for (const [role, p] of Object.entries(DEMO_PRINCIPALS)) console.log(`  ${role.padEnd(28)} ${p.key}`);
  }
  const gateway = createGateway({
    db,
    config,
    routes: [ogcRoute(), tilesRoute(), mapRoute(), openDataRoute()],
    jwt: {
      ...(config.jwtSecret ? { secret: config.jwtSecret } : {}),
      ...(config.jwtPublicKeyFile ? { publicKeyPem: readFileSync(config.jwtPublicKeyFile, 'utf8') } : {}),
      ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
    },
  });
  const server = createServer(gateway.handle);
  server.listen(config.port, config.host, () => {
    console.log(
      `govbase listening on http://${config.host}:${config.port}/graphql, /ogc, /tiles (${config.mode})`,
    );
  });
  const stop = () => {
    server.close();
    void db.close().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
