/**
 * The pieces the site's forms share: labelled fields with their hint and error tied to them (aria-describedby),
 * the error summary a screen reader hears first, and the zones, language and quiet-hours fieldsets that sign-up and
 * manage both show. Every value that came from outside passes through escapeHtml.
 */
import { escapeHtml } from '../core/render';
import type { ZoneCatalog } from '../core/zones';
import { zonePolygonsJson } from './assets/find-zone';
import { siteText } from './i18n';
import type { SiteContext } from './layout';
import type { SiteText } from './text/en';

/** What a form shows again after a refusal: the values typed, and a message per field. */
export interface FormState {
  values: Record<string, string | string[] | undefined>;
  errors: Map<string, string>;
}

export const emptyForm = (): FormState => ({ values: {}, errors: new Map() });

const value = (state: FormState, name: string): string => {
  const v = state.values[name];
  return typeof v === 'string' ? v : '';
};

/** The sentence for a field's error in the page's language; the API's own words when the site has none for it. */
export function errorMessage(t: SiteText, fieldName: string, apiMessage: string): string {
  const known: Record<string, string> = {
    address: t.errors.address,
    zones: t.errors.zones,
    code: t.errors.code,
    text: t.errors.text,
    contact: t.errors.address,
    quietFrom: t.errors.quietHours,
    quietTo: t.errors.quietHours,
    quietHours: t.errors.quietHours,
    language: t.errors.language,
  };
  return known[fieldName] ?? apiMessage;
}

export function errorSummary(ctx: SiteContext, state: FormState, labels: Record<string, string>): string {
  if (state.errors.size === 0) return '';
  const items = [...state.errors]
    .map(([name, message]) => {
      // '' is the form as a whole (too many tries, an expired code): nothing to link to.
      if (name === '') return `<li>${escapeHtml(message)}</li>`;
      const label = labels[name] ?? name;
      // The quiet hours are two fields under one message: the link goes to the first.
      const target = name === 'quietHours' ? 'quietFrom' : name;
      return `<li><a href="#f-${escapeHtml(target)}">${escapeHtml(label)}: ${escapeHtml(message)}</a></li>`;
    })
    .join('');
  return `<div class="error-summary" role="alert" tabindex="-1" id="errors"><h2>${escapeHtml(ctx.text.errors.title)}</h2><p>${escapeHtml(ctx.text.errors.summary)}</p><ul>${items}</ul></div>`;
}

const describedBy = (name: string, hint: boolean, error: boolean) => {
  const ids = [hint ? `h-${name}` : '', error ? `e-${name}` : ''].filter(Boolean);
  return ids.length ? ` aria-describedby="${ids.join(' ')}"` : '';
};

const fieldError = (name: string, state: FormState) => {
  const message = state.errors.get(name);
  return message ? `<p class="field-error" id="e-${name}">${escapeHtml(message)}</p>` : '';
};

