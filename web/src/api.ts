/**
 * The console talks to Herald only through its public HTTP API (api.md). Errors come back as problem+json; a
 * validation problem names each bad field by JSON Pointer, which the forms map onto their fields.
 */
export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: FieldError[] = [],
  ) {
    super(detail || title);
  }
}

let baseUrl = '';
let token: string | undefined;
let onUnauthorized: (() => void) | undefined;

export function configureApi(options: { baseUrl?: string; token?: string; onUnauthorized?: () => void }) {
  baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
  token = options.token;
  onUnauthorized = options.onUnauthorized;
}

export interface ApiResponse<T> {
  body: T;
  etag: string | undefined;
  status: number;
}

export async function call<T>(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<ApiResponse<T>> {
  const res = await rawCall(method, path, options);
  const body = (res.status === 204 ? undefined : await res.json()) as T;
  return { body, etag: res.headers.get('etag') ?? undefined, status: res.status };
}

const SENDS_BODY: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

export async function rawCall(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      // On every call that can change something, body or not: JSON is the one type a form on another site cannot
      // send, so the embedded server's routes may insist on it (local/origin-guard.ts), and the console's pass.
      ...(options.body !== undefined || SENDS_BODY.has(method.toUpperCase())
        ? { 'content-type': 'application/json' }
        : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (res.ok) return res;
  const problem = (await res.json().catch(() => ({}))) as Partial<{
    title: string;
    detail: string;
    errors: FieldError[];
  }>;
  if (res.status === 401) onUnauthorized?.();
  throw new ApiError(
    res.status,
    problem.title ?? res.statusText,
    problem.detail ?? `The server answered ${res.status}.`,
    Array.isArray(problem.errors) ? problem.errors : [],
  );
}

export const newIdempotencyKey = (): string => crypto.randomUUID();
