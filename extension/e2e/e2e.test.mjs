// The extension end to end, in Debian's headless Chromium against the real invite-service:
// options → popup → copy / insert into a fake ATS and calendar → the candidate opens the link →
// status "opened" → the context-menu path → errors for a closed job, a revoked key and a stopped
// server. Screenshots land in artifacts/ (look at them: they are what recruiters see).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  artifactsDir, clickToolbarButton, createJob, createLinksKey, extensionDir, extensionId, invitectl,
  launchBrowser, pastedFromClipboard, startPageServer, startServer, tabIdOf,
} from './harness.mjs';

const expectedId = extensionId(extensionDir);
let server;
let pages;
let browser;
let key;
let jobId;
let closingJobId;
let adaLink;

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(artifactsDir, name), fullPage: true });
}

/** What a recruiter sees of the popup: Chrome caps it at 600 px, the rest scrolls. */
async function popupScreenshot(popup, name) {
  await popup.screenshot({ path: path.join(artifactsDir, name), clip: { x: 0, y: 0, width: 380, height: 600 } });
}

/** The bottom edge of an element, in the popup's own pixels. */
async function bottomOf(popup, selector) {
  return popup.$eval(selector, (el) => el.getBoundingClientRect().bottom);
}

/** What is on the clipboard. */
const clipboardText = () => pastedFromClipboard(browser, pages);

async function openPopup(tabId) {
  const popup = await browser.context.newPage();
  await popup.setViewportSize({ width: 380, height: 600 });
  await popup.goto(`chrome-extension://${browser.id}/popup.html?tab=${tabId}`);
  await popup.waitForSelector('body[data-loaded="true"]');
  return popup;
}

before(async () => {
  mkdirSync(artifactsDir, { recursive: true });
  server = await startServer({ corsOrigin: `chrome-extension://${expectedId}` });
  jobId = await createJob(server, 'Backend engineer');
  closingJobId = await createJob(server, 'Data analyst');
  key = await createLinksKey(server);
  pages = await startPageServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pages?.close();
  await server?.stop();
  server?.cleanup();
});

test('the extension loads with the id computed from its folder', () => {
  assert.equal(browser.id, expectedId);
});

