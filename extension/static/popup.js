// The popup: pick a job, name the candidate, Generate, then copy / insert / share the link.
// Calls and rules are on the Rust side (pkg/); this file wires them to the page.
import {
  asUserError, beckon, fillLocationInTab, findFocus, insertIntoTab, loadSettings, refineUnreachable,
  rememberInvite,
} from './common.js';

const $ = (id) => document.getElementById(id);
const form = $('invite-form');
const jobSearch = $('job-search');
const jobList = $('jobs');
const jobsStatus = $('jobs-status');
const nameInput = $('name');
const emailInput = $('email');
const sendEmail = $('send-email');
const generateButton = $('generate');

let settings = null;
let rustSide = null;
let jobs = [];
let current = null; // the link just made
let targetTab = null;
// Whether the cursor was in a field of that tab when the popup opened (null: unknown yet).
let fieldFocused = null;

/** The tab the popup acts on: the active one, or `?tab=ID` when the popup is opened as a page. */
async function findTargetTab() {
  const fromQuery = Number(new URLSearchParams(location.search).get('tab'));
  if (fromQuery) return fromQuery;
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  return tab && tab.id !== undefined ? tab.id : null;
}

function showError(error) {
  $('error-title').textContent = `${error.title} `;
  $('error-detail').textContent = error.detail;
  $('error').dataset.kind = error.kind;
  $('error-options').hidden = !error.fixInOptions;
  $('error').hidden = false;
}

function clearError() {
  $('error').hidden = true;
}

async function explain(thrown) {
  return refineUnreachable(asUserError(thrown), settings && settings.server);
}

// ---- jobs ---------------------------------------------------------------------------------

function renderJobs() {
  const query = jobSearch.value.trim().toLowerCase();
  const previous = jobList.value || settings.lastJobId;
  const visible = jobs.filter((job) => job.title.toLowerCase().includes(query));
  jobList.replaceChildren(...visible.map((job) => {
    const option = document.createElement('option');
    option.value = job.id;
    option.textContent = job.title;
    return option;
  }));
  // Never a job the recruiter did not pick: the remembered one, or the only one a search left.
  const searched = query !== '' && visible.length === 1 ? visible[0] : null;
  const keep = visible.find((job) => job.id === previous) || searched;
  if (keep) jobList.value = keep.id;
  else jobList.selectedIndex = -1;
  if (!jobs.length) {
    jobsStatus.textContent = 'No open jobs. Create or reopen a job in Beckon first.';
  } else if (!visible.length) {
    jobsStatus.textContent = `No open job matches "${jobSearch.value.trim()}".`;
  } else {
    const openJobs = jobs.length === 1 ? '1 open job' : `${jobs.length} open jobs`;
    jobsStatus.textContent = visible.length === jobs.length ? openJobs : `${visible.length} of ${openJobs}`;
  }
  jobsStatus.classList.remove('loading');
}

function selectedJob() {
  return jobs.find((job) => job.id === jobList.value) || null;
}

async function refreshJobs() {
  try {
    jobs = await rustSide.listOpenJobs(settings.server, settings.apiKey);
    await chrome.storage.local.set({ jobs });
    renderJobs();
  } catch (thrown) {
    showError(await explain(thrown));
    if (!jobs.length) jobsStatus.textContent = 'Open jobs could not be loaded.';
  }
}

jobSearch.addEventListener('input', renderJobs);
jobSearch.addEventListener('keydown', (event) => {
  // Arrow keys move through the list without leaving the search box.
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  event.preventDefault();
  const index = jobList.selectedIndex + (event.key === 'ArrowDown' ? 1 : -1);
  if (index >= 0 && index < jobList.options.length) jobList.selectedIndex = index;
});
jobList.addEventListener('change', () => {
  const job = selectedJob();
  if (job) chrome.storage.local.set({ lastJobId: job.id, lastJobTitle: job.title });
});
jobList.addEventListener('keydown', (event) => {
  if (event.key === 'Enter') {
    event.preventDefault();
    form.requestSubmit();
  }
});

// ---- candidate ------------------------------------------------------------------------------

emailInput.addEventListener('input', () => {
  const hasEmail = emailInput.value.trim() !== '';
  sendEmail.disabled = !hasEmail;
  if (!hasEmail) sendEmail.checked = false;
});

/**
 * Reads where the cursor is in the page, and prefills name and email from the text selected
 * there when it looks like one.
 */
