// Programs: the key's programs (GET /api/v1/programs) to choose from, and a new one from a
// starter template.

function renderProgramsView(scope, main) {
  const list = el('div', { class: 'program-list', id: 'program-list' });
  for (const p of app.programs) {
    const open = (tab) =>
      el(
        'a',
        { class: 'btn btn-small', href: programHref(p.slug, tab) },
        tab[0].toUpperCase() + tab.slice(1),
      );
    list.append(
      el(
        'article',
        { class: 'panel program', dataset: { slug: p.slug } },
        el(
          'div',
          { class: 'program-head' },
          el('span', { class: 'program-swatch', 'aria-hidden': 'true' }),
          el('h3', {}, p.name),
        ),
        el(
          'dl',
          { class: 'facts' },
          [
            ['Slug', p.slug],
            ['Template', p.template],
            ['Design version', String(p.designVersion)],
            ['Time zone', p.timeZone],
            ['Created', fmtDate(p.createdAt)],
          ].map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v))),
        ),
        el('p', {}, externalLink(p.links?.join, 'Join page')),
        el('div', { class: 'actions' }, ['dashboard', 'design', 'cards', 'campaigns'].map(open)),
      ),
    );
    const swatch = list.lastChild.querySelector('.program-swatch');
    if (HEX_COLOR.test(p.design?.colors?.background || ''))
      swatch.style.setProperty('--swatch', p.design.colors.background);
  }
  if (!app.programs.length)
    list.append(el('p', { class: 'muted' }, 'No program yet: make the first one below.'));

  const slug = el('input', {
    type: 'text',
    id: 'new-slug',
    pattern: '[a-z0-9-]{2,64}',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const name = el('input', { type: 'text', id: 'new-name', maxlength: 100, autocomplete: 'off' });
  const template = el('select', { id: 'new-template' });
  const merchant = el('input', { type: 'number', id: 'new-merchant', min: 1, step: 1 });
  const out = el('p', { class: 'error-text', 'aria-live': 'polite' });
  api('GET', '/api/v1/templates').then((r) => {
    for (const t of r.templates || [])
      template.append(el('option', { value: t.name }, `${t.name}: ${t.design?.description || ''}`));
  }, showError);
  const create = actionButton(
    'Create program',
    async () => {
      const body = { slug: slug.value.trim(), name: name.value.trim(), template: template.value };
      if (merchant.value) body.merchant = Number(merchant.value);
      try {
        const p = await api('POST', '/api/v1/programs', { body });
        await loadPrograms();
        location.hash = programHref(p.slug, 'design');
      } catch (err) {
        out.textContent = err.message;
      }
    },
    { class: 'btn btn-primary', id: 'new-program' },
  );
  const form = el(
    'form',
    { class: 'panel', novalidate: true, onsubmit: (e) => e.preventDefault() },
    el('h3', {}, 'New program'),
    el(
      'div',
      { class: 'inline-fields' },
      field('Name', name),
      field('Slug', slug, 'Its public name in links: 2-64 of a-z, 0-9 and -.'),
      field('Template', template),
    ),
    el(
      'details',
      {},
      el('summary', {}, 'Signed in with the admin key?'),
      field('Merchant id', merchant, 'The merchant the program is for.'),
    ),
    create,
    out,
  );
  clear(main, el('h2', {}, 'Programs'), list, form);
}
