// The users/me page: plain JavaScript, no build step. Runs under `script-src 'self'`: no inline
// scripts or handlers. Everything from the URL or the API is written with textContent, never as HTML.

const API = '/api/v1';
const AUTH_SCOPE = 'https://www.googleapis.com/auth/';

const SCOPE_LABELS = {
  openid: 'Know who you are on Google',
  email: 'See your email address',
  profile: 'See your name and profile picture',
  [`${AUTH_SCOPE}userinfo.email`]: 'See your email address',
  [`${AUTH_SCOPE}userinfo.profile`]: 'See your name and profile picture',
  [`${AUTH_SCOPE}calendar.events.readonly`]: 'See your calendar events (read-only)',
  [`${AUTH_SCOPE}calendar.readonly`]: 'See your calendars and their events (read-only)',
  [`${AUTH_SCOPE}calendar.events`]: 'See and edit your calendar events',
  [`${AUTH_SCOPE}calendar`]: 'See, edit, share and delete your calendars',
};

// One readable message per outcome code the callback can put in the address bar.
const LINK_OUTCOMES = {
  access_denied: 'You cancelled on Google’s consent screen, so nothing was connected.',
  invalid_state: 'This connection attempt expired, was already used or was started in another browser. Please connect again.',
  missing_scopes:
    'Google did not grant access to your calendar, so the account was not connected. Connect again and leave the calendar permission ticked on Google’s consent screen.',
  google_account_in_use: 'That Google account is already connected to another user here. Choose a different Google account.',
  no_offline_access: 'Google did not grant offline access. Remove google-link from your Google account’s third-party access, then connect again.',
  google_error: 'Google could not complete the connection and nothing was saved. Please try again in a moment.',
};
const LOGIN_OUTCOMES = {
  access_denied: 'You cancelled the sign-in at Google.',
  invalid_state: 'This sign-in attempt expired, was already used or was started in another browser. Please sign in again.',
  domain_not_allowed: 'Accounts from your email domain cannot sign in here. Sign in with your organisation’s Google account.',
  signup_disabled: 'There is no account for this Google address and new accounts cannot be created here. Ask an administrator to add you.',
  email_not_verified: 'Your Google account’s email address is not verified. Verify it with Google, then sign in again.',
  invalid_id_token: 'Google’s answer could not be verified, so you were not signed in. Please try again.',
  google_account_mismatch: 'This email address belongs to a user who signs in with a different Google account. Sign in with that Google account instead.',
  google_account_disabled: 'Google told us this Google account is disabled, so signing in with it is refused until Google enables it again.',
  google_error: 'Google could not complete the sign-in. Please try again in a moment.',
};

// Why Google ended this browser's session (the 401's `reason`; only the holder of the cookie is told).
const SESSION_ENDED = {
  google_sessions_revoked: {
    title: 'You were signed out',
    text: 'Google told us your account’s sessions were ended, so you were signed out here. Sign in again to continue.',
  },
  google_tokens_revoked: {
    title: 'You were signed out',
    text: 'Google told us your account’s sessions were ended and google-link’s access to your Google account was withdrawn. Sign in again, then reconnect your Google account.',
  },
  google_account_disabled: {
    title: 'Your Google account was disabled',
    text: 'Google told us your Google account was disabled, so you were signed out here. Signing in with it is refused until Google enables it again.',
  },
};

const $ = (id) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`users-me: #${id} is missing`);
  return element;
};
const show = (element, visible = true) => {
  element.hidden = !visible;
};

// --- Talking to the API --------------------------------------------------------------------------

class NetworkError extends Error {}

/** Same-origin JSON call; resolves to { status, body } for every HTTP answer, throws NetworkError when offline. */
async function api(method, path) {
  let response;
  try {
    response = await fetch(`${API}${path}`, { method, credentials: 'same-origin', headers: { accept: 'application/json' } });
  } catch {
    throw new NetworkError('The service could not be reached. Check your connection and try again.');
  }
  let body = null;
  if (response.status !== 204) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  return { status: response.status, body };
}

const apiMessage = (reply, fallback) => (reply.body && typeof reply.body.message === 'string' ? reply.body.message : fallback);

// --- Messages ------------------------------------------------------------------------------------

function notify(title, text, tone = 'info') {
  hideMessages();
  $('notice').className = `notice notice-${tone}`;
  $('notice-title').textContent = title;
  $('notice-text').textContent = text;
  show($('notice-text'), Boolean(text));
  show($('notice'));
}