async function readPage() {
  if (targetTab === null) return;
  try {
    const focus = await findFocus(targetTab);
    try {
      rustSide.insertionMode(focus.field);
      fieldFocused = true;
    } catch {
      fieldFocused = false;
    }
    const guess = rustSide.guessCandidate(focus.selection || '');
    if (guess.name && !nameInput.value) nameInput.value = guess.name;
    if (guess.email && !emailInput.value) {
      emailInput.value = guess.email;
      emailInput.dispatchEvent(new Event('input'));
    }
  } catch {
    // Pages Beckon can't read (chrome://, the Web Store) just don't prefill.
  }
}

// ---- generate ---------------------------------------------------------------------------------

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearError();
  const job = selectedJob();
  const body = {
    jobId: job ? job.id : '',
    jobTitle: job ? job.title : '',
    candidateName: nameInput.value,
    candidateEmail: emailInput.value,
    sendEmail: sendEmail.checked,
    externalId: $('external-id').value,
  };
  try {
    rustSide.checkForm(body);
  } catch (thrown) {
    showError(asUserError(thrown));
    (job ? nameInput : jobSearch).focus();
    return;
  }
  generateButton.disabled = true;
  generateButton.textContent = 'Generating…';
  try {
    // A retry of the same form reuses the first request id (Rust keeps it), so a lost answer
    // never makes a second invite.
    const created = await rustSide.createInvite(settings.server, settings.apiKey,
      { ...body, freshRequestId: crypto.randomUUID() });
    showResult(created);
    await chrome.storage.local.set({ lastJobId: job.id, lastJobTitle: job.title });
    renderRecent(await rememberInvite(created));
  } catch (thrown) {
    const error = await explain(thrown);
    showError(error);
    // A job closed since the list was loaded: show the list as it is now.
    if (error.kind === 'job_closed') refreshJobs();
  } finally {
    generateButton.disabled = false;
    generateButton.textContent = 'Generate link';
  }
});

function showResult(created) {
  current = created;
  $('result-who').textContent = created.candidateName || created.candidateEmail;
  $('result-job').textContent = created.jobLine;
  $('link').value = created.link;
  $('share-email').href = created.share.mailto;
  $('share-whatsapp').href = created.share.whatsapp;
  $('share-sms').href = created.share.sms;
  $('result-status').textContent = fieldFocused === false
    ? 'Link ready. To insert it: click where it goes in the page, open Beckon again and press Insert next to it under Recent links.'
    : 'Link ready. Copy it, insert it or share it.';
  $('qr').hidden = true;
  $('show-qr').setAttribute('aria-expanded', 'false');
  $('result').hidden = false;
  form.hidden = true;
  $('copy').focus();
}

// Back to the form for the next candidate, on the same job.
$('new-link').addEventListener('click', () => {
  clearError();
  $('result').hidden = true;
  form.hidden = false;
  for (const input of [nameInput, emailInput, $('external-id')]) input.value = '';
  emailInput.dispatchEvent(new Event('input'));
  nameInput.focus();
});

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // The async clipboard needs the popup to have focus; the old way works without it.
    const area = document.createElement('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    const copied = document.execCommand('copy');
    area.remove();
    if (!copied) throw rustSide.userError('copy_failed', '');
  }
}

$('copy').addEventListener('click', async () => {
  try {
    await copyText(current.link);
    $('result-status').textContent = 'Copied to the clipboard.';
  } catch (thrown) {
    showError(asUserError(thrown));
  }
});

/**
 * Inserts a link where the cursor is in the page; whether it is there. When it is not, the
 * link goes to the clipboard and the error says so. A calendar form's location field is then
 * offered too.
 */
async function insertLink(link) {
  clearError();
  const offer = $('also-location');
  offer.hidden = true;
  try {
    if (targetTab === null) throw rustSide.userError('no_tab', '');
    const inserted = await insertIntoTab(targetTab, link);
    offer.hidden = !inserted.locationOffer;
    offer.onclick = async () => {
      clearError();
      try {
        await fillLocationInTab(targetTab, inserted.frameId, link);
        offer.hidden = true;
        $('result-status').textContent = 'Also in the location field.';
      } catch (thrown) {
        showError(asUserError(thrown));
      }
    };
    return true;
  } catch (thrown) {
    const error = asUserError(thrown);
    const copied = await copyText(link).then(() => true, () => false);
    showError({ ...error, detail: rustSide.linkHandedOver(error.detail, copied) });
    return false;
  }
}

