/**
 * Compose: a template fills the form, the preview shows every channel as it would go out, a confirmation says
 * what goes where, and the alert is sent once (one Idempotency-Key per submission, reused when it is retried).
 */
import { ApiError, call, newIdempotencyKey } from '../api';
import { channelChoices, checkedByDefault } from '../channels';
import type { Context } from '../context';
import { h, show } from '../dom';
import {
  checkedValues,
  choiceGroup,
  clearErrors,
  errorSummary,
  field,
  input,
  select,
  showFieldErrors,
  textarea,
} from '../form';
import { type Preview, quietHoursNote, renderChannelPreview, type SmsReach } from '../preview';
import { forPreview, goesOutText, MISSING_TIME } from '../schedule';
import { TEMPLATES } from '../templates';
import { showTimeZone, timeFields } from '../times';
import {
  type Alert,
  CATEGORIES,
  CERTAINTIES,
  CHANNEL_NAMES,
  type Channel,
  type Draft,
  SEVERITIES,
  STATUSES,
  type Translation,
  URGENCIES,
  type Zone,
} from '../types';
import { browserTimeZone, readTimes } from '../wall-clock';
import { whenFields } from '../when-fields';

const PREVIEW_DELAY_MS = 500;

export function testBanner(status: string): HTMLElement | null {
  if (status === 'Actual') return null;
  return h(
    'p',
    { class: 'banner-test' },
    h('strong', null, status.toUpperCase()),
    ` — status ${status}: this alert goes to the sandbox and test recipients only, never to the public.`,
  );
}

