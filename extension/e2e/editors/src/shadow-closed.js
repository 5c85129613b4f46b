// An <input> inside a CLOSED shadow root: only this page script keeps a reference to it.
import { INITIAL, expose } from './common.js';

let input = null;
customElements.define('closed-field', class extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: 'closed' });
    root.innerHTML = '<label>Message <input id="inner" size="60"></label>';
    input = root.getElementById('inner');
    input.value = INITIAL;
  }
});
document.getElementById('editor').append(document.createElement('closed-field'));

expose({
  name: 'shadow-closed',
  initial: INITIAL,
  text: () => input.value,
  domText: () => input.value,
  select(from, to) {
    input.focus();
    input.setSelectionRange(from, to);
  },
  rerender() {},
});
