/**
 * The audit trail's check, for auditors (GET /v1/audit/verify): whether every entry is still the one Herald wrote,
 * how many were checked, and each entry found changed or missing, with its alert and the reason. Checked when the
 * page opens and again on "Verify now". Loaded on demand (main.ts).
 */
import { call } from '../api';
import { formatCount } from '../charts/svg';
import { formatTime, h, show, table } from '../dom';
import { readVerification, type Verification } from '../impact-data';

const ALERT_ID = /^[0-9A-Z]{26}$/;

export function verificationContent(v: Verification, at: string): Node[] {
  const checked = `${formatCount(v.checked)} entr${v.checked === 1 ? 'y' : 'ies'} checked`;
  return [
    h(
      'p',
      { class: v.ok ? 'verdict ok' : 'verdict bad', id: 'verify-verdict' },
      h('strong', null, v.ok ? 'Intact. ' : 'Broken. '),
      v.ok
        ? `${checked}: none changed, none missing.`
        : `${formatCount(v.broken.length)} of the ${checked} changed or missing.`,
    ),
    h('p', { class: 'meta' }, `Checked ${formatTime(at)}.`),
    v.broken.length
      ? table(
          'Entries that do not match the chain',
          ['Alert', 'Entry', 'Reason'],
          v.broken.map((b) => [
            b.alertId && ALERT_ID.test(b.alertId)
              ? h('a', { href: `#/alerts/${b.alertId}` }, b.alertId)
              : (b.alertId ?? 'not tied to an alert'),
            b.entry,
            b.reason,
          ]),
        )
      : null,
  ].filter((n): n is HTMLElement => n !== null);
}

export function auditVerifyView(main: HTMLElement): () => void {
  let stopped = false;
  let running = false;
  const result = h('div', { id: 'verify-result' });
  const status = h('p', { role: 'status', class: 'live' });
  const button = h('button', { type: 'button', class: 'primary', onclick: () => verify() }, 'Verify now');
  show(
    main,
    h('h1', { tabindex: '-1' }, 'Audit trail'),
    h(
      'p',
      null,
      'Each audit entry carries a hash over the entry before it and its own content, so an entry changed or removed ',
      'outside Herald breaks the chain. Verifying reads the whole trail and says where it breaks.',
    ),
    h('div', { class: 'actions' }, button),
    status,
    result,
  );

  async function verify(): Promise<void> {
    if (running) return;
    running = true;
    button.disabled = true;
    show(status, 'Verifying the audit trail…');
    try {
      const { body } = await call<unknown>('GET', '/v1/audit/verify');
      if (stopped) return;
      const v = readVerification(body);
      show(result, ...verificationContent(v, new Date().toISOString()));
      const said = v.ok
        ? `Audit trail intact: ${formatCount(v.checked)} entries checked.`
        : `Audit trail broken: ${formatCount(v.broken.length)} entries changed or missing.`;
      // The status line is a live region: this is said once, when it changes.
      show(status, said);
    } catch (error) {
      if (stopped) return;
      show(status, '');
      show(result, h('p', { class: 'error', role: 'alert' }, `Not verified: ${(error as Error).message}`));
    } finally {
      running = false;
      button.disabled = false;
    }
  }

  verify().catch(() => undefined);
  return () => {
    stopped = true;
  };
}
