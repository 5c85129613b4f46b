// The extension on the editors recruiters use, built from their real npm packages
// (editors/src, bundled by editors/build.mjs): the recruiter clicks Beckon's toolbar button, makes
// a link in the popup and presses Insert. Each case checks what the page's editor holds in its
// own model (not the DOM), that the link sits where the cursor was, that it survives a re-render,
// that one Ctrl+Z takes it out again, that no other field changed, and that the popup's
// "Inserted" was true. Where a page's field can't be written to, the popup must say so and leave
// the link on the clipboard.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildEditors } from './editors/build.mjs';
import {
  artifactsDir, clickToolbarButton, createJob, extensionDir, extensionId, invitectl,
  launchBrowser, pastedFromClipboard, startPageServer, startServer, tabIdOf,
} from './harness.mjs';

const INITIAL = 'Hello candidate, join here:  Thanks!';
const plain = (text) => (text ?? '').replace(/\u00a0/g, ' ').trim();
const count = (text, needle) => plain(text).split(needle).length - 1;

let server;
let pages;
let browser;
let jobId;

before(async () => {
  mkdirSync(artifactsDir, { recursive: true });
  await buildEditors();
  // invite-service's own debug logs too: the enrolment test looks there for secrets.
  server = await startServer({
    corsOrigin: `chrome-extension://${extensionId(extensionDir)}`,
    logLevel: 'info,invite_service=debug',
  });
  jobId = await createJob(server, 'Backend engineer');
  pages = await startPageServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pages?.close();
  await server?.stop();
  server?.cleanup();
});

test('enrolment: a one-time link from an admin connects the extension with a key of its member', async () => {
  const member = /^member (\S+)/.exec(await invitectl(server, server.adminKey,
    ['members', 'create', '--email', 'rita@example.com', '--name', 'Rita Recruiter']))[1];
  const enrolled = JSON.parse(await invitectl(server, server.adminKey,
    ['--output', 'json', 'keys', 'enroll', '--member', member, '--valid-hours', '2']));
  const url = enrolled.url;
  assert.match(url, new RegExp(`^${server.url}/enroll#be_[A-Za-z0-9_-]{43}$`));

  // The page the link opens explains it; the code never reaches the server (it is the fragment).
  const landing = await browser.context.newPage();
  const response = await landing.goto(url);
  assert.equal(response.status(), 200);
  assert.match(await landing.innerText('body'), /Enrolment link/);
  await landing.close();

  const options = await browser.context.newPage();
  await options.goto(`chrome-extension://${browser.id}/options.html`);
  await options.fill('#enrollment-link', url);
  await options.click('#connect');
  const ok = options.locator('[data-kind="connected"]');
  await ok.waitFor();
  assert.match(await ok.innerText(), /Connected to .*\.\s+The key "Browser extension" may make interview links\. 1 open job\./s);
  const keys = JSON.parse(await invitectl(server, server.adminKey, ['--output', 'json', 'keys', 'list']));
  const made = keys.api_keys.filter((k) => k.name === 'Browser extension');
  assert.equal(made.length, 1);
  assert.equal(made[0].scope, 'links');
  const stored = await browser.worker.evaluate(() => chrome.storage.local.get(['server', 'apiKey']));
  assert.equal(stored.server, server.url);
  assert.ok(stored.apiKey.startsWith(made[0].prefix));

  // Used once: pasted again, it is refused in plain words and changes nothing.
  await options.fill('#enrollment-link', url);
  await options.click('#connect');
  await options.locator('[data-error-kind="enrollment_spent"]').waitFor();
  assert.equal((await browser.worker.evaluate(() => chrome.storage.local.get('apiKey'))).apiKey, stored.apiKey);
  await options.close();
  // Neither the code nor the key it became is in the service's logs.
  const code = url.split('#be_')[1];
  const keySecret = stored.apiKey.slice(made[0].prefix.length + 1);
  assert.ok(code.length === 43 && keySecret.length >= 40);
  const logs = server.logs();
  assert.ok(logs.length > 0, 'the service logged something');
  assert.ok(!logs.includes(code), 'the enrolment code is not logged');
  assert.ok(!logs.includes(keySecret), 'the key is not logged');
  await browser.worker.evaluate((id) => chrome.storage.local.set({ lastJobId: id, lastJobTitle: 'Backend engineer' }), jobId);
});

