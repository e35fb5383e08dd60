// Design versions (publish a draft, roll back), images (upload with the size rules) and
// the rollout that follows a publication, polled every 500 ms into a progress bar.

const IMAGE_RULES = {
  icon: { text: '29 × 29 pt, exactly', check: (w, h) => w === 29 && h === 29 },
  logo: { text: 'up to 160 × 50 pt', check: (w, h) => w <= 160 && h <= 50 },
  strip: {
    text: '375 pt wide, 123-144 pt high',
    check: (w, h) => w === 375 && h >= 123 && h <= 144,
  },
  thumbnail: { text: 'up to 90 × 90 pt', check: (w, h) => w <= 90 && h <= 90 },
};
const IMAGE_SCALES = ['', '@2x', '@3x'];

function imageParts(name) {
  const m = /^(icon|logo|strip|thumbnail)(@[23]x)?$/.exec(name);
  return m ? { base: m[1], scale: m[2] ? Number(m[2][1]) : 1 } : null;
}

// The pixel size rule of an image name, e.g. "logo@2x": "up to 320 × 100 px".
function imageHint(name) {
  const { base, scale } = imageParts(name);
  const s = (n) => n * scale;
  switch (base) {
    case 'icon':
      return `${s(29)} × ${s(29)} px`;
    case 'logo':
      return `up to ${s(160)} × ${s(50)} px`;
    case 'strip':
      return `${s(375)} × ${s(123)}-${s(144)} px`;
    default:
      return `up to ${s(90)} × ${s(90)} px`;
  }
}

// '' when a w × h pixel image fits the name's rule, else what is wrong.
function imageProblem(name, w, h) {
  const { base, scale } = imageParts(name);
  if (w % scale || h % scale || !IMAGE_RULES[base].check(w / scale, h / scale)) {
    return `${name} is ${w} × ${h} px; it must be ${imageHint(name)} (${IMAGE_RULES[base].text} at ${scale}x)`;
  }
  return '';
}

async function pngSize(blob) {
  const bitmap = await createImageBitmap(blob);
  const size = { w: bitmap.width, h: bitmap.height };
  bitmap.close();
  return size;
}

const ROLLOUT_ACTIVE = new Set(['running', 'paused', 'canary']);

// Shows `rollout` in `box` and polls it every 500 ms (2 s while paused or at its canary)
// until it ends, with the actions its state allows.
function watchRollout(scope, box, rollout) {
  const watch = { id: rollout.id };
  box.watching = watch;
  const bar = el('progress', { id: 'rollout-progress', max: 100, value: 0 });
  const percent = el('span', { class: 'rollout-percent', id: 'rollout-percent' });
  const badge = el('span', { id: 'rollout-state', class: 'badge' });
  const numbers = el('p', { class: 'rollout-numbers', id: 'rollout-numbers' });
  const buttons = el('div', { class: 'actions' });
  const title = el('h3', { id: uid('rt') });
  const panel = el(
    'section',
    { class: 'panel rollout', id: 'rollout', 'aria-labelledby': title.id },
    title,
    el('div', { class: 'progress-line' }, bar, percent, badge),
    numbers,
    buttons,
  );
  clear(box, panel);
  let current = rollout;

  const act = (action) => async () => {
    const r = await api('POST', path`/api/v1/rollouts/${current.id}/${action}`);
    current = r;
    draw();
    if (r.revert) {
      notify(`Rollout cancelled: version ${r.revert.version} is live again and its cards go back.`);
      // The editor, preview and versions start again from the design that is live now;
      // the new view picks up the revert's rollout.
      await app.reloadProgram();
      route();
    }
  };

  const draw = () => {
    const r = current;
    panel.dataset.state = r.state;
    panel.dataset.id = String(r.id);
    title.textContent = `Rollout ${r.id}: version ${r.version} (from ${r.fromVersion})`;
    const p = Math.max(0, Math.min(1, Number(r.progress) || 0));
    bar.value = Math.round(p * 1000) / 10;
    bar.textContent = `${Math.round(p * 100)} %`;
    percent.textContent = `${Math.floor(p * 100)} %`;
    badge.textContent = r.state;
    badge.className = `badge state-${r.state}`;
    const bits = [
      `${fmtInt(r.cardsDone)} of ${fmtInt(r.cardsTotal)} cards`,
      `${fmtInt(r.ratePerSecond)} cards/s`,
    ];
    if (r.etaSeconds != null && r.state === 'running')
      bits.push(`about ${fmtDuration(r.etaSeconds)} left`);
    bits.push(`${fmtInt(r.pushesQueued)} pushes for ${fmtInt(r.devicesTotal)} devices`);
    if (r.canaryPercent)
      bits.push(
        `canary ${r.canaryPercent} % (${fmtInt(r.canaryDevices)} devices)${r.canaryConfirmed ? ', confirmed' : ''}`,
      );
    numbers.textContent = bits.join(' · ');
    // The buttons change only with the state: not rebuilt under the pointer at every poll.
    const shape = `${r.state}/${r.canaryPercent}/${r.canaryConfirmed}`;
    if (buttons.dataset.shape === shape) return;
    buttons.dataset.shape = shape;
    clear(buttons);
    if (r.state === 'running' || r.state === 'canary')
      buttons.append(actionButton('Pause', act('pause'), { id: 'rollout-pause' }));
    if (r.state === 'paused')
      buttons.append(actionButton('Resume', act('resume'), { id: 'rollout-resume' }));
    if (ROLLOUT_ACTIVE.has(r.state) && r.canaryPercent && !r.canaryConfirmed) {
      buttons.append(
        actionButton('Confirm: send to everyone', act('confirm'), {
          id: 'rollout-confirm',
          class: 'btn btn-primary',
        }),
      );
    }
    if (ROLLOUT_ACTIVE.has(r.state))
      buttons.append(
        confirmButton('Cancel and revert', 'Really revert every card?', act('cancel'), {
          id: 'rollout-cancel',
        }),
      );
  };

  const tick = async () => {
    if (!scope.alive || box.watching !== watch) return;
    try {
      current = await api('GET', path`/api/v1/rollouts/${current.id}`);
      draw();
    } catch (err) {
      numbers.textContent = `Could not read the rollout: ${err.message}`;
    }
    if (ROLLOUT_ACTIVE.has(current.state))
      scope.later(current.state === 'running' ? 500 : 2000, tick);
  };
  draw();
  if (ROLLOUT_ACTIVE.has(current.state)) scope.later(500, tick);
}

