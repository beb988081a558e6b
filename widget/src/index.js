// Entry point: every element with `data-mikrokort` on the page becomes an independent map.
// No globals are defined and nothing is added to the page outside those elements.
import { mount } from './widget.js';

const current = document.currentScript;
const scriptUrl =
  (current && current.src) ||
  (Array.from(document.scripts).find((s) => /\/widget\/mikrokort\.js(\?|$)/.test(s.src)) || {})
    .src ||
  null;

if (performance.mark) performance.mark('mikrokort:script');

function start() {
  for (const el of document.querySelectorAll('[data-mikrokort]')) mount(el, scriptUrl);
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start, { once: true });
} else {
  start();
}
