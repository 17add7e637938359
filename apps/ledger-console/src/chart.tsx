import { commonScale, perMille, toScaled } from './money';

export interface BarGroup {
  readonly label: string;
  readonly values: readonly { readonly name: string; readonly value: string | null }[];
}

const BAR_HEIGHT = 14;
const GROUP_GAP = 12;
const LABEL_WIDTH = 60;
const PLOT_WIDTH = 420;

/**
 * Horizontal bars (SVG, no script or style of its own) of exact decimal strings: lengths are integer ratios to the
 * largest value, and each bar is labelled with the string the API sent.
 */
export function BarChart({ groups, title }: { groups: readonly BarGroup[]; title: string }) {
  const present = groups.flatMap((group) => group.values.map((entry) => entry.value).filter((value): value is string => value !== null));
  const scale = commonScale(present);
  const max = present.reduce((largest, value) => {
    const scaled = toScaled(value, scale) ?? 0n;
    return scaled > largest ? scaled : largest;
  }, 0n);
  const rowsPerGroup = Math.max(1, ...groups.map((group) => group.values.length));
  const groupHeight = rowsPerGroup * BAR_HEIGHT + GROUP_GAP;
  const height = groups.length * groupHeight;
  return (
    <svg class="chart" role="img" aria-label={title} width={LABEL_WIDTH + PLOT_WIDTH + 140} height={height} data-testid="loss-chart">
      <title>{title}</title>
      {groups.map((group, groupIndex) => (
        <g transform={`translate(0 ${groupIndex * groupHeight})`}>
          <text x={0} y={BAR_HEIGHT} class="chart-label">{group.label}</text>
          {group.values.map((entry, index) => {
            const width = entry.value === null ? 0 : (perMille(toScaled(entry.value, scale) ?? 0n, max) * PLOT_WIDTH) / 1000;
            const y = index * BAR_HEIGHT;
            return (
              <g>
                <rect x={LABEL_WIDTH} y={y + 2} width={Math.max(width, 1)} height={BAR_HEIGHT - 4} class={`bar bar-${index}`} />
                <text x={LABEL_WIDTH + width + 6} y={y + BAR_HEIGHT - 3} class="chart-value">
                  {entry.name} {entry.value === null ? 'no price' : `$${entry.value}`}
                </text>
              </g>
            );
          })}
        </g>
      ))}
    </svg>
  );
}
