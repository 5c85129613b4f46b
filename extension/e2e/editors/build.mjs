// Bundles one entry per editor page from src/<name>.js into dist/<name>.js with esbuild.
// Usage: node editors/build.mjs   (from extension/e2e, after npm install)
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
export const editorNames = ['react', 'prosemirror', 'quill', 'lexical', 'draftjs', 'ckeditor5', 'tinymce',
  'iframe', 'shadow-open', 'shadow-closed', 'refusing'];

export async function buildEditors() {
  const src = path.join(here, 'src');
  const present = new Set(readdirSync(src));
  const entryPoints = editorNames.filter((n) => present.has(`${n}.js`)).map((n) => path.join(src, `${n}.js`));
  await esbuild.build({
    entryPoints,
    outdir: path.join(here, 'dist'),
    bundle: true,
    // ES modules: the CKEditor, TinyMCE and iframe entries use top-level await.
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    logLevel: 'warning',
  });
  return entryPoints.length;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const n = await buildEditors();
  console.log(`built ${n} editor bundles into ${path.join(here, 'dist')} in ${Date.now() - started} ms`);
}