function alertError(title, text) {
  hideMessages();
  $('alert-title').textContent = title;
  $('alert-text').textContent = text;
  show($('alert-text'), Boolean(text));
  show($('alert'));
}

function hideMessages() {
  show($('notice'), false);
  show($('alert'), false);
}

function failed(error) {
  alertError('Something went wrong', error instanceof Error ? error.message : 'Please reload the page and try again.');
}

/** Shows the outcome of a Google round trip once, then removes it from the address bar. */
function showOutcomeFromUrl() {
  const url = new URL(window.location.href);
  const link = url.searchParams.get('google_link');
  const login = url.searchParams.get('google_login');
  const reason = url.searchParams.get('reason') ?? '';
  if (link === null && login === null) return;

  if (link === 'success') {
    notify('Your Google account is connected', 'google-link can now read your out-of-office events.', 'success');
  } else if (reason === 'access_denied') {
    // Cancelling is a choice, not a failure: a neutral notice, not an alert.
    notify(link !== null ? 'Nothing was connected' : 'You are not signed in', (link !== null ? LINK_OUTCOMES : LOGIN_OUTCOMES).access_denied);
  } else if (link !== null) {
    alertError(
      'Your Google account was not connected',
      LINK_OUTCOMES[reason] ?? 'Something went wrong while connecting your Google account. Please try again.',
    );
  } else if (login === 'error') {
    alertError('You were not signed in', LOGIN_OUTCOMES[reason] ?? 'Something went wrong while signing in with Google. Please try again.');
  }

  for (const name of ['google_link', 'google_login', 'reason']) url.searchParams.delete(name);
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
}

// --- Dates ---------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const linkedAtFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'long', timeStyle: 'short' });
const allDayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short', month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
const timedFormat = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  month: 'short',
  day: 'numeric',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});
const monthFormat = (timeZone) => new Intl.DateTimeFormat(undefined, { month: 'short', timeZone });
const dayFormat = (timeZone) => new Intl.DateTimeFormat(undefined, { day: 'numeric', timeZone });

/** `YYYY-MM-DD` as a UTC midnight, formatted in UTC, so that a date never shifts by a time zone. */
const calendarDate = (value) => new Date(`${value}T00:00:00Z`);

function formatRange(format, start, end) {
  if (!(end > start)) return format.format(start);
  return typeof format.formatRange === 'function' ? format.formatRange(start, end) : `${format.format(start)} – ${format.format(end)}`;
}

/** { start: Date, when: string, timeZone } for an event; all-day `end` is exclusive, so show the day before. */
function describeWhen(event) {
  if (event.allDay) {
    const start = calendarDate(event.start);
    const lastDay = new Date(calendarDate(event.end).getTime() - DAY_MS);
    return { start, when: formatRange(allDayFormat, start, lastDay), timeZone: 'UTC' };
  }
  const start = new Date(event.start);
  return { start, when: formatRange(timedFormat, start, new Date(event.end)), timeZone: undefined };
}

// --- Rendering -----------------------------------------------------------------------------------

let currentUser = null;

/** A 401 saying Google ended this browser's session (a known `reason`): says why; false for any other answer. */
function explainSessionEnd(reply) {
  const reason = reply.body && reply.body.reason;
  if (typeof reason !== 'string' || !Object.prototype.hasOwnProperty.call(SESSION_ENDED, reason)) return false;
  alertError(SESSION_ENDED[reason].title, SESSION_ENDED[reason].text);
  return true;
}

function renderSignedOut() {
  currentUser = null;
  show($('google-notice'), false);
  show($('loading'), false);
  show($('signed-out'));
  show($('profile'), false);
  show($('google'), false);
  show($('ooo'), false);
}

function renderUser(user) {
  currentUser = user;
  show($('loading'), false);
  show($('signed-out'), false);
  show($('profile'));
  show($('google'));

  const name = user.name || user.email;
  $('user-name').textContent = name;
  $('user-email').textContent = user.email;
  $('avatar').textContent = name.trim().charAt(0).toUpperCase();
  show($('role-badge'), user.role === 'admin');
  $('google-notice-text').textContent = user.notice ?? '';
  show($('google-notice'), Boolean(user.notice));
  renderLink(user.googleAccount);
}

