// Campaigns: a composer whose segment size is counted live by the API (dryRun, debounced),
// and sending; the counters and the latest campaigns are in 55_campaign_results.js.

function renderCampaignsView(scope, main) {
  const program = app.program;
  const tiers = (program.design.tiers || []).map((t) => t.name);
  const input = (id, props = {}) => el('input', { id, autocomplete: 'off', ...props });
  const f = {
    message: el('textarea', {
      id: 'campaign-message',
      rows: 3,
      maxlength: 2000,
      placeholder: 'Double points on every latte today',
    }),
    header: input('campaign-header', {
      type: 'text',
      maxlength: 200,
      placeholder: program.design.organizationName || '',
    }),
    link: input('campaign-link', { type: 'url', placeholder: 'https://…' }),
    balanceMin: input('campaign-balance-min', { type: 'number', min: 0, step: 1 }),
    balanceMax: input('campaign-balance-max', { type: 'number', min: 0, step: 1 }),
    inactiveDays: input('campaign-inactive', { type: 'number', min: 1, max: 3650, step: 1 }),
    enrolledFrom: input('campaign-enrolled-from', { type: 'date' }),
    enrolledTo: input('campaign-enrolled-to', { type: 'date' }),
    channels: input('campaign-channels', { type: 'text', placeholder: 'poster, till' }),
    sendAt: input('campaign-send-at', { type: 'datetime-local' }),
    expiresAt: input('campaign-expires-at', { type: 'datetime-local' }),
    quietStart: input('campaign-quiet-start', { type: 'time' }),
    quietEnd: input('campaign-quiet-end', { type: 'time' }),
    ratePerMinute: input('campaign-rate', {
      type: 'number',
      min: 1,
      step: 1,
      placeholder: 'as fast as possible',
    }),
    holdoutPercent: input('campaign-holdout', {
      type: 'number',
      min: 0,
      max: 50,
      step: 1,
      value: '0',
    }),
    frequencyCapHours: input('campaign-cap', {
      type: 'number',
      min: 0,
      max: 720,
      step: 1,
      placeholder: '24',
    }),
  };
  const tierBoxes = tiers.map((name) =>
    el('input', { type: 'checkbox', value: name, id: uid('tier') }),
  );
  const counter = el('span', { class: 'muted', id: 'campaign-message-count' });
  const count = el(
    'div',
    { class: 'segment-count', id: 'segment-count', 'aria-live': 'polite' },
    'Counting…',
  );
  const lintBox = el('div', { class: 'findings-box', id: 'campaign-findings', hidden: true });
  // Not an actionButton: after sending, the next count decides whether it is enabled.
  let sending = false;
  const sendButton = el(
    'button',
    { type: 'button', id: 'campaign-send', class: 'btn btn-primary', disabled: true },
    'Send',
  );
  sendButton.addEventListener('click', async () => {
    if (sending) return;
    sending = true;
    sendButton.disabled = true;
    try {
      await send();
    } catch (err) {
      showError(err);
    } finally {
      sending = false;
      dryRunSoon();
    }
  });
  const live = el('section', { class: 'panel', id: 'campaign-live', hidden: true });
  const listBox = el('section', { class: 'panel', id: 'campaign-list' });
  const results = campaignResults(scope, program, live, listBox);

  const num = (node) => (node.value === '' ? undefined : Number(node.value));
  const body = () => {
    const segment = {};
    const chosen = tierBoxes.filter((b) => b.checked).map((b) => b.value);
    if (chosen.length) segment.tiers = chosen;
    for (const k of ['balanceMin', 'balanceMax', 'inactiveDays'])
      if (num(f[k]) !== undefined) segment[k] = num(f[k]);
    for (const k of ['enrolledFrom', 'enrolledTo']) if (f[k].value) segment[k] = f[k].value;
    const channels = f.channels.value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (channels.length) segment.channels = channels;
    const b = { message: f.message.value, segment };
    if (f.header.value.trim()) b.header = f.header.value.trim();
    if (f.link.value.trim()) b.link = f.link.value.trim();
    if (f.sendAt.value) b.sendAt = f.sendAt.value;
    if (f.expiresAt.value) b.expiresAt = f.expiresAt.value;
    if (f.quietStart.value && f.quietEnd.value)
      b.quietHours = { start: f.quietStart.value, end: f.quietEnd.value };
    for (const k of ['ratePerMinute', 'holdoutPercent', 'frequencyCapHours'])
      if (num(f[k]) !== undefined) b[k] = num(f[k]);
    return b;
  };

  // The segment's size now. Before a message is typed the count uses a stand-in one (an
  // empty message is a lint error) and its lint report is not shown.
  let seq = 0;
  let lastCount = null;
  const dryRun = async () => {
    const mine = ++seq;
    const b = body();
    const real = b.message.trim() !== '';
    if (!real) b.message = 'count only';
    b.dryRun = true;
    count.dataset.state = 'counting';
    try {
      const r = await api('POST', path`/api/v1/programs/${program.slug}/campaigns`, { body: b });
      if (mine !== seq || !scope.alive) return;
      lastCount = r.targeted;
      count.dataset.state = 'ok';
      count.dataset.count = String(r.targeted);
      clear(
        count,
        el(
          'strong',
          { id: 'segment-size' },
          `${fmtInt(r.targeted)} card${r.targeted === 1 ? '' : 's'}`,
        ),
        ` in the segment now${r.heldOutEstimate ? `, about ${fmtInt(r.heldOutEstimate)} held out` : ''}; sending starts ${fmtDate(r.sendAt)}.`,
      );
      if (real)
        showFindings(lintBox, {
          title: 'Message check',
          lint: r.lint,
          ok: 'The message reads well on a lock screen.',
        });
      else lintBox.hidden = true;
      sendButton.disabled = sending || !real || r.targeted === 0;
      sendButton.textContent = real
        ? `Send to ${fmtInt(r.targeted)} card${r.targeted === 1 ? '' : 's'}`
        : 'Send';
    } catch (err) {
      if (mine !== seq || !scope.alive) return;
      count.dataset.state = 'error';
      delete count.dataset.count;
      clear(count, el('span', { class: 'error-text' }, err.message));
      if (err.lint && real) showFindings(lintBox, { title: 'Message check', lint: err.lint });
      sendButton.disabled = true;
    }
  };
  const dryRunSoon = debounce(dryRun, 400);
  const changed = () => {
    const n = [...f.message.value].length;
    counter.textContent = `${n} characters${n > 120 ? ': long for a lock screen (about 120 fit)' : ''}`;
    sendButton.disabled = true;
    dryRunSoon();
  };

  const send = async () => {
    dryRunSoon.cancel();
    const b = body();
    let r;
    try {
      r = await api('POST', path`/api/v1/programs/${program.slug}/campaigns`, { body: b });
    } catch (err) {
      if (err.lint || err.problems.length) {
        showFindings(lintBox, { title: 'Not sent', lint: err.lint, problems: err.problems });
        return;
      }
      throw err;
    }
    notify(`Campaign ${r.id} created.`);
    f.message.value = '';
    changed();
    results.follow(r, lastCount);
    results.loadList();
  };

  const composer = el(
    'form',
    {
      class: 'panel composer',
      id: 'campaign-form',
      novalidate: true,
      onsubmit: (e) => e.preventDefault(),
    },
    el('h3', {}, 'New campaign'),
    field(
      'Message',
      f.message,
      'The offer on the card and the lock-screen text. Put the point first.',
    ),
    counter,
    el(
      'div',
      { class: 'inline-fields' },
      field('Google Wallet title', f.header),
      field('Link (Google Wallet)', f.link),
    ),
    el(
      'fieldset',
      { class: 'group' },
      el('legend', {}, 'Who'),
      tiers.length
        ? el(
            'div',
            { class: 'field' },
            el('span', { class: 'label' }, 'Tiers'),
            el(
              'div',
              { class: 'checks' },
              tierBoxes.map((b) => el('label', { class: 'check', for: b.id }, b, b.value)),
            ),
          )
        : null,
      el(
        'div',
        { class: 'inline-fields' },
        field('Balance from', f.balanceMin),
        field('Balance to', f.balanceMax),
        field('Inactive for days', f.inactiveDays),
      ),
      el(
        'div',
        { class: 'inline-fields' },
        field('Issued from', f.enrolledFrom),
        field('Issued to', f.enrolledTo),
        field('Channels', f.channels, 'api, join or a ?src= tag'),
      ),
    ),
    el(
      'fieldset',
      { class: 'group' },
      el('legend', {}, `When (${program.timeZone || 'UTC'})`),
      el(
        'div',
        { class: 'inline-fields' },
        field('Send at', f.sendAt, 'Empty: now.'),
        field('Offer ends', f.expiresAt, 'Empty: a week later.'),
      ),
      el(
        'div',
        { class: 'inline-fields' },
        field('Quiet from', f.quietStart),
        field('Quiet until', f.quietEnd),
      ),
    ),
    el(
      'fieldset',
      { class: 'group' },
      el('legend', {}, 'How'),
      el(
        'div',
        { class: 'inline-fields' },
        field('Cards per minute', f.ratePerMinute),
        field('Holdout %', f.holdoutPercent, '0-50: held back to measure the effect.'),
        field('Frequency cap (hours)', f.frequencyCapHours),
      ),
    ),
    count,
    lintBox,
    el('div', { class: 'actions' }, sendButton),
  );
  // 'input' only: a 'change' fires when a field loses focus, which is also when the Send
  // button is pressed, and would disable it under the pointer.
  composer.addEventListener('input', changed);

  clear(
    main,
    el('h2', {}, 'Campaigns'),
    el(
      'div',
      { class: 'campaign-grid' },
      composer,
      el('div', { class: 'campaign-side' }, live, listBox),
    ),
  );
  changed();
  results.loadList();
}
