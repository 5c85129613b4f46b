// A React 18 controlled <textarea>: the value lives in React state.
import React, { useState } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { INITIAL, expose } from './common.js';

const h = React.createElement;
let rendered = INITIAL; // the state value of the last render: the model
let bump = null;

function App() {
  const [value, setValue] = useState(INITIAL);
  const [tick, setTick] = useState(0);
  rendered = value;
  bump = setTick;
  return h('textarea', {
    id: 'editor', rows: 4, cols: 60, value, 'data-renders': tick,
    onChange: (e) => setValue(e.target.value),
  });
}

const root = createRoot(document.getElementById('mount'));
flushSync(() => root.render(h(App)));
const textarea = () => document.getElementById('editor');

expose({
  name: 'react',
  initial: INITIAL,
  text: () => rendered,
  domText: () => textarea().value,
  select(from, to) {
    textarea().focus();
    textarea().setSelectionRange(from, to);
  },
  rerender() {
    flushSync(() => bump((t) => t + 1));
  },
});
