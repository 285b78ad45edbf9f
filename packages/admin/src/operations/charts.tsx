/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * Charts as SVG rendered on the server (no script: the admin UI's CSP allows none). Each chart is a
 * `<figure>`: the SVG is an image (`role="img"`) named by its `<title>` and summarised by its `<desc>`,
 * and the same numbers follow in a data table, which is what screen readers and copy-paste use.
 * Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies), and
 * every series is also named in a legend and in the table.
 */
import type { FC } from 'hono/jsx';
import { useT } from '../i18n/index.js';

export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00'];

export interface Series {
  name: string;
  values: number[];
}

/** The smallest 1, 2 or 5 times a power of ten at or above `v` (the axis end). */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v.toLocaleString('en-US', { maximumFractionDigits: Math.abs(v) < 1 ? 3 : 2 });
}

const Legend: FC<{ series: Series[]; x: number; y: number }> = ({ series, x, y }) => (
  <g class="legend">
    {series.map((s, i) => (
      <g>
        <rect x={x + i * 150} y={y} width="12" height="12" fill={PALETTE[i % PALETTE.length]} />
        <text x={x + i * 150 + 18} y={y + 11} font-size="12">
          {s.name}
        </text>
      </g>
    ))}
  </g>
);

const DataTable: FC<{ id: string; caption: string; head: string; labels: string[]; series: Series[] }> = ({
  id,
  caption,
  head,
  labels,
  series,
}) => (
  <table class="chart-data" id={`${id}-table`}>
    <caption>{caption}</caption>
    <thead>
      <tr>
        <th scope="col">{head}</th>
        {series.map((s) => (
          <th scope="col">{s.name}</th>
        ))}
      </tr>
    </thead>
    <tbody>
      {labels.map((label, i) => (
        <tr>
          <th scope="row">{label}</th>
          {series.map((s) => (
            <td data-value={String(s.values[i] ?? 0)}>{formatNumber(s.values[i] ?? 0)}</td>
          ))}
        </tr>
      ))}
    </tbody>
  </table>
);

/** Horizontal grouped bars: one group per category (domain), one bar per series. */
export const BarChart: FC<{
  id: string;
  title: string;
  description: string;
  categories: string[];
  series: Series[];
  unit?: string;
}> = ({ id, title, description, categories, series, unit }) => {
  const t = useT();
  const width = 720;
  const left = 190;
  const right = 30;
  const bar = 14;
  const groupGap = 14;
  const top = 34;
  const groupHeight = series.length * bar + groupGap;
  const plotHeight = Math.max(1, categories.length) * groupHeight;
  const height = top + plotHeight + 30;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const scale = (v: number) => ((width - left - right) * v) / max;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  return (
    <figure class="chart" id={id} aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`}>{title}</figcaption>
      <svg
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        xmlns="http://www.w3.org/2000/svg"
        font-family="system-ui, sans-serif"
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{description}</desc>
        <Legend series={series} x={left} y={6} />
        {ticks.map((t) => (
          <g>
            <line
              x1={left + scale(t)}
              x2={left + scale(t)}
              y1={top - 4}
              y2={top + plotHeight}
              stroke="#ccc"
            />
            <text x={left + scale(t)} y={top + plotHeight + 18} font-size="11" text-anchor="middle">
              {formatNumber(t)}
              {unit ? ` ${unit}` : ''}
            </text>
          </g>
        ))}
        {categories.length === 0 ? (
          <text x={left} y={top + 16} font-size="13">
            No data for this period.
          </text>
        ) : null}
        {categories.map((cat, ci) => {
          const y0 = top + ci * groupHeight;
          return (
            <g class="bar-group">
              <text x={left - 8} y={y0 + (series.length * bar) / 2 + 4} font-size="12" text-anchor="end">
                {cat}
              </text>
              {series.map((s, si) => {
                const v = s.values[ci] ?? 0;
                return (
                  <rect
                    class="bar"
                    x={left}
                    y={y0 + si * bar}
                    width={Math.max(v > 0 ? 1 : 0, scale(v))}
                    height={bar - 2}
                    fill={PALETTE[si % PALETTE.length]}
                    data-series={s.name}
                    data-category={cat}
                    data-value={String(v)}
                  >
                    <title>{`${cat}, ${s.name}: ${formatNumber(v)}${unit ? ` ${unit}` : ''}`}</title>
                  </rect>
                );
              })}
            </g>
          );
        })}
      </svg>
      <DataTable
        id={id}
        caption={t('stats.data', { title })}
        head={t('stats.domain')}
        labels={categories}
        series={series}
      />
    </figure>
  );
};

/** Lines over days, one per series, with a point per day. */
export const LineChart: FC<{
  id: string;
  title: string;
  description: string;
  days: string[];
  series: Series[];
}> = ({ id, title, description, days, series }) => {
  const t = useT();
  const width = 720;
  const height = 300;
  const left = 60;
  const right = 30;
  const top = 34;
  const bottom = 50;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (i: number) => left + (days.length <= 1 ? plotW / 2 : (plotW * i) / (days.length - 1));
  const y = (v: number) => top + plotH - (plotH * v) / max;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const labelEvery = Math.max(1, Math.ceil(days.length / 8));
  return (
    <figure class="chart" id={id} aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`}>{title}</figcaption>
      <svg
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        xmlns="http://www.w3.org/2000/svg"
        font-family="system-ui, sans-serif"
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{description}</desc>
        <Legend series={series} x={left} y={6} />
        {ticks.map((t) => (
          <g>
            <line x1={left} x2={width - right} y1={y(t)} y2={y(t)} stroke="#ccc" />
            <text x={left - 6} y={y(t) + 4} font-size="11" text-anchor="end">
              {formatNumber(t)}
            </text>
          </g>
        ))}
        {days.map((d, i) =>
          i % labelEvery === 0 ? (
            <text x={x(i)} y={height - bottom + 18} font-size="11" text-anchor="middle">
              {d.slice(5)}
            </text>
          ) : null,
        )}
        {series.map((s, si) => {
          const color = PALETTE[si % PALETTE.length];
          const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
          return (
            <g class="line-series" data-series={s.name}>
              <polyline points={points} fill="none" stroke={color} stroke-width="2" />
              {s.values.map((v, i) => (
                <circle cx={x(i)} cy={y(v)} r="3.5" fill={color} data-day={days[i]} data-value={String(v)}>
                  <title>{`${days[i]}, ${s.name}: ${formatNumber(v)}`}</title>
                </circle>
              ))}
            </g>
          );
        })}
      </svg>
      <DataTable
        id={id}
        caption={t('stats.data', { title })}
        head={t('stats.day')}
        labels={days}
        series={series}
      />
    </figure>
  );
};
