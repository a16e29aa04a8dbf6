/**
 * Sign-in. Embedded mode: pick a role and, so two people can be told apart (the two-person rule), a name; the
 * server signs a token for it. On AWS: Cognito's hosted UI, authorization code with PKCE.
 */
import type { Context } from '../context';
import { h, show } from '../dom';
import { cognitoSignIn, embeddedSignIn, ROLES, type Role } from '../session';

const ROLE_HELP: Record<Role, string> = {
  officer: 'writes, previews, sends, updates and cancels alerts',
  supervisor: 'approves alerts held for a second person, and can cancel any alert',
  auditor: 'reads every alert, version, receipt and audit entry, and exports them',
};

export function signInView(main: HTMLElement, ctx: Context): undefined {
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' });
  const title = h('h1', { tabindex: '-1' }, 'Sign in to Herald');
  if (ctx.config.mode === 'cognito') {
    const config = ctx.config;
    show(
      main,
      title,
      h('p', null, 'Sign in with your agency account. Your groups decide what you can do here.'),
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          onclick: () => {
            cognitoSignIn(config).catch((e: unknown) => show(error, (e as Error).message));
          },
        },
        'Sign in with your agency account',
      ),
      error,
    );
    return undefined;
  }

  const name = h('input', {
    id: 'signin-name',
    name: 'name',
    type: 'text',
    autocomplete: 'name',
    maxlength: '64',
    'aria-describedby': 'signin-name-hint',
  });
  const form = h(
    'form',
    {
      class: 'card narrow',
      'aria-labelledby': 'signin-title-form',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const role = (form.querySelector('input[name=role]:checked') as HTMLInputElement | null)
          ?.value as Role;
        error.replaceChildren();
        try {
          ctx.signedIn(await embeddedSignIn(role, name.value.trim()));
        } catch (e) {
          show(error, (e as Error).message);
        }
      },
    },
    h('h2', { id: 'signin-title-form' }, 'Embedded mode: choose who you are'),
    h(
      'fieldset',
      null,
      h('legend', null, 'Role'),
      ROLES.map((role, i) =>
        h(
          'div',
          { class: 'choice' },
          h('input', {
            type: 'radio',
            name: 'role',
            id: `role-${role}`,
            value: role,
            checked: i === 0,
            'aria-describedby': `role-${role}-help`,
          }),
          h('label', { for: `role-${role}` }, role[0]!.toUpperCase() + role.slice(1)),
          h('p', { class: 'hint', id: `role-${role}-help` }, ROLE_HELP[role]),
        ),
      ),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'signin-name' }, 'Your name (optional)'),
      h(
        'p',
        { class: 'hint', id: 'signin-name-hint' },
        'Tells people apart: a supervisor cannot approve an alert written under the same name.',
      ),
      name,
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    error,
  );
  show(
    main,
    title,
    h(
      'p',
      null,
      'This Herald runs on this machine (embedded mode). Tokens are signed by its own key and work only here.',
    ),
    form,
  );
  return undefined;
}
