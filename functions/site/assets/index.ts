/**
 * The site's two static files, named by a hash of their content: a page always links the file it was rendered
 * with, and a browser or CloudFront may keep a file for a year because a change gives it a new name.
 */
import { createHash } from 'node:crypto';
import { MAP_CSS } from '../map';
import { FIND_ZONE_SCRIPT } from './find-zone';
import { SITE_CSS } from './site-css';

export interface SiteAsset {
  /** The URL path under which it is served. */
  path: string;
  contentType: string;
  body: string;
}

const hashed = (name: string, ext: string, body: string, contentType: string): SiteAsset => {
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 12);
  return { path: `/site/${name}.${hash}.${ext}`, contentType, body };
};

const minifyCss = (css: string) => css.replace(/\n+/g, '').trim();

export const STYLESHEET = hashed('site', 'css', minifyCss(SITE_CSS + MAP_CSS), 'text/css; charset=utf-8');
export const SCRIPT = hashed('site', 'js', FIND_ZONE_SCRIPT.trim(), 'text/javascript; charset=utf-8');

export const SITE_ASSETS: readonly SiteAsset[] = [STYLESHEET, SCRIPT];

export const assetAt = (path: string): SiteAsset | undefined => SITE_ASSETS.find((a) => a.path === path);
