export interface Series {
  label: string;
  /** CSS colour variable name, e.g. "--series-1". */
  color: string;
  points: Array<{ t: number; v: number }>;
}

const W = 320;
const H = 100;
const PAD_Y = 4;

function fmt(v: number): string {
  if (Math.abs(v) >= 1000) return v.toLocaleString(undefined, { maximumFractionDigits: 0 });
  return v.toLocaleString(undefined, { maximumFractionDigits: 2 });
}

function clock(t: number, span: number): string {
  const d = new Date(t);
  return span > 86_400_000
    ? d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
    : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/**
 * A small line chart drawn as SVG (no chart library: a few lines of geometry are cheaper than a
 * dependency). The drawing stretches to its box; the labels are HTML so they never stretch with it.
 * Screen readers get the title and a summary of the last values instead of the drawing.
 */
export function LineChart({ title, series, unit, zeroBased = true }: { title: string; series: Series[]; unit?: string; zeroBased?: boolean }) {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) {
    return (
      <figure class="chart">
        <figcaption>{title}</figcaption>
        <p class="muted">No data yet.</p>
      </figure>
    );
  }
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t));
  let v0 = zeroBased ? Math.min(0, ...all.map((p) => p.v)) : Math.min(...all.map((p) => p.v));
  let v1 = Math.max(...all.map((p) => p.v));
  if (v1 === v0) {
    v1 += 1;
    if (!zeroBased) v0 -= 1;
  }
  const x = (t: number) => (t1 === t0 ? W / 2 : ((t - t0) / (t1 - t0)) * W);
  const y = (v: number) => PAD_Y + (1 - (v - v0) / (v1 - v0)) * (H - 2 * PAD_Y);
  const summary = series.map((s) => `${s.label}: last ${fmt(s.points.at(-1)?.v ?? 0)}${unit ? ` ${unit}` : ''}`).join('; ');
  return (
    <figure class="chart">
      <figcaption>
        {title}
        {series.length > 1 && (
          <span class="legend">
            {series.map((s) => (
              <span key={s.label}>
                <i style={{ background: `var(${s.color})` }} />
                {s.label}
              </span>
            ))}
          </span>
        )}
      </figcaption>
      <div class="plot" aria-hidden="true">
        <div class="y-ticks"><span>{fmt(v1)}</span><span>{fmt(v0)}</span></div>
        <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" aria-hidden="true">
          <line class="grid" x1={0} x2={W} y1={y(v1)} y2={y(v1)} vector-effect="non-scaling-stroke" />
          <line class="axis" x1={0} x2={W} y1={y(v0)} y2={y(v0)} vector-effect="non-scaling-stroke" />
          {series.map((s) => (
            s.points.length === 1
              ? <line key={s.label} x1={x(s.points[0]!.t)} x2={x(s.points[0]!.t)} y1={y(v0)} y2={y(s.points[0]!.v)} stroke={`var(${s.color})`} stroke-width={3} vector-effect="non-scaling-stroke" />
              : <polyline key={s.label} fill="none" stroke={`var(${s.color})`} stroke-width={2} vector-effect="non-scaling-stroke" stroke-linejoin="round"
                  points={s.points.map((p) => `${x(p.t).toFixed(2)},${y(p.v).toFixed(2)}`).join(' ')} />
          ))}
        </svg>
        <div class="x-ticks"><span>{clock(t0, t1 - t0)}</span><span>{clock(t1, t1 - t0)}</span></div>
      </div>
      <p class="sr-only">{summary}</p>
    </figure>
  );
}
