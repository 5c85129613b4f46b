// The service worker: the context menu and the keyboard shortcut. Listeners are registered at
// the top level, as MV3 requires, so they survive the worker being stopped and restarted.
import { focusedFrame, insertLinkForLastJob, rememberFocusedFrame } from './common.js';

const MENU_ID = 'beckon-insert-link';

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.create({ id: MENU_ID, title: 'Insert interview link', contexts: ['editable'] });
});

chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId === MENU_ID && tab && tab.id !== undefined) {
    insertLinkForLastJob(tab.id, info.frameId || 0);
  }
});

chrome.commands.onCommand.addListener(async (command, tab) => {
  if (command === 'insert-link' && tab && tab.id !== undefined) {
    insertLinkForLastJob(tab.id, await focusedFrame(tab.id));
  }
});

chrome.runtime.onMessage.addListener((message, sender) => {
  if (message && message.type === 'beckon:field-focused' && sender.tab) {
    rememberFocusedFrame(sender.tab.id, sender.frameId || 0);
  }
  return false;
});

// The context menu can't be clicked in a headless browser; the end-to-end test calls the same
// function the menu and the shortcut call.
globalThis.beckonInsertLinkForLastJob = insertLinkForLastJob;
