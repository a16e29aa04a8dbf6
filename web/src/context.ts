import type { ConsoleConfig } from './config';
import type { Session } from './session';

export interface Context {
  config: ConsoleConfig;
  session: Session | undefined;
  /** Path parameters of the route (`#/alerts/:id`). */
  params: string[];
  navigate(hash: string): void;
  /** Says something to screen readers through the page's polite live region. */
  announce(message: string): void;
  signedIn(session: Session): void;
}

/** A view draws itself into `main` and may hand back what stops it (timers, requests). */
export type View = (main: HTMLElement, ctx: Context) => (() => void) | undefined;
