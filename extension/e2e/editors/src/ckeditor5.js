// CKEditor 5 from its browser UMD build (window.CKEDITOR), loaded by the page before this bundle.
import { INITIAL, expose } from './common.js';

const { ClassicEditor, Essentials, Paragraph } = window.CKEDITOR;

const editor = await ClassicEditor.create(document.getElementById('editor'), {
  licenseKey: 'GPL',
  plugins: [Essentials, Paragraph],
  toolbar: [],
});
window.ckeditor = editor;
const model = editor.model;
const root = model.document.getRoot();
// Real double space in the model (HTML data would collapse it); not undoable.
model.enqueueChange({ isUndoable: false }, (writer) => {
  let p = root.getChild(0);
  if (!p) {
    p = writer.createElement('paragraph');
    writer.insert(p, root, 0);
  }
  writer.insertText(INITIAL, p, 0);
});

function modelText() {
  const parts = [];
  for (const block of root.getChildren()) {
    let s = '';
    for (const item of model.createRangeIn(block).getItems()) {
      if (item.is('$textProxy')) s += item.data;
    }
    parts.push(s);
  }
  return parts.join('\n');
}

expose({
  name: 'ckeditor5',
  initial: INITIAL,
  text: modelText,
  data: () => editor.getData(),
  domText: () => editor.editing.view.getDomRoot().innerText,
  select(from, to) {
    editor.editing.view.focus();
    model.change((w) => {
      const p = root.getChild(0);
      w.setSelection(w.createRange(w.createPositionAt(p, from), w.createPositionAt(p, to)));
    });
  },
  rerender() {
    editor.editing.view.forceRender();
  },
});
