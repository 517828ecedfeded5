/**
 * The /ui/ status page in a real headless Chromium (Debian's, driven by playwright-core): it shows
 * the namespace, node and pod counts the API reports, changes when a pod is created, and is only
 * for authenticated users with a view-level right. A screenshot goes to test-artifacts/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { eventually, rawClient, startServer, type TestServer } from './harness.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

describe('the status page in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  let server: TestServer;
  let browser: Browser;
  let token: string;

  before(async () => {
    server = await startServer(['--virtual-nodes', '2']);
    await server.ok(['create', 'serviceaccount', 'ui-viewer', '-n', 'default']);
    await server.ok(['create', 'clusterrolebinding', 'ui-viewer', '--clusterrole=view', '--serviceaccount=default:ui-viewer']);
    await server.ok(['create', 'serviceaccount', 'no-rights', '-n', 'default']);
    token = (await server.ok(['create', 'token', 'ui-viewer', '-n', 'default'])).trim();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const count = async (args: string[]) => JSON.parse(await server.ok([...args, '-o', 'json'])).items.length;

  it('shows the right counts, updates live when a pod is created, and saves a screenshot', async () => {
    await eventually(async () => assert.equal(await count(['get', 'nodes']), 2), 30_000);
    // bypassCSP: the page's policy forbids eval, which playwright's waitForFunction uses.
    const context = await browser.newContext({ ignoreHTTPSErrors: true, bypassCSP: true, extraHTTPHeaders: { authorization: `Bearer ${token}` }, viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    const response = await page.goto(`${server.url}/ui/`);
    assert.equal(response?.status(), 200);
    await page.waitForFunction(() => document.body.dataset.updated !== undefined, undefined, { timeout: 30_000 });
    const text = async (id: string) => (await page.locator(`#${id}`).textContent())?.trim();
    await eventually(async () => {
      assert.equal(await text('namespaces'), String(await count(['get', 'namespaces'])));
      assert.equal(await text('nodes'), '2');
      assert.equal(await text('pods'), String(await count(['get', 'pods', '-A'])));
    }, 20_000);
    assert.match((await text('node-phases')) ?? '', /Ready 2/);
    assert.match((await page.locator('#attestation').textContent()) ?? '', /checkpointKeyFingerprint[0-9a-f]{64}/);
    assert.ok((await page.locator('canvas').count()) >= 3, 'three live charts drawn by uPlot');

    const podsBefore = Number(await text('pods'));
    await server.ok(['run', 'ui-live-pod', '--image=registry.example/app:1', '-n', 'default', '--restart=Never']);
    await page.waitForFunction((n) => Number(document.getElementById('pods')!.textContent) === n, podsBefore + 1, { timeout: 30_000 });
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}status-page.png`, fullPage: true });
    assert.ok(existsSync(`${ARTIFACTS}status-page.png`));
    await context.close();
  });

  it('refuses anonymous users (401) and users without a view-level right (403)', async () => {
    const anonymous = await rawClient(server.kubeconfig, { anonymous: true });
    try {
      assert.equal((await anonymous.request('GET', '/ui/')).status, 401);
      const noRights = (await server.ok(['create', 'token', 'no-rights', '-n', 'default'])).trim();
      const refused = await anonymous.request('GET', '/ui/api/summary', undefined, { authorization: `Bearer ${noRights}` });
      assert.equal(refused.status, 403);
      assert.match(refused.body, /view-level right/);
      const allowed = await anonymous.request('GET', '/ui/api/summary', undefined, { authorization: `Bearer ${token}` });
      assert.equal(allowed.status, 200);
      assert.ok(allowed.json<{ namespaces: number }>().namespaces >= 4);
      assert.equal((await anonymous.request('POST', '/ui/api/summary', '{}', { authorization: `Bearer ${token}` })).status, 405);
    } finally {
      anonymous.close();
    }
  });
});
