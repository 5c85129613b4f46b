// The options page: server address and API key, stored in chrome.storage.local, and a
// "Test connection" that says plainly what is wrong.
import { asUserError, beckon, loadSettings, refineUnreachable } from './common.js';

const form = document.getElementById('settings');
const serverInput = document.getElementById('server');
const keyInput = document.getElementById('key');
const keyHint = document.getElementById('key-hint');
const result = document.getElementById('result');
const saveButton = document.getElementById('save');
const testButton = document.getElementById('test');

document.getElementById('origin').textContent = location.origin;
document.getElementById('copy-origin').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  try {
    await navigator.clipboard.writeText(location.origin);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Select it and press Ctrl+C';
  }
});

function show(kind, title, detail) {
  result.replaceChildren();
  const box = document.createElement('div');
  box.className = `notice ${kind}`;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  box.dataset.kind = kind;
  const strong = document.createElement('strong');
  strong.textContent = title;
  const text = document.createElement('span');
  text.textContent = detail;
  box.append(strong, text);
  result.append(box);
}

function showError(error) {
  show('error', error.title, error.detail);
  result.firstChild.dataset.errorKind = error.kind;
}

async function renderSaved() {
  const settings = await loadSettings();
  serverInput.value = settings.server;
  keyInput.value = '';
  keyInput.placeholder = settings.maskedKey ? 'Saved: paste a new key to replace it' : 'bk_…';
  keyHint.textContent = settings.maskedKey
    ? `Saved key: ${settings.maskedKey}. For safety it is not shown again.`
    : 'Shown only when you enter it; Beckon never shows a saved key again.';
}

/** Jobs, the last job and recent links belong to a server: another server starts afresh. */
async function forgetOtherServer(server) {
  const saved = await loadSettings();
  if (saved.server && saved.server !== server) {
    await chrome.storage.local.remove(['jobs', 'lastJobId', 'lastJobTitle', 'recent']);
  }
}

/** The address and key to use: what is typed, else what is saved. */
async function formValues() {
  const rustSide = await beckon();
  const saved = await loadSettings();
  const server = rustSide.normalizeServerAddress(serverInput.value);
  const key = keyInput.value.trim() || saved.apiKey;
  rustSide.checkApiKey(key);
  return { server, key };
}

async function test(server, key) {
  const rustSide = await beckon();
  show('info', 'Testing…', `Calling ${server}`);
  try {
    const report = await rustSide.checkConnection(server, key);
    show('ok', `Connected to ${report.organizationName}.`, ` ${report.summary}`);
    result.firstChild.dataset.kind = 'connected';
    return report;
  } catch (thrown) {
    showError(await refineUnreachable(asUserError(thrown), server));
    return null;
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  saveButton.disabled = true;
  try {
    const { server, key } = await formValues();
    const report = await test(server, key);
    await forgetOtherServer(server);
    await chrome.storage.local.set({
      server,
      apiKey: key,
      // Known only once the server has answered; until then show the key's start.
      maskedKey: report ? report.maskedKey : `${key.slice(0, 6)}…`,
    });
    await renderSaved();
    if (report) {
      const ok = result.firstChild;
      ok.querySelector('strong').textContent = `Saved. Connected to ${report.organizationName}.`;
    }
  } catch (thrown) {
    showError(asUserError(thrown));
  } finally {
    saveButton.disabled = false;
  }
});

// Connect with an enrolment link: the server and a key of this extension's own, in one paste.
document.getElementById('enroll').addEventListener('submit', async (event) => {
  event.preventDefault();
  const connect = document.getElementById('connect');
  const linkInput = document.getElementById('enrollment-link');
  connect.disabled = true;
  try {
    const rustSide = await beckon();
    show('info', 'Connecting…', '');
    // Pasted again after a lost answer, the same link gets the same key (Rust keeps the id).
    const enrolled = await rustSide.redeemEnrollment(linkInput.value, crypto.randomUUID());
    await forgetOtherServer(enrolled.server);
    await chrome.storage.local.set(enrolled);
    linkInput.value = '';
    await renderSaved();
    const report = await test(enrolled.server, enrolled.apiKey);
    if (report) result.firstChild.querySelector('strong').textContent = `Connected to ${report.organizationName}.`;
  } catch (thrown) {
    const server = (await beckon()).enrollmentLinkServer(linkInput.value);
    showError(await refineUnreachable(asUserError(thrown), server));
  } finally {
    connect.disabled = false;
  }
});

testButton.addEventListener('click', async () => {
  testButton.disabled = true;
  try {
    const { server, key } = await formValues();
    await test(server, key);
  } catch (thrown) {
    showError(asUserError(thrown));
  } finally {
    testButton.disabled = false;
  }
});

renderSaved().then(() => (serverInput.value ? keyInput : document.getElementById('enrollment-link')).focus())
  .catch((thrown) => showError(asUserError(thrown)));
