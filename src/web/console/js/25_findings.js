// What a design change is (the PATCH body) and what the server found in it (validation
// problems, lint errors and warnings), shown as a list with the inputs at fault marked.

const PATCHABLE = [
  'name',
  'description',
  'organizationName',
  'logoText',
  'locale',
  'defaultOffer',
  'colors',
  'fields',
  'earnRule',
  'tiers',
];
const clone = (v) => JSON.parse(JSON.stringify(v ?? null));

// The properties of `edited` that differ from `published` (what PATCH needs).
function designPatch(published, edited) {
  const patch = {};
  for (const k of PATCHABLE) {
    if (JSON.stringify(published[k] ?? null) !== JSON.stringify(edited[k] ?? null))
      patch[k] = clone(edited[k]);
  }
  return patch;
}

// Lint report ({errors, warnings}) or validation problems as a list in `box`.
function showFindings(box, { title, lint, problems, ok }) {
  const items = [];
  for (const p of problems || [])
    items.push({ level: 'error', field: p.field, code: 'validation_failed', message: p.message });
  for (const e of lint?.errors || []) items.push({ level: 'error', ...e });
  for (const w of lint?.warnings || []) items.push({ level: 'warning', ...w });
  const list = el(
    'ul',
    { class: 'findings' },
    items.map((f) =>
      el(
        'li',
        { class: `finding finding-${f.level}`, dataset: { code: f.code || '' } },
        el('span', { class: `badge badge-${f.level}` }, f.level),
        el('code', {}, f.field || ''),
        ' ',
        el('span', {}, f.message || ''),
        f.code ? el('span', { class: 'muted' }, ` (${f.code})`) : null,
      ),
    ),
  );
  clear(
    box,
    el('h3', {}, title),
    items.length
      ? list
      : el(
          'p',
          { class: 'ok-text' },
          ok || 'No findings: holders will see the messages you meant.',
        ),
  );
  box.hidden = false;
  // Mark the inputs the findings name, so the merchant finds them.
  const form = document.getElementById('design-form');
  if (form) {
    for (const input of form.querySelectorAll('[data-path]')) {
      const hit = items.find((f) => f.level === 'error' && f.field === input.dataset.path);
      if (hit) input.setAttribute('aria-invalid', 'true');
      else if (input.dataset.path && !input.classList.contains('hex'))
        input.removeAttribute('aria-invalid');
    }
  }
}
