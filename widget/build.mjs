// Builds the widget into dist/: one minified script and one stylesheet.
//   node build.mjs
// The script loads the stylesheet as mikrokort.css?v=<hash>, so the style can be cached forever
// (the server answers a matching ?v= with an immutable Cache-Control).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const target = ['es2020', 'chrome90', 'firefox90', 'safari15'];
const pkg = (name) => JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json')));

function write(name, bytes) {
  // write then rename: a running server never reads a half-written file
  const tmp = join(dist, `.${name}.tmp`);
  writeFileSync(tmp, bytes);
  renameSync(tmp, join(dist, name));
}

// Leaflet keeps its DOM event handlers in an expando on window and document. A host page with
// its own Leaflet uses the same expando and its own id counter, so handler ids could collide
// and one copy would silently drop the other's listener: this copy gets its own key.
const ownLeafletNamespace = {
  name: 'own-leaflet-namespace',
  setup(build) {
    build.onLoad({ filter: /leaflet-src\.esm\.js$/ }, (args) => {
      const code = readFileSync(args.path, 'utf8');
      const key = "var eventsKey = '_leaflet_events';";
      if (!code.includes(key)) throw new Error(`Leaflet changed: ${key} not found`);
      return { contents: code.replace(key, "var eventsKey = '_mikrokort_events';"), loader: 'js' };
    });
  },
};

mkdirSync(dist, { recursive: true });

const css = await esbuild.build({
  entryPoints: [join(here, 'src', 'mikrokort.css')],
  bundle: true,
  minify: true,
  write: false,
  target,
  loader: { '.png': 'empty', '.svg': 'empty' }, // Leaflet's image icons are not used
  outfile: join(dist, 'mikrokort.css'),
  logLevel: 'warning',
});
const cssBytes = css.outputFiles[0].contents;
const cssVersion = createHash('sha256').update(cssBytes).digest('hex').slice(0, 12);

const banner =
  `/*! Mikrokort map widget. Includes Leaflet ${pkg('leaflet').version} (BSD-2-Clause, ` +
  `(c) Volodymyr Agafonkin, CloudMade), supercluster ${pkg('supercluster').version} and ` +
  `kdbush ${pkg('kdbush').version} (ISC, (c) Mapbox, Volodymyr Agafonkin). */`;
const js = await esbuild.build({
  entryPoints: [join(here, 'src', 'index.js')],
  bundle: true,
  minify: true,
  format: 'iife',
  write: false,
  target,
  banner: { js: banner },
  legalComments: 'none',
  define: { __CSS_VERSION__: JSON.stringify(cssVersion) },
  plugins: [ownLeafletNamespace],
  outfile: join(dist, 'mikrokort.js'),
  logLevel: 'warning',
});

write('mikrokort.css', cssBytes);
write('mikrokort.js', js.outputFiles[0].contents);
console.log(
  `widget built: dist/mikrokort.js ${js.outputFiles[0].contents.length} B, ` +
    `dist/mikrokort.css ${cssBytes.length} B (v=${cssVersion})`,
);
