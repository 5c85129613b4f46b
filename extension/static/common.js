// Shared by the popup, the options page and the service worker: settings, the wasm module, the
// recent-links list, and putting a link into a page. The logic lives in Rust (pkg/); this file
// only touches what only JavaScript can reach (chrome.* and the DOM of other tabs).
import init, * as rust from './pkg/beckon_extension.js';

let loaded = null;
let ready = false;

/** The Rust side, loaded once per page or worker. */
export function beckon() {
  loaded ??= init({ module_or_path: chrome.runtime.getURL('pkg/beckon_extension_bg.wasm') })
    .then(() => {
      ready = true;
      return rust;
    });
  return loaded;
}

/**
 * Only the extension's own pages and worker may read its storage: page.js runs in web pages as
 * a content script, and those could otherwise read the key and the links. (Chrome 102 and
 * later; this extension needs 116.) Set by every page and the worker, so whichever runs first.
 */
let storageRestricted = null;
export function restrictStorage() {
  storageRestricted ??= chrome.storage.local.setAccessLevel({ accessLevel: 'TRUSTED_CONTEXTS' });
  return storageRestricted;
}

/** Everything the extension keeps, in chrome.storage.local (never synced: it holds the key). */
export async function loadSettings() {
  await restrictStorage();
  const stored = await chrome.storage.local.get(
    ['server', 'apiKey', 'maskedKey', 'lastJobId', 'lastJobTitle', 'jobs', 'recent']);
  return {
    server: stored.server || '',
    apiKey: stored.apiKey || '',
    maskedKey: stored.maskedKey || '',
    lastJobId: stored.lastJobId || '',
    lastJobTitle: stored.lastJobTitle || '',
    jobs: Array.isArray(stored.jobs) ? stored.jobs : [],
    recent: Array.isArray(stored.recent) ? stored.recent : [],
  };
}

/** Any thrown value as `{kind, title, detail, fixInOptions}` for the person to read. */
export function asUserError(error) {
  if (error && typeof error === 'object' && typeof error.title === 'string') return error;
  const message = error && error.message ? error.message : String(error);
  // Only when the wasm module itself failed to load are the words not Rust's.
  if (!ready) return { kind: 'extension_bug', title: 'The extension failed to start.', detail: message, fixInOptions: false };
  return rust.userError('extension_bug', message);
}

/**
 * A failed fetch can mean the server is down or that it refused this extension's origin (CORS).
 * A no-cors request reaches a running server either way, which tells the two apart.
 */
export async function refineUnreachable(error, server) {
  if (!error || error.kind !== 'unreachable' || !server) return error;
  try {
    await fetch(`${server}/healthz`, { mode: 'no-cors', cache: 'no-store' });
  } catch {
    return error;
  }
  return { ...error, ...(await beckon()).userError('cors_refused', location.origin) };
}

/** Adds a link just made to the recent list (the rule is Rust's: `recent.rs`). */
export async function rememberInvite(created) {
  const [{ recent }, rustSide] = await Promise.all([loadSettings(), beckon()]);
  const next = rustSide.recentWithNew(recent, created);
  await chrome.storage.local.set({ recent: next });
  return next;
}

/** The script that reads and writes the page (page.js), in the frames of `target`. */
async function inject(tabId, target) {
  try {
    await chrome.scripting.executeScript({ target: { tabId, ...target }, files: ['page.js'] });
  } catch {
    // No grant for this tab (it is reached only through a click on Beckon there) or a page no
    // extension may touch (chrome://, the Web Store).
    throw (await beckon()).userError('page_unreachable', '');
  }
}

/** Calls `beckonPage[name](...args)` (page.js) in the frames of `target`: `[{frameId, result}]`. */
async function callPage(tabId, target, name, args = []) {
  await inject(tabId, target);
  try {
    return await chrome.scripting.executeScript({
      target: { tabId, ...target },
      func: (called, calledWith) => globalThis.beckonPage[called](...calledWith),
      args: [name, args],
    });
  } catch {
    // The tab navigated, or the frame went away, since the script was injected.
    throw (await beckon()).userError('page_changed', '');
  }
}

