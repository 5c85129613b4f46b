// Size and speed of the extension (a benchmark, not a test): the wasm and unpacked sizes, popup
// open to interactive, and click-to-link, each beside a bare gRPC-web round trip of a trivial
// call (GetCaller) and of CreateInvite, hand-encoded and sent with fetch from an extension page
// of the same browser session. Run: extension/build.sh && (cd extension/e2e && node bench.mjs)
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  createJob, createLinksKey, extensionDir, extensionId, launchBrowser, startServer,
} from './harness.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 30);

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const ms = (value) => `${value.toFixed(1)} ms`;

const wasmBytes = statSync(path.join(extensionDir, 'pkg', 'beckon_extension_bg.wasm')).size;
const totalBytes = filesUnder(extensionDir).reduce((sum, file) => sum + statSync(file).size, 0);

const server = await startServer({ corsOrigin: `chrome-extension://${extensionId(extensionDir)}` });
const browser = await launchBrowser();
try {
  const jobId = await createJob(server, 'Backend engineer');
  const key = await createLinksKey(server);
  await browser.worker.evaluate(([server, apiKey, lastJobId]) => chrome.storage.local.set({
    server, apiKey, lastJobId, lastJobTitle: 'Backend engineer',
  }), [server.url, key.secret, jobId]);

  const page = await browser.context.newPage();
  await page.goto(`chrome-extension://${browser.id}/options.html`);
  const raw = await page.evaluate(async ({ server, apiKey, jobId, runs }) => {
    // gRPC-web by hand: a 5-byte frame header, then the protobuf message.
    const frame = (message) => {
      const body = new Uint8Array(5 + message.length);
      new DataView(body.buffer).setUint32(1, message.length);
      body.set(message, 5);
      return body;
    };
    const field = (number, text) => {
      const bytes = new TextEncoder().encode(text);
      return [(number << 3) | 2, bytes.length, ...bytes];
    };
    const call = async (method, message) => {
      const response = await fetch(`${server}/${method}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/grpc-web+proto',
          'x-grpc-web': '1',
          authorization: `Bearer ${apiKey}`,
        },
        body: frame(message),
      });
      await response.arrayBuffer();
      if (response.headers.get('grpc-status') && response.headers.get('grpc-status') !== '0') {
        throw new Error(`${method}: ${response.headers.get('grpc-message')}`);
      }
    };
    const time = async (fn) => {
      await fn(); // warm the connection
      const samples = [];
      for (let i = 0; i < runs; i += 1) {
        const start = performance.now();
        await fn();
        samples.push(performance.now() - start);
      }
      return samples;
    };
    const getCaller = await time(() => call('beckon.invite.v1.OrganizationService/GetCaller', new Uint8Array()));
    const createInvite = await time(() => call('beckon.invite.v1.InviteService/CreateInvite', new Uint8Array([
      ...field(1, jobId), ...field(3, 'Bench Candidate'), ...field(12, crypto.randomUUID()), ...field(13, 'extension'),
    ])));
    // The same CreateInvite through the extension's Rust client, without the popup around it.
    const rust = await (await import('./common.js')).beckon();
    const wasmCreateInvite = await time(() => rust.createInvite(server, apiKey, {
      jobId, jobTitle: 'Backend engineer', candidateName: 'Bench Candidate', freshRequestId: crypto.randomUUID(),
    }));
    return { getCaller, createInvite, wasmCreateInvite };
  }, { server: server.url, apiKey: key.secret, jobId, runs: RUNS });

  const popup = await browser.context.newPage();
  await popup.setViewportSize({ width: 380, height: 600 });
  // Timed from outside the shipped code: an observer added before the popup's own scripts notes
  // when it marks itself ready and loaded, when Generate is clicked and when the link shows.
  await popup.addInitScript(() => {
    const marks = {};
    window.benchMarks = marks;
    new MutationObserver(() => {
      const now = performance.now();
      const body = document.body;
      if (body && body.dataset.ready && !marks.interactive) marks.interactive = now;
      if (body && body.dataset.loaded && !marks.loaded) marks.loaded = now;
      const result = document.getElementById('result');
      if (marks.clicked && result && !result.hidden && !marks.linked) marks.linked = now;
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-ready', 'data-loaded', 'hidden'] });
    document.addEventListener('click', (event) => {
      if (event.target && event.target.id === 'generate') marks.clicked = performance.now();
    }, true);
  });
  const interactive = [];
  const loaded = [];
  const clickToLink = [];
  for (let i = 0; i <= RUNS; i += 1) {
    await popup.goto(`chrome-extension://${browser.id}/popup.html`);
    await popup.waitForSelector('body[data-loaded="true"]');
    await popup.fill('#name', `Bench Candidate ${i}`);
    await popup.click('#generate');
    await popup.waitForSelector('#result:not([hidden])');
    const marks = await popup.evaluate(() => window.benchMarks);
    if (i === 0) continue; // the first open compiles the wasm module; Chrome caches it after
    interactive.push(marks.interactive);
    loaded.push(marks.loaded);
    clickToLink.push(marks.linked - marks.clicked);
  }

  const roundTrip = median(raw.getCaller);
  const create = median(raw.createInvite);
  const serverCreate = Math.max(0, create - roundTrip);
  const target = 2 * roundTrip + serverCreate;
  console.log(`runs per figure (median): ${RUNS}`);
  console.log(`wasm after wasm-opt: ${wasmBytes} bytes (${(wasmBytes / 1024).toFixed(0)} KiB)`);
  console.log(`whole unpacked extension: ${totalBytes} bytes (${(totalBytes / 1024).toFixed(0)} KiB); target < 500 KB: ${totalBytes < 500_000 ? 'met' : 'NOT met'}`);
  console.log(`bare gRPC-web round trip, GetCaller: ${ms(roundTrip)}`);
  console.log(`bare gRPC-web CreateInvite: ${ms(create)} (server's own CreateInvite time ~ ${ms(serverCreate)})`);
  console.log(`CreateInvite through the extension's wasm client alone: ${ms(median(raw.wasmCreateInvite))}`);
  console.log(`popup open to interactive (cached jobs shown, wasm ready): ${ms(median(interactive))}`);
  console.log(`popup open to fully loaded (fresh jobs, statuses, selection): ${ms(median(loaded))}`);
  console.log(`click to link (Generate to link shown): ${ms(median(clickToLink))}; target < 2 x round trip + server CreateInvite = ${ms(target)}: ${median(clickToLink) < target ? 'met' : 'NOT met'}`);
} finally {
  await browser.close();
  await server.stop();
  server.cleanup();
}
