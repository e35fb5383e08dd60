// The design editor: texts, colours and the five field groups of the published design,
// edited in place with the preview redrawn on every keystroke. "Check" validates and lints
// the change without saving it (PATCH ?dryRun=true), "Save draft" keeps it as a version
// to publish later (PATCH ?draft=true); "Publish" saves and publishes it (PATCH), then
// follows the rollout. The change and its findings are in
// 25_findings.js; images, versions and rollouts in 35_design_versions.js.

const DESIGN_TEXTS = [
  ['organizationName', 'Organization name', 'Shown with lock-screen messages and on the back.'],
  ['logoText', 'Logo text', 'Next to the logo on the front.'],
  ['description', 'Description', 'Read out by VoiceOver; not shown.'],
  [
    'defaultOffer',
    'Default offer',
    'The {{offer}} value while no campaign or birthday offer is on the card.',
  ],
];
const DESIGN_COLORS = [
  ['background', 'Background'],
  ['foreground', 'Values'],
  ['label', 'Labels'],
];
const FIELD_GROUPS = [
  [
    'header',
    'Header fields',
    'Top right of the front, always visible in the stack: up to 3 short fields.',
  ],
  ['primary', 'Primary field', 'Over the strip image, in large type: one field.'],
  [
    'secondary',
    'Secondary fields',
    'The row under the strip, shared with the auxiliary fields (4 in all).',
  ],
  ['auxiliary', 'Auxiliary fields', 'Continue the row under the strip.'],
  [
    'back',
    'Back fields',
    'The back of the card (behind the (i) button): terms, how it works, contact.',
  ],
];
const PLACEHOLDERS = [
  'balance',
  'lifetimePoints',
  'tier',
  'offer',
  'holder.name',
  'holder.phone',
  'holder.email',
  'cardNumber',
  'program.name',
];

