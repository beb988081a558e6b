// One map widget: a shadow root on the host element holding a toolbar (search, industry and
// network filters, map/list switch, language), a live status line, the Leaflet map with
// supercluster clusters, and the list view: the accessible alternative to the map. A large
// municipality (the map data says `tiled`) is drawn from the API's tiles and listed from its
// items instead (tiled.js): same controls, same markers, same popups.
import {
  CircleMarker,
  Control,
  DivIcon,
  GeoJSON,
  LatLngBounds,
  LayerGroup,
  Map as LeafletMap,
  Marker,
  Popup,
  TileLayer,
} from 'leaflet/dist/leaflet-src.esm.js'; // the ES module: it sets no window.L
import Supercluster from 'supercluster';

import { fold, loadMapData } from './data.js';
import { TEXTS, counted, fmt } from './i18n.js';
import { SIZES, readOptions } from './options.js';
import { permalinkKey, readState, writeState } from './permalink.js';
import { adopt, loadStyles } from './styles.js';
import {
  MAX_TILE_ZOOM,
  SORT_MAX,
  TileSource,
  countOf,
  getBusiness,
  getJson,
  pageByName,
  selection,
  tileRange,
} from './tiled.js';

/* global __CSS_VERSION__ */
const PAGE = 100; // list rows added per "show more"
const MIN_ZOOM = 5;
const MAX_ZOOM = 18;
const POPUP_MEMBERS = 10;
const PIN_PANE = 'mkPins';
const PIN_SIZE = 24; // px
const POPUP_MAX_WIDTH = 300; // px of content
const POPUP_MIN_WIDTH = 140;
const POPUP_GAP = 8; // px between a popup and the map's edge or a control
const POPUP_CHROME = 34; // px a popup adds to its content's width (margins, border)
const POPUP_TIP = 48; // px of the tip under a popup and the room above it
const DEFAULT_TILES = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
const DEFAULT_ATTRIBUTION = '© OpenStreetMap contributors';
// this many base-map tiles failed and none came: the tile server is down, blocked or wrong
const BASE_ERRORS_BEFORE_NOTICE = 3;
const TOWN_MIN_BUSINESSES = 3; // a town's name is drawn where at least this many businesses are
const BOUNDARY_STYLE = { color: '#3d3d3d', weight: 2, dashArray: '6 4', fill: false };
const AREA_STYLE = { color: '#a51d2d', weight: 2, fillColor: '#a51d2d', fillOpacity: 0.08 };

const mounted = new WeakSet();

// A cluster icon's side in pixels, by how many it holds.
function clusterSize(n) {
  return n < 10 ? 32 : n < 100 ? 38 : n < 1000 ? 46 : 54;
}

function mark(name) {
  if (performance.mark) performance.mark(name);
}

export function mount(host, scriptUrl) {
  if (mounted.has(host) || host.shadowRoot) return null;
  mounted.add(host);
  const widget = new Widget(host, scriptUrl);
  widget.start();
  return widget;
}

// A div icon that carries an accessible name (and, for clusters, its count).
const LabelIcon = DivIcon.extend({
  createIcon(old) {
    const el = DivIcon.prototype.createIcon.call(this, old);
    el.setAttribute('aria-label', this.options.label);
    if (this.options.count != null) el.dataset.count = String(this.options.count);
    return el;
  },
});

function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of [].concat(children)) if (c != null && c !== false) el.append(c);
  return el;
}