function renderLink(account) {
  const pill = $('link-pill');
  show($('not-linked'), !account);
  show($('linked'), Boolean(account));
  if (!account) {
    pill.className = 'pill';
    pill.textContent = 'Not connected';
    show($('ooo'), false);
    return;
  }

  const needsReauth = account.status === 'needs_reauth';
  pill.className = needsReauth ? 'pill pill-warning' : 'pill pill-active';
  pill.textContent = needsReauth ? 'Reconnect needed' : 'Connected';
  show($('reauth'), needsReauth);
  $('google-email').textContent = account.email;
  const linkedAt = new Date(account.linkedAt);
  $('linked-at').dateTime = account.linkedAt;
  $('linked-at').textContent = Number.isNaN(linkedAt.getTime()) ? account.linkedAt : linkedAtFormat.format(linkedAt);
  $('link-status').textContent = needsReauth ? 'Access expired or revoked' : 'Active';

  const list = $('scopes');
  list.replaceChildren(
    ...account.scopes.map((scope) => {
      const item = document.createElement('li');
      const label = document.createElement('span');
      label.className = 'scope-label';
      label.textContent = SCOPE_LABELS[scope] ?? scope;
      item.append(label);
      if (SCOPE_LABELS[scope]) {
        const raw = document.createElement('code');
        raw.className = 'scope-raw';
        raw.textContent = scope;
        item.append(raw);
      }
      return item;
    }),
  );

  show($('ooo'));
  // Needing a reconnect, the calendar cannot be read: say so once, the Reconnect button is just above.
  for (const id of ['ooo-loading', 'ooo-list', 'ooo-empty', 'ooo-error']) show($(id), false);
  show($('ooo-paused'), needsReauth);
  if (!needsReauth) void loadOutOfOffice();
}

function showOooError(title, text, actions) {
  show($('ooo-loading'), false);
  show($('ooo-list'), false);
  show($('ooo-empty'), false);
  $('ooo-error-title').textContent = title;
  $('ooo-error-text').textContent = text;
  show($('ooo-reconnect'), Boolean(actions.reconnect));
  show($('ooo-retry'), Boolean(actions.retry));
  show($('ooo-error'));
}

function renderEvents(events) {
  show($('ooo-loading'), false);
  show($('ooo-error'), false);
  show($('ooo-empty'), events.length === 0);
  show($('ooo-list'), events.length > 0);
  $('ooo-list').replaceChildren(
    ...events.map((event) => {
      const { start, when, timeZone } = describeWhen(event);
      const item = document.createElement('li');

      const day = document.createElement('span');
      day.className = 'event-day';
      day.setAttribute('aria-hidden', 'true');
      const month = document.createElement('span');
      month.className = 'event-month';
      month.textContent = monthFormat(timeZone).format(start);
      const date = document.createElement('span');
      date.className = 'event-date';
      date.textContent = dayFormat(timeZone).format(start);
      day.append(month, date);

      const text = document.createElement('div');
      const summary = document.createElement('p');
      summary.className = 'event-summary';
      summary.textContent = event.summary || 'Out of office';
      const time = document.createElement('p');
      time.className = 'event-when';
      const timeElement = document.createElement('time');
      timeElement.dateTime = event.start;
      timeElement.textContent = when;
      time.append(timeElement);
      if (event.allDay) {
        const tag = document.createElement('span');
        tag.className = 'event-tag';
        tag.textContent = 'All day';
        time.append(tag);
      }
      text.append(summary, time);

      item.append(day, text);
      return item;
    }),
  );
}

// --- Loading -------------------------------------------------------------------------------------

async function loadUser() {
  $('main').setAttribute('aria-busy', 'true');
  try {
    const reply = await api('GET', '/users/me');
    if (reply.status === 200 && reply.body) renderUser(reply.body);
    else if (reply.status === 401) {
      renderSignedOut();
      // A sign-in outcome from the address bar is the newer news: it stays.
      if ($('notice').hidden && $('alert').hidden) explainSessionEnd(reply);
    } else {
      show($('loading'), false);
      alertError('Your account could not be loaded', apiMessage(reply, 'Please reload the page in a moment.'));
    }
  } catch (error) {
    show($('loading'), false);
    failed(error);
  } finally {
    $('main').setAttribute('aria-busy', 'false');
  }
}

