/**
 * The browser tests' harness: Debian's chromium driven by playwright-core (no browser is downloaded), one browser
 * per test file against a real embedded Herald, axe-core injected from node_modules, and screenshots into docs/
 * when HERALD_SCREENSHOTS names a directory (`npm run screenshots`).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { startTestHerald, type TestHerald } from '../helpers/embedded';

export const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';

export interface BrowserRig {
  herald: TestHerald;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Dialogs (alert(), confirm()) that fired: markup in an alert's text must never make one. */
  dialogs: string[];
  close(): Promise<void>;
}

export interface BrowserRigOptions {
  /** HERALD_* overrides for the embedded Herald (HERALD_TIME_ZONE, …). */
  env?: NodeJS.ProcessEnv;
  /** The browser's own time zone (IANA), when a test needs it to differ from the agency's. */
  timezoneId?: string;
}

export async function startBrowserRig(options: BrowserRigOptions = {}): Promise<BrowserRig> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `The browser tests need Debian's chromium at ${CHROMIUM} and it is not there: install it with ` +
        '`apt-get install -y chromium` (.ci/run does), or point HERALD_CHROMIUM at a Chromium binary.',
    );
  const [herald, browser] = await Promise.all([
    startTestHerald(options.env ? { env: options.env } : {}),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    }),
  ]);
  const context = await browser.newContext({
    baseURL: herald.url,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    reducedMotion: 'reduce',
    ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
  });
  // Well under the test's own timeout, so a missing element fails with its locator named.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => undefined);
  });
  return {
    herald,
    browser,
    context,
    page,
    dialogs,
    close: async () => {
      await browser.close().catch(() => undefined);
      await herald.cleanup();
    },
  };
}

export async function signIn(page: Page, role: 'officer' | 'supervisor' | 'auditor', name: string) {
  // A fresh tab's session: whoever was signed in before is forgotten.
  await page.goto('/');
  await page.evaluate('sessionStorage.clear()');
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in to Herald' }).waitFor();
  await page.getByLabel(role[0]!.toUpperCase() + role.slice(1), { exact: true }).check();
  await page.getByLabel('Your name (optional)').fill(name);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByText(`${name} · ${role}`).waitFor();
}

const requireHere = createRequire(import.meta.url);
let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** Serious and critical WCAG 2.x A/AA violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  axeSource ??= await readFile(requireHere.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated rather than added as a script tag: the console's CSP rightly refuses inline scripts.
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(axeSource);
  const violations = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({ target: n.target })) })))`,
  )) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`,
    );
}

/** True when the document is wider than the viewport (a horizontal scroll bar). */
export async function scrollsSideways(page: Page): Promise<boolean> {
  return (await page.evaluate(
    'document.documentElement.scrollWidth > document.documentElement.clientWidth',
  )) as boolean;
}

export async function screenshot(
  page: Page,
  name: string,
  options: { top?: boolean; fullPage?: boolean } = {},
): Promise<void> {
  const directory = process.env.HERALD_SCREENSHOTS;
  if (!directory) return;
  if (options.top) await page.evaluate('window.scrollTo(0, 0)');
  await mkdir(resolve(directory), { recursive: true });
  await page.screenshot({
    path: join(resolve(directory), `${name}.png`),
    fullPage: options.fullPage ?? false,
  });
}
