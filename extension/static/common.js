// Shared by the popup, the options page and the service worker: settings, the wasm module, the
// recent-links list, and putting a link into a page. The logic lives in Rust (pkg/); this file
// only touches what only JavaScript can reach (chrome.* and the DOM of other tabs).
import init, * as rust from './pkg/beckon_extension.js';

let loaded = null;

/** The Rust side, loaded once per page or worker. */
export function beckon() {
  loaded ??= init({ module_or_path: chrome.runtime.getURL('pkg/beckon_extension_bg.wasm') })
    .then(() => rust);
  return loaded;
}

export const RECENT_LIMIT = 20;
/** How many recent links get their status refreshed when the popup opens. */
export const RECENT_REFRESH = 10;

/** Everything the extension keeps, in chrome.storage.local (never synced: it holds the key). */
export async function loadSettings() {
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
  return {
    kind: 'extension_bug',
    title: 'Something went wrong in the extension.',
    detail: `Try again; if it keeps happening, report this: ${error && error.message ? error.message : String(error)}`,
    fixInOptions: false,
  };
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
  return {
    ...error,
    kind: 'cors_refused',
    title: 'The server is running but refuses this extension.',
    detail: `Add ${location.origin} to the server's cors_origins (BECKON_CORS_ORIGINS) and restart it.`,
  };
}

/** Adds a new link at the top of the recent list. The list keeps the link so it can be copied
 *  again: it stays in this browser's extension storage, like the API key. */
export async function rememberInvite(created) {
  const { recent } = await loadSettings();
  const entry = {
    inviteId: created.inviteId,
    link: created.link,
    jobTitle: created.jobTitle,
    candidateName: created.candidateName,
    candidateEmail: created.candidateEmail,
    externalId: created.externalId,
    jobLine: created.jobLine,
    status: created.status,
    createdAt: Date.now(),
  };
  const next = [entry, ...recent.filter((r) => r.inviteId !== entry.inviteId)].slice(0, RECENT_LIMIT);
  await chrome.storage.local.set({ recent: next });
  return next;
}

async function sendToTab(tabId, frameId, message) {
  try {
    return await chrome.tabs.sendMessage(tabId, message, { frameId });
  } catch {
    // Pages opened before the extension was installed have no content script yet; add it
    // (allowed on the tab the recruiter invoked Beckon on) and ask again.
    try {
      await chrome.scripting.executeScript({ target: { tabId, frameIds: [frameId] }, files: ['content.js'] });
      return await chrome.tabs.sendMessage(tabId, message, { frameId });
    } catch {
      throw {
        kind: 'page_unreachable',
        title: "Beckon can't reach this page.",
        detail: 'Reload the page and try again. Browser pages (chrome://, the Web Store) never allow it: copy the link instead.',
        fixInOptions: false,
      };
    }
  }
}

/** What the field with focus in that tab is, and what text is selected there. */
export function describeFocus(tabId, frameId = 0) {
  return sendToTab(tabId, frameId, { type: 'beckon:describe' });
}

/** Puts `text` at the cursor of the focused field in the tab; throws a user error if it can't. */
export async function insertIntoTab(tabId, frameId, text) {
  const rustSide = await beckon();
  const focus = await describeFocus(tabId, frameId);
  const mode = rustSide.insertionMode(focus && focus.field ? focus.field : { tag: '' });
  const result = await sendToTab(tabId, frameId, { type: 'beckon:insert', text, mode });
  if (!result || !result.ok) {
    throw {
      kind: 'no_field',
      title: "Can't insert the link here.",
      detail: 'Click into a text field or editor on the page first, then try again.',
      fixInOptions: false,
    };
  }
}

/** The frame of the tab whose field last had focus (reported by the content script). */
export async function focusedFrame(tabId) {
  const { focusedFrames } = await chrome.storage.session.get('focusedFrames');
  return (focusedFrames && focusedFrames[tabId]) || 0;
}

export async function rememberFocusedFrame(tabId, frameId) {
  const { focusedFrames } = await chrome.storage.session.get('focusedFrames');
  await chrome.storage.session.set({ focusedFrames: { ...(focusedFrames || {}), [tabId]: frameId } });
}

function toast(tabId, frameId, text, isError) {
  return chrome.tabs.sendMessage(tabId, { type: 'beckon:toast', text, isError }, { frameId })
    .catch(() => {});
}

/**
 * The context menu and keyboard shortcut: asks who the link is for (prefilled from the
 * selection), makes a link for the last-used job and inserts it at the cursor. Errors are
 * shown in the page, since there is no popup to show them in.
 */
export async function insertLinkForLastJob(tabId, frameId = 0) {
  const settings = await loadSettings();
  try {
    const rustSide = await beckon();
    if (!settings.server || !settings.apiKey) {
      chrome.runtime.openOptionsPage();
      throw { title: 'Set up Beckon first.', detail: 'Enter your server and API key in the options page that just opened.' };
    }
    if (!settings.lastJobId) {
      throw { title: 'Pick a job first.', detail: 'Open the Beckon popup once and choose a job; the menu uses the last job you picked.' };
    }
    const focus = await describeFocus(tabId, frameId);
    const mode = rustSide.insertionMode(focus && focus.field ? focus.field : { tag: '' });
    const guess = rustSide.guessCandidate((focus && focus.selection) || '');
    const asked = await sendToTab(tabId, frameId, {
      type: 'beckon:ask-candidate',
      question: `Interview link for ${settings.lastJobTitle || 'the last job'}: who is it for? (name or email)`,
      suggestion: guess.email || guess.name || '',
    });
    const answer = ((asked && asked.answer) || '').trim();
    if (!answer) return { ok: false, cancelled: true };
    const who = rustSide.guessCandidate(answer);
    const created = await rustSide.createInvite(settings.server, settings.apiKey, {
      jobId: settings.lastJobId,
      jobTitle: settings.lastJobTitle,
      candidateEmail: who.email || '',
      candidateName: who.email ? (who.name || '') : answer,
      sendEmail: false,
      requestId: crypto.randomUUID(),
    });
    await rememberInvite(created);
    const result = await sendToTab(tabId, frameId, { type: 'beckon:insert', text: created.link, mode });
    if (!result || !result.ok) throw { title: "Can't insert the link here.", detail: 'Click into a text field first. The link is in the popup\'s recent list.' };
    await toast(tabId, frameId, `Interview link for ${created.candidateName || created.candidateEmail} inserted.`, false);
    return { ok: true, link: created.link };
  } catch (thrown) {
    const error = await refineUnreachable(asUserError(thrown), settings.server);
    await toast(tabId, frameId, `Beckon: ${error.title} ${error.detail}`, true);
    return { ok: false, error };
  }
}