function renderDesignView(scope, main) {
  const program = app.program;
  const state = {
    published: clone(program.design),
    design: clone(program.design),
    images: {},
  };
  const preview = el('div', { class: 'pv', id: 'preview' });
  const findings = el('section', {
    class: 'panel findings-box',
    id: 'design-findings',
    'aria-live': 'polite',
    hidden: true,
  });
  const rolloutBox = el('div', { id: 'rollout-box' });
  const dirty = el('p', { class: 'dirty muted', id: 'design-dirty', 'aria-live': 'polite' });
  const form = el('form', { class: 'editor', id: 'design-form', novalidate: true });
  form.addEventListener('submit', (e) => e.preventDefault());

  const redraw = () => {
    renderPassPreview(preview, state.design, { programName: program.name, images: state.images });
    const changed = Object.keys(designPatch(state.published, state.design));
    dirty.textContent = changed.length ? `Not published yet: ${changed.join(', ')}` : 'No changes.';
    form.dataset.dirty = changed.length ? 'true' : 'false';
  };

  const textInput = (name, label, hint) => {
    const input = el('input', {
      type: 'text',
      id: `design-${name}`,
      value: state.design[name] ?? '',
      autocomplete: 'off',
      dataset: { path: name },
    });
    input.addEventListener('input', () => {
      state.design[name] = input.value;
      redraw();
    });
    return field(label, input, hint);
  };

  const colorInput = (name, label) => {
    const colors = (state.design.colors ||= {});
    const hex = el('input', {
      type: 'text',
      id: `color-${name}`,
      class: 'hex',
      value: colors[name] || '',
      maxlength: 7,
      spellcheck: 'false',
      autocomplete: 'off',
      dataset: { path: `colors.${name}` },
    });
    const picker = el('input', {
      type: 'color',
      class: 'swatch',
      value: HEX_COLOR.test(colors[name] || '') ? colors[name].toLowerCase() : '#000000',
      'aria-label': `${label} colour picker`,
    });
    picker.addEventListener('input', () => {
      hex.value = picker.value.toUpperCase();
      hex.removeAttribute('aria-invalid');
      colors[name] = hex.value;
      redraw();
    });
    hex.addEventListener('input', () => {
      const v = hex.value.trim();
      if (!HEX_COLOR.test(v)) {
        hex.setAttribute('aria-invalid', 'true');
        return;
      }
      hex.removeAttribute('aria-invalid');
      picker.value = v.toLowerCase();
      colors[name] = v.toUpperCase();
      redraw();
    });
    return el(
      'div',
      { class: 'field color-field' },
      el('label', { for: hex.id }, label),
      el('div', { class: 'color-pair' }, picker, hex),
    );
  };

  const fieldsBox = el('div', { class: 'groups' });
  const drawGroups = () => {
    clear(fieldsBox);
    const fields = (state.design.fields ||= {});
    for (const [group, title, hint] of FIELD_GROUPS) {
      const list = (fields[group] ||= []);
      const box = el(
        'fieldset',
        { class: 'group', id: `group-${group}` },
        el('legend', {}, title),
        el('p', { class: 'hint' }, hint),
      );
      list.forEach((f, i) => box.append(fieldRow(group, list, f, i)));
      box.append(
        el(
          'button',
          {
            type: 'button',
            class: 'btn btn-small',
            onclick: () => {
              let n = list.length + 1;
              const keys = new Set(
                Object.values(fields)
                  .flat()
                  .map((x) => x.key),
              );
              while (keys.has(`${group}${n}`)) n++;
              list.push({ key: `${group}${n}`, label: '', value: '' });
              drawGroups();
              redraw();
            },
          },
          `Add ${group} field`,
        ),
      );
      fieldsBox.append(box);
    }
  };

  const fieldRow = (group, list, f, i) => {
    const at = `fields.${group}[${i}]`;
    const input = (prop, label, props = {}) => {
      const node = el('input', {
        type: 'text',
        value: f[prop] ?? '',
        autocomplete: 'off',
        dataset: { path: `${at}.${prop}` },
        ...props,
      });
      node.addEventListener('input', () => {
        if (prop === 'changeMessage' && node.value === '') delete f.changeMessage;
        else f[prop] = node.value;
        redraw();
      });
      return field(label, node);
    };
    const move = (delta) => {
      const j = i + delta;
      if (j < 0 || j >= list.length) return;
      [list[i], list[j]] = [list[j], list[i]];
      drawGroups();
      redraw();
    };
    return el(
      'div',
      { class: 'field-row' },
      input('key', 'Key', { class: 'key', spellcheck: 'false' }),
      input('label', 'Label'),
      input('value', 'Value', { placeholder: '{{balance}}' }),
      input('changeMessage', 'Change message', { placeholder: 'e.g. You now have %@ points' }),
      el(
        'div',
        { class: 'row-tools' },
        el(
          'button',
          {
            type: 'button',
            class: 'btn btn-icon',
            'aria-label': `Move ${f.key} up`,
            onclick: () => move(-1),
            disabled: i === 0,
          },
          '↑',
        ),
        el(
          'button',
          {
            type: 'button',
            class: 'btn btn-icon',
            'aria-label': `Move ${f.key} down`,
            onclick: () => move(1),
            disabled: i === list.length - 1,
          },
          '↓',
        ),
        el(
          'button',
          {
            type: 'button',
            class: 'btn btn-icon btn-danger',
            'aria-label': `Remove ${f.key}`,
            onclick: () => {
              list.splice(i, 1);
              drawGroups();
              redraw();
            },
          },
          '×',
        ),
      ),
    );
  };

  const locale = el(
    'select',
    { id: 'design-locale' },
    ['en', 'ru'].map((l) => el('option', { value: l, selected: state.design.locale === l }, l)),
  );
  locale.addEventListener('change', () => {
    state.design.locale = locale.value;
    redraw();
  });

  const canary = el(
    'select',
    { id: 'publish-canary' },
    [0, 5, 10, 25, 50].map((p) =>
      el('option', { value: String(p) }, p ? `Canary: ${p} % of devices first` : 'To every card'),
    ),
  );

  // "check": validates and lints, saving nothing; "draft": saves a version to publish
  // later; "publish": saves and starts the rollout.
  const save = async (mode) => {
    const draft = mode !== 'publish';
    const patch = designPatch(state.published, state.design);
    if (!Object.keys(patch).length) {
      notify('Nothing to save: the design is as published.');
      return;
    }
    const query =
      mode === 'check'
        ? { dryRun: 'true' }
        : draft
          ? { draft: 'true' }
          : { canary: canary.value === '0' ? null : canary.value };
    let r;
    try {
      r = await api('PATCH', path`/api/v1/programs/${program.slug}/design`, { body: patch, query });
    } catch (err) {
      if (err.lint || err.problems.length) {
        showFindings(findings, {
          title: err.lint ? 'Lint errors: not saved' : 'Not valid: not saved',
          lint: err.lint,
          problems: err.problems,
        });
        return;
      }
      throw err;
    }
    showFindings(findings, {
      title: r.unchanged
        ? 'Unchanged'
        : mode === 'check'
          ? 'Checked: nothing saved'
          : draft
            ? `Saved as draft version ${r.version}`
            : `Published version ${r.version}`,
      lint: r.lint,
    });
    if (mode === 'check') return;
    if (!draft && !r.unchanged) {
      state.published = clone(r.design);
      app.updateProgram(r);
      redraw();
      if (r.rollout) watchRollout(scope, rolloutBox, r.rollout);
    }
    versions.reload();
  };

  const actions = el(
    'div',
    { class: 'actions sticky-actions' },
    actionButton('Check', () => save('check'), { id: 'design-check', class: 'btn btn-secondary' }),
    actionButton('Save draft', () => save('draft'), {
      id: 'design-draft',
      class: 'btn btn-secondary',
    }),
    canary,
    actionButton('Publish', () => save('publish'), {
      id: 'design-publish',
      class: 'btn btn-primary',
    }),
    el(
      'button',
      {
        type: 'button',
        class: 'btn btn-ghost',
        id: 'design-discard',
        onclick: () => route(),
      },
      'Discard changes',
    ),
    dirty,
  );

  const texts = el(
    'fieldset',
    { class: 'group' },
    el('legend', {}, 'Texts'),
    DESIGN_TEXTS.map(([n, l, h]) => textInput(n, l, h)),
    field('Language', locale, 'Of the card page and the join form.'),
  );
  const colors = el(
    'fieldset',
    { class: 'group' },
    el('legend', {}, 'Colours'),
    el(
      'div',
      { class: 'colors' },
      DESIGN_COLORS.map(([n, l]) => colorInput(n, l)),
    ),
  );
  const placeholders = el(
    'p',
    { class: 'hint' },
    'Placeholders: ',
    PLACEHOLDERS.map((p, i) => [i ? ', ' : '', el('code', {}, `{{${p}}}`)]),
    '. A change message needs %@ (the new value); a field with one announces its changes on the lock screen.',
  );
  drawGroups();
  form.append(
    texts,
    colors,
    el('fieldset', { class: 'group' }, el('legend', {}, 'Fields'), placeholders, fieldsBox),
  );

  const imagesBox = el('section', { class: 'panel', id: 'images' });
  const versionsBox = el('section', { class: 'panel', id: 'versions' });
  const versions = designVersions(
    scope,
    versionsBox,
    imagesBox,
    rolloutBox,
    findings,
    async (names, version) => {
      state.images = await previewImages(program.slug, version, names);
      if (scope.alive) redraw();
    },
  );

  clear(
    main,
    el(
      'div',
      { class: 'design-grid' },
      el(
        'div',
        { class: 'design-main' },
        el('h2', {}, 'Design'),
        actions,
        findings,
        rolloutBox,
        form,
        imagesBox,
        versionsBox,
      ),
      el(
        'aside',
        { class: 'design-preview', 'aria-label': 'Preview' },
        el('h2', {}, 'Preview'),
        el(
          'p',
          { class: 'hint' },
          'As Wallet draws it, for a sample holder; it follows your typing.',
        ),
        preview,
      ),
    ),
  );
  redraw();
  versions.reload();
  resumeRollout(scope, rolloutBox, program.slug);
}
