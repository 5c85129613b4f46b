// Self-hosted TinyMCE (window.tinymce, loaded by the page from /vendor/tinymce/). Its editable
// is the <body> of an iframe without src.
import { INITIAL, expose } from './common.js';

const [editor] = await window.tinymce.init({
  target: document.getElementById('editor'),
  license_key: 'gpl',
  base_url: '/vendor/tinymce',
  suffix: '.min',
  menubar: false,
  toolbar: false,
  statusbar: false,
  promotion: false,
  branding: false,
  height: 180,
});
window.tinyEditor = editor;

function textNode() {
  const walker = editor.getDoc().createTreeWalker(editor.getBody(), NodeFilter.SHOW_TEXT);
  return walker.nextNode();
}

expose({
  name: 'tinymce',
  initial: INITIAL,
  frame: `#${editor.id}_ifr`,
  text: () => editor.getContent({ format: 'text' }),
  data: () => editor.getContent(),
  domText: () => editor.getBody().innerText,
  select(from, to) {
    editor.focus();
    const node = textNode();
    const rng = editor.dom.createRng();
    rng.setStart(node, from);
    rng.setEnd(node, to);
    editor.selection.setRng(rng);
  },
  rerender() {
    // TinyMCE's document is its DOM; nodeChanged() is its refresh.
    editor.nodeChanged();
  },
});