function escapeHtml(text) {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

// Attributions are plain text (never markup from an attribute); OpenStreetMap gets its link.
function attributionHtml(text) {
  return escapeHtml(text).replace(
    'OpenStreetMap',
    '<a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
  );
}

// "Nær mig" only where the browser may be asked: a secure page, and a frame the host page
// allows geolocation (a cross-origin iframe needs allow="geolocation")
function canLocate() {
  if (!('geolocation' in navigator) || !window.isSecureContext) return false;
  const policy = document.permissionsPolicy || document.featurePolicy;
  return !policy || policy.allowsFeature('geolocation');
}

// The public contact fields of a business's feature (null where the privacy rules hide them).
function contactOf(p) {
  return { phone: p.phone, email: p.email, website: p.website };
}

function safeUrl(url) {
  return typeof url === 'string' && /^https?:\/\//i.test(url) ? url : null;
}

class Widget {
  constructor(host, scriptUrl) {
    this.host = host;
    this.opts = readOptions(host, scriptUrl);
    this.lang = this.opts.lang;
    this.t = TEXTS[this.lang];
    this.filters = {
      industry: this.opts.industry,
      size: this.opts.size,
      network: this.opts.network,
      q: this.opts.search,
    };
    // a shared link's view and filters win over the page's own options
    this.linkKey =
      this.opts.permalink && this.opts.municipality
        ? permalinkKey(host, this.opts.municipality)
        : null;
    this.restored = this.linkKey ? this.readLink() : null;
    if (this.restored) {
      for (const name of ['industry', 'size', 'network', 'q']) {
        if (this.restored[name] != null) this.filters[name] = this.restored[name];
      }
    }
    this.view = 'map';
    this.markers = new Map();
    this.shown = [];
    this.listLimit = PAGE;
    this.listDirty = true;
    this.index = null;
    this.popupOpener = null;
    this.cssUrl = scriptUrl
      ? new URL(`mikrokort.css?v=${__CSS_VERSION__}`, scriptUrl).href
      : `${this.opts.api}/widget/mikrokort.css?v=${__CSS_VERSION__}`;
    this.root = host.attachShadow({ mode: 'open' });
    host.setAttribute('data-mikrokort-state', 'loading');
  }

  async start() {
    const styles = loadStyles(this.cssUrl);
    const data = this.opts.municipality
      ? loadMapData(this.opts.api, this.opts.municipality)
      : null;
    if (data) data.catch(() => {}); // handled below, after the styles
    try {
      adopt(this.root, await styles);
      mark('mikrokort:styles');
    } catch (err) {
      this.fail(err);
      return;
    }
    this.build();
    if (!data) {
      this.fail(new Error('data-municipality is missing'), this.t.noMunicipality);
      return;
    }
    this.createMap();
    try {
      this.data = await data;
      mark('mikrokort:data');
    } catch (err) {
      this.fail(err);
      return;
    }
    this.showData();
  }

  fail(err, message) {
    console.error('mikrokort:', err); // eslint-disable-line no-console
    const text = message || this.t.error;
    if (this.el) {
      this.el.status.textContent = text;
      this.el.status.setAttribute('role', 'alert');
    } else {
      this.root.append(h('p', { role: 'alert', text }));
    }
    this.host.setAttribute('data-mikrokort-state', 'error');
  }

  // -- the skeleton -----------------------------------------------------------------------

  build() {
    const el = (this.el = {});
    const heading = this.opts.heading;
    el.searchLabel = h('span');
    el.search = h('input', {
      type: 'search',
      class: 'mk-input',
      autocomplete: 'off',
      spellcheck: 'false',
      maxlength: '100',
      oninput: () => this.onSearch(),
    });
    el.search.value = this.filters.q;
    el.industryLabel = h('span');
    el.industry = h('select', { class: 'mk-input mk-industry', onchange: () => this.onIndustry() });
    el.sizeLabel = h('span');
    el.size = h('select', { class: 'mk-input mk-size', onchange: () => this.onSize() });
    el.networkLabel = h('span');
    el.network = h('select', { class: 'mk-input mk-network', onchange: () => this.onNetwork() });
    el.mapButton = h('button', { type: 'button', onclick: () => this.setView('map') });
    el.listButton = h('button', { type: 'button', onclick: () => this.setView('list') });
    el.views = h('div', { class: 'mk-views', role: 'group' }, [el.mapButton, el.listButton]);
    el.langButton = h('button', {
      type: 'button',
      class: 'mk-lang',
      onclick: () => this.setLang(this.lang === 'da' ? 'en' : 'da'),
    });
    el.bar = h('form', { class: 'mk-bar', role: 'search', onsubmit: (e) => e.preventDefault() }, [
      h('label', { class: 'mk-field mk-field-search' }, [el.searchLabel, el.search]),
      h('label', { class: 'mk-field' }, [el.industryLabel, el.industry]),
      h('label', { class: 'mk-field' }, [el.sizeLabel, el.size]),
      h('label', { class: 'mk-field' }, [el.networkLabel, el.network]),
      h('div', { class: 'mk-actions' }, [el.views, el.langButton]),
    ]);
    // "Gå til et sted": a town or an address through the API (/places), or the reader's own
    // position; the map moves there, the filters stay
    el.placeLabel = h('span');
    el.place = h('input', {
      type: 'text', // not `search`: one search box per widget is the name search
      class: 'mk-input',
      autocomplete: 'off',
      enterkeyhint: 'search',
      maxlength: '100',
    });
    el.findButton = h('button', { type: 'submit', class: 'mk-button' });
    el.nearButton = h('button', { type: 'button', class: 'mk-button', onclick: () => this.nearMe() });
    el.placeResults = h('ul', { class: 'mk-place-results', hidden: true });
    el.placeStatus = h('p', { class: 'mk-place-status', role: 'status', 'aria-live': 'polite' });
    el.placeForm = h(
      'form',
      {
        class: 'mk-bar mk-place',
        role: 'search',
        onsubmit: (e) => {
          e.preventDefault();
          this.findPlace();
        },
      },
      [
        h('label', { class: 'mk-field mk-field-search' }, [el.placeLabel, el.place]),
        h('div', { class: 'mk-actions' }, [
          el.findButton,
          canLocate() ? el.nearButton : null,
        ]),
        el.placeStatus,
        el.placeResults,
      ],
    );
    el.status = h('p', { class: 'mk-status', role: 'status', 'aria-live': 'polite' });
    // said once when the base map's tiles cannot be had; the map stays usable without them
    el.notice = h('p', { class: 'mk-notice', hidden: true }); // an alert once it is shown
    el.skip = h('button', {
      type: 'button',
      class: 'mk-skip',
      onclick: () => {
        // a tab stop only while it holds the focus: Tab then goes on past the widget
        el.end.tabIndex = 0;
        el.end.focus();
      },
    });
    el.map = h('div', { class: 'mk-map', role: 'region' });
    el.map.style.height = this.opts.height;
    el.list = h('div', { class: 'mk-list', hidden: true });
    el.end = h('p', {
      class: 'mk-end',
      tabindex: '-1',
      onblur: () => {
        el.end.tabIndex = -1;
      },
    });
    el.heading = heading;
    el.box = h('div', { class: 'mk', lang: this.lang, role: 'region' }, [
      el.bar,
      el.placeForm,
      el.status,
      el.notice,
      el.skip,
      el.map,
      el.list,
      el.end,
    ]);
    this.root.append(el.box);
    this.applyTexts();
    el.status.textContent = this.t.loading;
    this.setControlsEnabled(false);
    new MutationObserver(() => {
      const lang = this.host.getAttribute('data-lang') === 'en' ? 'en' : 'da';
      if (lang !== this.lang) this.setLang(lang);
    }).observe(this.host, { attributes: true, attributeFilter: ['data-lang'] });
  }

  setControlsEnabled(on) {
    for (const c of [this.el.search, this.el.industry, this.el.size, this.el.network]) {
      c.disabled = !on;
    }
  }

  applyTexts() {
    const { el, t } = this;
    el.box.setAttribute('lang', this.lang);
    const name = this.data ? this.data.municipality.name : null;
    el.box.setAttribute('aria-label', name ? fmt(t.region, { name }) : t.regionLoading);
    el.bar.setAttribute('aria-label', name ? fmt(t.filters, { name }) : t.search);
    el.searchLabel.textContent = t.search;
    el.industryLabel.textContent = t.industry;
    el.sizeLabel.textContent = t.size;
    el.networkLabel.textContent = t.network;
    el.views.setAttribute('aria-label', t.view);
    el.mapButton.textContent = t.map;
    el.listButton.textContent = t.list;
    el.mapButton.setAttribute('aria-pressed', String(this.view === 'map'));
    el.listButton.setAttribute('aria-pressed', String(this.view === 'list'));
    el.langButton.textContent = t.otherLang;
    el.langButton.setAttribute('lang', t.otherLangCode);
    el.skip.textContent = t.skipMap;
    el.placeForm.setAttribute('aria-label', t.placeForm);
    el.placeLabel.textContent = t.placeSearch;
    el.findButton.textContent = t.placeFind;
    el.nearButton.textContent = t.nearMe;
    this.applyNotice();
    el.map.setAttribute('aria-label', t.mapLabel);
    el.end.textContent = name ? fmt(t.end, { name }) : '';
    if (this.map) {
      this.map.getContainer().setAttribute('aria-label', t.mapLabel);
      if (this.zoomControl) this.zoomControl.remove();
      this.zoomControl = new Control.Zoom({
        zoomInTitle: t.zoomIn,
        zoomOutTitle: t.zoomOut,
      }).addTo(this.map);
    }
    if (this.data) {
      this.fillSelects();
      this.updateStatus();
    }
  }

  // -- the map ----------------------------------------------------------------------------

  createMap() {
    const map = (this.map = new LeafletMap(this.el.map, {
      zoomControl: false,
      maxZoom: MAX_ZOOM,
      minZoom: MIN_ZOOM,
      zoomSnap: 0.25, // the municipality fills the map
      zoomDelta: 1,
      center: [55.4, 11.6],
      zoom: 7,
      scrollWheelZoom: false, // a page scrolls past an embedded map; focus the map to zoom
      trackResize: false, // the ResizeObserver below follows the map's own box, not the window
    }));
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    this.applyTexts();
    map.on('focus click', () => map.scrollWheelZoom.enable());
    map.on('blur', () => map.scrollWheelZoom.disable());
    map.on('moveend', () => this.renderMarkers());
    map.on('zoomend', () => this.spreadPins());
    map.on('popupclose', (e) => this.onPopupClose(e.popup));
    this.clusterLayer = new LayerGroup().addTo(map);
    // The network pins' own pane, made after the markers' one: drawn above every cluster (a
    // pin is small and a cluster around it stays clickable), and after them in the keyboard
    // order, so Tab reaches the businesses first.
    map.createPane(PIN_PANE).style.zIndex = '640'; // markers 600, tooltips 650, popups 700
    this.networkLayer = new LayerGroup().addTo(map);
    if (this.opts.tiles) this.addTiles(this.opts.tiles, this.opts.attribution);
    // Enter and Space on a focused marker or cluster act like a click; Escape closes a popup
    // wherever the focus is inside the map.
    this.el.map.addEventListener('keydown', (e) => {
      const target = e.target;
      if (e.key === 'Escape' && this.popup) {
        e.preventDefault();
        map.closePopup();
      } else if ((e.key === 'Enter' || e.key === ' ') && target.classList.contains('mk-mk')) {
        e.preventDefault();
        this.viaKeyboard = true;
        target.click();
        this.viaKeyboard = false;
      }
    });
    new ResizeObserver(() => {
      if (this.view === 'map') map.invalidateSize();
    }).observe(this.el.map);
  }

  addTiles(url, attribution) {
    if (this.tiles) return;
    const text = attribution != null ? attribution : url === DEFAULT_TILES ? DEFAULT_ATTRIBUTION : '';
    this.tiles = new TileLayer(url, {
      maxZoom: MAX_ZOOM,
      attribution: text ? attributionHtml(text) : '',
    }).addTo(this.map);
    this.baseErrors = 0;
    this.baseLoaded = false;
    this.tiles.on('tileload', () => {
      this.baseLoaded = true;
    });
    this.tiles.on('tileerror', () => {
      this.baseErrors += 1;
      if (!this.baseLoaded && this.baseErrors >= BASE_ERRORS_BEFORE_NOTICE) this.baseFailed();
    });
  }

  // No tile of the base map came: say so, and draw what the map still knows where the base
  // map's streets and names would be: the boundary (drawn already) and the towns' names.
  baseFailed() {
    if (this.noBase) return;
    this.noBase = true;
    this.el.map.classList.add('mk-nobase');
    this.el.notice.setAttribute('role', 'alert');
    this.el.notice.hidden = false;
    this.applyNotice();
    this.drawTownNames();
  }

  applyNotice() {
    if (this.noBase) this.el.notice.textContent = this.t.baseError;
  }

  // Each town (postcode) at the mean place of its businesses, as a label nothing can focus;
  // once the base map has failed and the rows have come (a tiled map has no rows to place).
  drawTownNames() {
    if (!this.noBase || this.townLayer || !this.data || this.data.tiled) return;
    const towns = new Map();
    for (const b of this.data.businesses) {
      if (!b.city) continue;
      const t = towns.get(b.city) || { lat: 0, lon: 0, n: 0 };
      t.lat += b.lat;
      t.lon += b.lon;
      t.n += 1;
      towns.set(b.city, t);
    }
    this.townLayer = new LayerGroup().addTo(this.map);
    for (const [name, t] of towns) {
      if (t.n < TOWN_MIN_BUSINESSES) continue;
      const html = `<span>${escapeHtml(name)}</span>`; // centred on the point by its own box
      const icon = new DivIcon({ className: 'mk-town', html, iconSize: null });
      new Marker([t.lat / t.n, t.lon / t.n], { icon, interactive: false, keyboard: false })
        .addTo(this.townLayer)
        .getElement()
        .setAttribute('aria-hidden', 'true'); // the list view names every business's town
    }
  }

  showData() {
    const d = this.data;
    const map = this.map;
    if (!this.tiles) {
      const server = d.tiles || {};
      const url = server.url || DEFAULT_TILES;
      const attribution = this.opts.attribution != null ? this.opts.attribution : server.attribution;
      this.addTiles(url, attribution);
    }
    if (d.attribution) map.attributionControl.addAttribution(escapeHtml(d.attribution));
    this.boundary = new GeoJSON(d.municipality.boundary, {
      interactive: false,
      style: BOUNDARY_STYLE,
    }).addTo(map);
    this.bounds = this.boundary.getBounds();
    this.areaLayer = new LayerGroup().addTo(map);
    this.drawTownNames(); // if the base map failed before the data came
    this.keepKnownFilters();
    this.applyTexts();
    this.el.search.value = this.filters.q;
    this.setControlsEnabled(true);
    map.fitBounds(this.bounds, { animate: false });
    const view = this.restored && this.restored.center ? this.restored : null;
    if (view) map.setView(view.center, view.zoom, { animate: false });
    this.applyFilters({ fit: Boolean(this.filters.network) && !view });
    if (this.restored && this.restored.view === 'list') this.setView('list');
    this.followLinks();
    this.host.setAttribute('data-mikrokort-state', 'ready');
  }

  // -- places: "Gå til et sted" and "Nær mig" ----------------------------------------------

  async findPlace() {
    const { el, t } = this;
    const q = el.place.value.trim();
    el.placeResults.replaceChildren();
    el.placeResults.hidden = true;
    if (q.length < 2) {
      el.placeStatus.textContent = t.placeTooShort;
      return;
    }
    const code = this.opts.municipality && this.opts.municipality !== 'all' ? this.opts.municipality : '';
    const query = new URLSearchParams({ q, limit: '8' });
    if (code) query.set('municipality', code);
    el.placeStatus.textContent = t.placeSearching;
    const asked = (this.placeAsked = (this.placeAsked || 0) + 1); // the newest question wins
    let doc;
    try {
      doc = await getJson(`${this.opts.api}/places?${query}`);
    } catch (err) {
      if (asked === this.placeAsked) el.placeStatus.textContent = t.placeError;
      return;
    }
    if (asked !== this.placeAsked) return; // a later search is under way
    const found = (doc.features || []).filter((f) => f.geometry && f.geometry.type === 'Point');
    if (!found.length) {
      el.placeStatus.textContent = t.placeNone;
      return;
    }
    el.placeStatus.textContent = fmt(counted(t, 'placesFound', found.length), {
      n: this.numbers().format(found.length),
    });
    el.placeResults.replaceChildren(
      ...found.map((f) =>
        h('li', {}, [
          h('button', {
            type: 'button',
            class: 'mk-link',
            text: f.properties.name,
            onclick: () => this.goTo(f),
          }),
        ]),
      ),
    );
    el.placeResults.hidden = false;
    if (found.length === 1) this.goTo(found[0]);
  }

  goTo(f) {
    const [lon, lat] = f.geometry.coordinates;
    this.touched = true;
    this.setView('map');
    this.map.setView([lat, lon], f.properties.kind === 'address' ? 17 : 13);
    this.el.placeStatus.textContent = fmt(this.t.placeShown, { p: f.properties.name });
  }

  nearMe() {
    const { el, t } = this;
    el.placeStatus.textContent = t.placeLocating;
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const here = [pos.coords.latitude, pos.coords.longitude];
        this.touched = true;
        this.setView('map');
        if (this.hereMarker) this.hereMarker.remove();
        this.hereMarker = new CircleMarker(here, {
          radius: 8,
          color: '#0b3d91',
          weight: 3,
          fillColor: '#fff',
          fillOpacity: 1,
          interactive: false,
        }).addTo(this.map);
        this.map.setView(here, 15);
        el.placeStatus.textContent = t.placeHere;
      },
      () => {
        el.placeStatus.textContent = t.placeNoPosition;
      },
      { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 },
    );
  }

  // -- permalinks (permalink.js) ----------------------------------------------------------

  readLink() {
    return readState(location.hash, this.linkKey, { minZoom: MIN_ZOOM, maxZoom: MAX_ZOOM });
  }

  // The hash follows the map once someone uses it (a page view alone never adds one), and
  // a new link pasted into the address bar moves the map.
  followLinks() {
    if (!this.linkKey) return;
    for (const kind of ['pointerdown', 'keydown', 'wheel']) {
      this.el.box.addEventListener(kind, () => (this.touched = true), { capture: true });
    }
    this.map.on('moveend', () => this.rememberSoon());
    window.addEventListener('hashchange', () => {
      if (location.hash === this.written) return;
      const state = this.readLink();
      if (!state) return;
      this.filters.industry = state.industry || '';
      this.filters.size = state.size || this.opts.size;
      this.filters.network = state.network || '';
      this.filters.q = state.q || '';
      this.keepKnownFilters();
      this.el.search.value = this.filters.q;
      this.fillSelects();
      this.applyFilters({ fit: Boolean(this.filters.network) && !state.center });
      if (state.center) this.map.setView(state.center, state.zoom);
      this.setView(state.view === 'list' ? 'list' : 'map');
    });
  }

  rememberSoon() {
    if (!this.linkKey || !this.touched) return;
    clearTimeout(this.linkTimer);
    this.linkTimer = setTimeout(() => this.remember(), 200);
  }

  remember() {
    const c = this.map.getCenter();
    const hash = writeState(location.hash, this.linkKey, {
      center: [c.lat, c.lng],
      zoom: this.map.getZoom(),
      ...this.filters,
      view: this.view,
    });
    if (hash === location.hash) return;
    this.written = hash;
    history.replaceState(history.state, '', location.pathname + location.search + hash);
  }

  fillSelects() {
    const { el, t, data } = this;
    const nf = this.numbers();
    // the sizes counted over the whole municipality, the industries within the chosen size
    const sizeCounts = { all: this.totalCount() };
    let counts = {};
    if (data.tiled) {
      for (const [size, c] of Object.entries(data.tiled.sizes || {})) sizeCounts[size] = c.count;
      const chosen = this.filters.size === 'all' ? data.tiled : data.tiled.sizes[this.filters.size];
      counts = { ...chosen.section_counts };
    } else {
      const inSize = this.sizeTest();
      for (const size of Object.keys(data.sizes || {})) sizeCounts[size] = 0;
      for (const b of data.businesses) {
        for (const [size, groups] of Object.entries(data.sizes || {})) {
          if (groups.includes(b.employees ?? null)) sizeCounts[size] += 1;
        }
        const s = b.industry.section;
        if (s && inSize(b)) counts[s] = (counts[s] || 0) + 1;
      }
    }
    el.size.replaceChildren(
      ...SIZES.filter((size) => size in sizeCounts).map((size) =>
        h('option', { value: size, text: `${t.sizes[size]} (${nf.format(sizeCounts[size])})` }),
      ),
    );
    el.size.value = this.filters.size;
    const sectionName = (s) => data.sections[s][this.lang === 'da' ? 0 : 1];
    el.industry.replaceChildren(
      h('option', { value: '', text: t.allIndustries }),
      ...Object.keys(data.sections)
        .sort((a, b) => sectionName(a).localeCompare(sectionName(b), this.lang))
        .map((s) =>
          h('option', { value: s, text: `${sectionName(s)} (${nf.format(counts[s] || 0)})` }),
        ),
    );
    el.industry.value = this.filters.industry;
    el.network.replaceChildren(
      h('option', { value: '', text: t.allNetworks }),
      ...data.networks.map((n) => h('option', { value: n.id, text: n.name })),
    );
    el.network.value = this.filters.network;
  }

  numbers() {
    return new Intl.NumberFormat(this.lang === 'da' ? 'da-DK' : 'en-GB');
  }

  // -- filters ------------------------------------------------------------------------------

  // A network or an industry from the page's options or a link that the data does not have
  // is dropped: the map shows all instead of nothing.
  keepKnownFilters() {
    const d = this.data;
    // a server without size choices (an older one) shows all sizes, and says so
    if (!d.sizes || !(this.filters.size in d.sizes)) this.filters.size = 'all';
    if (!d.networks.some((n) => n.id === this.filters.network)) this.filters.network = '';
    if (!(this.filters.industry in d.sections)) this.filters.industry = '';
  }

  onSearch() {
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => {
      this.filters.q = this.el.search.value;
      this.applyFilters({});
    }, 250);
  }

  onIndustry() {
    this.filters.industry = this.el.industry.value;
    this.applyFilters({});
  }

  onSize() {
    this.filters.size = this.el.size.value;
    this.fillSelects(); // the industries' counts are the chosen size's
    this.applyFilters({});
  }

  // Whether a business (a row of the map data) is of the chosen size.
  sizeTest() {
    const groups = this.filters.size !== 'all' && this.data.sizes && this.data.sizes[this.filters.size];
    if (!groups) return () => true;
    const wanted = new Set(groups);
    return (b) => wanted.has(b.employees ?? null);
  }

  onNetwork() {
    this.filters.network = this.el.network.value;
    this.applyFilters({ fit: true });
  }

  applyFilters({ fit }) {
    this.rememberSoon();
    const d = this.data;
    if (d.tiled) {
      this.applyTiledFilters({ fit });
      return;
    }
    const { industry, network } = this.filters;
    const q = fold(this.filters.q.trim());
    const net = network ? d.networks.find((n) => n.id === network) : null;
    if (q && d.businesses.length && d.businesses[0].key === null) {
      for (const b of d.businesses) b.key = fold(b.name);
    }
    const inSize = this.sizeTest();
    this.shown = d.businesses.filter(
      (b) =>
        (!industry || b.industry.section === industry) &&
        inSize(b) &&
        (!net || b.networks.includes(net.index)) &&
        (!q || b.key.includes(q)),
    );
    mark('mikrokort:filtered');
    this.index = new Supercluster({ radius: 60, minZoom: MIN_ZOOM, maxZoom: MAX_ZOOM }).load(
      this.shown.map((b) => ({
        type: 'Feature',
        properties: { i: b.i },
        geometry: { type: 'Point', coordinates: [b.lon, b.lat] },
      })),
    );
    mark('mikrokort:index');
    this.redraw(net, fit);
  }

  // The tiled mode's filters are the tiles' and the items' query: the server selects, the
  // counts come from the map data (a section alone) or from the items (numberMatched).
  applyTiledFilters({ fit }) {
    const d = this.data;
    const { industry, network } = this.filters;
    const q = this.filters.q.trim();
    const net = network ? d.networks.find((n) => n.id === network) : null;
    const query = (this.query = selection(d.municipality.kommunekode, this.filters, d.sizes));
    this.tileSource = new TileSource(this.opts.api, query);
    this.shownCount = null;
    if (!net && !q) {
      const counts = this.filters.size === 'all' ? d.tiled : d.tiled.sizes[this.filters.size];
      this.shownCount = industry ? counts.section_counts[industry] || 0 : counts.count;
    }
    else {
      countOf(this.opts.api, query)
        .then((n) => {
          if (this.query !== query) return;
          this.shownCount = n;
          this.updateStatus();
        })
        .catch((err) => this.tileFailed(err));
    }
    mark('mikrokort:filtered');
    this.redraw(net, fit);
  }

  // After a filter, in either mode: the networks, the markers, the status and the list again.
  redraw(net, fit) {
    this.map.closePopup();
    this.showNetworks(net);
    this.clearMarkers();
    if (fit) this.fitTo(net);
    this.renderMarkers();
    this.updateStatus();
    this.listLimit = PAGE;
    this.listDirty = true;
    if (this.view === 'list') this.renderList();
  }

  // A tile or an item the API did not give: said in the status line, the map stays usable.
  tileFailed(err) {
    console.error('mikrokort:', err); // eslint-disable-line no-console
    const s = this.el.status;
    s.textContent = this.t.tilesError;
    s.setAttribute('role', 'alert');
    this.tileError = true;
  }

  totalCount() {
    return this.data.tiled ? this.data.tiled.count : this.data.businesses.length;
  }

  fitTo(net) {
    if (!net) {
      this.map.fitBounds(this.bounds);
      return;
    }
    const points = net.members.map((b) => [b.lat, b.lon]);
    if (net.meeting_place) points.push([net.meeting_place[1], net.meeting_place[0]]);
    let bounds = points.length ? new LatLngBounds(points) : null;
    if (this.areaShape) {
      const area = this.areaShape.getBounds();
      bounds = bounds ? bounds.extend(area) : area;
    }
    if (bounds && bounds.isValid()) this.map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
  }

  updateStatus() {
    const nf = this.numbers();
    const total = this.totalCount();
    const shown = this.data.tiled ? this.shownCount : this.shown.length;
    const s = this.el.status;
    s.setAttribute('role', 'status');
    this.tileError = false;
    if (shown == null) {
      s.textContent = this.t.counting; // the items answer in a moment
      delete s.dataset.shown;
      return;
    }
    s.textContent = shown
      ? fmt(counted(this.t, 'status', total), {
          shown: nf.format(shown),
          total: nf.format(total),
        })
      : this.t.none;
    s.dataset.shown = String(shown);
    s.dataset.total = String(total);
  }

  // Network meeting places are always on the map (only the chosen one under a network
  // filter); the area of the chosen network, or of the one whose popup is open, is drawn.
  showNetworks(selected) {
    this.networkLayer.clearLayers();
    this.areaLayer.clearLayers();
    this.areaShape = null;
    for (const n of this.data.networks) {
      if (!n.meeting_place || (selected && n !== selected)) continue;
      const [lon, lat] = n.meeting_place;
      const marker = new Marker([lat, lon], {
        icon: new LabelIcon({
          className: 'mk-mk mk-net',
          html: '<span aria-hidden="true"></span>',
          iconSize: [PIN_SIZE, PIN_SIZE],
          iconAnchor: [PIN_SIZE / 2, 30], // a pin: its tip on the meeting place
          label: fmt(this.t.networkMarker, { name: n.name }),
        }),
        keyboard: true,
        pane: PIN_PANE,
      });
      marker.on('click', () => this.openNetwork(n, marker.getElement(), this.viaKeyboard));
      this.networkLayer.addLayer(marker);
    }
    this.spreadPins();
    if (selected) this.drawArea(selected);
  }

  // Pins closer on screen than a pin's width (several networks meet in one town) stand side
  // by side, centred on their place, so each can be seen and clicked; again at every zoom.
  // Only the icons' margins move: the elements, their focus and their order stay.
  spreadPins() {
    const groups = [];
    for (const marker of this.networkLayer.getLayers()) {
      const at = this.map.latLngToLayerPoint(marker.getLatLng());
      const group = groups.find((g) => g.at.distanceTo(at) < PIN_SIZE);
      if (group) group.pins.push(marker);
      else groups.push({ at, pins: [marker] });
    }
    for (const { pins } of groups) {
      pins.forEach((marker, k) => {
        const el = marker.getElement();
        if (!el) return;
        const dx = Math.round((k - (pins.length - 1) / 2) * (PIN_SIZE + 2));
        el.style.marginLeft = `${dx - PIN_SIZE / 2}px`;
      });
    }
  }

  drawArea(net) {
    this.areaLayer.clearLayers();
    this.areaShape = null;
    if (!net || !net.area) return;
    this.areaShape = new GeoJSON(net.area, { interactive: false, style: AREA_STYLE });
    this.areaLayer.addLayer(this.areaShape);
  }

  // -- clusters and markers -------------------------------------------------------------------

  clearMarkers() {
    this.clusterLayer.clearLayers();
    this.markers = new Map();
  }

  renderMarkers() {
    if (this.tileSource) {
      this.renderTiles();
      return;
    }
    if (!this.index || !this.map || this.view !== 'map') return;
    const b = this.map.getBounds().pad(0.3);
    const zoom = Math.floor(this.map.getZoom()); // clusters of the zoom below: never overlapping
    const items = this.index.getClusters(
      [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
      zoom,
    );
    const next = new Map();
    let clusters = 0;
    let points = 0;
    let inView = 0;
    for (const f of items) {
      const p = f.properties;
      const key = p.cluster ? `c${p.cluster_id}` : `p${p.i}`;
      let marker = this.markers.get(key);
      if (!marker) {
        marker = this.makeMarker(f);
        this.clusterLayer.addLayer(marker);
      }
      next.set(key, marker);
      if (p.cluster) clusters += 1;
      else points += 1;
      inView += p.cluster ? p.point_count : 1;
    }
    for (const [key, marker] of this.markers) {
      if (!next.has(key)) this.clusterLayer.removeLayer(marker);
    }
    this.markers = next;
    this.rendered({ clusters, points, count: inView, shown: this.shown.length });
  }

  // The tiles of the view (and a margin) at the map's zoom, drawn once all have come: a view
  // that moves on before they do is not drawn.
  renderTiles() {
    if (!this.map || this.view !== 'map') return;
    const gen = (this.tileGen = (this.tileGen || 0) + 1);
    const source = this.tileSource;
    const zoom = Math.max(0, Math.min(MAX_TILE_ZOOM, Math.floor(this.map.getZoom())));
    const view = this.map.getBounds();
    const b = view.pad(0.3);
    const tiles = tileRange([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], zoom);
    Promise.all(tiles.map(([z, x, y]) => source.get(z, x, y)))
      .then((lists) => {
        if (gen !== this.tileGen || source !== this.tileSource) return;
        if (this.tileError) this.updateStatus();
        const next = new Map();
        let clusters = 0;
        let points = 0;
        let inView = 0;
        for (const f of this.mergeClusters(lists.flat())) {
          let marker = this.markers.get(f.key);
          if (!marker) {
            marker = this.makeTileMarker(f);
            this.clusterLayer.addLayer(marker);
          }
          next.set(f.key, marker);
          if (f.cluster) clusters += 1;
          else points += 1;
          if (view.contains([f.lat, f.lon])) inView += f.count;
        }
        for (const [key, marker] of this.markers) {
          if (!next.has(key)) this.clusterLayer.removeLayer(marker);
        }
        this.markers = next;
        this.rendered({ clusters, points, count: inView, shown: this.shownCount });
      })
      .catch((err) => {
        if (gen === this.tileGen) this.tileFailed(err);
      });
  }

  // The server's clusters sit at the mean place of their cell, so two of neighbouring cells
  // (or tiles) can come close on screen; merged here, biggest first, until no two clusters'
  // icons touch: the map never shows one cluster over another. Businesses are never merged.
  mergeClusters(features) {
    let clusters = features.filter((f) => f.cluster);
    for (let pass = 0; pass < 4; pass += 1) {
      const [out, merged] = this.mergePass(clusters);
      clusters = out;
      if (!merged) break; // a merged icon grew or moved: look again until nothing does
    }
    return [...clusters, ...features.filter((f) => !f.cluster)];
  }

  mergePass(clusters) {
    const side = clusterSize(Infinity) + 2; // the largest icon and a gap: a bucket's side
    const buckets = new Map();
    const kept = [];
    let merged = false;
    for (const f of clusters.slice().sort((a, b) => b.count - a.count)) {
      const pt = this.map.latLngToLayerPoint([f.lat, f.lon]);
      const bx = Math.floor(pt.x / side);
      const by = Math.floor(pt.y / side);
      let near = null;
      for (let dx = -1; dx <= 1 && !near; dx += 1) {
        for (let dy = -1; dy <= 1 && !near; dy += 1) {
          for (const k of buckets.get(`${bx + dx},${by + dy}`) || []) {
            const gap = (clusterSize(k.count) + clusterSize(f.count)) / 2 + 2;
            if (Math.abs(k.pt.x - pt.x) < gap && Math.abs(k.pt.y - pt.y) < gap) {
              near = k;
              break;
            }
          }
        }
      }
      if (near) {
        const n = near.count + f.count;
        near.lat = (near.lat * near.count + f.lat * f.count) / n;
        near.lon = (near.lon * near.count + f.lon * f.count) / n;
        near.count = n;
        near.key += `+${f.key}`;
        merged = true;
        continue;
      }
      const entry = { ...f, pt };
      kept.push(entry);
      const key = `${bx},${by}`;
      if (!buckets.has(key)) buckets.set(key, []);
      buckets.get(key).push(entry);
    }
    return [kept, merged];
  }

  rendered(detail) {
    const ds = this.el.map.dataset;
    ds.clusters = String(detail.clusters);
    ds.points = String(detail.points);
    ds.count = String(detail.count);
    this.host.dispatchEvent(new CustomEvent('mikrokort:render', { detail, bubbles: true }));
    if (!this.readyAt) {
      this.readyAt = performance.now();
      mark('mikrokort:clusters');
      this.host.dispatchEvent(
        new CustomEvent('mikrokort:ready', {
          detail: { ...detail, at: this.readyAt, total: this.totalCount() },
          bubbles: true,
        }),
      );
    }
  }

  clusterIcon(n, label) {
    const size = clusterSize(n);
    const short = n >= 10000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
    return new LabelIcon({
      className: 'mk-mk mk-cluster',
      html: `<span aria-hidden="true">${short}</span>`,
      iconSize: [size, size],
      label,
      count: n,
    });
  }

  pointIcon(name) {
    return new LabelIcon({ className: 'mk-mk mk-pt', html: '', iconSize: [16, 16], label: name, count: 1 });
  }

  // A tile's cluster zooms in two levels where it is; a business opens its popup from its item.
  makeTileMarker(f) {
    const latlng = [f.lat, f.lon];
    if (f.cluster) {
      const label = fmt(counted(this.t, 'cluster', f.count), { n: this.numbers().format(f.count) });
      const marker = new Marker(latlng, { icon: this.clusterIcon(f.count, label), keyboard: true });
      marker.on('click', () => {
        const keyboard = this.viaKeyboard;
        this.map.setView(marker.getLatLng(), Math.min(f.zoom + 2, MAX_ZOOM));
        if (keyboard) this.map.getContainer().focus();
      });
      return marker;
    }
    const marker = new Marker(latlng, { icon: this.pointIcon(f.props.name), keyboard: true });
    marker.on('click', () => {
      const keyboard = this.viaKeyboard;
      getBusiness(this.opts.api, f.props.id)
        .then((feature) => this.openBusiness(this.fromFeature(feature), marker.getElement(), keyboard))
        .catch((err) => this.tileFailed(err));
    });
    return marker;
  }

  // A GeoJSON feature of the API as the business object the popups and the list rows use.
  fromFeature(f) {
    const p = f.properties;
    const [lon, lat] = f.geometry ? f.geometry.coordinates : [null, null];
    if (!this.networkIndex) {
      this.networkIndex = new Map(this.data.networkAt.map((n, i) => [n.id, i]));
    }
    return {
      i: -1,
      id: f.id,
      lon,
      lat,
      industry: { code: p.industry_code || '', section: p.industry_section || null, text: p.industry_text || '' },
      name: p.name,
      employees: p.employees,
      address: p.address,
      postcode: p.postcode,
      city: p.city || '',
      precision: p.location_precision,
      contact: contactOf(p),
      networks: (p.networks || '')
        .split('|')
        .filter(Boolean)
        .map((id) => this.networkIndex.get(id))
        .filter((i) => i != null),
      key: null,
    };
  }

  makeMarker(f) {
    const p = f.properties;
    const [lon, lat] = f.geometry.coordinates;
    const nf = this.numbers();
    let marker;
    if (p.cluster) {
      const n = p.point_count;
      const here = this.index.getClusterExpansionZoom(p.cluster_id) > MAX_ZOOM;
      marker = new Marker([lat, lon], {
        icon: this.clusterIcon(n, fmt(here ? this.t.clusterHere : this.t.cluster, { n: nf.format(n) })),
        keyboard: true,
      });
      marker.on('click', () => this.openCluster(p, marker, here));
    } else {
      const b = this.data.businesses[p.i];
      marker = new Marker([lat, lon], { icon: this.pointIcon(b.name), keyboard: true });
      marker.on('click', () => this.openBusiness(b, marker.getElement(), this.viaKeyboard));
    }
    return marker;
  }

  openCluster(p, marker, here) {
    const latlng = marker.getLatLng();
    if (here) {
      const leaves = this.index.getLeaves(p.cluster_id, 500);
      const list = leaves.map((l) => this.data.businesses[l.properties.i]);
      this.openPopup(latlng, this.samePlaceContent(list), marker.getElement(), this.viaKeyboard);
      return;
    }
    const keyboard = this.viaKeyboard;
    const zoom = Math.max(this.index.getClusterExpansionZoom(p.cluster_id), this.map.getZoom() + 1);
    this.map.setView(latlng, Math.min(zoom, MAX_ZOOM));
    if (keyboard) this.map.getContainer().focus();
  }

  // -- popups ---------------------------------------------------------------------------------

  // `opener` gets the focus back when the popup closes; `focus` moves it into the popup
  // (keyboard use, or when the popup replaces one that held the focus).
  openPopup(latlng, content, opener, focus) {
    if (this.popupNetwork) {
      this.popupNetwork = null;
      this.drawArea(this.data.networks.find((n) => n.id === this.filters.network));
    }
    this.popupOpener = opener || null;
    const popup = new Popup(this.popupFit()).setLatLng(latlng).setContent(content);
    this.popup = popup;
    popup.openOn(this.map);
    const box = popup.getElement();
    const close = box && box.querySelector('.leaflet-popup-close-button');
    if (close) {
      close.setAttribute('aria-label', this.t.close);
      close.setAttribute('title', this.t.close);
    }
    if (focus) content.focus();
  }

  // A popup as wide and tall as the map allows, clear of the zoom buttons (top left) and the
  // attribution (bottom right): the map pans it into that box, a long one scrolls inside.
  popupFit() {
    const size = this.map.getSize();
    const zoom = this.zoomControl && this.zoomControl.getContainer();
    const attribution = this.map.attributionControl && this.map.attributionControl.getContainer();
    const left = (zoom ? zoom.offsetLeft + zoom.offsetWidth : 0) + POPUP_GAP;
    const bottom = (attribution ? attribution.offsetHeight : 0) + POPUP_GAP;
    const room = size.x - left - POPUP_GAP - POPUP_CHROME;
    const width = Math.max(POPUP_MIN_WIDTH, Math.min(POPUP_MAX_WIDTH, room));
    return {
      maxWidth: width,
      minWidth: Math.min(200, width),
      maxHeight: Math.max(120, size.y - POPUP_GAP - bottom - POPUP_TIP),
      autoPanPaddingTopLeft: [left, POPUP_GAP],
      autoPanPaddingBottomRight: [POPUP_GAP, bottom],
    };
  }

  onPopupClose(popup) {
    if (popup !== this.popup) return; // replaced by another popup
    this.popup = null;
    if (this.popupNetwork) {
      this.popupNetwork = null;
      this.drawArea(this.data.networks.find((n) => n.id === this.filters.network));
    }
    const opener = this.popupOpener;
    this.popupOpener = null;
    const active = this.root.activeElement;
    const box = popup.getElement();
    const focusWasInside = !active || !active.isConnected || (box && box.contains(active));
    if (opener && opener.isConnected && !opener.hidden && focusWasInside) opener.focus();
  }

  heading(text, cls) {
    return h('p', {
      class: cls,
      role: 'heading',
      'aria-level': String(this.el.heading),
      text,
    });
  }

  // In English: the code's NACE class, else the section's English name with the register's
  // Danish text (a class whose name depends on the NACE revision has no sure English name).
  industryText(b) {
    const section = b.industry.section && this.data.sections[b.industry.section];
    if (this.lang === 'en') {
      const english = this.data.classesEn[b.industry.code.slice(0, 4)];
      if (english) return english;
      if (section) return `${section[1]}: ${b.industry.text}`;
    }
    return b.industry.text || (section ? section[0] : '');
  }

  placeText(b) {
    const town = [b.postcode, b.city].filter(Boolean).join(' ');
    if (b.address) return fmt(this.t.address, { a: [b.address, town].filter(Boolean).join(', ') });
    return fmt(this.t.place, { a: town });
  }

  precisionNote(b) {
    if (b.precision === 'grid') return this.t.grid;
    if (b.precision === 'postcode') return this.t.postcode;
    return null;
  }

  networkButtons(b) {
    const nets = b.networks.map((i) => this.data.networkAt[i]).filter(Boolean);
    if (!nets.length) return null;
    const parts = [this.t.networks];
    nets.forEach((n, k) => {
      if (k) parts.push(', ');
      parts.push(
        h('button', {
          type: 'button',
          class: 'mk-link',
          text: n.name,
          onclick: () => this.openNetwork(n, this.popupOpener, true),
        }),
      );
    });
    return h('p', {}, parts);
  }

  businessContent(b) {
    const note = this.precisionNote(b);
    // the public contact details come with the business's own feature (the map data holds
    // none): filled in when it arrives, where the privacy rules let the API give them
    const slot = h('div', { class: 'mk-contact-slot' });
    if (b.contact) slot.append(this.contactLine(b.contact) || '');
    else if (b.contact === undefined && b.id) this.loadContact(b, slot);
    const lang = this.lang === 'en' ? '&lang=en' : '';
    const page = `${this.opts.api}/collections/businesses/items/${encodeURIComponent(b.id)}?f=html${lang}`;
    return h('div', { class: 'mk-pop', tabindex: '-1' }, [
      this.heading(b.name, 'mk-pop-title'),
      h('p', { text: this.industryText(b) }),
      b.employees != null ? h('p', { text: fmt(this.t.employees, { g: b.employees }) }) : null,
      h('p', { text: this.placeText(b) }),
      note ? h('p', { class: 'mk-note', text: note }) : null,
      slot,
      this.networkButtons(b),
      h('p', {}, [h('a', { href: page, target: '_blank', rel: 'noopener', text: this.t.businessPage })]),
    ]);
  }

  loadContact(b, slot) {
    getBusiness(this.opts.api, b.id)
      .then((f) => {
        const p = f.properties || {};
        b.contact = contactOf(p);
        slot.replaceChildren(this.contactLine(b.contact) || '');
        if (this.popup && this.popup.isOpen()) {
          // Leaflet lays the popup out again by putting its content back: keep the focus
          const active = this.root.activeElement;
          this.popup.update();
          if (active && active.isConnected) active.focus();
        }
      })
      .catch(() => {
        b.contact = undefined; // asked again next time; the popup is whole without it
      });
  }

  samePlaceContent(list) {
    const collator = new Intl.Collator('da');
    list.sort((a, b) => collator.compare(a.name, b.name));
    return h('div', { class: 'mk-pop', tabindex: '-1' }, [
      this.heading(`${this.t.sameplace} (${this.numbers().format(list.length)})`, 'mk-pop-title'),
      h(
        'ul',
        { class: 'mk-pop-list' },
        list.map((b) =>
          h('li', {}, [
            h('button', {
              type: 'button',
              class: 'mk-link',
              text: b.name,
              onclick: () => this.openBusiness(b, this.popupOpener, true),
            }),
          ]),
        ),
      ),
    ]);
  }

  openBusiness(b, opener, focus) {
    this.openPopup([b.lat, b.lon], this.businessContent(b), opener, focus);
  }

  // "Kontakt: Hjemmeside, mail@…, +45 …" from the public contact fields, or null
  contactLine(c) {
    const t = this.t;
    const links = [];
    const site = safeUrl(c.website);
    if (site) links.push(h('a', { href: site, target: '_blank', rel: 'noopener', text: t.website }));
    if (c.email) links.push(h('a', { href: `mailto:${c.email}`, text: c.email }));
    if (c.phone) links.push(h('a', { href: `tel:${c.phone.replace(/\s+/g, '')}`, text: c.phone }));
    if (!links.length) return null;
    const line = [];
    links.forEach((l, i) => line.push(i ? ', ' : '', l));
    return h('p', { class: 'mk-contact' }, [t.contact, ...line]);
  }

  networkContent(n) {
    const t = this.t;
    const nf = this.numbers();
    const members = n.members.slice().sort((a, b) => a.name.localeCompare(b.name, 'da'));
    const tiled = Boolean(this.data.tiled); // members are not loaded: their count, and a filter
    return h('div', { class: 'mk-pop', tabindex: '-1' }, [
      this.heading(n.name, 'mk-pop-title'),
      n.description ? h('p', { text: n.description }) : null,
      n.meeting_place_name ? h('p', { text: fmt(t.meetingPlace, { p: n.meeting_place_name }) }) : null,
      this.contactLine(n),
      n.area ? h('p', { class: 'mk-note', text: t.area }) : null,
      h('p', {
        text:
          fmt(t.members, { n: nf.format(n.member_count) }) +
          (!tiled && members.length !== n.member_count
            ? ` (${fmt(t.membersHere, { n: nf.format(members.length) })})`
            : ''),
      }),
      members.length
        ? h(
            'ul',
            { class: 'mk-pop-list' },
            members.slice(0, POPUP_MEMBERS).map((b) => h('li', { text: b.name })),
          )
        : null,
      members.length > POPUP_MEMBERS
        ? h('p', {
            text: fmt(counted(t, 'andMore', members.length - POPUP_MEMBERS), {
              n: nf.format(members.length - POPUP_MEMBERS),
            }),
          })
        : null,
      (tiled ? n.member_count : members.length) && this.filters.network !== n.id
        ? h('button', {
            type: 'button',
            class: 'mk-button',
            text: t.showMembers,
            onclick: () => {
              this.filters.network = n.id;
              this.el.network.value = n.id;
              this.applyFilters({ fit: true });
              this.el.network.focus();
            },
          })
        : null,
    ]);
  }

  openNetwork(n, opener, focus) {
    const where = n.meeting_place
      ? [n.meeting_place[1], n.meeting_place[0]]
      : n.area
        ? new GeoJSON(n.area).getBounds().getCenter()
        : null;
    if (!where) return;
    this.openPopup(where, this.networkContent(n), opener, focus);
    this.popupNetwork = n;
    this.drawArea(n);
  }

  // -- views ----------------------------------------------------------------------------------

  setView(view) {
    if (view === this.view) return;
    this.view = view;
    this.rememberSoon();
    const { el } = this;
    el.map.hidden = view !== 'map';
    el.skip.hidden = view !== 'map';
    el.list.hidden = view !== 'list';
    el.mapButton.setAttribute('aria-pressed', String(view === 'map'));
    el.listButton.setAttribute('aria-pressed', String(view === 'list'));
    if (view === 'list') {
      if (this.map) this.map.closePopup();
      if (this.listDirty) this.renderList();
    } else if (this.map) {
      this.map.invalidateSize();
      this.renderMarkers();
    }
  }

  setLang(lang) {
    this.lang = lang === 'en' ? 'en' : 'da';
    this.t = TEXTS[this.lang];
    if (this.map) this.map.closePopup();
    this.applyTexts();
    if (!this.data) return;
    this.showNetworks(this.data.networks.find((n) => n.id === this.filters.network) || null);
    this.clearMarkers();
    this.renderMarkers();
    this.listDirty = true;
    if (this.view === 'list') this.renderList();
  }

  renderList() {
    const { el, t, data } = this;
    if (!data) return;
    this.listDirty = false;
    if (data.tiled) {
      this.renderTiledList();
      return;
    }
    const nf = this.numbers();
    const shown = new Uint8Array(data.businesses.length);
    for (const b of this.shown) shown[b.i] = 1;
    this.sorted = data.byName().filter((b) => shown[b.i]);
    el.businessList = h('ul', { class: 'mk-rows mk-businesses' });
    el.more = h('button', { type: 'button', class: 'mk-button mk-more', onclick: () => this.more() });
    el.list.replaceChildren(
      ...this.listParts(
        fmt(t.businessesHeading, { n: nf.format(this.sorted.length) }),
        this.sorted.length ? t.listNote : t.none,
      ),
    );
    this.appendRows(0, Math.min(this.listLimit, this.sorted.length));
  }

  // The list's parts around its business rows: headings, the networks, the contact.
  listParts(heading, note) {
    const { el, t, data } = this;
    const nf = this.numbers();
    el.listHeading = this.heading(heading, 'mk-h');
    el.listNote = h('p', { class: 'mk-note', text: note });
    const nets = this.filters.network
      ? data.networks.filter((n) => n.id === this.filters.network)
      : data.networks;
    const contact = data.municipality.contact;
    const parts = [
      el.listHeading,
      el.listNote,
      el.businessList,
      el.more,
      this.heading(fmt(t.networksHeading, { n: nf.format(nets.length) }), 'mk-h'),
      h('ul', { class: 'mk-rows mk-networks' }, nets.map((n) => this.networkRow(n))),
    ];
    if (contact && contact.name) {
      parts.push(
        h('p', { class: 'mk-note' }, [
          t.municipalityContact,
          [contact.name, contact.email, contact.phone].filter(Boolean).join(', '),
        ]),
      );
    }
    return parts;
  }

  // The tiled mode's list: the items of the same selection by name, a page at a time.
  async renderTiledList() {
    const { el, t } = this;
    const gen = (this.listGen = (this.listGen || 0) + 1);
    el.businessList = h('ul', { class: 'mk-rows mk-businesses' });
    el.more = h('button', { type: 'button', class: 'mk-button mk-more', onclick: () => this.moreTiled() });
    el.more.hidden = true;
    el.list.replaceChildren(...this.listParts(t.loading, ''));
    try {
      const byName = this.shownCount == null || this.shownCount <= SORT_MAX;
      const page = await pageByName(this.opts.api, this.query, PAGE, null, byName);
      if (gen !== this.listGen) return;
      const nf = this.numbers();
      el.listHeading.textContent = fmt(t.businessesHeading, { n: nf.format(page.total) });
      el.listNote.textContent = !page.total ? t.none : page.sorted ? t.listNote : t.listNoteUnsorted;
      this.listTotal = page.total;
      this.listShown = 0;
      this.appendTiledRows(page);
    } catch (err) {
      if (gen === this.listGen) this.tileFailed(err);
    }
  }

  appendTiledRows(page) {
    const rows = page.features.map((f) => this.businessRow(this.fromFeature(f)));
    this.el.businessList.append(...rows);
    this.listShown += rows.length;
    this.listNext = page.next;
    const left = this.listTotal - this.listShown;
    const nf = this.numbers();
    this.el.more.hidden = !page.next || left <= 0;
    this.el.more.textContent = fmt(counted(this.t, 'more', Math.min(PAGE, left)), {
      n: nf.format(Math.min(PAGE, left)),
      left: nf.format(left),
    });
    return rows;
  }

  async moreTiled() {
    const gen = this.listGen;
    try {
      const page = await pageByName(this.opts.api, this.query, PAGE, this.listNext);
      if (gen !== this.listGen) return;
      const rows = this.appendTiledRows(page);
      if (rows.length) rows[0].focus();
    } catch (err) {
      this.tileFailed(err);
    }
  }

  appendRows(from, to) {
    const rows = this.sorted.slice(from, to).map((b) => this.businessRow(b));
    this.el.businessList.append(...rows);
    this.listLimit = to;
    const left = this.sorted.length - to;
    this.el.more.hidden = left <= 0;
    const nf = this.numbers();
    this.el.more.textContent = fmt(counted(this.t, 'more', Math.min(PAGE, left)), {
      n: nf.format(Math.min(PAGE, left)),
      left: nf.format(left),
    });
    return rows;
  }

  more() {
    const from = this.listLimit;
    const rows = this.appendRows(from, Math.min(from + PAGE, this.sorted.length));
    if (rows.length) rows[0].focus(); // the first new row, so the reader continues there
  }

  businessRow(b) {
    const t = this.t;
    const nets = b.networks.map((i) => this.data.networkAt[i]).filter(Boolean);
    return h('li', { class: 'mk-row', tabindex: '-1', 'data-id': b.id }, [
      h('span', { class: 'mk-name', text: b.name }),
      h('span', { text: this.industryText(b) }),
      b.employees != null ? h('span', { text: fmt(t.employees, { g: b.employees }) }) : null,
      h('span', { text: this.placeText(b) }),
      nets.length ? h('span', { text: t.networks + nets.map((n) => n.name).join(', ') }) : null,
      h('button', {
        type: 'button',
        class: 'mk-link',
        text: t.showOnMap,
        'aria-label': `${t.showOnMap}: ${b.name}`,
        onclick: () => this.showOnMap(b),
      }),
    ]);
  }

  networkRow(n) {
    const t = this.t;
    const nf = this.numbers();
    const site = safeUrl(n.website);
    const contact = [];
    if (site) contact.push(h('a', { href: site, target: '_blank', rel: 'noopener', text: t.website }));
    if (n.email) contact.push(h('a', { href: `mailto:${n.email}`, text: n.email }));
    if (n.phone) contact.push(h('span', { text: n.phone }));
    const line = [];
    contact.forEach((c, i) => line.push(i ? ', ' : '', c));
    return h('li', { class: 'mk-row', 'data-id': n.id }, [
      h('span', { class: 'mk-name', text: n.name }),
      n.description ? h('span', { text: n.description }) : null,
      n.meeting_place_name ? h('span', { text: fmt(t.meetingPlace, { p: n.meeting_place_name }) }) : null,
      contact.length ? h('span', {}, [t.contact, ...line]) : null,
      h('span', { text: fmt(t.members, { n: nf.format(n.member_count) }) }),
      n.meeting_place || n.area
        ? h('button', {
            type: 'button',
            class: 'mk-link',
            text: t.showOnMap,
            'aria-label': `${t.showOnMap}: ${n.name}`,
            onclick: () => {
              this.setView('map');
              this.openNetwork(n, this.el.listButton, true);
            },
          })
        : null,
    ]);
  }

  showOnMap(b) {
    this.setView('map');
    this.map.setView([b.lat, b.lon], Math.max(this.map.getZoom(), 16), { animate: false });
    this.openBusiness(b, this.el.listButton, true);
  }
}
