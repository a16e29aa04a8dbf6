/**
 * "Send now" or "Schedule for" a date and time typed on the agency's clock: a `datetime-local` value, read by
 * ./wall-clock.ts into an ISO date-time with that clock's offset for that day, whatever zone the browser is in.
 */
import { h, show } from './dom';
import { wallClockOf } from './schedule';
import { wallClockToIso } from './wall-clock';

export interface WhenFields {
  element: HTMLFieldSetElement;
  /**
   * `publishAt` for the API: absent to send now; with "Schedule for", the time with the agency's offset, or what was
   * typed (empty included) when it cannot be read, so the API names the field rather than the version going out now.
   */
  read(): { publishAt?: string };
  /** Says the agency's zone once it is known, and reads the time on it from then on. */
  setTimeZone(timeZone: string): void;
}

const atLabel = (timeZone: string) => `Date and time (${timeZone} time)`;

/**
 * "Send now" or "Schedule for", as a fieldset with its legend; the time field shows only when scheduling. Its
 * control is `${prefix}publishAt`, so an API error naming /publishAt lands beside it (form.ts showFieldErrors).
 */
export function whenFields(
  prefix: string,
  options: { legend: string; timeZone: string; scheduled: boolean; at?: string | undefined },
): WhenFields {
  let timeZone = options.timeZone;
  const name = `${prefix}when`;
  const controlId = `${prefix}publishAt`;
  const control = h('input', {
    type: 'datetime-local',
    id: controlId,
    name: controlId,
    value: options.at ? wallClockOf(options.at, timeZone) : '',
    'aria-describedby': `${controlId}-hint ${controlId}-error`,
  });
  const label = h('label', { for: controlId }, atLabel(timeZone));
  const at = h(
    'div',
    { class: 'field', hidden: !options.scheduled },
    label,
    h(
      'p',
      { class: 'hint', id: `${controlId}-hint` },
      'On the agency’s clock, up to 90 days ahead. Until then it is sent nowhere and is in no feed.',
    ),
    control,
    h('p', { class: 'field-error', id: `${controlId}-error` }),
  );
  const radio = (value: string, text: string, checked: boolean) =>
    h(
      'div',
      { class: 'choice' },
      h('input', { type: 'radio', id: `${name}-${value}`, name, value, checked }),
      h('label', { for: `${name}-${value}` }, text),
    );
  const element = h(
    'fieldset',
    {
      id: name,
      class: 'choices when',
      onchange: () => {
        at.hidden = !scheduled();
      },
    },
    h('legend', null, options.legend),
    radio('now', 'Send now', !options.scheduled),
    radio('later', 'Schedule for a date and time', options.scheduled),
    at,
  );
  const scheduled = () => element.querySelector<HTMLInputElement>(`#${name}-later`)?.checked === true;
  return {
    element,
    read() {
      if (!scheduled()) return {};
      const raw = control.value.trim();
      return { publishAt: wallClockToIso(raw, timeZone) ?? raw };
    },
    setTimeZone(next) {
      timeZone = next;
      show(label, atLabel(next));
    },
  };
}
