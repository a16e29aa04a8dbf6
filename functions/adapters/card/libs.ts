/**
 * The card renderer's libraries in one module. In a Lambda bundle they are built on their own into
 * `card-assets/card-libs.mjs` (lib/bundling.ts) and loaded the first time a card is drawn, so a function that
 * starts without drawing one never parses them (satori alone is 1.6 MB).
 */
export { initWasm, Resvg } from '@resvg/resvg-wasm';
export { encode } from 'jpeg-js';
export { default as satori } from 'satori';
