// Runs in every page (and frame): remembers the text field or editor the recruiter was in, and
// puts a link there when the popup or the context menu asks. It holds no secrets and makes no
// calls of its own.
(() => {
  if (globalThis.__beckonContentScript) return;
  globalThis.__beckonContentScript = true;

  let lastField = null;
  // The caret inside a rich-text editor, kept because clicking the toolbar can move it.
  let lastRange = null;
  // The caret in a text field when it lost focus, e.g. because text elsewhere was selected.
  let lastCaret = null;

  function deepActiveElement() {
    let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    return el;
  }

  function isField(el) {
    return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.isContentEditable);
  }

  function editingHost(el) {
    while (el && el.parentElement && el.parentElement.isContentEditable) el = el.parentElement;
    return el;
  }

  function currentField() {
    const active = deepActiveElement();
    if (isField(active)) return active.isContentEditable ? editingHost(active) : active;
    return lastField && lastField.isConnected ? lastField : null;
  }

  document.addEventListener('focusin', () => {
    const el = deepActiveElement();
    if (!isField(el)) return;
    lastField = el.isContentEditable ? editingHost(el) : el;
    // Tells the worker which frame of the tab holds the field, for the keyboard shortcut.
    chrome.runtime.sendMessage({ type: 'beckon:field-focused' }).catch(() => {});
  }, true);

  document.addEventListener('focusout', (event) => {
    const el = event.target;
    if (el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA') && typeof el.selectionEnd === 'number') {
      lastCaret = { el, start: el.selectionStart, end: el.selectionEnd };
    }
  }, true);

  document.addEventListener('selectionchange', () => {
    const selection = document.getSelection();
    if (lastField && lastField.isContentEditable && selection && selection.rangeCount
        && lastField.contains(selection.anchorNode)) {
      lastRange = selection.getRangeAt(0).cloneRange();
    }
  });

  function describe(el) {
    if (!el) return { tag: '' };
    return {
      tag: el.tagName.toLowerCase(),
      inputType: el.tagName === 'INPUT' ? (el.type || '').toLowerCase() : '',
      contentEditable: !!el.isContentEditable,
      readOnly: !!el.readOnly,
      disabled: !!el.disabled,
    };
  }

  function selectedText() {
    const el = deepActiveElement();
    if (el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA')
        && typeof el.selectionStart === 'number' && el.selectionEnd > el.selectionStart) {
      return el.value.slice(el.selectionStart, el.selectionEnd);
    }
    return String(document.getSelection() || '');
  }

  const isSpace = (c) => c === undefined || c === '' || /\s/.test(c);

  /** The link with a space on either side where it would otherwise touch a word. */
  function padded(text, before, after) {
    return `${isSpace(before) ? '' : ' '}${text}${isSpace(after) ? '' : ' '}`;
  }

  function insertIntoValue(el, text) {
    const caret = document.activeElement !== el && lastCaret && lastCaret.el === el ? lastCaret : null;
    // Insert after any selected text rather than replacing it: the selection is often the
    // candidate's name the link was made for.
    let end = caret ? caret.end : el.selectionEnd;
    if (typeof end !== 'number') end = el.value.length;
    el.focus();
    el.setSelectionRange(end, end);
    const value = padded(text, el.value[end - 1], el.value[end]);
    if (document.execCommand('insertText', false, value)) return;
    el.setRangeText(value, end, end, 'end');
    el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText', data: value }));
  }

  function charAround(range) {
    const { startContainer: node, startOffset: offset } = range;
    if (node.nodeType !== Node.TEXT_NODE) return ['', ''];
    return [node.data[offset - 1], node.data[offset]];
  }

  function insertIntoEditor(el, text) {
    el.focus();
    const selection = document.getSelection();
    let range = null;
    if (selection.rangeCount && el.contains(selection.getRangeAt(0).startContainer)) {
      range = selection.getRangeAt(0);
    } else if (lastRange && el.contains(lastRange.startContainer)) {
      range = lastRange;
    } else {
      range = document.createRange();
      range.selectNodeContents(el);
    }
    range.collapse(false);
    selection.removeAllRanges();
    selection.addRange(range);
    const value = padded(text, ...charAround(range));
    if (document.execCommand('insertText', false, value)) return;
    const node = document.createTextNode(value);
    range.insertNode(node);
    range.setStartAfter(node);
    selection.removeAllRanges();
    selection.addRange(range);
    el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText', data: value }));
  }

  // execCommand('insertText') above is deprecated but still the one way that keeps the page's
  // undo history and its framework (React, Angular, rich-text editors) in step; the fallbacks
  // edit the DOM directly and announce it with an input event.

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
  }

  chrome.runtime.onMessage.addListener((message, _sender, reply) => {
    switch (message && message.type) {
      case 'beckon:describe':
        reply({ field: describe(currentField()), selection: selectedText(), title: document.title });
        return false;
      case 'beckon:insert': {
        const el = currentField();
        if (!el) {
          reply({ ok: false });
          return false;
        }
        if (message.mode === 'editable') insertIntoEditor(el, message.text);
        else insertIntoValue(el, message.text);
        reply({ ok: true });
        return false;
      }
      case 'beckon:ask-candidate':
        // A plain prompt: keyboard-first, and nothing of the page's styling can break it.
        reply({ answer: window.prompt(message.question, message.suggestion || '') });
        return false;
      case 'beckon:toast':
        toast(message.text, message.isError);
        reply({ ok: true });
        return false;
      default:
        return false;
    }
  });
})();