/**
 * Where the cursor is in the tab: the frame that holds it (TinyMCE's and Gmail's editors are
 * frames of their own), what is there, and the text selected. Nothing is remembered from
 * earlier: a link only ever goes where the cursor is now.
 */
export async function findFocus(tabId) {
  const frames = await callPage(tabId, { allFrames: true }, 'describe');
  const described = frames.filter((frame) => frame.result);
  const holder = described.find((frame) => frame.result.focus === true && !frame.result.inChildFrame);
  const top = described.find((frame) => frame.frameId === 0);
  if (holder) {
    const selection = holder.result.selection || (top && top.result.selection) || '';
    return { frameId: holder.frameId, field: holder.result.field, selection };
  }
  // The cursor is in a frame Beckon was not allowed into (another site's, inside this page).
  const unreachable = described.some((frame) => frame.result.focus !== false && frame.result.inChildFrame);
  return {
    frameId: null,
    field: { tag: '', unreachableFrame: unreachable },
    selection: (top && top.result.selection) || '',
  };
}

/**
 * Puts `text` at the cursor of the tab and checks it is there; throws a user error if it is not,
 * which says whether the field is unchanged or changed in a way Beckon could not confirm.
 */
export async function insertIntoTab(tabId, text) {
  const rustSide = await beckon();
  const focus = await findFocus(tabId);
  rustSide.insertionMode(focus.field); // throws why the link can't go there
  const [answer] = await callPage(tabId, { frameIds: [focus.frameId] }, 'insert', [text]);
  const outcome = answer && answer.result ? answer.result.outcome : 'refused';
  if (outcome !== 'inserted') throw rustSide.insertionFailed(outcome);
  return { frameId: focus.frameId, locationOffer: !!answer.result.locationOffer };
}

/** Whether the cursor is in a field of the tab that takes a link (throws why not). */
export async function checkFocus(tabId) {
  const rustSide = await beckon();
  const focus = await findFocus(tabId);
  rustSide.insertionMode(focus.field);
}

/** Puts `text` into the location field of a calendar form in that frame too. */
export async function fillLocationInTab(tabId, frameId, text) {
  const rustSide = await beckon();
  const [answer] = await callPage(tabId, { frameIds: [frameId] }, 'fillLocation', [text]);
  const outcome = answer && answer.result ? answer.result.outcome : 'refused';
  if (outcome !== 'inserted') throw rustSide.insertionFailed(outcome);
}

/**
 * A short note shown in the page (where there is no popup to show it in): in the top frame,
 * where it is not clipped by an editor's frame and Beckon may always write.
 */
export async function toastInTab(tabId, text, isError) {
  try {
    await callPage(tabId, { frameIds: [0] }, 'toast', [text, isError]);
  } catch {
    // A page Beckon can't reach can't show it either.
  }
}

/**
 * The context menu and keyboard shortcut: checks Beckon is set up and the cursor is in a
 * field, then opens Beckon's own small window (not the page's, which could be spoofed or read)
 * asking who the link is for, prefilled from the selection. That window makes the link and
 * inserts it. Errors are shown in the page, since there is no popup to show them in.
 */
export async function askForLinkFromPage(tabId) {
  const settings = await loadSettings();
  try {
    const rustSide = await beckon();
    const configured = !!(settings.server && settings.apiKey);
    if (!configured) chrome.runtime.openOptionsPage();
    const focus = configured && settings.lastJobId ? await findFocus(tabId) : { field: { tag: '' } };
    rustSide.checkLinkFromPage(configured, settings.lastJobId, focus.field);
    const guess = rustSide.guessCandidate(focus.selection || '');
    const query = new URLSearchParams({
      tab: String(tabId),
      suggestion: guess.email || guess.name || '',
    });
    await chrome.windows.create({
      url: chrome.runtime.getURL(`ask.html?${query}`),
      type: 'popup',
      width: 440,
      height: 260,
      focused: true,
    });
    return { ok: true };
  } catch (thrown) {
    const error = await refineUnreachable(asUserError(thrown), settings.server);
    await toastInTab(tabId, `Beckon: ${error.title} ${error.detail}`, true);
    return { ok: false, error };
  }
}
