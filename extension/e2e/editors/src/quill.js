import Quill from 'quill';
import { INITIAL, expose } from './common.js';

const quill = new Quill('#editor', { modules: { toolbar: false } });
quill.setText(INITIAL, 'silent');
quill.history.clear();
window.quill = quill;

expose({
  name: 'quill',
  initial: INITIAL,
  text: () => quill.getText().replace(/\n$/, ''),
  domText: () => quill.root.innerText,
  select(from, to) {
    quill.focus();
    quill.setSelection(from, to - from, 'api');
  },
  rerender() {
    // Quill's blots are its DOM; update() only syncs pending DOM mutations into the model.
    quill.update('silent');
  },
});
