/**
 * Where the console runs, read from /config.json: the embedded server answers `{ "mode": "embedded" }`; the AWS
 * deployment serves Cognito's settings (lib/console.ts).
 */
export type ConsoleConfig =
  | { mode: 'embedded'; apiBaseUrl?: string }
  | { mode: 'cognito'; domain: string; clientId: string; redirectUri: string; apiBaseUrl: string };

export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`The console's configuration could not be read (HTTP ${res.status}).`);
  const config = (await res.json()) as ConsoleConfig;
  if (config.mode !== 'embedded' && config.mode !== 'cognito')
    throw new Error('The console configuration names no sign-in mode.');
  return config;
}
