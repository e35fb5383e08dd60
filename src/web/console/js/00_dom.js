// DOM helpers. Every element is made with createElement(NS) and every text set through
// textContent or a text node, so no string from the API or the user can become markup:
// this is how the console escapes. The page's CSP also enforces Trusted Types, so even a
// slip that hands a string to an HTML-parsing property would throw instead of parsing it.

const SVG_NS = 'http://www.w3.org/2000/svg';

// Children: strings and numbers become text nodes; null, undefined and false are skipped;
// arrays are flattened.
function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// el('button', {class: 'btn', type: 'button', onclick: fn}, 'Save'). Keys: `class`,
// `text` (textContent), `dataset`, `on<event>` (listeners), DOM properties (`value`,
// `checked`, `disabled`, `hidden`, `selected`), else attributes. Attribute names are
// always the code's own; values are strings set with setAttribute (never parsed as HTML).
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  setProps(node, props);
  return append(node, children);
}

const DOM_PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'open']);

function setProps(node, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (DOM_PROPS.has(key)) node[key] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
}

function svgEl(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value != null) node.setAttribute(key, String(value));
  }
  return append(node, children);
}

// Replaces the children of `node` with `children` (as append()).
function clear(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

// An http(s) URL as given, or null: links from data never run script (javascript:...).
function safeUrl(text) {
  try {
    const url = new URL(String(text), location.href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

function externalLink(href, label) {
  const url = safeUrl(href);
  if (!url) return el('span', { class: 'muted' }, label);
  return el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, label);
}

function debounce(fn, ms) {
  let timer = 0;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

const numberFormat = new Intl.NumberFormat();
const fmtInt = (n) => (n == null || Number.isNaN(Number(n)) ? '–' : numberFormat.format(n));
const fmtSigned = (n) => (n > 0 ? '+' : '') + fmtInt(n);
const fmtPercent = (x) => `${(100 * (Number(x) || 0)).toFixed(1)} %`;

function fmtDate(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

function fmtDuration(seconds) {
  if (seconds == null) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// "4000123412341234" → "4000 1234 1234 1234".
const groupDigits = (n) => String(n ?? '').replace(/(\d{4})(?=\d)/g, '$1 ');

let uniqueCounter = 0;
const uid = (prefix) => `${prefix}-${++uniqueCounter}`;

// A horizontally scrollable table: column titles and <tr> rows (the <tbody> may be filled
// later: table.querySelector('tbody')).
function dataTable(headers, rows = []) {
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          headers.map((h) => el('th', { scope: 'col' }, h)),
        ),
      ),
      el('tbody', {}, rows),
    ),
  );
}

// A labelled form control: <div class="field"><label for>…</label>control hint</div>.
function field(label, control, hint) {
  if (!control.id) control.id = uid('f');
  const hintNode = hint ? el('p', { class: 'hint', id: uid('h') }, hint) : null;
  if (hintNode) control.setAttribute('aria-describedby', hintNode.id);
  return el('div', { class: 'field' }, el('label', { for: control.id }, label), control, hintNode);
}

// A button that runs an async action, disabled while it runs.
function actionButton(label, action, props = {}) {
  const button = el('button', { type: 'button', class: 'btn', ...props }, label);
  button.addEventListener('click', async () => {
    if (button.disabled) return;
    button.disabled = true;
    try {
      await action(button);
    } catch (err) {
      showError(err);
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });
  return button;
}
