/**
 * Rendering's shared parts: the version in one language with its link and words (./version.ts), fitting text to a
 * budget (./text.ts, ./short-post.ts, ./long-post.ts), the marks and times every channel writes alike, and the
 * HTML and plain text of the long formats (./article.ts). What each channel carries is its own folder's
 * (functions/channels/<name>/render.ts), listed in functions/channels/renderers.ts; nothing here imports a channel.
 */
export * from './article';
export * from './marks';
export * from './plain';
export * from './text';
export * from './times';
export * from './version';
