/**
 * The compose form's three CAP times (./wall-clock.ts reads them): each labelled, with its hint and error tied to it,
 * and the agency's clock said beside them.
 */
import { h, show } from './dom';
import { field, input } from './form';
import { TIME_FIELDS } from './wall-clock';

const ZONE_HINT_ID = 'f-times-zone';
const zoneHint = (timeZone: string) => `Times are on the agency’s clock: ${timeZone}.`;

/**
 * The three inputs, each labelled, its hint and error tied to it (form.ts `field`), and the clock they are read on
 * tied to each of them too: a screen reader says the zone with every time, not only once at the group.
 */
export function timeFields(timeZone: string): HTMLElement {
  return h(
    'fieldset',
    { id: 'f-times' },
    h('legend', null, 'Times'),
    h('p', { class: 'hint', id: ZONE_HINT_ID }, zoneHint(timeZone)),
    h(
      'div',
      { class: 'row' },
      TIME_FIELDS.map((t) => {
        const control = input(`f-${t.name}`, { type: 'datetime-local' });
        const wrapped = field(t.label, control, t.hint);
        control.setAttribute(
          'aria-describedby',
          `${ZONE_HINT_ID} ${control.getAttribute('aria-describedby')}`,
        );
        return wrapped;
      }),
    ),
  );
}

/** Says the agency's zone once the API has named it. */
export function showTimeZone(scope: ParentNode, timeZone: string): void {
  const hint = scope.querySelector(`#${ZONE_HINT_ID}`);
  if (hint) show(hint, zoneHint(timeZone));
}
