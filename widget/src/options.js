// Options of one widget, from the data attributes of its element.

const TILE_TEMPLATE = /^https?:\/\/[^\s"'<>]+$/;
const LENGTH = /^\d+(\.\d+)?(px|vh|rem|em)?$/;
const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const SIZES = ['micro', 'larger', 'all'];

// The API the widget reads: `data-api`, else where the script came from (minus /widget/...).
export function apiBase(value, scriptUrl) {
  if (value) return new URL(value, document.baseURI).href.replace(/\/+$/, '');
  if (scriptUrl) {
    const u = new URL(scriptUrl);
    return (u.origin + u.pathname.replace(/\/widget\/[^/]*$/, '')).replace(/\/+$/, '');
  }
  return location.origin;
}

export function readOptions(el, scriptUrl) {
  const d = el.dataset;
  const code = (d.municipality || '').trim();
  const tiles = (d.tiles || '').trim();
  const height = (d.height || '').trim();
  const industry = (d.industry || '').trim().toUpperCase();
  const network = (d.network || '').trim();
  return {
    // a kommunekode, or `all`: every municipality the service covers (a national map)
    municipality: /^0?\d{3}$/.test(code) ? code.slice(-3) : code === 'all' ? 'all' : null,
    lang: d.lang === 'en' ? 'en' : 'da',
    api: apiBase(d.api, scriptUrl),
    tiles: TILE_TEMPLATE.test(tiles) && tiles.includes('{z}') ? tiles : null,
    attribution: d.attribution != null ? d.attribution : null,
    height: LENGTH.test(height) ? (/\d$/.test(height) ? height + 'px' : height) : '480px',
    industry: /^[A-U]$/.test(industry) ? industry : '',
    network: SLUG.test(network) ? network : '',
    search: (d.search || '').slice(0, 100),
    // `data-size`: micro (0-9 employees, or none in the register; the default), larger, all
    size: SIZES.includes(d.size) ? d.size : 'micro',
    heading: /^[2-6]$/.test(d.headingLevel || '') ? Number(d.headingLevel) : 3,
    // `data-permalink="off"`: the page's URL hash is left alone
    permalink: d.permalink !== 'off',
  };
}
