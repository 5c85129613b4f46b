// The window the context menu and the shortcut open: who the link is for, then the link is made
// for the last-used job and inserted where the cursor is in the tab Beckon was invoked on. A
// window of Beckon's own, so no page can pretend to be it or read what is typed.
import {
  asUserError, beckon, checkFocus, insertIntoTab, loadSettings, refineUnreachable, rememberInvite,
  toastInTab,
} from './common.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const tabId = Number(params.get('tab'));

function showError(error) {
  $('error-title').textContent = `${error.title} `;
  $('error-detail').textContent = error.detail;
  $('error').dataset.kind = error.kind;
  $('error').hidden = false;
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

async function start() {
  const [settings, rustSide] = await Promise.all([loadSettings(), beckon()]);
  $('job-title').textContent = settings.lastJobTitle || 'the last job';
  $('who').value = params.get('suggestion') || '';
  $('who').select();
  $('cancel').addEventListener('click', () => window.close());
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') window.close();
  });
  $('ask').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('error').hidden = true;
    const answer = $('who').value.trim();
    if (!answer) {
      showError(rustSide.userError('no_candidate', ''));
      return;
    }
    const who = rustSide.guessCandidate(answer);
    $('make').disabled = true;
    let created = null;
    try {
      // The cursor may have left the field while this window was open: no link for nothing.
      await checkFocus(tabId);
      created = await rustSide.createInvite(settings.server, settings.apiKey, {
        jobId: settings.lastJobId,
        jobTitle: settings.lastJobTitle,
        candidateEmail: who.email || '',
        candidateName: who.email ? (who.name || '') : answer,
        sendEmail: false,
        freshRequestId: crypto.randomUUID(),
      });
      await rememberInvite(created);
      await insertIntoTab(tabId, created.link);
      await toastInTab(tabId, rustSide.insertedNote(created.candidateName || created.candidateEmail), false);
      window.close();
    } catch (thrown) {
      let error = await refineUnreachable(asUserError(thrown), settings.server);
      if (created) {
        // The link exists: hand it over another way.
        error = { ...error, detail: rustSide.linkHandedOver(error.detail, await copy(created.link)) };
        $('link').value = created.link;
        $('result').hidden = false;
        $('ask').hidden = true;
      }
      showError(error);
    } finally {
      $('make').disabled = false;
    }
  });
  document.body.dataset.ready = 'true';
}

start().catch((thrown) => showError(asUserError(thrown)));