async function loadOutOfOffice() {
  show($('ooo-error'), false);
  show($('ooo-loading'));
  let reply;
  try {
    reply = await api('GET', '/users/me/google/out-of-office');
  } catch (error) {
    showOooError('Your calendar could not be loaded', error.message, { retry: true });
    return;
  }
  const code = reply.body && reply.body.code;
  if (reply.status === 200 && reply.body && Array.isArray(reply.body.events)) return renderEvents(reply.body.events);
  if (reply.status === 404 && code === 'google_not_linked') return show($('ooo'), false);
  if (reply.status === 401) {
    renderSignedOut();
    explainSessionEnd(reply);
    return;
  }
  if (reply.status === 409 && code === 'google_reauth_required') {
    // The service has just marked the link; show it without another round trip.
    if (currentUser && currentUser.googleAccount) renderLink({ ...currentUser.googleAccount, status: 'needs_reauth' });
    return;
  }
  if (reply.status === 403 && code === 'missing_scopes') {
    return showOooError(
      'Calendar access was not granted',
      'Your Google account is connected without permission to read your calendar. Reconnect and allow calendar access.',
      { reconnect: true },
    );
  }
  if (code === 'encryption_key_missing') {
    // Retrying cannot help: the stored access can only be replaced, by connecting again.
    return showOooError(
      'Reconnect your Google account',
      'The key that protected your saved Google access is no longer configured here, so your calendar cannot be read. Reconnect your Google account to restore it.',
      { reconnect: true },
    );
  }
  if (reply.status === 502 || code === 'google_unavailable') {
    return showOooError('Google is not answering right now', 'Your events could not be read from Google Calendar. Try again in a moment.', { retry: true });
  }
  showOooError('Your calendar could not be loaded', apiMessage(reply, 'Please try again in a moment.'), { retry: true });
}

// --- Actions -------------------------------------------------------------------------------------

/** Disables the button while the action runs, so a double click does not start two flows. */
function busy(button, action) {
  return async () => {
    if (button.disabled) return;
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      failed(error);
    } finally {
      button.disabled = false;
    }
  };
}

async function connect() {
  const reply = await api('GET', '/auth/google/link');
  if (reply.status === 200 && reply.body && typeof reply.body.url === 'string') {
    window.location.assign(reply.body.url);
    return;
  }
  if (reply.status === 401) {
    renderSignedOut();
    if (!explainSessionEnd(reply)) alertError('Your session has ended', 'Sign in again to connect your Google account.');
    return;
  }
  alertError('Could not start connecting your Google account', apiMessage(reply, 'Please try again in a moment.'));
}

async function disconnect() {
  const dialog = $('confirm-disconnect');
  const reply = await api('DELETE', '/users/me/google');
  dialog.close();
  if (reply.status === 204 || (reply.status === 404 && reply.body && reply.body.code === 'google_not_linked')) {
    await loadUser();
    notify('Your Google account was disconnected', 'google-link revoked its access at Google and no longer holds your tokens.', 'success');
    if (!$('not-linked').hidden) $('connect').focus();
    return;
  }
  if (reply.status === 401) {
    renderSignedOut();
    if (!explainSessionEnd(reply)) alertError('Your session has ended', 'Sign in again to manage your Google account.');
    return;
  }
  alertError('Your Google account could not be disconnected', apiMessage(reply, 'Please try again in a moment.'));
}

async function signOut() {
  const reply = await api('POST', '/auth/logout');
  if (reply.status === 204 || reply.status === 401) {
    renderSignedOut();
    notify('You have been signed out', 'Your session in this browser has ended.', 'info');
    $('sign-in').focus();
    return;
  }
  alertError('You could not be signed out', apiMessage(reply, 'Please try again in a moment.'));
}

function wire() {
  for (const id of ['connect', 'reconnect', 'ooo-reconnect']) $(id).addEventListener('click', busy($(id), connect));
  $('sign-out').addEventListener('click', busy($('sign-out'), signOut));
  $('ooo-retry').addEventListener('click', busy($('ooo-retry'), loadOutOfOffice));

  const dialog = $('confirm-disconnect');
  $('disconnect').addEventListener('click', () => dialog.showModal());
  $('confirm-cancel').addEventListener('click', () => dialog.close());
  $('confirm-yes').addEventListener('click', busy($('confirm-yes'), disconnect));
  // Escape and Cancel return focus to the button that opened the dialog.
  dialog.addEventListener('close', () => {
    if (!$('linked').hidden) $('disconnect').focus();
  });
}

wire();
showOutcomeFromUrl();
void loadUser();