/** An editor page, ready, with the cursor right after "join here: ". */
async function openEditor(name) {
  const page = await browser.context.newPage();
  await page.goto(`${pages.url}/editors/${name}.html`);
  await page.waitForSelector('html[data-ready="1"]');
  await page.evaluate(() => window.testEditor.placeCaretAfter('join here: '));
  return page;
}

/** Clicks the toolbar button on `page`, makes a link for `who` in the popup. */
async function popupWithLink(page, who) {
  const tabId = await tabIdOf(browser.worker, page);
  await clickToolbarButton(browser, page);
  const popup = await browser.context.newPage();
  await popup.setViewportSize({ width: 380, height: 600 });
  await popup.goto(`chrome-extension://${browser.id}/popup.html?tab=${tabId}`);
  await popup.waitForSelector('body[data-loaded="true"]');
  await popup.fill('#name', who);
  await popup.press('#name', 'Enter');
  await popup.waitForSelector('#result:not([hidden])');
  return { popup, link: await popup.inputValue('#link') };
}

/** What is on the clipboard. */
const clipboardText = () => pastedFromClipboard(browser, pages);

const editors = ['react', 'prosemirror', 'quill', 'lexical', 'draftjs', 'ckeditor5', 'tinymce', 'iframe', 'shadow-open'];
// Editors whose test page keeps links get a clickable one; the others (plain fields, and
// Lexical, Draft.js and CKEditor 5 as set up here, without a link plugin) keep the text.
const keepsLinks = new Set(['prosemirror', 'quill', 'tinymce', 'iframe']);

