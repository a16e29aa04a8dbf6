/**
 * Validates CAP against the OASIS CAP 1.2 XSD at run time, with libxml2's xmllint compiled to wasm
 * (xmllint-wasm): the same check a receiving system makes, from npm alone.
 *
 * Why at run time, and why not through xmllint-wasm's own entry: the schema has rules (element order, types,
 * enumerations) that are best not re-implemented by hand, and CAP arrives rarely enough that ~100 ms for a
 * worker thread and the wasm is affordable. xmllint-wasm's entry finds its worker through `__dirname`, which an
 * ESM bundle does not have, so this module starts the package's worker itself: from `xmllint-assets/` beside
 * the bundle when the deployment put it there (`xmllintAssetFiles`), else from node_modules. The wasm is loaded
 * only when CAP is posted, so the api's start-up does not pay for it.
 *
 * Only documents the strict reader (functions/core/xml) already accepted get here: no DTD ever reaches
 * libxml2, and the wasm sandbox has no network and no file but the two it is given.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CAP_XSD } from '../../schemas/cap-xsd';

export const XMLLINT_ASSET_DIR = 'xmllint-assets';
const WORKER_FILE = 'xmllint-node.js';
const MESSAGE_KEY = 'xmllint-wasm';
/** 32 MiB of wasm memory: ample for a 256 KiB document. */
const MEMORY_PAGES = { initial: 256, maximum: 512 };
const TIMEOUT_MS = 10_000;

export interface SchemaError {
  message: string;
  line?: number | undefined;
  /** The local name of the element the message is about, when it names one. */
  element?: string | undefined;
}

/** The two files a bundle needs beside it to validate CAP: the worker script and its wasm. */
export function xmllintAssetFiles(): { source: string; name: string }[] {
  const require = createRequire(import.meta.url);
  const worker = require.resolve(`xmllint-wasm/${WORKER_FILE}`);
  return [
    { source: worker, name: WORKER_FILE },
    { source: worker.replace(/xmllint-node\.js$/, 'xmllint.wasm'), name: 'xmllint.wasm' },
  ];
}

function workerPath(): string {
  const beside = fileURLToPath(new URL(`./${XMLLINT_ASSET_DIR}/${WORKER_FILE}`, import.meta.url));
  return existsSync(beside) ? beside : createRequire(import.meta.url).resolve(`xmllint-wasm/${WORKER_FILE}`);
}

interface WorkerAnswer {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function runXmllint(files: { fileName: string; contents: string }[], args: string[]): Promise<WorkerAnswer> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerPath());
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`CAP schema validation took longer than ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    const finish = () => {
      clearTimeout(timer);
      void worker.terminate();
    };
    worker.on('message', (data: WorkerAnswer & Record<string, unknown>) => {
      if (data?.[MESSAGE_KEY] !== true) return;
      finish();
      resolve(data);
    });
    worker.on('error', (error) => {
      finish();
      reject(error);
    });
    worker.postMessage({
      [MESSAGE_KEY]: true,
      inputFiles: files,
      args,
      initialMemory: MEMORY_PAGES.initial,
      maxMemory: MEMORY_PAGES.maximum,
    });
  });
}

/**
 * Schema errors of one CAP document (decoded text), none when it is valid. The encoding declaration is
 * rewritten to UTF-8, the only encoding xmllint-wasm reads, leaving line numbers as they were.
 */
export async function capSchemaErrors(xml: string): Promise<SchemaError[]> {
  const utf8 = xml.replace(/^(\uFEFF?<\?xml[^?]*?encoding\s*=\s*)(["'])[^"']*\2/, '$1"UTF-8"');
  const answer = await runXmllint(
    [
      { fileName: 'alert.cap', contents: utf8 },
      { fileName: 'cap.xsd', contents: CAP_XSD },
    ],
    ['--nonet', '--noout', '--schema', 'cap.xsd', 'alert.cap'],
  );
  if (answer.exitCode === 0) return [];
  if (answer.exitCode !== 3 && answer.exitCode !== 4 && answer.exitCode !== 1)
    throw new Error(`xmllint failed (${answer.exitCode}): ${answer.stderr.slice(0, 500)}`);
  return answer.stderr
    .split('\n')
    .filter((l) => l.startsWith('alert.cap:'))
    .map((l) => {
      const [, lineText, ...rest] = l.split(':');
      const message = rest
        .join(':')
        .replace(/^\s*element \w+\s*:\s*Schemas validity error\s*:\s*/, '')
        .replace(/\{urn:oasis:names:tc:emergency:cap:1\.2\}/g, '')
        .trim();
      return {
        message,
        line: Number(lineText) || undefined,
        element: /Element '([^']+)'/.exec(message)?.[1],
      };
    });
}
