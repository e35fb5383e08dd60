// The application shell: sign-in, the top bar (program, sign-out), the section tabs and a
// hash router (#/programs, #/p/<slug>/<section>), so a reload stays where it was.

const SECTIONS = [
  ['dashboard', 'Dashboard', renderDashboardView],
  ['design', 'Design', renderDesignView],
  ['cards', 'Cards', renderCardsView],
  ['campaigns', 'Campaigns', renderCampaignsView],
];

const app = {
  programs: [],
  program: null,
  scope: null,
  // A publication answers the program with extra members (rollout, lint...): keep the
  // program's own.
  updateProgram(view) {
    const { rollout, lint, version, draft, unchanged, ...program } = view;
    this.program = program;
    this.programs = this.programs.map((p) => (p.slug === program.slug ? program : p));
  },
  async reloadProgram() {
    if (!this.program) return;
    this.updateProgram(await api('GET', path`/api/v1/programs/${this.program.slug}`));
  },
};

const programHref = (slug, section) => `#/p/${encodeURIComponent(slug)}/${section}`;

// Timers of the view on screen; leaving the view stops them, so no poll outlives its page.
function newScope() {
  const timers = new Set();
  const scope = {
    alive: true,
    later(ms, fn) {
      const t = setTimeout(() => {
        timers.delete(t);
        if (scope.alive) fn();
      }, ms);
      timers.add(t);
    },
    end() {
      scope.alive = false;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
  return scope;
}

let toastTimer = 0;
function notify(text) {
  const box = document.getElementById('toast');
  if (!box) return;
  box.className = 'toast';
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.hidden = true;
  }, 6000);
}

function showError(err) {
  const box = document.getElementById('toast');
  if (!box || (err instanceof ApiError && err.status === 401)) return;
  box.className = 'toast toast-error';
  box.textContent =
    err instanceof ApiError && err.field ? `${err.message}` : String(err.message || err);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.hidden = true;
  }, 10000);
}

async function loadPrograms(options = {}) {
  app.programs = (await api('GET', '/api/v1/programs', options)).programs || [];
}

function signOut(message) {
  app.scope?.end();
  session.clear();
  forgetImages();
  app.programs = [];
  app.program = null;
  history.replaceState(null, '', location.pathname);
  renderSignIn(message);
}

function renderSignIn(message) {
  const root = document.getElementById('app');
  const key = el('input', {
    type: 'password',
    id: 'api-key',
    autocomplete: 'off',
    autocapitalize: 'off',
    spellcheck: 'false',
    required: true,
  });
  const error = el('p', { class: 'error-text', id: 'signin-error', role: 'alert' }, message || '');
  const button = el(
    'button',
    { type: 'submit', class: 'btn btn-primary', id: 'signin-submit' },
    'Sign in',
  );
  const form = el(
    'form',
    { class: 'panel signin', id: 'signin-form', novalidate: true },
    el('h1', {}, 'Cardsmith console'),
    field(
      'Merchant API key',
      key,
      'Kept in this browser tab only and sent only to this server; closing the tab or signing out forgets it.',
    ),
    error,
    button,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = key.value.trim();
    if (!value) {
      error.textContent = 'Type or paste the API key.';
      return;
    }
    button.disabled = true;
    session.set(value);
    try {
      await loadPrograms({ signingIn: true });
      key.value = '';
      // One program: straight to it. A hash change routes by itself.
      const target =
        app.programs.length === 1 ? programHref(app.programs[0].slug, 'dashboard') : location.hash;
      if (target && location.hash !== target) location.hash = target;
      else route();
    } catch (err) {
      session.clear();
      error.textContent =
        err.status === 401
          ? 'The server does not know this key.'
          : `Sign-in failed: ${err.message}`;
      button.disabled = false;
    }
  });
  clear(root, el('main', { class: 'signin-page' }, form));
  key.focus();
}

function renderShell(section) {
  const root = document.getElementById('app');
  const select = el(
    'select',
    { id: 'program-select', 'aria-label': 'Program' },
    el('option', { value: '' }, 'All programs'),
    app.programs.map((p) =>
      el(
        'option',
        { value: p.slug, selected: app.program?.slug === p.slug },
        `${p.name} (${p.slug})`,
      ),
    ),
  );
  select.addEventListener('change', () => {
    location.hash = select.value
      ? programHref(select.value, section === 'programs' ? 'dashboard' : section)
      : '#/programs';
  });
  const tabs = app.program
    ? el(
        'nav',
        { class: 'tabs', 'aria-label': 'Sections' },
        SECTIONS.map(([id, label]) =>
          el(
            'a',
            {
              href: programHref(app.program.slug, id),
              id: `tab-${id}`,
              'aria-current': id === section ? 'page' : null,
            },
            label,
          ),
        ),
      )
    : null;
  const main = el('main', { class: 'view', id: 'view', dataset: { section } });
  clear(
    root,
    el(
      'header',
      { class: 'topbar' },
      el('a', { class: 'brand', href: '#/programs' }, 'Cardsmith'),
      select,
      el(
        'button',
        {
          type: 'button',
          class: 'btn btn-ghost',
          id: 'signout',
          onclick: () => signOut('Signed out: the key is forgotten.'),
        },
        'Sign out',
      ),
    ),
    tabs,
    main,
    el('div', { class: 'toast', id: 'toast', role: 'status', 'aria-live': 'polite', hidden: true }),
  );
  return main;
}

async function route() {
  app.scope?.end();
  if (!session.key()) {
    renderSignIn();
    return;
  }
  const scope = newScope();
  app.scope = scope;
  try {
    if (!app.programs.length) await loadPrograms();
    const m = /^#\/p\/([^/]+)\/([a-z]+)$/.exec(location.hash);
    const slug = m ? decodeURIComponent(m[1]) : null;
    const section = SECTIONS.find((s) => m && s[0] === m[2]);
    if (!slug || !section) {
      app.program = null;
      if (scope.alive) renderProgramsView(scope, renderShell('programs'));
      return;
    }
    if (app.program?.slug !== slug) {
      forgetImages();
      app.program = await api('GET', path`/api/v1/programs/${slug}`);
    }
    if (scope.alive) section[2](scope, renderShell(section[0]));
  } catch (err) {
    if (err.status === 401) return;
    if (err.status === 404) {
      location.hash = '#/programs';
      return;
    }
    const main = renderShell('programs');
    main.append(el('p', { class: 'error-text' }, `Could not load: ${err.message}`));
  }
}

onUnauthorized = () => signOut('The server refused the key: sign in again.');
window.addEventListener('hashchange', route);
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', route);
else route();
