/**
 * The alert image a social network is sent as bytes: fetched from its public URL through the guarded fetcher, because
 * the URL is not ours to trust (an officer types it, a CAP <resource><uri> brings it). Otherwise it could make Herald
 * read cloud metadata or an internal service and post the result on the agency's public account.
 *
 * Every failure leaves as a ProviderError the channel handler acts on, naming the network in its reason.
 */
import {
  GuardedFetchError,
  guardedFetch,
  type PinnedTransport,
  type Resolver,
} from '../adapters/net/guarded-fetch';
import { ProviderError, type PublicImage } from '../ports';

/** Redirects an image URL may take (a CDN may send to a regional host), each checked like the first. */
export const MAX_IMAGE_REDIRECTS = 3;
const IMAGE_TIMEOUT_MS = 10_000;

export interface ImageFetchOptions {
  /**
   * Whether the image may come from this machine (the embedded server's /media/, a test's fake): the embedded
   * mode's HERALD_FETCH_ALLOW_LOOPBACK. Never on AWS.
   */
  allowLoopback?: boolean | undefined;
  /** For tests: the image fetch's resolver, transport and time limit (10 s by default). */
  imageFetch?: { resolve?: Resolver; transport?: PinnedTransport; timeoutMs?: number } | undefined;
}

export interface ImageLimits {
  /** The network's name, for the receipt's reason. */
  network: string;
  maxBytes: number;
  types: ReadonlySet<string>;
}

export async function fetchPostImage(
  image: PublicImage,
  signal: AbortSignal,
  limits: ImageLimits,
  options: ImageFetchOptions,
): Promise<{ bytes: Buffer; type: string }> {
  let response: Awaited<ReturnType<typeof guardedFetch>>;
  try {
    response = await guardedFetch(image.url, {
      maxBytes: limits.maxBytes,
      accept: (type) => limits.types.has(type),
      maxRedirects: MAX_IMAGE_REDIRECTS,
      timeoutMs: options.imageFetch?.timeoutMs ?? IMAGE_TIMEOUT_MS,
      allowLoopback: options.allowLoopback === true,
      signal,
      ...(options.imageFetch?.resolve ? { resolve: options.imageFetch.resolve } : {}),
      ...(options.imageFetch?.transport ? { transport: options.imageFetch.transport } : {}),
    });
  } catch (error) {
    if (!(error instanceof GuardedFetchError)) throw error;
    // The receipt says why: a refused address, a wrong type or a too-big image will not change on a retry.
    const reason =
      error.failure === 'content-type'
        ? `the alert image is ${error.contentType || 'of no type'}, which ${limits.network} does not take`
        : `the alert image: ${error.message}`;
    throw new ProviderError(error.retryable ? 'retryable' : 'permanent', reason);
  }
  const { status } = response;
  if (status >= 300 && status < 400)
    throw new ProviderError(
      'permanent',
      `the alert image: HTTP ${status}; at most ${MAX_IMAGE_REDIRECTS} redirects are followed`,
    );
  // A miss (404) is most likely an image not yet propagated to the CDN: worth another try, like a 5xx.
  if (status < 200 || status >= 300)
    throw new ProviderError('retryable', `could not fetch the alert image: HTTP ${status}`);
  return { bytes: response.body, type: response.contentType };
}
