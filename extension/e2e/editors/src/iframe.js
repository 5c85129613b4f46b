// A same-origin iframe (srcdoc) holding a plain contenteditable; its "model" is its DOM.
import { INITIAL, expose } from './common.js';

const frame = document.getElementById('frame');
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
await new Promise((resolve) => {
  frame.addEventListener('load', resolve, { once: true });
  frame.srcdoc = `<!doctype html><html><body><div id="ed" contenteditable="true"
    style="white-space:pre-wrap;border:1px solid #999;padding:4px">${esc(INITIAL)}</div></body></html>`;
});
const ed = () => frame.contentDocument.getElementById('ed');

expose({
  name: 'iframe',
  initial: INITIAL,
  frame: '#frame',
  text: () => ed().textContent,
  domText: () => ed().innerText,
  select(from, to) {
    const doc = frame.contentDocument;
    ed().focus();
    const range = doc.createRange();
    range.setStart(ed().firstChild, from);
    range.setEnd(ed().firstChild, to);
    const sel = doc.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  },
  rerender() {},
});
