// Injected on demand (chrome.scripting, with the activeTab grant of the click or shortcut that
// asked for it) into the frames of the one tab the recruiter invoked Beckon on. It reads where
// the cursor is and puts a link there; it holds no secrets, keeps nothing between calls, and
// listens to nothing: the extension calls `globalThis.beckonPage.<name>()` in the frame it chose.
(() => {
  // A tab keeps its injected script across an extension update: only this version's will do.
  const version = chrome.runtime.getManifest().version;
  if (globalThis.beckonPage && globalThis.beckonPage.version === version) return;

  /** The focused element, through open shadow roots; the host of a closed one stops the walk. */
  function deepActiveElement(root = document) {
    let el = root.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    return el;
  }

  const isFrame = (el) => !!el && (el.tagName === 'IFRAME' || el.tagName === 'FRAME');
  const isValueField = (el) => !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA');

  /**
   * Whether the cursor of the whole tab is in this frame: every ancestor document's focused
   * element is the frame holding this one. `null` when an ancestor is of another origin and
   * cannot be asked.
   */
  function holdsTheFocus() {
    let win = window;
    while (win !== win.top) {
      let frameElement;
      let parentActive;
      try {
        frameElement = win.frameElement;
        parentActive = frameElement && deepActiveElement(win.parent.document);
      } catch {
        return null;
      }
      if (!frameElement) return null;
      if (parentActive !== frameElement) return false;
      win = win.parent;
    }
    return true;
  }

  /** The root of an editor the element is inside of (the element itself for a plain field). */
  function editingHost(el) {
    while (el && el.parentElement && el.parentElement.isContentEditable) el = el.parentElement;
    return el;
  }

  /** A shadow root the page closed to scripts; content scripts may ask `chrome.dom` for it. */
  function hasClosedShadowRoot(el) {
    if (!el || el.shadowRoot) return false;
    try {
      return !!(chrome.dom && chrome.dom.openOrClosedShadowRoot(el));
    } catch {
      return false;
    }
  }

  /** The element the cursor is in, if it is a field or an editor; nothing else, ever. */
  function focusedField() {
    const el = deepActiveElement();
    if (isValueField(el)) return el;
    if (el && el.isContentEditable) return editingHost(el);
    return null;
  }

  function selectedText() {
    const el = deepActiveElement();
    if (isValueField(el) && typeof el.selectionStart === 'number' && el.selectionEnd > el.selectionStart) {
      return el.value.slice(el.selectionStart, el.selectionEnd);
    }
    return String(document.getSelection() || '');
  }

  /** What this frame knows of the cursor, for the extension to choose a frame and decide. */
  function describe() {
    const active = deepActiveElement();
    const field = focusedField();
    return {
      focus: holdsTheFocus(),
      // The cursor is in a frame inside this one (which may be one Beckon cannot reach).
      inChildFrame: isFrame(active),
      field: {
        tag: field ? field.tagName.toLowerCase() : (active ? active.tagName.toLowerCase() : ''),
        inputType: field && field.tagName === 'INPUT' ? (field.type || '').toLowerCase() : '',
        contentEditable: !!(field && field.isContentEditable),
        readOnly: !!(field && field.readOnly),
        disabled: !!(field && field.disabled),
        closedShadowRoot: !field && hasClosedShadowRoot(active),
      },
      selection: selectedText(),
      title: document.title,
    };
  }

  // Punctuation a link may touch without a space: "(link)", "link.", "\"link\"".
  const NO_SPACE_BEFORE = '([{<"\'\u201c\u2018';
  const NO_SPACE_AFTER = '.,;:!?)]}>"\'\u201d\u2019';

  /** The link with a space on either side where it would otherwise touch a word. */
  function padded(text, before, after) {
    const touchesBefore = !!before && !/\s/.test(before) && !NO_SPACE_BEFORE.includes(before);
    const touchesAfter = !!after && !/\s/.test(after) && !NO_SPACE_AFTER.includes(after);
    return `${touchesBefore ? ' ' : ''}${text}${touchesAfter ? ' ' : ''}`;
  }

  const count = (haystack, needle) => haystack.split(needle).length - 1;
  const sleep = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));
  /** Text as it reads: non-breaking spaces (editors keep trailing spaces that way) as spaces. */
  const plain = (text) => text.replace(/\u00a0/g, ' ');

  /**
   * Waits until `check` holds, then a little longer to see that it still does: editors apply an
   * edit to their model later (Lexical and Draft.js a moment after), and one that redraws from its
   * model can drop text it was never told of (CKEditor 5 did, after showing it). Bounded.
   */
  async function holds(check) {
    const deadline = performance.now() + 1000;
    await Promise.resolve();
    while (!check()) {
      if (performance.now() > deadline) return false;
      await sleep(16);
    }
    await sleep(120);
    return check();
  }

  /**
   * An `<input>` or `<textarea>`: after any selected text (often the candidate's name the link
   * is for), through `execCommand('insertText')`, which keeps the page's undo history and its
   * framework (React and the like) in step. Setting `value` would not: React would undo it.
   */
  async function insertIntoValue(el, text) {
    const end = el.selectionEnd;
    if (typeof end !== 'number') return 'refused';
    const value = padded(text, el.value[end - 1], el.value[end]);
    const expected = el.value.slice(0, end) + value + el.value.slice(end);
    const original = el.value;
    el.setSelectionRange(end, end);
    if (!document.execCommand('insertText', false, value) || el.value === original) {
      // Not undoable, but React's value tracker still sees the input event.
      el.setRangeText(value, end, end, 'end');
      el.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true, inputType: 'insertText', data: value }));
    }
    // Read back: the page's own code may have refused or rewritten it.
    if (await holds(() => el.isConnected && el.value === expected)) return 'inserted';
    return el.isConnected && el.value !== original ? 'unconfirmed' : 'refused';
  }

  const BLOCKS = new Set(['p', 'div', 'li', 'td', 'th', 'pre', 'blockquote', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'body']);

  function blockOf(node, host) {
    for (let n = node; n; n = n.parentNode) {
      if (n === host || (n.nodeType === Node.ELEMENT_NODE && BLOCKS.has(n.localName))) return n;
    }
    return host;
  }

  /** The text of `container` before (or after) a point. */
  function textBeside(container, node, offset, side) {
    const range = document.createRange();
    range.selectNodeContents(container);
    if (side === 'before') range.setEnd(node, offset);
    else range.setStart(node, offset);
    return plain(range.toString());
  }

  /** Resolves once the editor has seen a moved caret (bounded: editors such as Quill learn of it late). */
  function caretSettled() {
    return new Promise((resolve) => {
      const done = () => {
        document.removeEventListener('selectionchange', done);
        setTimeout(resolve, 20);
      };
      document.addEventListener('selectionchange', done, { once: true });
      setTimeout(done, 80);
    });
  }

  /**
   * A rich-text editor, through its own handlers, never by editing its DOM (model-driven editors
   * redraw from their model and drop such text, or keep it on screen while the model, which is
   * what gets sent, lacks it). In order, stopping at the first that takes the text:
   * 1. a paste carrying the text (and the link as HTML, when no space is added around it):
   *    ProseMirror, Quill, Lexical, Draft.js, CKEditor 5 and TinyMCE implement paste as one
   *    undoable edit of their model (TinyMCE records undo no other way); a plain
   *    contenteditable ignores a synthetic paste, so nothing happens twice;
   * 2. `beforeinput`, which editors built on it (CKEditor 5, Lexical) take into their model;
   * 3. the browser's own editing (`insertHTML` for a clickable link, else `insertText`), for a
   *    plain contenteditable.
   */
  async function insertIntoEditable(host, target, text) {
    // Inside an open shadow root, its own selection says where the cursor is.
    const root = host.getRootNode();
    const selection = (root.getSelection && root.getSelection()) || document.getSelection();
    if (!selection.rangeCount || !host.contains(selection.anchorNode)) return 'refused';
    if (selection.type === 'Range') {
      selection.collapseToEnd(); // after, never over, the selection
      await caretSettled();
    }
    const range = selection.getRangeAt(0);
    const block = blockOf(range.startContainer, host);
    const before = textBeside(block, range.startContainer, range.startOffset, 'before');
    const after = textBeside(block, range.startContainer, range.startOffset, 'after');
    const value = padded(text, before.slice(-1), after[0]);
    const copies = () => count(plain(host.textContent), text);
    const copiesBefore = copies();
    const textBefore = host.textContent;
    // Where it should end up: right after the text that was before the cursor.
    const expected = `${before.slice(-24)}${value}`.trim();
    const taken = () => copies() > copiesBefore;

    // Offered as a link too, so that editors that keep links make it clickable; only when no
    // space is added around it: editors parsing pasted HTML drop spaces at its edges.
    const anchor = document.createElement('a');
    anchor.href = text;
    anchor.textContent = text;
    const html = value === text ? anchor.outerHTML : null;
    const data = new DataTransfer();
    data.setData('text/plain', value);
    if (html) data.setData('text/html', html);
    const paste = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true, composed: true });
    if (target.dispatchEvent(paste) && !taken()) {
      const input = new InputEvent('beforeinput', {
        inputType: 'insertText', data: value, bubbles: true, cancelable: true, composed: true,
      });
      if (target.dispatchEvent(input) && !taken()
          && !(html && document.execCommand('insertHTML', false, html))) {
        document.execCommand('insertText', false, value);
      }
    }
    if (await holds(() => host.isConnected && copies() === copiesBefore + 1
      && plain(host.textContent).includes(expected))) return 'inserted';
    // Something changed, but not as expected (twice, elsewhere, late): say so, never "nothing".
    return host.isConnected && host.textContent !== textBefore ? 'unconfirmed' : 'refused';
  }

  // What calendar forms call the field that shows in the invite (and is tappable on phones).
  const LOCATION_WORDS = /\b(location|where|venue|meeting link|video link|ort|lieu|ubicaci[oó]n|local)\b/i;

  /**
   * A calendar form's location field, if the page has one: not the field the cursor is in, and
   * not one that holds `text` already.
   */
  function locationField(text) {
    const cursorField = focusedField();
    for (const el of document.querySelectorAll('input, textarea')) {
      if (el === cursorField || el.disabled || el.readOnly || el.value.includes(text)) continue;
      if (el.tagName === 'INPUT' && !['', 'text', 'url', 'search'].includes((el.type || '').toLowerCase())) continue;
      const labels = [...(el.labels || [])].map((label) => label.textContent);
      const words = [el.id, el.name, el.placeholder, el.getAttribute('aria-label'), ...labels].join(' ');
      if (LOCATION_WORDS.test(words)) return el;
    }
    return null;
  }

  /** Puts `text` at the end of the page's location field too, and reads it back. */
  async function fillLocation(text) {
    const el = locationField(text);
    if (!el) return { outcome: 'no_field' };
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
    return { outcome: await insertIntoValue(el, text) };
  }

  /**
   * Puts `text` at the cursor and reads it back. `inserted`: it is there, once, right where the
   * cursor was; `refused`: the field is unchanged; `unconfirmed`: the field changed, but not
   * into what was expected; `no_field`: the cursor is not in a field (of this frame) any more.
   */
  async function insert(text) {
    const el = holdsTheFocus() === true ? focusedField() : null;
    if (!el) return { outcome: 'no_field' };
    const outcome = isValueField(el)
      ? await insertIntoValue(el, text)
      : await insertIntoEditable(el, deepActiveElement(), text);
    // A location field without the link: the popup offers to put it there too.
    return { outcome, locationOffer: outcome === 'inserted' && !!locationField(text) };
  }

  /** A short note in the page, in a closed shadow root so the page's styles can't break it. */
  function toast(text, isError) {
    const host = document.createElement('div');
    const root = host.attachShadow({ mode: 'closed' });
    const box = document.createElement('div');
    box.setAttribute('role', isError ? 'alert' : 'status');
    box.textContent = text;
    box.style.cssText = 'position:fixed;z-index:2147483647;right:16px;bottom:16px;max-width:360px;'
      + 'padding:12px 14px;border-radius:8px;font:14px/1.4 system-ui,sans-serif;color:#fff;'
      + `box-shadow:0 4px 16px rgba(0,0,0,.25);background:${isError ? '#b91c1c' : '#312e81'}`;
    root.appendChild(box);
    document.documentElement.appendChild(host);
    setTimeout(() => host.remove(), isError ? 8000 : 4000);
    return true;
  }

  globalThis.beckonPage = { version, describe, insert, fillLocation, toast };
})();
