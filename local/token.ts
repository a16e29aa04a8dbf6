/**
 * `npm run token -- <role>[,<role>…] [--sub <id>] [--ttl <seconds>] [--name <display name>]`
 *
 * Prints a bearer token the embedded instance accepts, and nothing else on stdout, so
 * `TOKEN=$(npm run -s token -- officer)` works. It signs with the key in HERALD_DATA_DIR, the same one
 * the running server verifies with (made here if the server has not started yet).
 */
import { parseArgs } from 'node:util';
import { ROLES, type Role } from '../functions/core/model';
import { EmbeddedIdentity } from './auth';

const USAGE = `usage: npm run -s token -- <role>[,<role>...] [--sub <id>] [--ttl <seconds>] [--name <display name>]
  roles: ${ROLES.join(', ')}
  HERALD_DATA_DIR chooses the instance (default .data)`;

class UsageError extends Error {}

interface TokenRequest {
  roles: Role[];
  sub?: string;
  name?: string;
  ttlSeconds?: number;
}

const OPTIONS = {
  sub: { type: 'string' },
  ttl: { type: 'string' },
  name: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseOrUsage(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parse(argv: string[]): TokenRequest | 'help' {
  const parsed = parseOrUsage(argv);
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1)
    throw new UsageError('give exactly one role argument (several roles as officer,supervisor)');

  const roles = positionals[0]!
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (roles.length === 0 || unknown.length > 0) {
    throw new UsageError(`unknown role "${unknown.join(',') || positionals[0]}"`);
  }

  const request: TokenRequest = { roles: roles as Role[] };
  if (values.sub !== undefined) {
    if (values.sub.trim() === '') throw new UsageError('--sub must not be empty');
    request.sub = values.sub;
  }
  if (values.name !== undefined) request.name = values.name;
  if (values.ttl !== undefined) {
    const ttl = Number(values.ttl);
    if (!Number.isInteger(ttl) || ttl <= 0)
      throw new UsageError('--ttl must be a positive whole number of seconds');
    request.ttlSeconds = ttl;
  }
  return request;
}

async function main(): Promise<number> {
  let request: TokenRequest | 'help';
  try {
    request = parse(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (request === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const identity = await EmbeddedIdentity.open(process.env.HERALD_DATA_DIR || '.data');
  process.stdout.write(`${await identity.issue(request)}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`token: ${(error as Error).message ?? String(error)}`);
    process.exitCode = 1;
  },
);
