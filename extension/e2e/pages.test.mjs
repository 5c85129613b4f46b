// Every page a candidate can see, in Debian's headless Chromium against the real invite-service:
// an accessibility audit by axe-core (the Deque library; WCAG 2.1 A and AA and its best
// practices) with no violation, at a phone's width (375 px) and a desktop's (1280 px), in light
// and dark mode, with reduced motion asked for; every request the page makes goes to the
// service itself. Screenshots of each land in artifacts/candidate-pages/ (look at them).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { artifactsDir, chromiumPath, invitectl, startServer } from './harness.mjs';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const shots = path.join(artifactsDir, 'candidate-pages');
// What a person's browser says (headless Chromium's own agent reads as a link scanner).
const PERSON = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

let server;
let browser;
/** name → how to reach the page: `{ url }`, or `{ url, served }` for the answer to a form post. */
const pages = new Map();

async function json(args) {
  return JSON.parse(await invitectl(server, server.adminKey, ['--output', 'json', ...args]));
}

async function newInvite(jobId, name) {
  const created = await json(['invites', 'create', '--job', jobId, '--name', name]);
  return { id: created.invite.id, link: created.link_url };
}

/** A form post's answer, kept to be served again at the form's URL (a post can't be re-fetched). */
async function posted(url, fields) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'user-agent': PERSON, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
    redirect: 'manual',
  });
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: await response.text(),
  };
}

/** The candidate presses Start (the page's form), which leads on to the assessment. */
async function pressStart(link) {
  const start = await fetch(`${link}/start`, { method: 'POST', headers: { 'user-agent': PERSON }, redirect: 'manual' });
  assert.equal(start.status, 303);
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startServer({ corsOrigin: 'chrome-extension://none' });
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });

  const job = /^job (\S+)/.exec(await invitectl(server, server.adminKey, ['jobs', 'create',
    '--title', 'Backend engineer', '--assessment-url', 'https://assess.example.com/start']))[1];
  const ready = await newInvite(job, 'Ada Lovelace');
  pages.set('invite', { url: ready.link });
  const started = await newInvite(job, 'Grace Hopper');
  await pressStart(started.link);
  pages.set('invite-started', { url: started.link });
  const locked = await newInvite(job, 'Katherine Johnson');
  await invitectl(server, server.adminKey, ['invites', 'lock', locked.id]);
  pages.set('invite-locked', { url: locked.link });
  const submitted = await newInvite(job, 'Dorothy Vaughan');
  await pressStart(submitted.link);
  await invitectl(server, server.adminKey, ['invites', 'complete', submitted.id]);
  pages.set('invite-submitted', { url: submitted.link });
  const dead = `${server.url}/i/${'x'.repeat(43)}`;
  pages.set('link-not-available', { url: dead });
  pages.set('new-link-invalid', { url: dead, served: await posted(dead, { email: 'not an address' }) });
  pages.set('new-link-asked', { url: dead, served: await posted(dead, { email: 'ada@example.com' }) });

  const publicUrl = /^public_url (\S+)/m.exec(await invitectl(server, server.adminKey, ['jobs', 'public', 'on', job]))[1];
  pages.set('registration', { url: publicUrl });
  pages.set('registration-invalid', { url: publicUrl, served: await posted(publicUrl, { name: '', email: 'not an address' }) });
  pages.set('registration-sent', { url: publicUrl, served: await posted(publicUrl, { name: 'Mary Jackson', email: 'mary@example.com' }) });
  // One address may register 5 times at once (public_rate_per_address): the next waits.
  let limited = null;
  for (let i = 0; i < 10 && !limited; i += 1) {
    const answer = await posted(publicUrl, { name: `Candidate ${i}`, email: `c${i}@example.com` });
    if (answer.status === 429) limited = answer;
  }
  assert.ok(limited, 'the per-address limit was reached');
  pages.set('registration-rate-limited', { url: publicUrl, served: limited });

  const closing = /^job (\S+)/.exec(await invitectl(server, server.adminKey, ['jobs', 'create',
    '--title', 'Data analyst', '--assessment-url', 'https://assess.example.com/start']))[1];
  const closedUrl = /^public_url (\S+)/m.exec(await invitectl(server, server.adminKey, ['jobs', 'public', 'on', closing]))[1];
  await invitectl(server, server.adminKey, ['jobs', 'close', closing]);
  pages.set('registration-closed', { url: closedUrl });
  pages.set('enrolment-link', { url: `${server.url}/enroll` });

  // A cohort's email carries its unsubscribe page (List-Unsubscribe): the page asks, then says
  // it is done. `bulk send` returns once every email has its outcome, here an .eml file.
  const list = path.join(server.dataDir, 'wave.txt');
  writeFileSync(list, 'katherine@example.com\n');
  await invitectl(server, server.adminKey, ['bulk', 'send', '--job', job, '--list', list, '--send-email', '--yes']);
  const mailDir = path.join(server.dataDir, 'mail');
  const unsubscribe = readdirSync(mailDir)
    .map((file) => readFileSync(path.join(mailDir, file), 'utf8'))
    .map((message) => /^List-Unsubscribe: <([^>]+)>/m.exec(message))
    .find(Boolean)?.[1];
  assert.ok(unsubscribe, 'the cohort email has a List-Unsubscribe URL');
  pages.set('unsubscribe', { url: unsubscribe });
  pages.set('unsubscribed', { url: unsubscribe, served: await posted(unsubscribe, { 'List-Unsubscribe': 'One-Click' }) });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

