import { baseKeymap } from 'prosemirror-commands';
import { history, redo, undo } from 'prosemirror-history';
import { keymap } from 'prosemirror-keymap';
import { schema } from 'prosemirror-schema-basic';
import { EditorState, TextSelection } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import { INITIAL, expose } from './common.js';

const mount = document.getElementById('editor');
const doc = schema.node('doc', null, [schema.node('paragraph', null, [schema.text(INITIAL)])]);
const plugins = [
  history(),
  keymap({ 'Mod-z': undo, 'Mod-y': redo, 'Shift-Mod-z': redo }),
  keymap(baseKeymap),
];
let view = new EditorView(mount, { state: EditorState.create({ doc, plugins }) });

expose({
  name: 'prosemirror',
  initial: INITIAL,
  text: () => view.state.doc.textContent,
  domText: () => view.dom.innerText,
  select(from, to) {
    view.focus();
    // +1: position 0 is before the paragraph, 1 its first character.
    view.dispatch(view.state.tr.setSelection(TextSelection.create(view.state.doc, from + 1, to + 1)));
  },
  rerender() {
    // Throw the DOM away and draw a new view from the same state (history included).
    const { state } = view;
    const hadFocus = view.hasFocus();
    view.destroy();
    mount.textContent = '';
    view = new EditorView(mount, { state });
    if (hadFocus) view.focus();
  },
});
