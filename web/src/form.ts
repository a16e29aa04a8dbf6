/**
 * Form building blocks: every control has a visible label, its hint and error are tied to it with
 * aria-describedby, and a problem+json error's JSON Pointer finds the field it names.
 */
import type { FieldError } from './api';
import { type Child, h, show } from './dom';

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

export function field(label: string, control: Control, hint?: string): HTMLElement {
  const id = control.id;
  const described = [hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', described);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    control,
    h('p', { class: 'field-error', id: `${id}-error` }),
  );
}

export function input(id: string, props: Record<string, string | boolean> = {}): HTMLInputElement {
  return h('input', { id, name: id, type: 'text', ...props });
}

export function textarea(id: string, rows = 3, props: Record<string, string | boolean> = {}) {
  return h('textarea', { id, name: id, rows: String(rows), ...props });
}

export function select(id: string, options: readonly string[], value?: string): HTMLSelectElement {
  return h(
    'select',
    { id, name: id },
    options.map((o) => h('option', { value: o, selected: o === value }, o)),
  );
}

/** A group of checkboxes or radios with a legend; its error shows under the legend. */
export function choiceGroup(
  id: string,
  legend: string,
  type: 'checkbox' | 'radio',
  options: { value: string; label: string }[],
  checked: (value: string) => boolean,
  extra?: Child,
): HTMLFieldSetElement {
  return h(
    'fieldset',
    { id, class: 'choices', 'aria-describedby': `${id}-error` },
    h('legend', null, legend),
    extra,
    h('p', { class: 'field-error', id: `${id}-error` }),
    h(
      'div',
      { class: 'choice-grid' },
      options.map((o) =>
        h(
          'div',
          { class: 'choice' },
          h('input', {
            type,
            id: `${id}-${o.value}`,
            name: id,
            value: o.value,
            checked: checked(o.value),
          }),
          h('label', { for: `${id}-${o.value}` }, o.label),
        ),
      ),
    ),
  );
}

export function checkedValues(scope: ParentNode, name: string): string[] {
  return [...scope.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map((i) => i.value);
}

export function clearErrors(form: HTMLElement): void {
  for (const el of form.querySelectorAll('.field-error')) el.replaceChildren();
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/**
 * Shows each error beside the field its JSON Pointer names (`/translations/0/headline` → `#f-translations-0-headline`),
 * falling back to the nearest named ancestor (`/areas/0/zone` → the zones group); what names no field is returned.
 */
export function showFieldErrors(form: HTMLElement, prefix: string, errors: FieldError[]): FieldError[] {
  const unplaced: FieldError[] = [];
  for (const error of errors) {
    const segments = error.path.split('/').slice(1);
    let target: HTMLElement | null = null;
    for (let i = segments.length; i > 0 && !target; i--)
      target = form.querySelector<HTMLElement>(
        `#${CSS.escape(`${prefix}${segments.slice(0, i).join('-')}`)}`,
      );
    const slot = target && form.querySelector(`#${CSS.escape(`${target.id}-error`)}`);
    if (!target || !slot) {
      unplaced.push(error);
      continue;
    }
    target.setAttribute('aria-invalid', 'true');
    slot.append(slot.childNodes.length ? ` ${error.message}` : error.message);
  }
  return unplaced;
}

/** The summary at the top of a form: a count, and the errors that name no field on it. */
export function errorSummary(box: HTMLElement, message: string, unplaced: FieldError[]): void {
  show(
    box,
    h('p', null, message),
    unplaced.length
      ? h(
          'ul',
          null,
          unplaced.map((e) => h('li', null, e.path ? `${e.path}: ${e.message}` : e.message)),
        )
      : null,
  );
  box.hidden = false;
  box.focus();
}
