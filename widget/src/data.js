// Loading the compact map data of a municipality (GET /municipalities/{code}/map-data) and
// turning its rows into business objects. Widgets of one page share a download.

const loads = new Map();

export function loadMapData(api, code) {
  const url = `${api}/municipalities/${code}/map-data`;
  if (!loads.has(url)) {
    const p = fetch(url, { credentials: 'omit', headers: { Accept: 'application/json' } })
      .then((r) => {
        if (!r.ok) throw new Error(`map data: HTTP ${r.status}`);
        return r.json();
      })
      .then(decode);
    p.catch(() => loads.delete(url));
    loads.set(url, p);
  }
  return loads.get(url);
}

// Danish spellings fold together (aa/å, ae/æ, oe/ø, accents, case) so a search finds both.
export function fold(text) {
  return text
    .toLowerCase()
    .replace(/æ/g, 'ae')
    .replace(/ø/g, 'oe')
    .replace(/å/g, 'aa')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '');
}

export function decode(doc) {
  const f = Object.fromEntries(doc.fields.map((name, i) => [name, i]));
  const industries = doc.industries.map(([code, section, text]) => ({ code, section, text }));
  const networks = doc.networks.map((n, i) => ({ ...n, index: i, members: [] }));
  const businesses = doc.businesses.map((r, i) => {
    const postcode = r[f.postcode];
    const b = {
      i,
      id: r[f.id],
      lon: r[f.lon],
      lat: r[f.lat],
      industry: industries[r[f.industry]] || { code: '', section: null, text: '' },
      name: r[f.name],
      employees: r[f.employees],
      address: r[f.address],
      postcode,
      city: postcode ? doc.postcodes[postcode] || '' : '',
      precision: r[f.precision],
      networks: r[f.networks] || [],
      key: null, // folded name, made on the first search
    };
    for (const n of b.networks) if (networks[n]) networks[n].members.push(b);
    return b;
  });
  const collator = new Intl.Collator('da', { sensitivity: 'base', numeric: true });
  let byName = null;
  const networkAt = networks.slice(); // by the index the rows use
  networks.sort((a, b) => collator.compare(a.name, b.name));
  return {
    municipality: doc.municipality,
    businesses,
    // sorted by name on first use (the list view): sorting 20,000 names takes a while
    byName() {
      if (!byName) byName = businesses.slice().sort((a, b) => collator.compare(a.name, b.name));
      return byName;
    },
    networks,
    networkAt,
    sections: doc.sections || {},
    tiles: doc.tiles || null,
    tiled: doc.tiled || null, // a large municipality: counts here, the rest from tiles and items
    sizes: doc.sizes || null, // the size choices' groups (null in a list: no size group)
    classesEn: doc.classes_en || {}, // English names of the NACE classes, by four digits
    attribution: doc.attribution || '',
  };
}
