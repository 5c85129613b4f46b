import { ContentState, Editor, EditorState, SelectionState } from 'draft-js';
import React, { useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { INITIAL, expose } from './common.js';

const h = React.createElement;
let rendered = null; // the EditorState of the last render: the model
let setState = null;
let editorRef = null;

function App() {
  const [state, set] = useState(() => EditorState.createWithContent(ContentState.createFromText(INITIAL)));
  const ref = useRef(null);
  rendered = state;
  setState = set;
  editorRef = ref;
  return h('div', { className: 'draft-box' }, h(Editor, { editorState: state, onChange: set, ref }));
}

const root = createRoot(document.getElementById('editor'));
flushSync(() => root.render(h(App)));

expose({
  name: 'draftjs',
  initial: INITIAL,
  text: () => rendered.getCurrentContent().getPlainText(),
  domText: () => document.querySelector('#editor [contenteditable]').innerText,
  select(from, to) {
    editorRef.current.focus();
    const key = rendered.getCurrentContent().getFirstBlock().getKey();
    const sel = SelectionState.createEmpty(key).merge({ anchorOffset: from, focusOffset: to, hasFocus: true });
    flushSync(() => setState(EditorState.forceSelection(rendered, sel)));
  },
  rerender() {
    // forceSelection makes Draft re-render the block, and its text nodes redraw if the DOM
    // differs from the model.
    flushSync(() => setState(EditorState.forceSelection(rendered, rendered.getSelection())));
  },
});