$('insert').addEventListener('click', async () => {
  if (await insertLink(current.link)) $('result-status').textContent = 'Inserted into the page.';
});

$('show-qr').addEventListener('click', () => {
  try {
    const svg = rustSide.qrSvg(current.link);
    $('qr-image').src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
    const open = $('qr').hidden;
    $('qr').hidden = !open;
    $('show-qr').setAttribute('aria-expanded', String(open));
    if (open) $('download-qr').focus();
  } catch (thrown) {
    showError(asUserError(thrown));
  }
});

$('download-qr').addEventListener('click', async () => {
  try {
    const image = $('qr-image');
    await image.decode();
    // PNG for slides and printouts, drawn from the Rust-rendered SVG at twice its size.
    const size = 480;
    const canvas = document.createElement('canvas');
    canvas.width = size;
    canvas.height = size;
    const context = canvas.getContext('2d');
    context.imageSmoothingEnabled = false;
    context.drawImage(image, 0, 0, size, size);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    const who = (current.candidateName || current.candidateEmail || 'invite').replace(/[^\p{L}\p{N}]+/gu, '-');
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `beckon-interview-${who}.png`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (thrown) {
    showError(asUserError(thrown));
  }
});

// ---- recent links -------------------------------------------------------------------------------

function renderRecent(recent) {
  $('recent').hidden = recent.length === 0;
  $('recent-list').replaceChildren(...recent.map((entry) => {
    const item = document.createElement('li');
    item.dataset.inviteId = entry.inviteId;
    const who = document.createElement('div');
    who.className = 'who';
    const name = document.createElement('div');
    name.textContent = entry.candidateName || entry.candidateEmail;
    const job = document.createElement('div');
    job.className = 'job';
    // Entries saved before application ids have no jobLine.
    job.textContent = entry.jobLine || entry.jobTitle;
    who.append(name, job);
    const badge = document.createElement('span');
    badge.className = `badge ${entry.status}`;
    badge.textContent = entry.status;
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.className = 'link';
    copy.textContent = 'Copy';
    copy.setAttribute('aria-label', `Copy the link for ${name.textContent}`);
    copy.addEventListener('click', async () => {
      try {
        await copyText(entry.link);
        copy.textContent = 'Copied';
      } catch (thrown) {
        showError(asUserError(thrown));
      }
    });
    const insert = document.createElement('button');
    insert.type = 'button';
    insert.className = 'link';
    insert.textContent = 'Insert';
    insert.setAttribute('aria-label', `Insert the link for ${name.textContent} into the page`);
    insert.addEventListener('click', async () => {
      if (await insertLink(entry.link)) insert.textContent = 'Inserted';
    });
    item.append(who, badge, insert, copy);
    return item;
  }));
}

async function refreshStatuses(recent) {
  const ids = rustSide.recentToRefresh(recent);
  if (!ids.length) return;
  try {
    const states = await rustSide.inviteStatuses(settings.server, settings.apiKey, ids);
    const { recent: latest } = await loadSettings();
    const updated = rustSide.recentWithStatuses(latest, states);
    await chrome.storage.local.set({ recent: updated });
    renderRecent(updated);
  } catch (thrown) {
    showError(await explain(thrown));
  }
}

// ---- start ------------------------------------------------------------------------------------

for (const id of ['open-options', 'setup-options', 'error-options']) {
  $(id).addEventListener('click', () => chrome.runtime.openOptionsPage());
}

async function start() {
  [settings, rustSide, targetTab] = await Promise.all([loadSettings(), beckon(), findTargetTab()]);
  renderRecent(settings.recent);
  if (!settings.server || !settings.apiKey) {
    $('setup').hidden = false;
    $('setup-options').focus();
    return;
  }
  form.hidden = false;
  // Jobs from the last visit make the popup usable at once; the server's list replaces them.
  jobs = settings.jobs;
  if (jobs.length) renderJobs();
  (settings.lastJobId && jobs.some((j) => j.id === settings.lastJobId) ? nameInput : jobSearch).focus();
  document.body.dataset.ready = 'true';
  await Promise.all([refreshJobs(), readPage(), refreshStatuses(settings.recent)]);
  document.body.dataset.loaded = 'true';
}

start().catch(async (thrown) => {
  showError(await explain(thrown));
  document.body.dataset.loaded = 'true';
});
