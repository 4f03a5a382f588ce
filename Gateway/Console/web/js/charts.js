// Chart.js (vendored by the build as vendor/chart.umd.min.js, loaded before the modules run) with the console's defaults:
// time on a linear x axis in milliseconds, no animation on refresh, a legend that names every series.

const palette = ['#1f5fbf', '#c2410c', '#15803d', '#7c3aed', '#b91c1c', '#0e7490'];
const dashes = [[], [6, 4], [2, 3], [8, 3, 2, 3]];

export function color(index) { return palette[index % palette.length]; }

function timeLabel(ms, withDate) {
  const iso = new Date(ms).toISOString();
  return withDate ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 19);
}

/**
 * A line chart over time. datasets: [{label, points: [{x: ms, y}], stepped?}]. Each series gets a colour and a dash pattern,
 * so two versions overlaid differ by more than colour.
 */
export function lineChart(canvas, { datasets, yTitle, yMax, stepped, tooltip }) {
  const chart = new window.Chart(canvas, {
    type: 'line',
    data: { datasets: toDatasets(datasets, stepped) },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', intersect: false },
      scales: {
        // Ticks closer than a second would repeat a label: only the first of them is written.
        x: { type: 'linear', ticks: { maxTicksLimit: 8, callback: (value, i, ticks) => (i > 0 && timeLabel(ticks[i - 1].value, false) === timeLabel(value, false) ? '' : timeLabel(value, false)) } },
        // grace: a series at its maximum (a p99 of 0.99 ms under a 1.0 axis) is drawn below the top edge, not on it.
        y: { beginAtZero: true, max: yMax, grace: yMax === undefined ? '8%' : 0, title: { display: Boolean(yTitle), text: yTitle } },
      },
      plugins: {
        legend: { display: true, labels: { usePointStyle: true } },
        tooltip: { callbacks: { title: items => items.length ? timeLabel(items[0].parsed.x, true) : '', ...(tooltip ?? {}) } },
      },
    },
  });
  return {
    chart,
    update(next) {
      chart.data.datasets = toDatasets(next, stepped);
      chart.update('none');
    },
    destroy() { chart.destroy(); },
  };
}

function toDatasets(datasets, stepped) {
  return datasets.map((set, i) => ({
    label: set.label,
    data: set.points,
    borderColor: set.color ?? color(i),
    backgroundColor: set.color ?? color(i),
    borderDash: set.dash ?? dashes[i % dashes.length],
    pointStyle: set.pointStyle ?? 'circle',
    pointRadius: set.pointRadius ?? (set.points.length > 60 ? 0 : 3),
    pointHoverRadius: 5,
    borderWidth: 2,
    stepped: set.stepped ?? stepped ?? false,
    spanGaps: false,
  }));
}

/**
 * A horizontal bar chart: one bar per label, each its own colour (which only repeats what the labels and the table say), and
 * dashed vertical lines at the thresholds, named in the legend.
 */
export function barChart(canvas, { labels, values, colors, label, thresholds }) {
  const lines = (thresholds ?? []).map((t, i) => ({
    type: 'line', label: t.label, data: labels.map(() => t.value), indexAxis: 'y', borderColor: i === 0 ? '#a16207' : '#b91c1c',
    backgroundColor: 'transparent', borderDash: [6, 4], borderWidth: 2, pointRadius: 0, fill: false,
  }));
  const chart = new window.Chart(canvas, {
    type: 'bar',
    data: { labels, datasets: [{ label, data: values, backgroundColor: colors, borderColor: colors, borderWidth: 1 }, ...lines] },
    options: {
      indexAxis: 'y',
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: { beginAtZero: true, title: { display: true, text: label } } },
      plugins: { legend: { display: true } },
    },
  });
  return { chart, destroy() { chart.destroy(); } };
}
