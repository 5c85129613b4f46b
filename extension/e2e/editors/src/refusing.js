// A React 18 controlled input that refuses what is typed into it (its onChange keeps the old
// value), as a form with a strict pattern does: the extension must not claim it inserted.
import React from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { INITIAL, expose, valueApi } from './common.js';

const h = React.createElement;

function App() {
  return h('input', { id: 'editor', size: 60, value: INITIAL, onChange: () => {} });
}

const root = createRoot(document.getElementById('mount'));
flushSync(() => root.render(h(App)));
const field = valueApi('refusing', document.getElementById('editor'));
expose({ ...field, name: 'refusing', initial: INITIAL });
