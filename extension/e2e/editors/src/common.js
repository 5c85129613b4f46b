// Shared by every editor page: the initial text and the uniform `window.testEditor` API.
export const INITIAL = 'Hello candidate, join here:  Thanks!';

/** Offset just after the first occurrence of `snippet` in `initial`. */
export function offsetAfter(initial, snippet) {
  const i = initial.indexOf(snippet);
  if (i < 0) throw new Error(`snippet not found: ${snippet}`);
  return i + snippet.length;
}

/**
 * Publishes the API. `impl` provides name, initial, text(), domText(), select(from, to), rerender()
 * and optionally frame (a CSS selector of the iframe that holds the editable, if any).
 */
export function expose(impl) {
  const api = {
    frame: null,
    ...impl,
    placeCaretAfter(snippet) {
      const at = offsetAfter(api.initial, snippet);
      return impl.select(at, at);
    },
    selectText(snippet) {
      const at = offsetAfter(api.initial, snippet);
      return impl.select(at - snippet.length, at);
    },
  };
  window.testEditor = api;
  window.testSubject = valueApi('subject', document.getElementById('subject'));
  document.documentElement.dataset.ready = '1';
  return api;
}

/** The API for a plain <input>/<textarea> whose model is its value. */
export function valueApi(name, el) {
  const api = {
    name,
    frame: null,
    initial: el.value,
    text: () => el.value,
    domText: () => el.value,
    select(from, to) {
      el.focus();
      el.setSelectionRange(from, to);
    },
    rerender() {},
    placeCaretAfter(snippet) {
      const at = offsetAfter(api.initial, snippet);
      api.select(at, at);
    },
    selectText(snippet) {
      const at = offsetAfter(api.initial, snippet);
      api.select(at - snippet.length, at);
    },
  };
  return api;
}
