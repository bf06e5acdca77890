export interface Series {
  label: string;
  /** CSS colour variable name, e.g. "--series-1". */
  color: string;
  points: Array<{ t: number; v: number }>;
}

const W = 320;
const H = 120;
const PAD = { left: 42, right: 8, top: 8, bottom: 20 };

function fmt(v: number): string {
  if (Math.abs(v) >= 1000) return v.toLocaleString(undefined, { maximumFractionDigits: 0 });
  return v.toLocaleString(undefined, { maximumFractionDigits: 2 });
}

function clock(t: number): string {
  return new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/**
 * A small line chart drawn as SVG (no chart library: a few lines of geometry are cheaper than a
 * dependency). Screen readers get the title and a summary of the last values instead of the drawing.
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
  const x = (t: number) => PAD.left + (t1 === t0 ? (W - PAD.left - PAD.right) / 2 : ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right));
  const y = (v: number) => PAD.top + (1 - (v - v0) / (v1 - v0)) * (H - PAD.top - PAD.bottom);
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
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}. ${summary}`} preserveAspectRatio="none">
        <line class="axis" x1={PAD.left} x2={W - PAD.right} y1={y(v0)} y2={y(v0)} />
        <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={y(v1)} y2={y(v1)} />
        <text class="tick" x={PAD.left - 4} y={y(v1) + 4} text-anchor="end">{fmt(v1)}</text>
        <text class="tick" x={PAD.left - 4} y={y(v0)} text-anchor="end">{fmt(v0)}</text>
        <text class="tick" x={PAD.left} y={H - 4}>{clock(t0)}</text>
        <text class="tick" x={W - PAD.right} y={H - 4} text-anchor="end">{clock(t1)}</text>
        {series.map((s) => (
          s.points.length === 1
            ? <circle key={s.label} cx={x(s.points[0]!.t)} cy={y(s.points[0]!.v)} r={3} fill={`var(${s.color})`} />
            : <polyline key={s.label} fill="none" stroke={`var(${s.color})`} stroke-width={2} vector-effect="non-scaling-stroke"
                points={s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')} />
        ))}
      </svg>
    </figure>
  );
}
