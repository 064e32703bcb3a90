import { LOCAL_WEBHOOKS_PATH } from '../config/app-config';
import type { PendingAuthorization } from './emulator-authorization';
import type { ReceivedWebhook } from './local-webhook-inbox';
import { BASIC_SCOPES } from './emulator.types';

/** Every reflected value goes through this: the pages echo login_hint, scopes and app names. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=]/g, (char) => `&#${char.charCodeAt(0)};`);
}

const AUTH = 'https://www.googleapis.com/auth/';
const SCOPE_LABELS: Record<string, string> = {
  openid: 'Associate you with your personal info on Google',
  email: 'See your primary Google Account email address',
  profile: "See your personal info, including any personal info you've made publicly available",
  [`${AUTH}userinfo.email`]: 'See your primary Google Account email address',
  [`${AUTH}userinfo.profile`]: "See your personal info, including any personal info you've made publicly available",
  [`${AUTH}calendar.events.readonly`]: 'View events on all your calendars',
  [`${AUTH}calendar.readonly`]: 'See and download any calendar you can access using your Google Calendar',
  [`${AUTH}calendar.events`]: 'View and edit events on all your calendars',
  [`${AUTH}calendar`]: 'See, edit, share, and permanently delete all the calendars you can access using Google Calendar',
};

const STYLE = `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;background:#f0f4f9;color:#1f1f1f;font:16px/1.5 Roboto,"Segoe UI",Arial,sans-serif}
.banner{width:100%;padding:.5rem 1rem;background:#fef7e0;color:#3c2c00;border-bottom:1px solid #f9ab00;text-align:center;font-size:.875rem}
main{width:min(100% - 2rem,28rem);margin:2.5rem 0;padding:2.25rem 2.5rem;background:#fff;border-radius:28px;box-shadow:0 1px 3px rgba(60,64,67,.3)}
.logo{font-size:1.5rem;font-weight:500;letter-spacing:-.5px}
.logo span:nth-child(1),.logo span:nth-child(4){color:#1a56c4}.logo span:nth-child(2),.logo span:nth-child(6){color:#c5221f}
.logo span:nth-child(3){color:#b06000}.logo span:nth-child(5){color:#137333}
h1{font-size:1.75rem;font-weight:400;margin:.75rem 0 .5rem;overflow-wrap:anywhere}
p,.muted{color:#444746}.muted{font-size:.875rem}
label{display:block;font-weight:500;margin:1rem 0 .25rem}
input[type=email],input[type=text]{width:100%;padding:.8rem 1rem;font:inherit;color:#1f1f1f;border:1px solid #747775;border-radius:4px}
fieldset{border:0;padding:0;margin:0}legend{font-weight:500}
ul{list-style:none;padding:0;margin:1rem 0}
li{display:flex;gap:.75rem;align-items:flex-start;padding:.75rem 0;border-top:1px solid #e3e3e3}
li label{margin:0;font-weight:400}
li input{margin-top:.3rem;width:1.1rem;height:1.1rem;flex:none}
code{display:block;font-size:.75rem;color:#444746;word-break:break-all}code.inline{display:inline;font-size:.875em;word-break:normal}
.account{display:inline-block;max-width:100%;padding:.25rem .75rem;border:1px solid #747775;border-radius:1rem;font-size:.875rem;overflow-wrap:anywhere}
.switch{display:block;margin-top:.5rem;font-size:.875rem;color:#0b57d0}
.actions{display:flex;justify-content:flex-end;gap:1rem;margin-top:1.5rem}
button{font:inherit;font-weight:500;padding:.6rem 1.5rem;border-radius:20px;cursor:pointer}
.primary{background:#0b57d0;color:#fff;border:1px solid #0b57d0}.primary:hover{background:#0842a0}
.secondary{background:#fff;color:#0b57d0;border:1px solid #747775}.secondary:hover{background:#f0f4f9}
.error{color:#b3261e;font-weight:500}
.risc{flex-wrap:wrap;justify-content:flex-start;gap:.5rem;margin-top:.5rem}.risc button{padding:.4rem 1rem}
.risc-accounts{list-style:none;padding:0}
main.wide{width:min(100% - 2rem,44rem)}
.hooks li{display:block}.hooks h2{font-size:1rem;font-weight:500;margin:0;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .75rem;margin:.4rem 0 0;font-size:.875rem}dt{color:#444746}dd{margin:0;overflow-wrap:anywhere;font-family:ui-monospace,monospace}
.ok{color:#137333;font-weight:500}
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
`;

const LOGO = '<div class="logo" aria-label="Google"><span>G</span><span>o</span><span>o</span><span>g</span><span>l</span><span>e</span></div>';

const GOOGLE_BANNER = '<strong>Google emulator — local mode.</strong> No real Google account is used.';

/** `app`: a page of the service's own local mode (not one of the emulated Google's): no Google logo. */
function page(title: string, body: string, app?: { banner: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} – ${app ? 'google-link local mode' : 'Google emulator'}</title><style>${STYLE}</style></head>
<body><div class="banner" role="note">${app?.banner ?? GOOGLE_BANNER}</div>
<main${app ? ' class="wide"' : ''}>${app ? '' : LOGO}${body}</main></body></html>`;
}

export function renderErrorPage(error: string, description: string): string {
  return page(
    'Error',
    `<h1>Access blocked: this request is invalid</h1>
<p class="error">Error 400: ${escapeHtml(error)}</p>
<p>${escapeHtml(description)}</p>
<p class="muted">The app sent a request the emulator refuses, as Google would. Go back to the app and start again.</p>`,
  );
}

/** The account chooser: any email will do. */
export function renderChooserPage(pending: PendingAuthorization, action: string, problem?: string, typed?: { email?: string; name?: string }): string {
  const email = typed?.email ?? pending.request.loginHint ?? '';
  return page(
    'Choose an account',
    `<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(pending.request.appName)}</strong></p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="request" value="${escapeHtml(pending.id)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" required autocomplete="email" autofocus value="${escapeHtml(email)}"${problem ? ' aria-describedby="problem" aria-invalid="true"' : ''}>
