// Cards: search by number prefix or the holder's name, phone or e-mail, a card's details
// and pass, its history, and a manual points adjustment (with an Idempotency-Key, so a
// retried request never books twice).

function renderCardsView(scope, main) {
  const program = app.program;
  const q = el('input', {
    type: 'search',
    id: 'card-search',
    placeholder: 'Card number, name, phone or e-mail',
    autocomplete: 'off',
    spellcheck: 'false',
    enterkeyhint: 'search',
  });
  const status = el('p', { class: 'muted', id: 'card-search-status', 'aria-live': 'polite' });
  const results = el('div', { id: 'card-results' });
  const detail = el('section', { class: 'panel card-detail', id: 'card-detail', hidden: true });
  let seq = 0;
  // The live design's logo and strip, for the card's pass.
  const images = api('GET', path`/api/v1/programs/${program.slug}/designs/${program.designVersion}`)
    .then((d) => previewImages(program.slug, program.designVersion, d.images || []))
    .catch(() => ({}));

  const search = async () => {
    const mine = ++seq;
    const text = q.value.trim();
    status.textContent = 'Searching…';
    let cards = [];
    try {
      cards =
        (
          await api('GET', path`/api/v1/programs/${program.slug}/cards`, {
            query: { q: text, limit: 20 },
          })
        ).cards || [];
    } catch (err) {
      // Without the search endpoint a whole card number still finds its card.
      if (err.status !== 404 || !/^\d{16}$/.test(text)) {
        if (mine === seq) status.textContent = `Search failed: ${err.message}`;
        return;
      }
      cards = [await api('GET', path`/api/v1/cards/${text}`)];
    }
    if (mine !== seq || !scope.alive) return;
    status.textContent = cards.length
      ? `${cards.length} card${cards.length === 1 ? '' : 's'}${cards.length === 20 ? ' (the first 20)' : ''}`
      : 'No card matches.';
    const rows = cards.map((c) =>
      el(
        'tr',
        { class: 'clickable', dataset: { card: c.cardNumber } },
        el(
          'td',
          {},
          el(
            'button',
            { type: 'button', class: 'link-button', onclick: () => openCard(c.cardNumber) },
            groupDigits(c.cardNumber),
          ),
        ),
        el('td', {}, c.holder?.name || '–'),
        el('td', {}, c.holder?.phone || c.holder?.email || '–'),
        el('td', { class: 'num' }, fmtInt(c.balance)),
        el('td', {}, c.tier || '–'),
        el('td', {}, fmtDate(c.createdAt)),
      ),
    );
    clear(
      results,
      cards.length
        ? dataTable(['Card', 'Holder', 'Contact', 'Balance', 'Tier', 'Issued'], rows)
        : '',
    );
  };
  const searchSoon = debounce(search, 300);
  q.addEventListener('input', searchSoon);
  q.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      searchSoon.cancel();
      search();
    }
  });

  const openCard = async (number) => {
    const card = await api('GET', path`/api/v1/cards/${number}`).catch((err) => {
      showError(err);
      return null;
    });
    if (!card || !scope.alive) return;
    drawCard(card);
    detail.hidden = false;
    detail.scrollIntoView({ block: 'start', behavior: 'smooth' });
  };

  const drawCard = (card) => {
    const pass = el('div', { class: 'pv pv-compact' });
    const holder = {
      cardNumber: card.cardNumber,
      balance: card.balance,
      lifetimePoints: card.lifetimePoints,
      name: card.holder?.name,
      phone: card.holder?.phone,
      email: card.holder?.email,
      offer: card.offer,
    };
    const draw = (imgs) =>
      renderPassPreview(pass, program.design, {
        programName: program.name,
        card: holder,
        images: imgs,
      });
    draw({});
    images.then((imgs) => {
      if (scope.alive && pass.isConnected) draw(imgs);
    });
    const history = el('div', { class: 'history', id: 'card-history' });
    const facts = [
      ['Holder', card.holder?.name || '–'],
      ['Phone', card.holder?.phone || '–'],
      ['E-mail', card.holder?.email || '–'],
      ['Balance', fmtInt(card.balance)],
      ['Lifetime points', fmtInt(card.lifetimePoints)],
      ['Tier', card.tier || '–'],
      ['Offer', card.offer || `(default) ${program.design.defaultOffer || '–'}`],
      ['Came through', card.source],
      ['Verified', card.verified ? 'yes' : 'no'],
      ['Issued', fmtDate(card.createdAt)],
      ['Updated', fmtDate(card.updatedAt)],
    ];
    clear(
      detail,
      el('h3', {}, `Card ${groupDigits(card.cardNumber)}`),
      el(
        'div',
        { class: 'card-grid' },
        el(
          'div',
          {},
          el(
            'dl',
            { class: 'facts', id: 'card-facts' },
            facts.map(([k, v]) =>
              el('div', {}, el('dt', {}, k), el('dd', { dataset: { fact: k } }, v)),
            ),
          ),
          el(
            'p',
            { class: 'links' },
            externalLink(card.links?.page, 'Card page'),
            ' · ',
            externalLink(card.links?.pkpass, 'Apple Wallet pass'),
          ),
          adjustForm(card),
        ),
        pass,
      ),
      el('h3', {}, 'History'),
      history,
    );
    loadHistory(history, card.cardNumber, null);
  };

  // Points in or out by hand. The key stays the same while the same request is retried
  // after a network failure, and a new one is drawn for the next adjustment.
  const adjustForm = (card) => {
    const points = el('input', {
      type: 'number',
      id: 'adjust-points',
      step: 1,
      inputmode: 'numeric',
      required: true,
    });
    const note = el('input', {
      type: 'text',
      id: 'adjust-note',
      maxlength: 500,
      placeholder: 'Why (shown in the history)',
    });
    const out = el('p', { class: 'muted', id: 'adjust-result', 'aria-live': 'polite' });
    let pending = null;
    const submit = actionButton(
      'Book adjustment',
      async () => {
        const n = Number(points.value);
        if (!Number.isInteger(n) || n === 0)
          throw new Error('Points: a whole number other than 0 (negative takes points off).');
        const body = { points: n };
        if (note.value.trim()) body.note = note.value.trim();
        const text = JSON.stringify(body);
        if (!pending || pending.text !== text) pending = { text, key: newIdempotencyKey() };
        let r;
        try {
          r = await api('POST', path`/api/v1/cards/${card.cardNumber}/transactions`, {
            body,
            headers: { 'Idempotency-Key': pending.key },
          });
        } catch (err) {
          if (err instanceof ApiError) pending = null;
          throw err;
        }
        pending = null;
        out.textContent = `Booked ${fmtSigned(r.transaction.points)} points: the balance is ${fmtInt(r.balance)}.`;
        points.value = '';
        note.value = '';
        const fresh = await api('GET', path`/api/v1/cards/${card.cardNumber}`);
        if (scope.alive) {
          drawCard(fresh);
          document.getElementById('adjust-result').textContent = out.textContent;
        }
      },
      { id: 'adjust-submit', class: 'btn btn-primary' },
    );
    return el(
      'form',
      { class: 'adjust', novalidate: true, onsubmit: (e) => e.preventDefault() },
      el('h4', {}, 'Adjust the balance'),
      el(
        'div',
        { class: 'inline-fields' },
        field('Points', points, 'Negative to take off.'),
        field('Note', note),
      ),
      submit,
      out,
    );
  };

  const loadHistory = async (box, number, before) => {
    let r;
    try {
      r = await api('GET', path`/api/v1/cards/${number}/transactions`, {
        query: { limit: 50, before },
      });
    } catch (err) {
      box.append(el('p', { class: 'error-text' }, `History failed: ${err.message}`));
      return;
    }
    if (!scope.alive) return;
    let tbody = box.querySelector('tbody');
    if (!tbody) {
      box.append(dataTable(['When', 'Points', 'Amount', 'Note', 'Balance after']));
      tbody = box.querySelector('tbody');
    }
    for (const t of r.transactions || []) {
      tbody.append(
        el(
          'tr',
          { dataset: { tx: String(t.id) } },
          el('td', {}, fmtDate(t.createdAt)),
          el('td', { class: `num ${t.points < 0 ? 'neg' : 'pos'}` }, fmtSigned(t.points)),
          el('td', { class: 'num' }, t.amount == null ? '–' : fmtInt(t.amount)),
          el('td', {}, t.note || ''),
          el('td', { class: 'num' }, fmtInt(t.balanceAfter)),
        ),
      );
    }
    box.querySelector('.more')?.remove();
    if (!tbody.children.length)
      box.append(el('p', { class: 'muted more' }, 'No transactions yet.'));
    if (r.next != null)
      box.append(
        el(
          'div',
          { class: 'more' },
          actionButton('Older', () => loadHistory(box, number, r.next), { class: 'btn btn-small' }),
        ),
      );
  };

  clear(
    main,
    el('h2', {}, 'Cards'),
    el(
      'div',
      { class: 'search' },
      field(
        'Search',
        q,
        'A card number (or its first digits), or part of a name, phone number or e-mail.',
      ),
    ),
    status,
    results,
    detail,
  );
  search();
  q.focus();
}