for (const name of editors) {
  test(`${name}: the link goes into the editor's model at the cursor, and one Ctrl+Z takes it out`, async () => {
    const page = await openEditor(name);
    const subject = await page.inputValue('#subject');
    const { popup, link } = await popupWithLink(page, `Candidate ${name}`);
    await popup.click('#insert');
    await popup.waitForFunction(() => {
      const status = document.getElementById('result-status').textContent;
      return status.includes('Inserted') || !document.getElementById('error').hidden;
    });
    assert.equal(await popup.isHidden('#error'), true, await popup.innerText('#error'));
    assert.equal(await popup.innerText('#result-status'), 'Inserted into the page.');
    await popup.close();

    const model = await page.evaluate(() => window.testEditor.text());
    assert.equal(count(model, link), 1, `the model holds the link once: ${model}`);
    assert.equal(plain(model), `Hello candidate, join here: ${link} Thanks!`);
    const frame = await page.evaluate(() => window.testEditor.frame);
    const scope = frame ? await (await page.$(frame)).contentFrame() : page.mainFrame();
    // The cursor is right after the link, where the recruiter goes on typing.
    const beforeCursor = await scope.evaluate(() => {
      let el = document.activeElement;
      while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
      if (el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA')) return el.value.slice(0, el.selectionStart);
      const selection = (el.getRootNode().getSelection ? el.getRootNode() : document).getSelection();
      const range = document.createRange();
      range.selectNodeContents(el);
      range.setEnd(selection.focusNode, selection.focusOffset);
      return range.toString();
    });
    assert.ok(plain(beforeCursor).endsWith(link), `the cursor follows the link: …${beforeCursor.slice(-30)}`);
    const clickable = await scope.evaluate((href) => !!document.querySelector(`a[href="${href}"]`), link);
    assert.equal(clickable, keepsLinks.has(name), 'a clickable link where the editor keeps links');
    await page.evaluate(() => window.testEditor.rerender());
    assert.equal(count(await page.evaluate(() => window.testEditor.domText()), link), 1, 'shown after a re-render');
    assert.equal(await page.inputValue('#subject'), subject, 'no other field changed');

    await page.bringToFront();
    await page.keyboard.press('Control+z'); // lower-case z: what a keyboard sends (Quill binds "z")
    await page.waitForFunction((initial) => window.testEditor.text().replace(/\u00a0/g, ' ').trim() === initial,
      INITIAL.trim(), { timeout: 2000 });
    await page.close();
  });
}

for (const name of ['prosemirror', 'react']) {
  test(`${name}: a selection is kept, and the link goes after the selected name with a space`, async () => {
    const page = await openEditor(name);
    await page.evaluate(() => window.testEditor.selectText('candidate'));
    const { popup, link } = await popupWithLink(page, `Selected ${name}`);
    await popup.click('#insert');
    await popup.waitForFunction(() => document.getElementById('result-status').textContent === 'Inserted into the page.');
    await popup.close();
    assert.equal(plain(await page.evaluate(() => window.testEditor.text())), `Hello candidate ${link}, join here:  Thanks!`);
    await page.close();
  });
}

test("a closed shadow root's field: the popup says it can't be written to, and copies the link", async () => {
  const page = await openEditor('shadow-closed');
  const before = await page.evaluate(() => window.testEditor.text());
  const { popup, link } = await popupWithLink(page, 'Closed Shadow');
  await popup.click('#insert');
  await popup.waitForSelector('#error:not([hidden])');
  assert.match(await popup.innerText('#error'), /can't be written to by extensions[\s\S]*The link is on the clipboard/);
  await popup.close();
  assert.equal(await page.evaluate(() => window.testEditor.text()), before, 'nothing was written');
  assert.equal(await clipboardText(), link);
  await page.close();
});

test('a field that refuses the link: the popup says so, never "Inserted", and copies the link', async () => {
  const page = await openEditor('refusing');
  const { popup, link } = await popupWithLink(page, 'Refused Field');
  await popup.click('#insert');
  await popup.waitForSelector('#error[data-kind="not_inserted"]:not([hidden])');
  assert.match(await popup.innerText('#error'), /didn't take it, so nothing was inserted[\s\S]*The link is on the clipboard/);
  assert.doesNotMatch(await popup.innerText('#result-status'), /Inserted/);
  await popup.close();
  assert.equal(await page.evaluate(() => window.testEditor.text()), INITIAL);
  assert.equal(await clipboardText(), link);
  await page.close();
});

test("a field in another site's frame: named as one no extension may write to, and the link copied", async () => {
  // The same server under another name is another origin, which the tab's grant does not cover.
  const other = pages.url.replace('127.0.0.1', 'localhost');
  const page = await browser.context.newPage();
  await page.goto(`${pages.url}/cross-origin.html?frame=${encodeURIComponent(`${other}/frame-input.html`)}`);
  const frame = await (await page.waitForSelector('#widget')).contentFrame();
  await frame.waitForSelector('#field');
  await frame.focus('#field');
  const { popup, link } = await popupWithLink(page, 'Other Origin');
  await popup.click('#insert');
  await popup.waitForSelector('#error:not([hidden])');
  assert.match(await popup.innerText('#error'), /can't be written to by extensions[\s\S]*The link is on the clipboard/);
  await popup.close();
  assert.equal(await frame.inputValue('#field'), '');
  assert.equal(await page.inputValue('#subject'), 'Your interview');
  assert.equal(await clipboardText(), link);
  await page.close();
});

test('a field used before but no longer focused never receives the link', async () => {
  const page = await openEditor('quill');
  const subject = await page.inputValue('#subject');
  await page.focus('#subject');
  await page.evaluate(() => document.activeElement.blur());
  const { popup, link } = await popupWithLink(page, 'Nobody Focused');
  await popup.click('#insert');
  await popup.waitForSelector('#error[data-kind="no_field"]:not([hidden])');
  await popup.close();
  assert.equal(await page.inputValue('#subject'), subject);
  assert.equal(count(await page.evaluate(() => window.testEditor.text()), link), 0);
  await page.close();
});
