// check.mjs: parse every ```mermaid block of the given Markdown files with
// Mermaid itself, the library GitHub renders them with, so that a diagram
// with a syntax error fails here instead of showing an error box to readers.
//
// Usage: node check.mjs FILE.md...   (make diagrams)
import fs from 'node:fs';
import { JSDOM } from 'jsdom';

// Mermaid expects a browser; parsing needs no more than a DOM.
const { window } = new JSDOM('<!DOCTYPE html><body></body>');
globalThis.window = window;
globalThis.document = window.document;
globalThis.DOMParser = window.DOMParser;
globalThis.Element = window.Element;
Object.defineProperty(globalThis, 'navigator', { value: window.navigator, configurable: true });

const mermaid = (await import('mermaid')).default;
mermaid.initialize({ startOnLoad: false });

let diagrams = 0;
let failures = 0;
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  for (const block of text.matchAll(/```mermaid\n([\s\S]*?)```/g)) {
    diagrams++;
    const line = text.slice(0, block.index).split('\n').length;
    try {
      await mermaid.parse(block[1]);
    } catch (err) {
      failures++;
      const message = String(err.message ?? err).split('\n').slice(0, 3).join('\n    ');
      console.log(`${file}:${line}: this diagram does not parse:\n    ${message}`);
    }
  }
}
console.log(`diagrams: ${diagrams} checked, ${failures} broken`);
process.exit(failures ? 1 : 0);
