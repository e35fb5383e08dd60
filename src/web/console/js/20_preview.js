// The live preview: a store card drawn the way Wallet draws one (front: logo and logo
// text with the header fields on the right, the strip image with the primary field over
// it, secondary and auxiliary fields in one row, the barcode; back: the back fields as a
// list), from a design as edited, before anything is saved.

const SAMPLE_HOLDER = {
  cardNumber: '4000123412341234',
  balance: 120,
  lifetimePoints: 480,
  name: 'Alex Sample',
  phone: '',
  email: '',
  offer: '',
};

const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;

// The tier for lifetime points: the highest minPoints at or below them (as the server).
function tierFor(tiers, lifetimePoints) {
  let name = '';
  let best = -Infinity;
  for (const t of tiers || []) {
    if (t.minPoints <= lifetimePoints && t.minPoints >= best) {
      best = t.minPoints;
      name = t.name;
    }
  }
  return name;
}

// The placeholder values of passkit::placeholder_values for a card (or the sample).
function placeholderValues(design, programName, card) {
  return {
    cardNumber: card.cardNumber,
    balance: String(card.balance),
    lifetimePoints: String(card.lifetimePoints),
    'holder.name': card.name || '',
    'holder.phone': card.phone || '',
    'holder.email': card.email || '',
    tier: tierFor(design.tiers, card.lifetimePoints),
    offer: card.offer || design.defaultOffer || '',
    'program.name': programName || '',
  };
}

// "{{ balance }} points" → "120 points"; unknown placeholders stay as typed.
function renderText(text, values) {
  return String(text ?? '').replace(/\{\{\s*([A-Za-z.]+)\s*\}\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole,
  );
}

function previewField(f, values, cls) {
  return el(
    'div',
    { class: `pv-field ${cls}`, dataset: { key: f.key || '' } },
    el('span', { class: 'pv-label' }, renderText(f.label, values)),
    el('span', { class: 'pv-value' }, renderText(f.value, values)),
  );
}

// A QR-like pattern (three finder squares and modules drawn from the number): it stands
// for the code Wallet draws, which is not needed to judge the design.
function qrPlaceholder(message) {
  const n = 25;
  const svg = svgEl('svg', {
    viewBox: `0 0 ${n} ${n}`,
    class: 'pv-qr',
    role: 'img',
    'aria-label': `QR code placeholder for ${message}`,
  });
  let seed = 2166136261;
  for (const ch of String(message)) seed = Math.imul(seed ^ ch.charCodeAt(0), 16777619) >>> 0;
  const inFinder = (x, y) => (x < 8 && y < 8) || (x >= n - 8 && y < 8) || (x < 8 && y >= n - 8);
  let d = '';
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      if (inFinder(x, y)) continue;
      seed = Math.imul(seed ^ (seed >>> 15), 2246822519) >>> 0;
      if (seed & 1) d += `M${x} ${y}h1v1h-1z`;
    }
  }
  svg.append(svgEl('path', { d, class: 'pv-qr-dots' }));
  for (const [x, y] of [
    [0, 0],
    [n - 7, 0],
    [0, n - 7],
  ]) {
    svg.append(
      svgEl('path', {
        d: `M${x} ${y}h7v7h-7zM${x + 1} ${y + 1}v5h5v-5z`,
        class: 'pv-qr-dots',
        'fill-rule': 'evenodd',
      }),
    );
    svg.append(svgEl('rect', { x: x + 2, y: y + 2, width: 3, height: 3, class: 'pv-qr-dots' }));
  }
  return svg;
}

// Draws `design` into `root` (replacing what was there). `images`: {logo, strip} blob URLs
// or undefined; `card`: the holder shown (SAMPLE_HOLDER by default).
function renderPassPreview(root, design, { programName, images = {}, card = SAMPLE_HOLDER } = {}) {
  const values = placeholderValues(design, programName, card);
  const fields = design.fields || {};
  const colors = design.colors || {};
  const front = el('div', {
    class: 'pv-front',
    role: 'group',
    'aria-label': 'Front of the card',
  });
  // Custom properties set through the CSSOM: allowed by the CSP (which forbids inline
  // style attributes, not script-set styles).
  for (const [name, value] of Object.entries({
    bg: colors.background,
    fg: colors.foreground,
    label: colors.label,
  })) {
    if (HEX_COLOR.test(value || '')) front.style.setProperty(`--pv-${name}`, value);
  }
  const logo = images.logo ? el('img', { class: 'pv-logo', src: images.logo, alt: '' }) : null;
  front.append(
    el(
      'div',
      { class: 'pv-top' },
      logo,
      el('span', { class: 'pv-logotext' }, renderText(design.logoText, values)),
      el(
        'div',
        { class: 'pv-header' },
        (fields.header || []).slice(0, 3).map((f) => previewField(f, values, 'pv-head-field')),
      ),
    ),
  );
  const strip = el(
    'div',
    { class: images.strip ? 'pv-strip has-image' : 'pv-strip' },
    images.strip ? el('img', { class: 'pv-strip-img', src: images.strip, alt: '' }) : null,
    el(
      'div',
      { class: 'pv-primary' },
      (fields.primary || []).slice(0, 1).map((f) => previewField(f, values, 'pv-primary-field')),
    ),
  );
  front.append(strip);
  // Store cards put secondary and auxiliary fields in a single row of at most four.
  const row = [...(fields.secondary || []), ...(fields.auxiliary || [])].slice(0, 4);
  front.append(
    el(
      'div',
      { class: 'pv-row' },
      row.map((f) => previewField(f, values, 'pv-row-field')),
    ),
  );
  front.append(
    el(
      'div',
      { class: 'pv-barcode' },
      qrPlaceholder(card.cardNumber),
      el('span', { class: 'pv-alt' }, groupDigits(card.cardNumber)),
    ),
  );

  const backList = el('dl', { class: 'pv-back-list' });
  for (const f of fields.back || []) {
    backList.append(
      el(
        'div',
        { class: 'pv-back-field' },
        el('dt', {}, renderText(f.label, values)),
        el('dd', {}, renderText(f.value, values)),
      ),
    );
  }
  const back = el(
    'div',
    { class: 'pv-back', role: 'group', 'aria-label': 'Back of the card' },
    el('p', { class: 'pv-back-title' }, design.organizationName || ''),
    (fields.back || []).length ? backList : el('p', { class: 'muted' }, 'No back fields.'),
  );
  clear(
    root,
    el('figure', { class: 'pv-side' }, front, el('figcaption', {}, 'Front')),
    el('figure', { class: 'pv-side' }, back, el('figcaption', {}, 'Back')),
  );
}

// The logo and strip images of a design version, as blob URLs (missing ones left out).
async function previewImages(slug, version, names) {
  const pick = (base) => [`${base}@2x`, base, `${base}@3x`].find((n) => names.includes(n));
  const out = {};
  await Promise.all(
    ['logo', 'strip'].map(async (base) => {
      const name = pick(base);
      if (!name) return;
      try {
        out[base] = await designImageUrl(slug, version, name);
      } catch {
        // shown without it
      }
    }),
  );
  return out;
}
