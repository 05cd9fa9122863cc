// Draws the ratios ours/peer of a bench run as an SVG bar chart: one bar per
// row on a log scale, a tick at the target where there is one, green when the
// target is met, red when it is not, grey when the row has no target.
//
// Run alone, it redraws the chart of a saved run:
//   deno run -A bench/_chart.ts bench/results/bench-<stamp>.json

/** One line of the result table. */
export interface Row {
  section: string;
  metric: string;
  peer: string;
  peerValue: number | null;
  ours: number | null;
  /** ours / peer. */
  ratio: number | null;
  /** The ratio to reach: at least `min`, or at most `max` (lower is better). */
  target?: { min?: number; max?: number };
  verdict?: "pass" | "FAIL" | "n/a";
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Renders rows as an SVG document.
 *
 * @param title The heading.
 * @param rows The rows; those without a ratio are drawn as "n/a".
 * @returns The SVG text.
 */
export function chart(title: string, rows: Row[]): string {
  const LABEL = 360, BAR = 420, ROW = 22, TOP = 60;
  const width = LABEL + BAR + 90;
  const height = TOP + rows.length * ROW + 40;
  const MIN = 0.1, MAX = 10;
  const x = (ratio: number) =>
    LABEL + BAR * (Math.log10(Math.min(MAX, Math.max(MIN, ratio))) - Math.log10(MIN)) /
      (Math.log10(MAX) - Math.log10(MIN));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="10" y="42" fill="#555">ratio ours / peer (log scale); ` +
    `black tick = target; green met, red missed, grey no target</text>`,
  ];
  for (const tick of [0.1, 0.25, 0.5, 1, 2, 4, 10]) {
    parts.push(
      `<line x1="${x(tick)}" x2="${x(tick)}" y1="${TOP - 6}" y2="${height - 30}" ` +
        `stroke="${tick === 1 ? "#888" : "#ddd"}"/>`,
      `<text x="${x(tick)}" y="${height - 14}" text-anchor="middle" fill="#555">${tick}x</text>`,
    );
  }
  rows.forEach((row, i) => {
    const y = TOP + i * ROW;
    // The table's sections are long; the chart keeps their leading tag: "server (a)", "memory".
    const section = row.section.replace(/^(server \([a-z]\)|memory|client).*$/, "$1");
    const label = `${section} ${row.metric} vs ${row.peer}`;
    parts.push(`<text x="${LABEL - 8}" y="${y + 14}" text-anchor="end">${escape(label)}</text>`);
    if (row.ratio === null || !Number.isFinite(row.ratio)) {
      parts.push(`<text x="${LABEL + 4}" y="${y + 14}" fill="#999">n/a</text>`);
      return;
    }
    const color = row.verdict === "pass" ? "#3a3" : row.verdict === "FAIL" ? "#d33" : "#aaa";
    const from = x(1), to = x(row.ratio);
    parts.push(
      `<rect x="${Math.min(from, to)}" y="${y + 3}" width="${Math.max(1, Math.abs(to - from))}" ` +
        `height="${ROW - 8}" fill="${color}"/>`,
      `<text x="${Math.max(from, to) + 4}" y="${y + 14}">${row.ratio.toFixed(2)}x</text>`,
    );
    const goal = row.target?.min ?? row.target?.max;
    if (goal !== undefined) {
      parts.push(
        `<line x1="${x(goal)}" x2="${x(goal)}" y1="${y}" y2="${y + ROW - 2}" ` +
          `stroke="black" stroke-width="2"/>`,
      );
    }
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

if (import.meta.main) {
  for (const path of Deno.args) {
    const raw = JSON.parse(Deno.readTextFileSync(path));
    const title = raw.title ?? `@x/memcache bench: medians of ${raw.reps} runs, ${raw.started}`;
    const rows = (raw.rows as Row[]).filter((r) => r.ratio !== null || r.target !== undefined);
    Deno.writeTextFileSync(path.replace(/\.json$/, ".svg"), chart(title, rows));
  }
}