/** Relative luminance of a CSS `rgb(…)` colour, 0 (black) to 1 (white). */
function luminance(color) {
  const [r, g, b] = color.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** axe-core's WCAG 2.1 AA and best-practice audit of a page. */
async function axeAudit(page) {
  await page.addScriptTag({ path: axePath });
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
    });
    return {
      passed: result.passes.length,
      violations: result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    };
  });
}

// The pages in each shipped language the browser asks for (Accept-Language), at a phone's
// width, where longer words are likelier to overflow. Pages fetched by a POST were fetched in
// English and are left out.
for (const [locale, lang] of [['de-DE', 'de'], ['fr-FR', 'fr'], ['es-MX', 'es'], ['pt-BR', 'pt-BR']]) {
  test(`every candidate page in ${locale} at 375 px: in that language, no accessibility violation`, async () => {
    const context = await browser.newContext({
      userAgent: PERSON,
      viewport: { width: 375, height: 800 },
      locale,
      reducedMotion: 'reduce',
      bypassCSP: true,
    });
    try {
      for (const [name, { url, served }] of pages) {
        // The enrolment page is for team members, in English like the extension.
        if (served || name === 'enrolment-link') continue;
        const page = await context.newPage();
        await page.goto(url);
        assert.equal(await page.evaluate(() => document.documentElement.lang), lang, `${name} in ${locale}`);
        const audit = await axeAudit(page);
        assert.deepEqual(audit.violations, [], `${name} in ${locale}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${name} in ${locale} fits 375 px (${overflow} px too wide)`);
        await page.screenshot({ path: path.join(shots, `${name}-${lang}-375.png`), fullPage: true });
        await page.close();
      }
    } finally {
      await context.close();
    }
  });
}

for (const width of [375, 1280]) {
  for (const scheme of ['light', 'dark']) {
    test(`every candidate page at ${width} px in ${scheme} mode: no accessibility violation, nothing from elsewhere`, async () => {
      // The audit's script is added by the test, so the pages' own policy is bypassed for it.
      const context = await browser.newContext({
        userAgent: PERSON,
        viewport: { width, height: 800 },
        colorScheme: scheme,
        reducedMotion: 'reduce',
        bypassCSP: true,
      });
      try {
        for (const [name, { url, served }] of pages) {
          const page = await context.newPage();
          const elsewhere = [];
          page.on('request', (request) => {
            if (!request.url().startsWith(server.url) && !request.url().startsWith('data:')) elsewhere.push(request.url());
          });
          if (served) {
            await page.route(url, (route) => route.fulfill({ status: served.status, headers: served.headers, body: served.body }));
          }
          await page.goto(url);
          const audit = await axeAudit(page);
          assert.deepEqual(audit.violations, [], `${name} at ${width} px, ${scheme}`);
          // The audit really looked (contrast, landmarks, language, labels, headings…).
          assert.ok(audit.passed >= 10, `${name}: axe checked ${audit.passed} rules`);
          assert.deepEqual(elsewhere, [], `${name} asked nothing of another site`);
          // Fits the screen: nothing wider than the viewport.
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `${name} fits ${width} px (${overflow} px too wide)`);
          const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
          if (scheme === 'dark') assert.ok(luminance(background) < 0.05, `${name} is dark in dark mode: ${background}`);
          else assert.ok(luminance(background) > 0.8, `${name} is light in light mode: ${background}`);
          assert.equal(await page.evaluate(() => document.getAnimations().length), 0, `${name} moves nothing`);
          await page.screenshot({ path: path.join(shots, `${name}-${width}-${scheme}.png`), fullPage: true });
          await page.close();
        }
      } finally {
        await context.close();
      }
    });
  }
}
