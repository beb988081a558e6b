// Permalinks: a widget's view and filters in the page's URL hash, so that a link to the page
// opens the map as it was shared. Each widget keeps one part of the hash, `mk-<kommunekode>`
// (`mk-376-2` for a second map of the same municipality), e.g.
//   #mk-376=@54.76512,11.87203,13z;i:F;s:all;n:erhvervsnetvaerk-falster;q:t%C3%B8mrer;v:list
// Parts of the hash that are not a widget's (the host page's own anchor or router state) are
// kept as they are, in their place; the history gets no new entries (replaceState).

import { SIZES } from './options.js';

const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const VIEW = /^@(-?\d{1,3}(?:\.\d+)?),(-?\d{1,3}(?:\.\d+)?),(\d{1,2}(?:\.\d+)?)z$/;

function parts(hash) {
  return (hash || '').replace(/^#/, '').split('&').filter(Boolean);
}

// The widget's state in `hash`, checked: what is wrong in it is left out, never trusted.
export function readState(hash, key, { minZoom, maxZoom }) {
  const mine = parts(hash).find((p) => p.startsWith(key + '='));
  if (!mine) return null;
  const state = {};
  for (const item of mine.slice(key.length + 1).split(';')) {
    const view = VIEW.exec(item);
    if (view) {
      const [lat, lon, zoom] = view.slice(1).map(Number);
      if (Math.abs(lat) <= 85 && Math.abs(lon) <= 180 && zoom >= minZoom && zoom <= maxZoom) {
        state.center = [lat, lon];
        state.zoom = zoom;
      }
      continue;
    }
    const colon = item.indexOf(':');
    if (colon < 1) continue;
    const name = item.slice(0, colon);
    let value;
    try {
      value = decodeURIComponent(item.slice(colon + 1));
    } catch {
      continue; // a malformed escape: ignored
    }
    if (name === 'i' && /^[A-U]$/.test(value)) state.industry = value;
    else if (name === 's' && SIZES.includes(value)) state.size = value;
    else if (name === 'n' && SLUG.test(value)) state.network = value;
    else if (name === 'q' && value.length <= 100) state.q = value;
    else if (name === 'v' && (value === 'list' || value === 'map')) state.view = value;
  }
  return state;
}

// The hash with the widget's part set to `state` (null: removed), the other parts kept.
export function writeState(hash, key, state) {
  const kept = parts(hash);
  const at = kept.findIndex((p) => p.startsWith(key + '='));
  let mine = null;
  if (state) {
    const items = [];
    if (state.center) {
      const [lat, lon] = state.center;
      items.push(`@${lat.toFixed(5)},${lon.toFixed(5)},${Number(state.zoom.toFixed(2))}z`);
    }
    if (state.industry) items.push(`i:${state.industry}`);
    if (state.size) items.push(`s:${state.size}`);
    if (state.network) items.push(`n:${state.network}`);
    if (state.q) items.push(`q:${encodeURIComponent(state.q)}`);
    if (state.view === 'list') items.push('v:list');
    mine = `${key}=${items.join(';')}`;
  }
  if (at >= 0) {
    if (mine) kept[at] = mine;
    else kept.splice(at, 1);
  } else if (mine) {
    kept.push(mine);
  }
  return kept.length ? '#' + kept.join('&') : '';
}

// A key of its own for each widget, from its place on the page: the second map of a
// municipality gets `-2`. A widget made again in the same place gets the same key.
export function permalinkKey(host, municipality) {
  const base = `mk-${municipality}`;
  const same = [...document.querySelectorAll('[data-mikrokort]')].filter(
    (el) => (el.dataset.municipality || '').trim().replace(/^0(?=\d{3}$)/, '') === municipality,
  );
  const n = Math.max(1, same.indexOf(host) + 1);
  return n === 1 ? base : `${base}-${n}`;
}