export function textField(
  state: FormState,
  f: {
    name: string;
    label: string;
    hint?: string;
    type?: 'text' | 'tel' | 'email';
    autocomplete?: string;
    inputmode?: string;
    required?: boolean;
    maxlength?: number;
    multiline?: boolean;
  },
): string {
  const error = state.errors.has(f.name);
  const attrs = [
    `id="f-${f.name}"`,
    `name="${f.name}"`,
    f.autocomplete ? `autocomplete="${f.autocomplete}"` : '',
    f.inputmode ? `inputmode="${f.inputmode}"` : '',
    f.required ? 'required' : '',
    f.maxlength ? `maxlength="${f.maxlength}"` : '',
    error ? 'aria-invalid="true"' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const input = f.multiline
    ? `<textarea ${attrs}${describedBy(f.name, Boolean(f.hint), error)}>${escapeHtml(value(state, f.name))}</textarea>`
    : `<input type="${f.type ?? 'text'}" ${attrs}${describedBy(f.name, Boolean(f.hint), error)} value="${escapeHtml(value(state, f.name))}">`;
  return [
    `<label for="f-${f.name}">${escapeHtml(f.label)}</label>`,
    f.hint ? `<p class="hint" id="h-${f.name}">${escapeHtml(f.hint)}</p>` : '',
    fieldError(f.name, state),
    input,
  ].join('');
}

export function radios(
  state: FormState,
  f: { name: string; legend: string; options: readonly { value: string; label: string }[]; fallback: string },
): string {
  const chosen = value(state, f.name) || f.fallback;
  const items = f.options
    .map(
      (o, i) =>
        `<label class="choice"><input type="radio" name="${f.name}" value="${escapeHtml(o.value)}"${i === 0 ? ` id="f-${f.name}"` : ''}${o.value === chosen ? ' checked' : ''}> ${escapeHtml(o.label)}</label>`,
    )
    .join('');
  return `<fieldset><legend>${escapeHtml(f.legend)}</legend>${fieldError(f.name, state)}${items}</fieldset>`;
}

/** The agency's zones as checkboxes, with the find-my-zone button the script wakes up and the polygons it reads. */
export function zonesFieldset(ctx: SiteContext, state: FormState, zones: ZoneCatalog, map: string): string {
  const t = ctx.text.subscribe;
  const chosen = new Set(Array.isArray(state.values.zones) ? state.values.zones : []);
  const error = state.errors.has('zones');
  const boxes = zones.zones
    .map(
      (z, i) =>
        `<label class="choice"><input type="checkbox" name="zones" value="${escapeHtml(z.id)}"${i === 0 ? ' id="f-zones"' : ''}${chosen.has(z.id) ? ' checked' : ''}> ${escapeHtml(zones.nameIn(z.id, ctx.lang))}</label>`,
    )
    .join('');
  const button = `<button type="button" class="secondary" data-find-zone hidden data-locating="${escapeHtml(t.findZoneLocating)}" data-found="${escapeHtml(t.findZoneFound)}" data-none="${escapeHtml(t.findZoneNone)}" data-denied="${escapeHtml(t.findZoneDenied)}" data-unavailable="${escapeHtml(t.findZoneUnavailable)}">${escapeHtml(t.findZone)}</button>`;
  const names = Object.fromEntries(zones.zones.map((z) => [z.id, zones.nameIn(z.id, ctx.lang)]));
  return [
    `<fieldset${error ? ' aria-invalid="true"' : ''}${describedBy('zones', true, error)}><legend>${escapeHtml(t.zones)}</legend>`,
    `<p class="hint" id="h-zones">${escapeHtml(t.zonesHelp)}</p>`,
    fieldError('zones', state),
    map,
    `<p>${button}</p><p class="hint" data-find-zone-note hidden>${escapeHtml(t.findZoneNote)}</p>`,
    '<p data-find-zone-status aria-live="polite"></p>',
    `<div class="choices">${boxes}</div>`,
    `<script type="application/json" id="zone-polygons">${zonePolygonsJson(zones.zones, names)}</script>`,
    '</fieldset>',
  ].join('');
}

export function languageSelect(ctx: SiteContext, state: FormState, label: string): string {
  const chosen = value(state, 'language') || ctx.lang;
  const options = ctx.languages
    .map(
      (l) =>
        `<option value="${l}" lang="${l}"${l === chosen ? ' selected' : ''}>${escapeHtml(siteText(l).languageName)}</option>`,
    )
    .join('');
  return `<label for="f-language">${escapeHtml(label)}</label>${fieldError('language', state)}<select id="f-language" name="language">${options}</select>`;
}

export function quietFieldset(ctx: SiteContext, state: FormState): string {
  const t = ctx.text.subscribe;
  const error = state.errors.has('quietHours');
  const time = (name: 'quietFrom' | 'quietTo', label: string) =>
    `<div><label for="f-${name}">${escapeHtml(label)}</label><input type="time" id="f-${name}" name="${name}" step="60" value="${escapeHtml(value(state, name))}"${error ? ' aria-invalid="true" aria-describedby="e-quietHours"' : ''}></div>`;
  return [
    `<fieldset><legend>${escapeHtml(t.quiet)}</legend>`,
    `<p class="hint">${escapeHtml(t.quietHelp)}</p>`,
    fieldError('quietHours', state),
    `<div class="inline-fields">${time('quietFrom', t.quietFrom)}${time('quietTo', t.quietTo)}</div>`,
    '</fieldset>',
  ].join('');
}

/** A hidden field; the language rides along on every form so the answer speaks it too. */
export const hidden = (name: string, v: string) =>
  `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(v)}">`;