${problem ? `<p id="problem" class="error" role="alert">${escapeHtml(problem)}</p>` : ''}
<label for="name">Name <span class="muted">(optional)</span></label>
<input id="name" name="name" type="text" autocomplete="name" maxlength="100" value="${escapeHtml(typed?.name ?? '')}">
<div class="actions"><button class="primary" type="submit">Next</button></div>
</form>`,
  );
}

/** Granular consent: openid/email/profile are always granted; every other scope can be unticked. */
export function renderConsentPage(pending: PendingAuthorization, action: string, otherAccount: string): string {
  const items = pending.request.scopes
    .map((scope, index) => {
      const basic = BASIC_SCOPES.includes(scope);
      const id = `scope-${index}`;
      return `<li><input type="checkbox" id="${id}" name="scope" value="${escapeHtml(scope)}" checked${basic ? ' disabled' : ''}>
<label for="${id}">${escapeHtml(SCOPE_LABELS[scope] ?? scope)}<code>${escapeHtml(scope)}</code></label></li>`;
    })
    .join('\n');
  return page(
    'Consent',
    `<h1>${escapeHtml(pending.request.appName)} wants access to your Google Account</h1>
<p><span class="account">${escapeHtml(pending.email ?? '')}</span><a class="switch" href="${escapeHtml(otherAccount)}">Use another account</a></p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="request" value="${escapeHtml(pending.id)}">
<fieldset><legend>Select what the app can access</legend>
<ul>${items}</ul></fieldset>
<p class="muted">Ticked items are shared. Basic sign-in information is always shared.</p>
<div class="actions">
<button class="secondary" type="submit" name="action" value="cancel">Cancel</button>
<button class="primary" type="submit" name="action" value="allow">Allow</button>
</div>
</form>`,
  );
}

const RISC_LABELS: Record<string, string> = {
  'sessions-revoked': 'End sessions',
  'tokens-revoked': 'Revoke tokens',
  'account-disabled': 'Disable account',
  'account-enabled': 'Enable account',
  'account-credential-change-required': 'Require password change',
};

/** Cross-Account Protection: a button per event type for each account the emulator knows. */
export function renderRiscPage(accounts: Array<{ email: string; sub: string }>, action: string, result?: { ok: boolean; message: string }): string {
  const rows = accounts
    .map(
      (account) => `<li><p><span class="account">${escapeHtml(account.email)}</span> <span class="muted">sub ${escapeHtml(account.sub)}</span></p>
