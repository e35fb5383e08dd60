// The dashboard: the program's totals and charts of its per-day series.

const sumValues = (o) => Object.values(o || {}).reduce((a, b) => a + (Number(b) || 0), 0);

function renderDashboardView(scope, main) {
  const program = app.program;
  const tiles = el(
    'div',
    { class: 'tiles', id: 'stats-tiles' },
    el('p', { class: 'muted' }, 'Loading…'),
  );
  const sources = el('div', { class: 'sources' });
  const charts = el('div', { class: 'charts', id: 'charts' });
  const days = el(
    'select',
    { id: 'stats-days', 'aria-label': 'Period' },
    [7, 30, 90].map((d) =>
      el('option', { value: String(d), selected: d === 30 }, `Last ${d} days`),
    ),
  );

  const loadTotals = async () => {
    const s = await api('GET', path`/api/v1/programs/${program.slug}/stats`);
    if (!scope.alive) return;
    const items = [
      ['cardsIssued', 'Cards issued'],
      ['passesInstalled', 'Passes installed'],
      ['devices', 'Devices now'],
      ['passesRemoved', 'Passes removed'],
      ['transactions', 'Transactions'],
      ['pointsEarned', 'Points earned'],
      ['pointsRedeemed', 'Points redeemed'],
      ['verifiedCards', 'Verified holders'],
      ['referrals', 'Referrals'],
    ];
    clear(
      tiles,
      items.map(([k, label]) =>
        el(
          'div',
          { class: 'tile', dataset: { stat: k } },
          el('span', { class: 'tile-value' }, fmtInt(s[k])),
          el('span', { class: 'tile-label' }, label),
        ),
      ),
    );
    const entries = Object.entries(s.cardsBySource || {}).sort((a, b) => b[1] - a[1]);
    const most = Math.max(1, ...entries.map((e) => e[1]));
    clear(
      sources,
      el('h3', {}, 'Cards by channel'),
      entries.length
        ? el(
            'ul',
            { class: 'meter-list' },
            entries.map(([name, n]) => {
              const meter = el('meter', { min: 0, max: most, value: n });
              return el(
                'li',
                {},
                el('span', { class: 'meter-name' }, name),
                meter,
                el('span', { class: 'num' }, fmtInt(n)),
              );
            }),
          )
        : el('p', { class: 'muted' }, 'No cards yet.'),
    );
  };

  const loadDaily = async () => {
    clear(charts, el('p', { class: 'muted' }, 'Loading…'));
    let r;
    try {
      r = await api('GET', path`/api/v1/programs/${program.slug}/stats/daily`, {
        query: { days: days.value },
      });
    } catch (err) {
      clear(
        charts,
        el(
          'p',
          { class: 'muted' },
          err.status === 404
            ? 'Per-day figures are not available on this server.'
            : `Per-day figures failed: ${err.message}`,
        ),
      );
      return;
    }
    if (!scope.alive) return;
    const list = r.days || [];
    const labels = list.map((d) => d.date);
    const pick = (fn) => list.map((d) => Number(fn(d)) || 0);
    clear(
      charts,
      lineChart('Cards issued and passes installed per day', labels, [
        { name: 'Cards issued', values: pick((d) => d.cardsIssued) },
        { name: 'Installs', values: pick((d) => sumValues(d.installs)) },
        { name: 'Removals', values: pick((d) => sumValues(d.removals)) },
      ]),
      barChart('Transactions per day', labels, [
        { name: 'Transactions', values: pick((d) => d.transactions) },
      ]),
      barChart('Points per day', labels, [
        { name: 'Earned', values: pick((d) => d.pointsEarned) },
        { name: 'Redeemed', values: pick((d) => d.pointsRedeemed) },
      ]),
      lineChart('Pushes per day, all wallets', labels, [
        { name: 'Delivered', values: pick((d) => sumValues((d.pushes || {}).delivered)) },
        { name: 'Retried', values: pick((d) => sumValues((d.pushes || {}).retried)) },
        { name: 'Failed', values: pick((d) => sumValues((d.pushes || {}).failed)) },
        { name: 'Unregistered', values: pick((d) => sumValues((d.pushes || {}).unregistered)) },
      ]),
    );
  };
  days.addEventListener('change', loadDaily);

  clear(
    main,
    el('div', { class: 'view-head' }, el('h2', {}, 'Dashboard'), days),
    tiles,
    el('section', { class: 'panel' }, sources),
    charts,
  );
  loadTotals().catch(showError);
  loadDaily();
}
