// A campaign's counters, polled while it is scheduled or sending, and the program's latest
// campaigns (each opens its counters).

const CAMPAIGN_ACTIVE = new Set(['scheduled', 'sending']);
const COUNTERS = [
  ['targeted', 'Targeted'],
  ['sent', 'Sent'],
  ['heldOut', 'Held out'],
  ['capped', 'Capped'],
  ['unreachable', 'Unreachable'],
  ['failed', 'Failed'],
  ['delivered', 'Delivered'],
  ['redeemed', 'Redeemed'],
];

// `live`: the box for the followed campaign; `listBox`: the latest campaigns.
function campaignResults(scope, program, live, listBox) {
  // The campaign's counters, polled every second while it is scheduled or sending.
  const follow = (campaign, expected) => {
    live.hidden = false;
    const token = {};
    live.following = token;
    const draw = (c) => {
      live.dataset.state = c.state;
      live.dataset.id = String(c.id);
      const total = Math.max(expected || 0, c.targeted, 1);
      clear(
        live,
        el(
          'h3',
          {},
          `Campaign ${c.id} `,
          el('span', { class: `badge state-${c.state}`, id: 'campaign-state' }, c.state),
        ),
        el('p', { class: 'campaign-message' }, c.message),
        el('progress', {
          id: 'campaign-progress',
          max: total,
          value: c.state === 'done' ? total : c.targeted,
        }),
        el(
          'dl',
          { class: 'counters', id: 'campaign-counters' },
          COUNTERS.map(([k, label]) =>
            el(
              'div',
              { class: 'counter' },
              el('dt', {}, label),
              el('dd', { dataset: { counter: k } }, fmtInt(c[k])),
            ),
          ),
        ),
        el(
          'p',
          { class: 'muted' },
          `Redemption ${fmtPercent(c.redemptionRate)} of delivered` +
            (c.effect && c.effect.heldOut > 0
              ? ` · offered ${fmtPercent(c.effect.offeredRate)} against ${fmtPercent(c.effect.holdoutRate)} held out (lift ${fmtPercent(c.effect.lift)})`
              : '') +
            ` · starts ${fmtDate(c.sendAt)} · offer ends ${fmtDate(c.expiresAt)}`,
        ),
        CAMPAIGN_ACTIVE.has(c.state)
          ? confirmButton(
              'Cancel campaign',
              'Stop sending?',
              async () => {
                draw(await api('POST', path`/api/v1/campaigns/${c.id}/cancel`));
                loadList();
              },
              { id: 'campaign-cancel' },
            )
          : null,
      );
    };
    let current = campaign;
    const tick = async () => {
      if (!scope.alive || live.following !== token) return;
      try {
        current = await api('GET', path`/api/v1/campaigns/${current.id}`);
        draw(current);
      } catch (err) {
        notify(`Could not read the campaign: ${err.message}`);
      }
      if (CAMPAIGN_ACTIVE.has(current.state))
        scope.later(current.state === 'sending' ? 1000 : 3000, tick);
      else loadList();
    };
    draw(current);
    scope.later(500, tick);
  };

  const loadList = async () => {
    let r;
    try {
      r = await api('GET', path`/api/v1/programs/${program.slug}/campaigns`);
    } catch (err) {
      showError(err);
      return;
    }
    if (!scope.alive) return;
    const rows = (r.campaigns || []).map((c) =>
      el(
        'tr',
        { dataset: { campaign: String(c.id) } },
        el(
          'td',
          { class: 'num' },
          el(
            'button',
            { type: 'button', class: 'link-button', onclick: () => follow(c, null) },
            String(c.id),
          ),
        ),
        el('td', { class: 'clip' }, c.message),
        el('td', {}, el('span', { class: `badge state-${c.state}` }, c.state)),
        ['targeted', 'sent', 'delivered', 'redeemed'].map((k) =>
          el('td', { class: 'num' }, fmtInt(c[k])),
        ),
        el('td', {}, fmtDate(c.sendAt)),
      ),
    );
    clear(
      listBox,
      el('h3', {}, 'Latest campaigns'),
      rows.length
        ? dataTable(
            ['#', 'Message', 'State', 'Targeted', 'Sent', 'Delivered', 'Redeemed', 'Sends'],
            rows,
          )
        : el('p', { class: 'muted' }, 'No campaign yet.'),
    );
  };

  return { follow, loadList };
}
