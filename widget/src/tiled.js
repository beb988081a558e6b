// A large municipality (the map data says `tiled`) is drawn from the API's vector tiles
// (OGC API - Tiles, Mapbox Vector Tiles) and listed from its items, instead of from rows of
// every business: the first picture then costs a few tiles of a few KB whatever the size of the
// municipality. The server clusters (an 8 x 8 grid per tile, kept counts) and filters; the
// widget only draws what a tile holds and asks again when the view or a filter changes.
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';

const TILES = '/collections/businesses/tiles/WebMercatorQuad';
const ITEMS = '/collections/businesses/items';
export const MAX_TILE_ZOOM = 18;
export const SORT_MAX = 20000; // the most the API sorts by name
const CACHE_TILES = 256; // decoded tiles kept per filter set (a few MB at most)

function column(lon, z) {
  return Math.floor(((lon + 180) / 360) * 2 ** z);
}

function row(lat, z) {
  const s = Math.sin((Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180);
  return Math.floor((0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 2 ** z);
}

// Every tile of zoom z that a box (west, south, east, north) touches.
export function tileRange([west, south, east, north], z) {
  const n = 2 ** z;
  const clamp = (v) => Math.max(0, Math.min(n - 1, v));
  const out = [];
  for (let y = clamp(row(north, z)); y <= clamp(row(south, z)); y += 1) {
    for (let x = clamp(column(west, z)); x <= clamp(column(east, z)); x += 1) out.push([z, x, y]);
  }
  return out;
}

// A place in a tile's grid (0..extent from the top left) as [lon, lat].
function lonLat(z, x, y, px, py, extent) {
  const n = 2 ** z;
  const lon = ((x + px / extent) / n) * 360 - 180;
  const m = Math.PI * (1 - (2 * (y + py / extent)) / n);
  return [lon, (Math.atan(Math.sinh(m)) * 180) / Math.PI];
}

function decodeTile(buffer, z, x, y) {
  const layer = new VectorTile(new PbfReader(buffer)).layers.businesses;
  const out = [];
  if (!layer) return out;
  for (let i = 0; i < layer.length; i += 1) {
    const f = layer.feature(i);
    const p = f.properties;
    const point = f.loadGeometry()[0][0];
    const [lon, lat] = lonLat(z, x, y, point.x, point.y, layer.extent);
    out.push({
      key: `${z}/${x}/${y}/${p.cluster ? 'c' : 'p'}${f.id != null ? f.id : i}`,
      cluster: p.cluster === true,
      count: p.cluster ? p.count : 1,
      lon,
      lat,
      props: p,
      zoom: z,
    });
  }
  return out;
}

// The query of one selection: the municipality's (or, `all`, every) active business and the
// widget's filters; `sizes` are the map data's size choices (their groups, null for none).
export function selection(code, filters, sizes) {
  const q = new URLSearchParams(code === 'all' ? { status: 'active' } : { municipality: code, status: 'active' });
  const groups = sizes && sizes[filters.size];
  if (groups) q.set('size', groups.map((g) => g ?? 'unknown').join(','));
  if (filters.industry) q.set('industry', filters.industry);
  if (filters.network) q.set('network', filters.network);
  if (filters.q && filters.q.trim()) q.set('q', filters.q.trim());
  return q;
}

// The tiles of one selection, fetched once each (a view that comes back costs nothing).
export class TileSource {
  constructor(api, query) {
    this.api = api;
    this.query = query.toString();
    this.cache = new Map();
  }

  get(z, x, y) {
    const url = `${this.api}${TILES}/${z}/${y}/${x}?${this.query}`;
    let p = this.cache.get(url);
    if (p) {
      this.cache.delete(url); // most recently used last
      this.cache.set(url, p);
      return p;
    }
    p = fetch(url, {
      credentials: 'omit',
      headers: { Accept: 'application/vnd.mapbox-vector-tile' },
    })
      .then((r) => {
        if (!r.ok) throw new Error(`tile ${z}/${y}/${x}: HTTP ${r.status}`);
        return r.arrayBuffer();
      })
      .then((buffer) => decodeTile(buffer, z, x, y));
    p.catch(() => this.cache.delete(url));
    this.cache.set(url, p);
    if (this.cache.size > CACHE_TILES) this.cache.delete(this.cache.keys().next().value);
    return p;
  }
}

export async function getJson(url) {
  const r = await fetch(url, { credentials: 'omit', headers: { Accept: 'application/geo+json' } });
  if (!r.ok) {
    const err = new Error(`${url}: HTTP ${r.status}`);
    err.status = r.status;
    throw err;
  }
  return r.json();
}

// How many businesses a selection holds (the items' numberMatched), and one page of them by name.
export async function countOf(api, query) {
  const q = new URLSearchParams(query);
  q.set('limit', '1');
  const doc = await getJson(`${api}${ITEMS}?${q}`);
  return doc.numberMatched;
}

// The API sorts by name up to 20,000 businesses (a 400 beyond): a larger selection is listed
// in its own order (by CVR number), and the widget says so, until a search or filter narrows it.
export async function pageByName(api, query, limit, next, sorted = true) {
  let url = next;
  if (!url) {
    const q = new URLSearchParams(query);
    if (sorted) q.set('sortby', 'name');
    q.set('limit', String(limit));
    url = `${api}${ITEMS}?${q}`;
  }
  let doc;
  try {
    doc = await getJson(url);
  } catch (err) {
    if (next || !sorted || err.status !== 400) throw err;
    return pageByName(api, query, limit, null, false);
  }
  const link = (doc.links || []).find((l) => l.rel === 'next');
  return {
    features: doc.features || [],
    total: doc.numberMatched,
    next: link ? link.href : null,
    sorted,
  };
}

export function getBusiness(api, id) {
  return getJson(`${api}${ITEMS}/${encodeURIComponent(id)}`);
}