<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="email" value="${escapeHtml(account.email)}">
<div class="actions risc">${Object.entries(RISC_LABELS)
        .map(([event, label]) => `<button class="secondary" type="submit" name="event" value="${event}">${escapeHtml(label)}</button>`)
        .join('')}</div></form></li>`,
    )
    .join('\n');
  return page(
    'Security events',
    `<h1>Cross-Account Protection</h1>
<p>Send the app a security event about an account, signed as Google would sign it.</p>
${result ? `<p class="${result.ok ? 'muted' : 'error'}" role="status">${escapeHtml(result.message)}</p>` : ''}
${accounts.length ? `<ul class="risc-accounts">${rows}</ul>` : '<p class="muted">No account yet: sign in or link a Google account through the emulator first.</p>'}
<p class="muted">What the app told your web app about it: <a href="${LOCAL_WEBHOOKS_PATH}">the webhooks it sent</a>.</p>`,
  );
}

const dataValue = (value: unknown): string => (value === null || value === undefined ? 'null' : typeof value === 'string' ? value : JSON.stringify(value));

/** Local mode's webhook receiver: every delivery, newest first, with whether its signature verified. */
export function renderWebhooksPage(
  deliveries: ReceivedWebhook[],
  destination: { local: true } | { local: false; origin: string | null },
  self: string,
): string {
  const intro = destination.local
    ? `<p>With no <code class="inline">WEBHOOK_URL</code> set, local mode delivers every webhook here: the events your web app would receive, signed per
Standard Webhooks with the <code class="inline">webhookSecret</code> kept in <code class="inline">DATA_DIR/local-secrets.json</code>, and checked
here as your receiver would check them. Set <code class="inline">WEBHOOK_URL</code> and <code class="inline">WEBHOOK_SECRET</code> to send them to your app instead.</p>`
    : destination.origin
      ? `<p>Webhooks go to your <code class="inline">WEBHOOK_URL</code> (${escapeHtml(destination.origin)}), not here.</p>`
      : '<p>Webhooks are off.</p>';
  const items = deliveries
    .map((hook) => {
      const fields: Array<[string, string]> = [
        ['webhook-id', hook.id ?? '(none)'],
        ['received', hook.receivedAt],
        ...(hook.verified && hook.data
          ? ([
              ['userId', dataValue(hook.data.userId)],
              ['googleUserId', dataValue(hook.data.googleUserId)],
              ['link status', dataValue(hook.data.status)],
            ] as Array<[string, string]>)
          : []),
      ];
      const signature = hook.verified
        ? '<span class="ok">Signature verified</span>'
        : `<span class="error">Signature refused (answered 400): ${escapeHtml(hook.problem ?? '')}</span>`;
      return `<li><h2>${escapeHtml(hook.verified ? (hook.type ?? '(no type)') : 'Unverified delivery')}</h2>
<p class="muted">${signature}${hook.delivery > 1 ? ` · delivery ${hook.delivery} of this event (at least once: drop repeats by webhook-id)` : ''}</p>
<dl>${fields.map(([name, value]) => `<dt>${escapeHtml(name)}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl></li>`;
    })
    .join('\n');
  return page(
    'Webhooks',
    `<h1>Webhooks received</h1>
${intro}
<p><a href="${escapeHtml(self)}">Reload</a> · the last 100, kept in this instance's memory · as JSON: <a href="${escapeHtml(self)}/received">received</a></p>
${deliveries.length ? `<ul class="hooks">${items}</ul>` : '<p class="muted">None yet. Sign in and connect a Google account at <a href="/users/me">/users/me</a>: each change is delivered here within seconds.</p>'}`,
    { banner: '<strong>google-link — local mode.</strong> These webhooks never left this machine.' },
  );
}
