// The candidate's page in Debian's headless Chromium against the real invite-service: the page
// loads with no Content-Security-Policy violation, its script reports the open once the page
// is shown (a link preview's report does not count), and Start leads on to the assessment on
// another origin, which the policy's form-action must allow through the redirect.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { chromiumPath, invitectl, startServer } from './harness.mjs';

// Headless Chromium says "HeadlessChrome", which the service takes for a link scanner: the
// person's browser says what a desktop Chrome says.
const PERSON = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

let server;
let assessment;
let browser;
let jobId;

/** The assessment platform: another origin (another port) that the Start form's redirect reaches. */
async function startAssessment() {
  const hits = [];
  const site = http.createServer((req, res) => {
    hits.push(req.url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end('<!doctype html><title>Assessment</title><h1>The assessment</h1>');
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${site.address().port}`,
    hits,
    close: () => new Promise((resolve) => site.close(resolve)),
  };
}

async function createInvite(name) {
  const out = await invitectl(server, server.adminKey, [
    '--output', 'json', 'invites', 'create', '--job', jobId, '--name', name]);
  const created = JSON.parse(out);
  return { id: created.invite.id, link: created.link_url };
}

async function showInvite(id) {
  return JSON.parse(await invitectl(server, server.adminKey, ['--output', 'json', 'invites', 'show', id]));
}

/** A fresh browser profile with the given user agent; records every CSP violation it reports. */
async function openPage(userAgent) {
  const context = await browser.newContext({ userAgent });
  const page = await context.newPage();
  const violations = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.exposeFunction('reportViolation', (text) => violations.push(text));
  // Runs before the page's own script, outside its policy.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      window.reportViolation(`${event.violatedDirective} blocked ${event.blockedURI}`);
    });
  });
  return { context, page, violations };
}

before(async () => {
  server = await startServer({ corsOrigin: 'http://127.0.0.1' });
  assessment = await startAssessment();
  const out = await invitectl(server, server.adminKey, [
    'jobs', 'create', '--title', 'Backend engineer', '--assessment-url', `${assessment.url}/start`]);
  jobId = /^job (\S+)/.exec(out)?.[1];
  assert.ok(jobId, `unexpected invitectl output: ${out}`);
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  await assessment?.close();
  await server?.stop();
  server?.cleanup();
});

test('the page is shown with no policy violation, its beacon counts the open, Start leads on', async () => {
  const invite = await createInvite('Ada Lovelace');
  const { context, page, violations } = await openPage(PERSON);
  const beacon = page.waitForResponse((response) => response.url().endsWith('/opened'));
  const response = await page.goto(invite.link);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-security-policy'], /frame-ancestors 'none'/);
  assert.match(await page.innerText('body'), /Ada Lovelace/);
  assert.equal((await beacon).status(), 204);

  const shown = await showInvite(invite.id);
  assert.equal(shown.invite.status, 'opened');
  assert.equal(Number(shown.invite.open_count), 1);
  const opened = shown.events.filter((event) => event.kind === 'opened');
  assert.deepEqual(opened.map((event) => event.detail), ['first open; browser: Chrome']);

  await Promise.all([
    page.waitForURL(`${assessment.url}/start?invite_id=${invite.id}`),
    page.getByRole('button', { name: 'Start' }).click(),
  ]);
  assert.match(await page.innerText('body'), /The assessment/);
  assert.equal((await showInvite(invite.id)).invite.status, 'started');
  assert.deepEqual(violations, []);
  await context.close();
});

test('a headless browser, as link scanners use, sees the same page and counts no open', async () => {
  const invite = await createInvite('Grace Hopper');
  const person = await openPage(PERSON);
  const counted = person.page.waitForResponse((response) => response.url().endsWith('/opened'));
  await person.page.goto(invite.link);
  assert.equal((await counted).status(), 204);
  const personHtml = await person.page.content();
  await person.context.close();

  const scanner = await openPage(undefined);
  const beacon = scanner.page.waitForResponse((response) => response.url().endsWith('/opened'));
  await scanner.page.goto(invite.link);
  assert.equal((await beacon).status(), 204, 'answered like any beacon');
  assert.equal(await scanner.page.content(), personHtml);
  assert.deepEqual(scanner.violations, []);
  await scanner.context.close();

  const shown = await showInvite(invite.id);
  // The person's open alone.
  assert.equal(Number(shown.invite.open_count), 1);
  assert.equal(shown.events.filter((event) => event.kind === 'opened').length, 1);
});