export function composeView(main: HTMLElement, ctx: Context): () => void {
  let zones: Zone[] = [];
  let translations: Translation[] = [];
  let previewTimer: ReturnType<typeof setTimeout> | undefined;
  let previewAbort: AbortController | undefined;
  let previewLanguage = '';
  /** The agency's clock, which the times are typed on: the browser's until GET /v1/zones names it. */
  let timeZone = browserTimeZone();
  /** "Send now" or "Schedule for" (../schedule.ts), read on the same agency clock as the times. */
  const when = whenFields('f-', { legend: 'When it goes out', timeZone, scheduled: false });
  /** The submission being confirmed: its body and key, so a retry of the same body reuses the key. */
  let pending: { body: string; key: string } | undefined;

  const summary = h('div', { class: 'error-summary', role: 'alert', tabindex: '-1', hidden: true });
  const statusBanner = h('div', { id: 'status-banner' });
  const previewStatus = h('p', { class: 'preview-status', role: 'status' });
  const previewBody = h('div', { class: 'preview-body' });
  const zonesBox = h('div');
  const translationsBox = h('div');
  const confirmBox = h('section', {
    class: 'confirm card',
    hidden: true,
    'aria-labelledby': 'confirm-title',
  });

  const form = h('form', { novalidate: true, class: 'compose-form', 'aria-labelledby': 'compose-title' });
  const value = (id: string) => (form.querySelector<HTMLInputElement>(`#${id}`)?.value ?? '').trim();
  const setValue = (id: string, v: string) => {
    const el = form.querySelector<HTMLInputElement>(`#${id}`);
    if (el) el.value = v;
  };

  const templates = h(
    'section',
    { class: 'templates', 'aria-labelledby': 'templates-title' },
    h('h2', { id: 'templates-title' }, 'Start from a template'),
    h(
      'ul',
      { class: 'template-list' },
      TEMPLATES.map((t) =>
        h(
          'li',
          null,
          h('button', { type: 'button', class: 'secondary', onclick: () => applyTemplate(t.id) }, t.name),
        ),
      ),
    ),
  );

  function applyTemplate(id: string): void {
    const template = TEMPLATES.find((t) => t.id === id);
    if (!template) return;
    const d = template.draft;
    for (const key of [
      'category',
      'event',
      'urgency',
      'severity',
      'certainty',
      'headline',
      'description',
    ] as const)
      setValue(`f-${key}`, d[key]);
    setValue('f-instruction', d.instruction ?? '');
    for (const box of form.querySelectorAll<HTMLInputElement>('input[name="f-channels"]'))
      box.checked = d.channels.includes(box.value as Channel);
    ctx.announce(`Template “${template.name}” applied. Replace the words in brackets.`);
    form.querySelector<HTMLElement>('#f-headline')?.focus();
    schedulePreview();
  }

  function renderTranslations(): void {
    show(
      translationsBox,
      translations.map((t, i) => {
        const p = `f-translations-${i}`;
        return h(
          'fieldset',
          { class: 'translation', id: p, 'aria-describedby': `${p}-error` },
          h('legend', null, `Translation ${i + 1}`),
          h('p', { class: 'field-error', id: `${p}-error` }),
          field(
            'Language (BCP 47, e.g. es, ca)',
            input(`${p}-language`, { value: t.language, autocomplete: 'off', maxlength: '35' }),
          ),
          field('Headline', input(`${p}-headline`, { value: t.headline, maxlength: '160' })),
          field('Description', textarea(`${p}-description`, 3, { value: t.description })),
          field('Instruction (optional)', textarea(`${p}-instruction`, 2, { value: t.instruction ?? '' })),
          h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: () => {
                translations = readTranslations().filter((_, j) => j !== i);
                renderTranslations();
                form.querySelector<HTMLElement>('#add-translation')?.focus();
                schedulePreview();
              },
            },
            `Remove translation ${i + 1}`,
          ),
        );
      }),
    );
  }

  function readTranslations(): Translation[] {
    return translations.map((_, i) => {
      const p = `f-translations-${i}`;
      const instruction = value(`${p}-instruction`);
      return {
        language: value(`${p}-language`),
        headline: value(`${p}-headline`),
        description: value(`${p}-description`),
        ...(instruction ? { instruction } : {}),
      };
    });
  }

  function readDraft(): Draft {
    const status = checkedValues(form, 'f-status')[0] ?? 'Actual';
    const zoneIds = checkedValues(form, 'f-areas');
    const areaDesc = value('f-areaDesc');
    const areas = [
      ...zoneIds.map((id) => ({ zone: id, areaDesc: zones.find((z) => z.id === id)?.name ?? id })),
      ...(areaDesc ? [{ areaDesc }] : []),
    ];
    const optional = (key: string, v: string) => (v ? { [key]: v } : {});
    const imageUrl = value('f-image');
    const imageAlt = value('f-image-alt');
    const tr = readTranslations();
    return {
      status,
      category: value('f-category'),
      event: value('f-event'),
      urgency: value('f-urgency'),
      severity: value('f-severity'),
      certainty: value('f-certainty'),
      headline: value('f-headline'),
      description: value('f-description'),
      ...optional('instruction', value('f-instruction')),
      language: value('f-language'),
      ...(tr.length ? { translations: tr } : {}),
      ...(areas.length ? { areas } : {}),
      channels: checkedValues(form, 'f-channels') as Channel[],
      ...readTimes(value, timeZone),
      ...when.read(),
      ...optional('web', value('f-web')),
      ...optional('contact', value('f-contact')),
      ...(imageUrl ? { image: { url: imageUrl, ...(imageAlt ? { alt: imageAlt } : {}) } } : {}),
    } as Draft;
  }

  function updateStatusBanner(): void {
    show(statusBanner, testBanner(checkedValues(form, 'f-status')[0] ?? 'Actual'));
  }

  function schedulePreview(): void {
    clearTimeout(previewTimer);
    // Said at once, so a preview of an earlier state of the form is never taken for this one.
    if (previewStatus.textContent !== 'Updating the preview…') show(previewStatus, 'Updating the preview…');
    previewTimer = setTimeout(() => {
      runPreview().catch(() => undefined);
    }, PREVIEW_DELAY_MS);
  }

  async function runPreview(): Promise<Preview | undefined> {
    previewAbort?.abort();
    const abort = new AbortController();
    previewAbort = abort;
    show(previewStatus, 'Updating the preview…');
    clearErrors(form);
    try {
      const { body } = await call<Preview>('POST', '/v1/alerts/preview', {
        body: forPreview(readDraft()),
        signal: abort.signal,
      });
      if (abort.signal.aborted) return undefined;
      renderPreview(body);
      const unplaced = showFieldErrors(form, 'f-', body.unfilled);
      show(
        previewStatus,
        'Preview up to date.',
        body.unfilled.length
          ? ` ${body.unfilled.length} field${body.unfilled.length === 1 ? ' still holds' : 's still hold'} a template placeholder to fill in before sending.${unplaced.length ? ` ${unplaced.map((e) => `${e.path} ${e.message}`).join('; ')}` : ''}`
          : '',
      );
      return body;
    } catch (error) {
      if (abort.signal.aborted || (error as Error).name === 'AbortError') return undefined;
      if (error instanceof ApiError && error.errors.length) {
        const unplaced = showFieldErrors(form, 'f-', error.errors);
        show(
          previewStatus,
          `No preview yet: ${error.errors.length} field${error.errors.length === 1 ? ' needs' : 's need'} attention.`,
          unplaced.length ? ` ${unplaced.map((e) => `${e.path} ${e.message}`).join('; ')}` : '',
        );
      } else show(previewStatus, `No preview: ${(error as Error).message}`);
      throw error;
    }
  }

  function renderPreview(preview: Preview): void {
    if (!preview.languages.includes(previewLanguage)) previewLanguage = preview.languages[0] ?? '';
    const languagePicker =
      preview.languages.length > 1
        ? field(
            'Language shown',
            h(
              'select',
              {
                id: 'preview-language',
                onchange: (e: Event) => {
                  previewLanguage = (e.target as HTMLSelectElement).value;
                  renderPreview(preview);
                },
              },
              preview.languages.map((l) => h('option', { value: l, selected: l === previewLanguage }, l)),
            ),
          )
        : null;
    show(
      previewBody,
      h('p', { class: 'notice', id: 'preview-goes-out' }, goesOutText(when.read().publishAt, timeZone)),
      preview.approvalRequired
        ? h(
            'p',
            { class: 'notice' },
            'This alert needs a supervisor’s approval before it goes out (two-person rule).',
          )
        : null,
      preview.warnings.length
        ? h(
            'ul',
            { class: 'warnings' },
            preview.warnings.map((w) => h('li', null, w)),
          )
        : null,
      preview.times?.text
        ? h(
            'p',
            { class: 'notice' },
            `Residents read the times as: ${preview.times.text} (${preview.times.timeZone}).`,
          )
        : null,
      quietHoursNote(preview),
      languagePicker,
      (Object.keys(preview.channels) as Channel[]).map((c) =>
        renderChannelPreview(c, preview.channels[c]!, previewLanguage),
      ),
    );
  }

  async function review(event: Event): Promise<void> {
    event.preventDefault();
    summary.hidden = true;
    // The review renders the draft as it is now; a preview still waiting to start would abort it.
    clearTimeout(previewTimer);
    let preview: Preview | undefined;
    try {
      preview = await runPreview();
    } catch (error) {
      if (error instanceof ApiError && error.errors.length) {
        clearErrors(form);
        const unplaced = showFieldErrors(form, 'f-', error.errors);
        errorSummary(
          summary,
          `${error.errors.length} field${error.errors.length === 1 ? '' : 's'} must be fixed before sending. Each is marked below.`,
          unplaced,
        );
      } else errorSummary(summary, (error as Error).message, []);
      return;
    }
    if (!preview) return;
    if (preview.unfilled.length) {
      // The API would refuse it (422); say so here, next to each field, before any confirmation.
      const unplaced = showFieldErrors(form, 'f-', preview.unfilled);
      errorSummary(
        summary,
        `${preview.unfilled.length} field${preview.unfilled.length === 1 ? ' still holds' : 's still hold'} a template placeholder such as [name]. Fill ${preview.unfilled.length === 1 ? 'it' : 'each'} in before sending.`,
        unplaced,
      );
      return;
    }
    const draft = readDraft();
    if (draft.publishAt === '') {
      errorSummary(
        summary,
        '1 field must be fixed before sending. It is marked below.',
        showFieldErrors(form, 'f-', [MISSING_TIME]),
      );
      return;
    }
    const body = JSON.stringify(draft);
    if (pending?.body !== body) pending = { body, key: newIdempotencyKey() };
    showConfirmation(draft, preview);
  }

  function showConfirmation(draft: Draft, preview: Preview): void {
    const reach = preview.channels.sms?.reach as SmsReach | undefined;
    const zoneNames = (draft.areas ?? []).map((a) => a.areaDesc ?? a.zone ?? '');
    const result = h('div', { role: 'status', class: 'send-result' });
    const sendButton = h(
      'button',
      { type: 'button', class: 'primary', onclick: () => send() },
      draft.publishAt === undefined ? 'Send alert' : 'Schedule alert',
    );
    async function send(): Promise<void> {
      sendButton.disabled = true;
      show(result, 'Sending…');
      try {
        const { body } = await call<Alert>('POST', '/v1/alerts', {
          body: JSON.parse(pending!.body),
          headers: { 'idempotency-key': pending!.key },
        });
        pending = undefined;
        ctx.announce(`Alert created: ${body.state}.`);
        ctx.navigate(`#/alerts/${body.id}`);
      } catch (error) {
        sendButton.disabled = false;
        if (error instanceof ApiError && error.errors.length) {
          backToForm();
          const unplaced = showFieldErrors(form, 'f-', error.errors);
          errorSummary(summary, 'The alert was not sent: fix the marked fields.', unplaced);
          return;
        }
        show(
          result,
          error instanceof ApiError
            ? `Not sent: ${error.detail}`
            : 'The server could not be reached. Sending again is safe: the same alert is never created twice.',
        );
      }
    }
    show(
      confirmBox,
      h('h2', { id: 'confirm-title', tabindex: '-1' }, 'Confirm: what will go where'),
      testBanner(draft.status),
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, 'Headline'),
        h('dd', null, draft.headline),
        h('dt', null, 'Status'),
        h('dd', null, draft.status),
        h('dt', null, 'Severity'),
        h('dd', null, `${draft.severity} · ${draft.urgency}`),
        h('dt', null, 'Channels'),
        h(
          'dd',
          null,
          h(
            'ul',
            null,
            draft.channels.map((c) => h('li', null, CHANNEL_NAMES[c])),
          ),
        ),
        h('dt', null, 'Zones'),
        h('dd', null, zoneNames.length ? zoneNames.join(', ') : 'No zone: SMS and email reach nobody'),
        h('dt', null, 'Languages'),
        h('dd', null, preview.languages.join(', ')),
        h('dt', null, 'Goes out'),
        h('dd', null, goesOutText(draft.publishAt, timeZone)),
        preview.times?.text
          ? [h('dt', null, 'When'), h('dd', null, `${preview.times.text} (${preview.times.timeZone})`)]
          : null,
        reach ? [h('dt', null, 'SMS audience'), h('dd', null, reach.summary)] : null,
      ),
      preview.approvalRequired
        ? h(
            'p',
            { class: 'notice' },
            'Held for approval: nothing goes out until a supervisor other than you approves it.',
          )
        : null,
      h(
        'div',
        { class: 'actions' },
        sendButton,
        h('button', { type: 'button', class: 'secondary', onclick: () => backToForm() }, 'Back to edit'),
      ),
      result,
    );
    form.hidden = true;
    templates.hidden = true;
    confirmBox.hidden = false;
    confirmBox.querySelector<HTMLElement>('#confirm-title')?.focus();
  }

  function backToForm(): void {
    confirmBox.hidden = true;
    form.hidden = false;
    templates.hidden = false;
    form.querySelector<HTMLElement>('#f-headline')?.focus();
  }

  form.addEventListener('submit', (e) => {
    review(e).catch(() => undefined);
  });
  form.addEventListener('input', schedulePreview);
  form.addEventListener('change', (e) => {
    if ((e.target as HTMLInputElement).name === 'f-status') updateStatusBanner();
    schedulePreview();
  });

  show(
    form,
    summary,
    h('h2', null, 'Alert'),
    choiceGroup(
      'f-status',
      'Status',
      'radio',
      STATUSES.map((s) => ({
        value: s,
        label: s === 'Actual' ? 'Actual (goes to the public)' : `${s} (sandbox only)`,
      })),
      (v) => v === 'Actual',
    ),
    statusBanner,
    h(
      'div',
      { class: 'row' },
      field('Category', select('f-category', CATEGORIES, 'Safety')),
      field('Event', input('f-event', { maxlength: '100', required: true })),
    ),
    h(
      'div',
      { class: 'row' },
      field('Urgency', select('f-urgency', URGENCIES, 'Expected')),
      field('Severity', select('f-severity', SEVERITIES, 'Minor'), 'Extreme needs a supervisor’s approval.'),
      field('Certainty', select('f-certainty', CERTAINTIES, 'Observed')),
    ),
    field(
      'Language of the alert',
      input('f-language', { value: 'en', maxlength: '35', autocomplete: 'off' }),
    ),
    field('Headline', input('f-headline', { maxlength: '160', required: true })),
    field('Description', textarea('f-description', 5, { required: true })),
    field('Instruction (optional)', textarea('f-instruction', 3)),
    h('h2', null, 'Translations'),
    translationsBox,
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        id: 'add-translation',
        onclick: () => {
          translations = [...readTranslations(), { language: '', headline: '', description: '' }];
          renderTranslations();
          form.querySelector<HTMLElement>(`#f-translations-${translations.length - 1}-language`)?.focus();
        },
      },
      'Add a language',
    ),
    h('h2', null, 'Where and how'),
    zonesBox,
    field('Other area (optional description)', input('f-areaDesc', { maxlength: '500' })),
    choiceGroup('f-channels', 'Channels', 'checkbox', channelChoices(), checkedByDefault),
    field('Image URL (optional)', input('f-image', { type: 'url', inputmode: 'url' })),
    field(
      'Image description (alt text)',
      input('f-image-alt', { maxlength: '1000' }),
      'What the image shows, for people who cannot see it.',
    ),
    field('Web link (optional)', input('f-web', { type: 'url', inputmode: 'url' })),
    field('Contact (optional)', input('f-contact', { maxlength: '500' })),
    timeFields(timeZone),
    when.element,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Review and send')),
  );

  show(
    main,
    h('h1', { id: 'compose-title', tabindex: '-1' }, 'Compose an alert'),
    templates,
    h(
      'div',
      { class: 'compose-layout' },
      h('div', { class: 'compose-main' }, form, confirmBox),
      h(
        'section',
        // On a wide screen it scrolls on its own: focusable, so a keyboard can scroll it too (WCAG 2.1.1), even
        // when no channel's preview holds anything focusable.
        { class: 'preview card', 'aria-labelledby': 'preview-title', tabindex: '0' },
        h('h2', { id: 'preview-title' }, 'Preview per channel'),
        previewStatus,
        previewBody,
      ),
    ),
  );

  call<{ zones: Zone[]; timeZone?: string }>('GET', '/v1/zones')
    .then(({ body }) => {
      zones = body.zones;
      if (body.timeZone && body.timeZone !== timeZone) {
        timeZone = body.timeZone;
        showTimeZone(form, timeZone);
        when.setTimeZone(timeZone);
        // Times typed before the zone was known were read on the browser's clock: preview them again on the agency's.
        if (Object.keys(readTimes(value, timeZone)).length) schedulePreview();
      }
      show(
        zonesBox,
        choiceGroup(
          'f-areas',
          'Zones (SMS and email go to their subscribers)',
          'checkbox',
          zones.map((z) => ({ value: z.id, label: z.name })),
          () => false,
        ),
      );
    })
    .catch((e: unknown) => show(zonesBox, h('p', { class: 'error' }, `Zones: ${(e as Error).message}`)));

  return () => {
    clearTimeout(previewTimer);
    previewAbort?.abort();
  };
}