test('options: a wrong key is explained, the right one is saved and never shown again', async () => {
  const options = await browser.context.newPage();
  await options.goto(`chrome-extension://${browser.id}/options.html`);
  await options.fill('#server', server.url);
  await options.fill('#key', 'bk_000000000000_notarealkey');
  await options.click('#test');
  const wrong = options.locator('[data-error-kind="key_revoked"]');
  await wrong.waitFor();
  assert.match(await wrong.innerText(), /doesn't work any more/);

  await options.fill('#key', key.secret);
  await options.click('#save');
  const ok = options.locator('[data-kind="connected"]');
  await ok.waitFor();
  const text = await ok.innerText();
  assert.match(text, /Saved\. Connected to/);
  assert.match(text, /may make interview links\. 2 open jobs\./);
  assert.doesNotMatch(text, /API \d|bk_/, 'no version jargon, and the key is shown once only');
  assert.equal(await options.inputValue('#key'), '');
  const page = await options.innerText('body');
  assert.ok(!page.includes(key.secret), 'the saved key is not shown');
  assert.equal(page.match(/bk_[0-9a-f]+_•+/g).length, 1, 'the masked key shows once');
  assert.ok(!(await options.getAttribute('#key', 'placeholder')).includes('bk_'));
  await options.click('#copy-origin');
  await options.waitForFunction(() => document.getElementById('copy-origin').textContent === 'Copied');
  await screenshot(options, 'options.png');
  await options.close();
});

test('the extension asks for no access to pages until a recruiter invokes it', async () => {
  const manifest = await browser.worker.evaluate(() => chrome.runtime.getManifest());
  assert.equal(manifest.content_scripts, undefined);
  assert.equal(manifest.host_permissions, undefined);
  assert.deepEqual([...manifest.permissions].sort(), ['activeTab', 'contextMenus', 'scripting', 'storage']);

  // Once invoked on a page, the script Beckon runs there can't read the key or the links.
  const ats = await browser.context.newPage();
  await ats.goto(`${pages.url}/ats.html`);
  await clickToolbarButton(browser, ats);
  const tabId = await tabIdOf(browser.worker, ats);
  await browser.worker.evaluate(() => chrome.storage.local.set({ probe: 'secret' }));
  const [read] = await browser.worker.evaluate((tab) => chrome.scripting.executeScript({
    target: { tabId: tab },
    func: async () => {
      try {
        return JSON.stringify(await chrome.storage.local.get(null));
      } catch (error) {
        return `refused: ${error.message}`;
      }
    },
  }), tabId);
  assert.match(read.result, /^refused: /);
  await browser.worker.evaluate(() => chrome.storage.local.remove('probe'));
  await ats.close();
});

test('popup: keyboard-only generate, prefilled from the selection, copy and insert into the ATS', async () => {
  const ats = await browser.context.newPage();
  await ats.goto(`${pages.url}/ats.html`);
  // The candidate's name is selected on the page; the cursor is in no field.
  await ats.evaluate(() => {
    document.getSelection().selectAllChildren(document.getElementById('candidate'));
  });
  const atsTab = await tabIdOf(browser.worker, ats);
  await clickToolbarButton(browser, ats);
  const popup = await openPopup(atsTab);

  assert.equal(await popup.inputValue('#name'), 'Ada Lovelace');
  assert.equal(await popup.evaluate(() => document.activeElement.id), 'job-search');
  // Nothing remembered yet, so no job is chosen for the recruiter.
  assert.equal(await popup.$eval('#jobs', (list) => list.selectedIndex), -1);
  assert.ok(await bottomOf(popup, '#generate') <= 600, 'Generate is above the fold');
  await popupScreenshot(popup, 'popup-form.png');
  await popup.keyboard.type('backend');
  assert.deepEqual(await popup.$$eval('#jobs option', (o) => o.map((x) => x.textContent)), ['Backend engineer']);
  await popup.keyboard.press('Tab'); // the job list
  await popup.keyboard.press('Tab'); // name, prefilled
  await popup.keyboard.press('Tab'); // email
  await popup.keyboard.type('ada@example.com');
  assert.equal(await popup.isEnabled('#send-email'), true);
  await popup.keyboard.press('Enter');
  await popup.waitForSelector('#result:not([hidden])');
  adaLink = await popup.inputValue('#link');
  assert.match(adaLink, new RegExp(`^${server.url}/i/\\S+$`));
  assert.equal(await popup.evaluate(() => document.activeElement.id), 'copy');
  // No field has the cursor: the popup says how to insert it.
  assert.match(await popup.innerText('#result-status'), /click where it goes in the page/);

  await popup.keyboard.press('Enter'); // Copy has focus
  await popup.waitForFunction(() => document.getElementById('result-status').textContent.includes('Copied'));
  assert.equal(await clipboardText(), adaLink);

  const mailto = await popup.getAttribute('#share-email', 'href');
  assert.match(mailto, /^mailto:ada@example\.com\?subject=Your%20Backend%20engineer%20interview&body=Hi%20Ada%2C/);
  assert.ok(mailto.includes(encodeURIComponent(adaLink)));
  assert.match(await popup.getAttribute('#share-whatsapp', 'href'), /^https:\/\/wa\.me\/\?text=Hi%20Ada%2C%20/);
  assert.match(await popup.getAttribute('#share-sms', 'href'), /^sms:\?&body=Hi%20Ada%2C%20/);

  assert.match(await popup.innerText('#result-title'), /Link for Ada Lovelace\s*Backend engineer/);
  assert.equal(await popup.isHidden('#invite-form'), true, 'the result replaces the form');
  await popup.click('#show-qr');
  await popup.waitForSelector('#qr:not([hidden])');
  assert.ok(await bottomOf(popup, '#new-link') <= 600, 'the result with its QR code fits the popup');
  await popupScreenshot(popup, 'popup-result.png');
  assert.ok(await popup.$eval('#qr-image', (img) => img.decode().then(() => img.naturalWidth >= 200)));
  const [download] = await Promise.all([popup.waitForEvent('download'), popup.click('#download-qr')]);
  assert.match(download.suggestedFilename(), /^beckon-interview-Ada-Lovelace\.png$/);

  // Insert says why it can't and leaves the link on the clipboard. Nothing goes into a field the cursor is not in.
  const noteBefore = await ats.inputValue('#note');
  await popup.click('#insert');
  await popup.waitForSelector('#error[data-kind="no_field"]:not([hidden])');
  assert.match(await popup.innerText('#error'), /Put the cursor where the link goes[\s\S]*The link is on the clipboard/);
  assert.equal(await ats.inputValue('#note'), noteBefore);
  await popupScreenshot(popup, 'popup-not-inserted.png');
  await popup.click('#new-link');
  assert.equal(await popup.isVisible('#invite-form'), true);
  assert.equal(await popup.inputValue('#name'), '');
  await popup.close();
  assert.equal(await clipboardText(), adaLink);

  // The recruiter clicks where the link goes (which closes a real popup), opens Beckon again
  // and inserts the link from the recent list.
  await ats.evaluate(() => {
    const note = document.getElementById('note');
    note.focus();
    const caret = note.value.indexOf('link: ') + 'link: '.length;
    note.setSelectionRange(caret, caret);
  });
  await clickToolbarButton(browser, ats);
  const again = await openPopup(atsTab);
  const insert = again.getByRole('button', { name: 'Insert the link for Ada Lovelace into the page' });
  await insert.click();
  await again.waitForFunction(() => [...document.querySelectorAll('#recent-list button')].some((b) => b.textContent === 'Inserted'));
  assert.equal(await ats.inputValue('#note'), `Dear Ada, here is your link: ${adaLink} Thanks!`);
  await again.close();
  await ats.close();
});

test('popup: a link inserted at the cursor of a contenteditable calendar description', async () => {
  const calendar = await browser.context.newPage();
  await calendar.goto(`${pages.url}/calendar.html`);
  await calendar.evaluate(() => {
    const editor = document.getElementById('description');
    editor.focus();
    const text = editor.lastElementChild.firstChild; // "Join here: "
    document.getSelection().collapse(text, text.length);
  });
  const calendarTab = await tabIdOf(browser.worker, calendar);
  await clickToolbarButton(browser, calendar);
  const popup = await openPopup(calendarTab);
  // The job picked last time is remembered and the cursor starts in the name field.
  assert.equal(await popup.inputValue('#jobs'), jobId);
  assert.equal(await popup.evaluate(() => document.activeElement.id), 'name');
  await popup.keyboard.type('Grace Hopper');
  await popup.keyboard.press('Enter');
  await popup.waitForSelector('#result:not([hidden])');
  const link = await popup.inputValue('#link');
  await popup.click('#insert');
  await popup.waitForFunction(() => document.getElementById('result-status').textContent.includes('Inserted'));
  const description = await calendar.$eval('#description', (el) => el.innerText);
  assert.match(description, new RegExp(`Agenda: coding exercise\\.\\s+Join here:\\s${link.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  // A clickable link, where the editor keeps links.
  assert.equal(await calendar.$eval('#description a', (a) => a.href), link);
  // The form has a location field: the popup offers to put the link there too.
  await popup.click('#also-location');
  await popup.waitForFunction(() => document.getElementById('result-status').textContent === 'Also in the location field.');
  assert.equal(await calendar.inputValue('#where'), link);
  assert.equal(await popup.isHidden('#also-location'), true);
  await popup.close();
  await calendar.close();
});

test('the candidate opens the link, and the recent list shows it opened', async () => {
  const candidate = await browser.context.newPage();
  // Headless Chromium says "HeadlessChrome", which the service takes for a link scanner.
  await candidate.setExtraHTTPHeaders({
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  });
  // The open counts when the page's script reports that the browser shows it.
  const beacon = candidate.waitForResponse((r) => r.url().endsWith('/opened'));
  const response = await candidate.goto(adaLink);
  assert.equal(response.status(), 200);
  const body = await candidate.innerText('body');
  assert.match(body, /Ada Lovelace/);
  assert.match(body, /Backend engineer/);
  assert.equal((await beacon).status(), 204);
  await candidate.close();

  const popup = await openPopup(0);
  const ada = popup.locator('#recent-list li', { hasText: 'Ada Lovelace' });
  await ada.locator('.badge.opened').waitFor();
  assert.equal(await popup.locator('#recent-list li', { hasText: 'Grace Hopper' }).locator('.badge').innerText(), 'invited');
  await popupScreenshot(popup, 'popup-recent.png');
  await ada.getByRole('button', { name: /Copy the link for Ada Lovelace/ }).click();
  assert.equal(await clipboardText(), adaLink);
  await popup.close();
});

test('the context-menu path asks in a window of its own and inserts at the cursor', async () => {
  const calendar = await browser.context.newPage();
  await calendar.goto(`${pages.url}/calendar.html`);
  await calendar.focus('#title');
  await calendar.evaluate(() => {
    const title = document.getElementById('title');
    title.setSelectionRange(title.value.length, title.value.length);
  });
  const tabId = await tabIdOf(browser.worker, calendar);
  // The menu's click grants the tab as the toolbar button does.
  await clickToolbarButton(browser, calendar);
  let dialogs = 0;
  calendar.on('dialog', () => { dialogs += 1; });
  const asking = browser.context.waitForEvent('page', (page) => page.url().includes('/ask.html'));
  const result = await browser.worker.evaluate((tab) => globalThis.beckonAskForLinkFromPage(tab), tabId);
  assert.equal(result.ok, true, JSON.stringify(result));
  const ask = await asking;
  await ask.waitForSelector('body[data-ready="true"]');
  assert.match(await ask.innerText('label[for="who"]'), /Backend engineer/);
  await screenshot(ask, 'ask.png');
  await ask.fill('#who', 'Katherine Johnson');
  const closed = ask.waitForEvent('close');
  await ask.press('#who', 'Enter');
  await closed;
  const link = await browser.worker.evaluate(async () => (await chrome.storage.local.get('recent')).recent[0].link);
  assert.equal(await calendar.inputValue('#title'), `Interview: ${link}`);
  assert.equal(dialogs, 0, 'the page showed no dialog of its own');

  // The cursor leaves the field while the window is open: it says so, and makes no link.
  const recentBefore = await browser.worker.evaluate(async () => (await chrome.storage.local.get('recent')).recent.length);
  await calendar.focus('#title');
  const askingAgain = browser.context.waitForEvent('page', (page) => page.url().includes('/ask.html'));
  assert.equal((await browser.worker.evaluate((tab) => globalThis.beckonAskForLinkFromPage(tab), tabId)).ok, true);
  const again = await askingAgain;
  await again.waitForSelector('body[data-ready="true"]');
  await calendar.evaluate(() => document.activeElement.blur());
  await again.fill('#who', 'Dorothy Vaughan');
  await again.press('#who', 'Enter');
  await again.waitForSelector('#error[data-kind="no_field"]:not([hidden])');
  const recentAfter = await browser.worker.evaluate(async () => (await chrome.storage.local.get('recent')).recent.length);
  assert.equal(recentAfter, recentBefore, 'no invite was made');
  await again.close();
  await calendar.close();
});

test('errors: a closed job, a revoked key and a stopped server are explained in plain words', async () => {
  const popup = await openPopup(0);
  await invitectl(server, server.adminKey, ['jobs', 'close', closingJobId]);
  await popup.selectOption('#jobs', closingJobId);
  await popup.fill('#name', 'Alan Turing');
  await popup.click('#generate');
  await popup.waitForSelector('#error[data-kind="job_closed"]:not([hidden])');
  assert.match(await popup.innerText('#error'), /This job is closed\./);
  await popup.close();

  await invitectl(server, server.adminKey, ['keys', 'revoke', key.id]);
  const revoked = await openPopup(0);
  await revoked.waitForSelector('#error[data-kind="key_revoked"]:not([hidden])');
  assert.match(await revoked.innerText('#error'), /This API key doesn't work any more\./);
  assert.equal(await revoked.isVisible('#error-options'), true);
  await popupScreenshot(revoked, 'popup-key-revoked.png');
  await revoked.close();

  await server.stop();
  const down = await openPopup(0);
  await down.waitForSelector('#error[data-kind="unreachable"]:not([hidden])');
  assert.match(await down.innerText('#error'), new RegExp(`Can't reach the Beckon server\\.[\\s\\S]*${server.url}`));
  await popupScreenshot(down, 'popup-server-down.png');
  await down.close();
});
