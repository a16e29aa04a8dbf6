/** What every chart renderer hands back: the drawing, its text alternative, and the same numbers as a table. */
import type { SvgNode } from './svg';

export interface ChartTable {
  caption: string;
  head: string[];
  rows: string[][];
}

export interface Chart {
  /** The figure's caption: what the chart shows. */
  title: string;
  /** The `<svg>` (role="img", named by `summary`), scaled to its container by its viewBox. */
  svg: SvgNode;
  width: number;
  height: number;
  /** A sentence or two a screen reader says for the picture; the table holds every number. */
  summary: string;
  table: ChartTable;
}

/** The narrowest and widest drawing: a 320 px phone less the page's padding, and a comfortable reading width. */
export const MIN_WIDTH = 280;
export const MAX_WIDTH = 720;
export const clampWidth = (width: number): number =>
  Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Number.isFinite(width) ? width : MIN_WIDTH)));
