// An <input> inside an OPEN shadow root.
import { INITIAL, expose } from './common.js';

customElements.define('open-field', class extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = '<label>Message <input id="inner" size="60"></label>';
    root.getElementById('inner').value = INITIAL;
  }
});
const host = document.createElement('open-field');
document.getElementById('editor').append(host);
const input = host.shadowRoot.getElementById('inner');

expose({
  name: 'shadow-open',
  initial: INITIAL,
  text: () => input.value,
  domText: () => input.value,
  select(from, to) {
    input.focus();
    input.setSelectionRange(from, to);
  },
  rerender() {},
});