// After a reload, picks up the program's rollout still in progress.
async function resumeRollout(scope, box, slug) {
  try {
    const r = await api('GET', path`/api/v1/programs/${slug}/rollouts`);
    const active = (r.rollouts || []).find((x) => ROLLOUT_ACTIVE.has(x.state));
    if (active && scope.alive && !box.watching) watchRollout(scope, box, active);
  } catch {
    // the editor works without it
  }
}

// A button that asks once more (its label changes for 4 s) before it acts.
function confirmButton(label, confirmLabel, action, props = {}) {
  let armed = false;
  let timer = 0;
  const button = actionButton(
    label,
    async (b) => {
      if (!armed) {
        armed = true;
        b.textContent = confirmLabel;
        b.classList.add('btn-armed');
        timer = setTimeout(() => {
          armed = false;
          b.textContent = label;
          b.classList.remove('btn-armed');
        }, 4000);
        return;
      }
      clearTimeout(timer);
      armed = false;
      await action(b);
    },
    { class: 'btn btn-danger', ...props },
  );
  return button;
}

// The versions table and the images of the live version. `onImages(names, version)` is
// called with the live version's image names whenever they are (re)loaded.
function designVersions(scope, versionsBox, imagesBox, rolloutBox, findings, onImages) {
  const slug = app.program.slug;

  const applyPublished = (r) => {
    app.updateProgram(r);
    if (r.lint)
      showFindings(findings, { title: `Published (version ${r.designVersion})`, lint: r.lint });
    if (r.rollout) watchRollout(scope, rolloutBox, r.rollout);
    reload();
  };

  const publish = async (version, force) => {
    try {
      applyPublished(
        await api('POST', path`/api/v1/programs/${slug}/designs/${version}/publish`, {
          query: force ? { force: 'true' } : {},
        }),
      );
    } catch (err) {
      if (!err.lint) throw err;
      showFindings(findings, {
        title: `Version ${version} has lint errors: not published`,
        lint: err.lint,
      });
      findings.append(
        confirmButton('Publish anyway', 'Publish despite the errors?', () =>
          publish(version, true),
        ),
      );
    }
  };

  const drawVersions = (list) => {
    const rows = list.map((v) => {
      const status = v.current
        ? 'live'
        : v.publishedAt
          ? 'published before'
          : v.version === 1
            ? 'first version'
            : 'draft';
      const action = v.current
        ? null
        : actionButton(
            v.publishedAt || v.version === 1 ? 'Roll back' : 'Publish',
            () => publish(v.version, false),
            { class: 'btn btn-small' },
          );
      return el(
        'tr',
        { dataset: { version: String(v.version) } },
        el('td', { class: 'num' }, String(v.version)),
        el('td', {}, el('span', { class: `badge state-${v.current ? 'done' : 'idle'}` }, status)),
        el('td', {}, v.note || '–'),
        el('td', {}, fmtDate(v.createdAt)),
        el('td', {}, fmtDate(v.publishedAt)),
        el('td', {}, action),
      );
    });
    clear(
      versionsBox,
      el('h3', {}, 'Versions'),
      dataTable(['#', 'Status', 'What changed', 'Made', 'Last published', ''], rows),
    );
  };

  const drawImages = async (names, version) => {
    const thumbs = el('div', { class: 'thumbs' });
    for (const name of names) {
      const img = el('img', { alt: name, class: 'thumb-img' });
      const size = el('span', { class: 'muted' });
      img.addEventListener('load', () => {
        size.textContent = ` ${img.naturalWidth} × ${img.naturalHeight} px`;
      });
      designImageUrl(slug, version, name).then(
        (u) => {
          img.src = u;
        },
        () => {},
      );
      thumbs.append(
        el(
          'figure',
          { class: 'thumb' },
          el('div', { class: 'thumb-frame' }, img),
          el('figcaption', {}, el('code', {}, name), size),
        ),
      );
    }
    const allNames = Object.keys(IMAGE_RULES).flatMap((b) => IMAGE_SCALES.map((s) => b + s));
    const which = el(
      'select',
      { id: 'image-name' },
      allNames.map((n) => el('option', { value: n, selected: n === 'logo@2x' }, n)),
    );
    const hint = el('p', { class: 'hint', id: 'image-hint', 'aria-live': 'polite' });
    const showHint = () => {
      hint.textContent = `${which.value}: ${imageHint(which.value)} (PNG, at most 1 MiB).`;
    };
    which.addEventListener('change', showHint);
    showHint();
    const file = el('input', { type: 'file', id: 'image-file', accept: 'image/png' });
    const draft = el('input', { type: 'checkbox', id: 'image-draft' });
    const upload = actionButton(
      'Upload',
      async () => {
        const f = file.files[0];
        if (!f) throw new Error('Choose a PNG file first.');
        const { w, h } = await pngSize(f).catch(() => {
          throw new Error('That file is not an image the browser can read.');
        });
        const problem = imageProblem(which.value, w, h);
        if (problem) throw new Error(problem);
        const r = await api('PUT', path`/api/v1/programs/${slug}/images/${which.value}`, {
          body: f,
          headers: { 'Content-Type': 'image/png' },
          query: draft.checked ? { draft: 'true' } : {},
        });
        file.value = '';
        if (draft.checked) {
          showFindings(findings, {
            title: `Image saved in draft version ${r.version}`,
            lint: r.lint,
          });
          reload();
        } else {
          applyPublished(r);
        }
      },
      { id: 'image-upload', class: 'btn btn-primary' },
    );
    clear(
      imagesBox,
      el('h3', {}, `Images of version ${version}`),
      el(
        'ul',
        { class: 'size-hints' },
        el(
          'li',
          {},
          el('strong', {}, 'icon'),
          ' 29 × 29 pt (@2x 58 × 58, @3x 87 × 87 px): lock-screen messages',
        ),
        el(
          'li',
          {},
          el('strong', {}, 'logo'),
          ' up to 160 × 50 pt (@2x 320 × 100 px): top left of the front',
        ),
        el(
          'li',
          {},
          el('strong', {}, 'strip'),
          ' 375 × 123-144 pt (@2x 750 × 246-288 px): behind the primary field',
        ),
      ),
      names.length ? thumbs : el('p', { class: 'muted' }, 'No images.'),
      el(
        'div',
        { class: 'upload' },
        field('Image', which),
        field('PNG file', file),
        el(
          'div',
          { class: 'field check' },
          draft,
          el('label', { for: draft.id }, 'Save as a draft (publish it from the versions)'),
        ),
        upload,
        hint,
      ),
    );
  };

  const reload = async () => {
    try {
      const r = await api('GET', path`/api/v1/programs/${slug}/designs`);
      if (!scope.alive) return;
      drawVersions(r.versions || []);
      const live = (r.versions || []).find((v) => v.current);
      if (live) {
        drawImages(live.images || [], live.version);
        onImages(live.images || [], live.version);
      }
    } catch (err) {
      showError(err);
    }
  };
  return { reload };
}
