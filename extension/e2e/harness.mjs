// What the end-to-end test and the benchmark share: the real invite-service, invitectl, a
// server for the fake ATS and calendar pages, and Debian's Chromium with the unpacked extension.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
export async function startServer({ corsOrigin }) {
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
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (chunk) => { stderr += chunk; });
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

/** Serves the fake ATS and calendar pages from 127.0.0.1. */
export async function startPageServer() {
  const pages = path.join(here, 'pages');
  const server = http.createServer((req, res) => {
    const name = path.basename(new URL(req.url, 'http://x').pathname);
    const file = path.join(pages, name);
    if (!name.endsWith('.html') || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(readFileSync(file));
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

/** The Chrome tab id of a page, found by bringing it to the front. */
export async function tabIdOf(worker, page) {
  await page.bringToFront();
  return worker.evaluate(async () => {
    const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
    return tab.id;
  });
}
