// Charts drawn by the page itself as inline SVG (createElementNS, no library): a line
// chart and a bar chart of per-day series, scaled to a viewBox so they follow the width
// of their column. Colours come from the stylesheet (.series-0, .series-1...).

const CHART = { w: 640, h: 240, left: 44, right: 12, top: 12, bottom: 28 };

// About five round steps from 0 to at least `max`.
function niceTicks(max) {
  if (!(max > 0)) return [0, 1];
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let v = 0; v < max + step; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

const shortDate = (iso) => {
  const [, m, d] = String(iso).split('-');
  return m && d ? `${Number(d)}.${Number(m)}.` : String(iso);
};

function chartFrame(title, labels, max) {
  const { w, h, left, right, top, bottom } = CHART;
  const ticks = niceTicks(max);
  const top_ = ticks[ticks.length - 1] || 1;
  const plotW = w - left - right;
  const plotH = h - top - bottom;
  const y = (v) => top + plotH - (v / top_) * plotH;
  const svg = svgEl('svg', {
    viewBox: `0 0 ${w} ${h}`,
    class: 'chart',
    role: 'img',
    'aria-label': title,
    preserveAspectRatio: 'none',
  });
  svg.append(svgEl('title', {}, title));
  for (const t of ticks) {
    svg.append(svgEl('line', { x1: left, x2: w - right, y1: y(t), y2: y(t), class: 'grid' }));
    svg.append(
      svgEl('text', { x: left - 6, y: y(t) + 4, class: 'tick', 'text-anchor': 'end' }, fmtInt(t)),
    );
  }
  const n = labels.length;
  const every = Math.max(1, Math.ceil(n / 8));
  const slot = plotW / Math.max(n, 1);
  const x = (i) => left + slot * (i + 0.5);
  labels.forEach((label, i) => {
    if ((n - 1 - i) % every === 0) {
      svg.append(
        svgEl(
          'text',
          { x: x(i), y: h - 8, class: 'tick', 'text-anchor': 'middle' },
          shortDate(label),
        ),
      );
    }
  });
  svg.append(svgEl('line', { x1: left, x2: w - right, y1: y(0), y2: y(0), class: 'axis' }));
  return { svg, x, y, slot };
}

function legend(series) {
  return el(
    'ul',
    { class: 'legend' },
    series.map((s, i) => el('li', {}, el('span', { class: `key series-${i}` }), s.name)),
  );
}

function figure(title, svg, series) {
  return el('figure', { class: 'chart-figure' }, el('figcaption', {}, title), svg, legend(series));
}

// series: [{name, values: [number per label]}].
function lineChart(title, labels, series) {
  const max = Math.max(0, ...series.flatMap((s) => s.values));
  const { svg, x, y } = chartFrame(title, labels, max);
  series.forEach((s, k) => {
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    svg.append(svgEl('polyline', { points, class: `line series-${k}` }));
    s.values.forEach((v, i) => {
      svg.append(
        svgEl(
          'circle',
          { cx: x(i), cy: y(v), r: 2.5, class: `dot series-${k}` },
          svgEl('title', {}, `${labels[i]}: ${s.name} ${fmtInt(v)}`),
        ),
      );
    });
  });
  return figure(title, svg, series);
}

// Grouped bars: one bar per series per label.
function barChart(title, labels, series) {
  const max = Math.max(0, ...series.flatMap((s) => s.values));
  const { svg, x, y, slot } = chartFrame(title, labels, max);
  const width = (slot * 0.8) / series.length;
  series.forEach((s, k) => {
    s.values.forEach((v, i) => {
      const x0 = x(i) - slot * 0.4 + k * width;
      svg.append(
        svgEl(
          'rect',
          {
            x: x0.toFixed(1),
            y: y(v).toFixed(1),
            width: Math.max(1, width - 1).toFixed(1),
            height: Math.max(0, y(0) - y(v)).toFixed(1),
            class: `bar series-${k}`,
          },
          svgEl('title', {}, `${labels[i]}: ${s.name} ${fmtInt(v)}`),
        ),
      );
    });
  });
  return figure(title, svg, series);
}
