// What the end-to-end test and the benchmark share: the real invite-service, invitectl, a
// server for the fake ATS and calendar pages, and Debian's Chromium with the unpacked extension.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
export const extensionDir = path.join(root, 'extension', 'dist', 'unpacked');
export const artifactsDir = path.join(here, 'artifacts');
const bin = (name) => path.join(root, 'target', 'debug', name);

/** Chrome's id for an unpacked extension: sha256 of its absolute path, hex digits mapped to a-p. */
export function extensionId(dir) {
  const hex = createHash('sha256').update(dir).digest('hex').slice(0, 32);
  return [...hex].map((d) => String.fromCharCode(97 + parseInt(d, 16))).join('');
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts the real invite-service on a fresh database and resolves once it has printed the
 * admin key, which it does only after binding its port.
 */
export async function startServer({ corsOrigin, logLevel = 'warn' }) {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'beckon-ext-e2e-'));
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(bin('invite-service'), [], {
    env: {
      ...process.env,
      BECKON_LISTEN_ADDR: `127.0.0.1:${port}`,
      BECKON_PUBLIC_BASE_URL: url,
      BECKON_DATA_DIR: dataDir,
      BECKON_CORS_ORIGINS: corsOrigin,
      RUST_LOG: logLevel,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Everything the service wrote, for tests that look for what must never be logged.
  let stderr = '';
  let stdout = '';
  proc.stderr.on('data', (chunk) => { stderr += chunk; });
  proc.stdout.on('data', (chunk) => { stdout += chunk; });
  const adminKey = await new Promise((resolve, reject) => {
    let sawBanner = false;
    const lines = readline.createInterface({ input: proc.stdout });
    lines.on('line', (line) => {
      if (line.startsWith('A new database')) sawBanner = true;
      const key = line.trim();
      if (sawBanner && key.startsWith('bk_')) resolve(key);
    });
    proc.once('exit', (code) => reject(new Error(`invite-service exited (${code}) before it was ready:\n${stderr}`)));
    proc.once('error', reject);
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  return {
    url,
    adminKey,
    // Mail goes to .eml files in `mail/` here (no SMTP server is set).
    dataDir,
    logs: () => stdout + stderr,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const execFileAsync = promisify(execFile);

/** Runs invitectl against the server with `key`; returns stdout. */
export async function invitectl(server, key, args) {
  const { stdout } = await execFileAsync(bin('invitectl'), args, {
    env: { ...process.env, BECKON_SERVER: server.url, BECKON_API_KEY: key },
  });
  return stdout;
}

export async function createJob(server, title) {
  const out = await invitectl(server, server.adminKey, [
    'jobs', 'create', '--title', title, '--assessment-url', 'https://assess.example.com/start']);
  const match = /^job (\S+)/.exec(out);
  if (!match) throw new Error(`unexpected invitectl output: ${out}`);
  return match[1];
}

export async function createLinksKey(server) {
  const out = await invitectl(server, server.adminKey,
    ['--output', 'json', 'keys', 'create', '--name', 'ext', '--scope', 'links']);
  const parsed = JSON.parse(out);
  return { id: parsed.api_key.id, secret: parsed.secret };
}

const contentTypes = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

// URL prefix -> folder, for the editor test pages, their bundles and what the self-hosted
// editors load at runtime (TinyMCE's themes, models, skins, icons; CKEditor's UMD build and CSS).
const modules = path.join(here, 'node_modules');
const staticRoots = [
  ['/editors/dist/', path.join(here, 'editors', 'dist')],
  ['/editors/', path.join(here, 'pages', 'editors')],
  ['/vendor/tinymce/', path.join(modules, 'tinymce')],
  ['/vendor/ckeditor5/', path.join(modules, 'ckeditor5', 'dist', 'browser')],
  ['/vendor/quill/', path.join(modules, 'quill', 'dist')],
  ['/vendor/draft-js/', path.join(modules, 'draft-js', 'dist')],
];

/** The file a request path maps to under one of `staticRoots`, or null. Never leaves the root. */
function staticFile(pathname) {
  for (const [prefix, dir] of staticRoots) {
    if (!pathname.startsWith(prefix)) continue;
    let rel;
    try {
      rel = decodeURIComponent(pathname.slice(prefix.length));
    } catch {
      return null;
    }
    const file = path.resolve(dir, rel);
    if (!file.startsWith(dir + path.sep)) return null;
    return file;
  }
  return null;
}

/**
 * Serves from 127.0.0.1 the fake ATS and calendar pages (/<name>.html -> pages/<name>.html) and the
 * editor test pages: /editors/<name>.html, /editors/dist/<bundle>.js and /vendor/<editor>/... assets.
 */
export async function startPageServer() {
  const pages = path.join(here, 'pages');
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    let file = staticFile(pathname);
    if (file === null && !pathname.startsWith('/editors/') && !pathname.startsWith('/vendor/')) {
      const name = path.basename(pathname);
      file = name.endsWith('.html') ? path.join(pages, name) : null;
    }
    const type = file && contentTypes[path.extname(file)];
    if (!type || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

export function chromiumPath() {
  // The real binary skips Debian's wrapper script and its harmless warning.
  for (const candidate of ['/usr/lib/chromium/chromium', '/usr/bin/chromium']) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('Chromium is missing: apt-get install -y chromium');
}

/** Headless Chromium with the unpacked extension loaded; resolves with its service worker. */
export async function launchBrowser() {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'beckon-ext-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: { width: 1000, height: 800 },
    ignoreDefaultArgs: ['--disable-extensions'],
    args: [
      '--headless=new',
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // Lets the test click the toolbar button (CDP Extensions.triggerAction), which is what
      // grants the extension the page (activeTab). Works over the pipe Playwright uses.
      '--enable-unsafe-extension-debugging',
    ],
  });
  const worker = context.serviceWorkers()[0] ?? await context.waitForEvent('serviceworker');
  const id = new URL(worker.url()).host;
  return {
    context,
    worker,
    id,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Clicks Beckon's toolbar button on `page`, as a recruiter does: Chrome opens the real popup and
 * grants the extension that tab (activeTab) until it navigates. The real popup is closed again
 * (the test drives popup.html in a tab of its own, which Playwright can reach).
 */
export async function clickToolbarButton(browser, page) {
  const cdp = await browser.context.browser().newBrowserCDPSession();
  try {
    const pageSession = await browser.context.newCDPSession(page);
    const { targetInfo } = await pageSession.send('Target.getTargetInfo');
    await pageSession.detach();
    const { targetInfos: tabs } = await cdp.send('Target.getTargets', { filter: [{ type: 'tab' }] });
    const showing = tabs.filter((tab) => tab.url === targetInfo.url);
    if (showing.length !== 1) throw new Error(`expected one tab showing ${targetInfo.url}, found ${showing.length}`);
    const popupUrl = `chrome-extension://${browser.id}/popup.html`;
    const opened = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the toolbar button opened no popup within 5 s')), 5000);
      const seen = ({ targetInfo: target }) => {
        if (target.url !== popupUrl) return;
        clearTimeout(timer);
        resolve(target.targetId);
      };
      cdp.on('Target.targetCreated', seen);
      cdp.on('Target.targetInfoChanged', seen);
    });
    await cdp.send('Target.setDiscoverTargets', { discover: true });
    await cdp.send('Extensions.triggerAction', { id: browser.id, targetId: showing[0].targetId });
    await cdp.send('Target.closeTarget', { targetId: await opened });
  } finally {
    await cdp.detach();
  }
}

/** What is on the clipboard: pasted with the keyboard into the fake ATS's field in a fresh page. */
export async function pastedFromClipboard(browser, pages) {
  const reader = await browser.context.newPage();
  await reader.goto(`${pages.url}/ats.html`);
  await reader.fill('#note', '');
  await reader.focus('#note');
  await reader.keyboard.press('Control+V');
  const text = await reader.inputValue('#note');
  await reader.close();
  return text;
}

/** The Chrome tab id of a page, found by bringing it to the front. */
export async function tabIdOf(worker, page) {
  await page.bringToFront();
  return worker.evaluate(async () => {
    const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
    return tab.id;
  });
}
