import { registerHistory, createEmptyHistoryState } from '@lexical/history';
import { HeadingNode, QuoteNode, registerRichText } from '@lexical/rich-text';
import { $createParagraphNode, $createTextNode, $getRoot, createEditor } from 'lexical';
import { INITIAL, expose } from './common.js';

const el = document.getElementById('editor');
const editor = createEditor({
  namespace: 'beckon-editor-test',
  nodes: [HeadingNode, QuoteNode],
  onError: (e) => { console.error(e); },
});
editor.setRootElement(el);
registerRichText(editor);
// The initial text goes in before history is registered, so it is not undoable.
editor.update(() => {
  const p = $createParagraphNode();
  p.append($createTextNode(INITIAL));
  $getRoot().clear().append(p);
}, { discrete: true });
registerHistory(editor, createEmptyHistoryState(), 300);
window.lexicalEditor = editor;

expose({
  name: 'lexical',
  initial: INITIAL,
  text: () => editor.getEditorState().read(() => $getRoot().getTextContent()),
  domText: () => el.innerText,
  select(from, to) {
    el.focus();
    editor.update(() => {
      $getRoot().getFirstChild().getFirstChild().select(from, to);
    }, { discrete: true });
  },
  rerender() {
    // A full reconcile from (a clone of) the current state, merged into the current history entry.
    editor.setEditorState(editor.getEditorState().clone(), { tag: 'history-merge' });
  },
});
