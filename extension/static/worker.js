// The service worker: the context menu and the keyboard shortcut. Listeners are registered at
// the top level, as MV3 requires, so they survive the worker being stopped and restarted.
import { askForLinkFromPage, restrictStorage } from './common.js';

const MENU_ID = 'beckon-insert-link';

restrictStorage();

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.create({ id: MENU_ID, title: 'Insert interview link', contexts: ['editable'] });
});

// Both grant activeTab on the tab they came from: that is what lets Beckon into the page.
chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId === MENU_ID && tab && tab.id !== undefined) {
    askForLinkFromPage(tab.id);
  }
});

chrome.commands.onCommand.addListener((command, tab) => {
  if (command === 'insert-link' && tab && tab.id !== undefined) {
    askForLinkFromPage(tab.id);
  }
});

// The context menu can't be clicked in a headless browser; the end-to-end test calls the same
// function the menu and the shortcut call.
globalThis.beckonAskForLinkFromPage = askForLinkFromPage;
