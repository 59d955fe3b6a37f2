import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLayers } from '../src/ingest/generate/layers.ts';
import { insertTestPersons } from '../src/ogc/testing/fixtures.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { testGateway } from '../src/testing/gateway.ts';

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('/map in a real browser', () => {
  let db: TestDatabase;
  let server: Server;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => {
    db = await testDatabase();
    await generateLayers(db, { seed: 5, perLayer: 8, prefixes: ['11'] });
    await insertTestPersons(db);
    const gateway = await testGateway(db);
    server = createServer(gateway.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await db?.dispose();
  });

  it('serves the page and MapLibre locally', async () => {
    const page = await fetch(`${origin}/map`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/map/vendor/maplibre-gl.mjs');
    expect((await fetch(`${origin}/map/vendor/maplibre-gl.mjs`)).status).toBe(200);
    expect((await fetch(`${origin}/map/vendor/../../package.json`)).status).toBe(404);
  });

  it('renders tiles, lists the layers and shows a clicked feature’s properties', async () => {
    const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    const external: string[] = [];
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith('blob:') && !r.url().startsWith('data:'))
        external.push(r.url());
    });
    await page.goto(`${origin}/map?center=116.40,40.00&zoom=8`);
    await page.waitForFunction(
      () => (window as any).mapState?.ready && (window as any).mapState.rendered > 0,
      undefined,
      { timeout: 90_000 },
    );
    const boxes = await page.$$eval('#layers input', (inputs) =>
      inputs.map((i) => (i as HTMLInputElement).dataset.collection),
    );
    expect(boxes).toContain('layer-ecology');
    expect(boxes).toContain('persons-per-county');
    const target = await page.evaluate(() => {
      const map = (window as any).map;
      const panel = document.getElementById('panel')!.getBoundingClientRect();
      const canvas = map.getCanvas().getBoundingClientRect();
      for (const f of map.queryRenderedFeatures({ layers: ['layer-ecology-point'] })) {
        const p = map.project(f.geometry.coordinates);
        const x = p.x + canvas.left;
        const y = p.y + canvas.top;
        const underPanel = x <= panel.right + 5 && y <= panel.bottom + 5;
        if (underPanel || x < 10 || y < 10 || x > canvas.width - 10 || y > canvas.height - 10) continue;
        // Only a point where the ecology feature is the topmost clickable one (no place name above it).
        const clickable = map
          .getStyle()
          .layers.filter((l: any) => l.source && !l.source.startsWith('divisions-'))
          .map((l: any) => l.id);
        const [top] = map.queryRenderedFeatures([p.x, p.y], { layers: clickable });
        if (top?.source === 'layer-ecology') return { x, y };
      }
      return null;
    });
    expect(target).not.toBeNull();
    await page.mouse.click(target!.x, target!.y);
    const popup = page.locator('.feature-popup');
    await popup.waitFor({ timeout: 10_000 });
    const text = await popup.textContent();
    // The popup shows the topmost feature under the click (an ecology site, unless a place name is drawn
    // over it): its collection and every property.
    const clicked = await page.evaluate(() => (window as any).mapState.clicked);
    expect(['layer-ecology', 'place-names']).toContain(clicked.source);
    expect(text).toContain(clicked.source);
    for (const [key, value] of Object.entries(clicked.properties)) expect(text).toContain(`${key}${value}`);
    expect(external).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(await page.evaluate(() => (window as any).mapState.errors)).toEqual([]);
    await page.close();
  });
});
