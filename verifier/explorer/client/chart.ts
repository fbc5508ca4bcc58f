/**
 * The outstanding-principal chart: an inline SVG step line (outstanding holds until the next
 * entry changes it), one dot per entry with its amount, block and time as a tooltip, y ticks
 * in yuan. The geometry is computed by model.ts.
 */
import { h, svg } from "./dom";
import { utc, yuan } from "./format";
import { chartGeometry, CHART_BOX, type SeriesPoint } from "./model";

export function renderChart(series: readonly SeriesPoint[], endTime: bigint, title: string, testid: string): HTMLElement {
  const g = chartGeometry(series, endTime);
  const caption = h("figcaption", { class: "muted" }, title);
  if (g.points.length === 0) return h("figure", { class: "chart", "data-testid": testid }, caption, h("p", { class: "muted" }, "No drawdowns yet."));
  const last = series[series.length - 1];
  const titleId = `${testid}-title`;
  const chart = svg(
    "svg",
    {
      viewBox: `0 0 ${CHART_BOX.width} ${CHART_BOX.height}`,
      role: "img",
      "aria-labelledby": titleId,
      "data-testid": `${testid}-svg`,
    },
    svg("title", { id: titleId }, `${title}: ${series.length} changes, now ${yuan(last.outstanding)}`),
    g.yTicks.map((t) => [
      svg("line", { class: "grid", x1: g.x0, x2: g.x1, y1: t.y, y2: t.y }),
      svg("text", { x: g.x0 - 8, y: t.y + 4, "text-anchor": "end" }, t.label),
    ]),
    svg("line", { class: "axis", x1: g.x0, x2: g.x1, y1: g.y0, y2: g.y0 }),
    svg("line", { class: "axis", x1: g.x0, x2: g.x0, y1: g.y0, y2: g.y1 }),
    g.xTicks.map((t, i) => svg("text", { x: t.x, y: g.y0 + 18, "text-anchor": i === 0 ? "start" : "end" }, t.label)),
    svg("path", { class: "area", d: g.area }),
    svg("path", { class: "series", d: g.path, "data-testid": `${testid}-path`, "data-points": g.points.length }),
    g.points.map((p) =>
      svg(
        "circle",
        { class: "dot", cx: p.x, cy: p.y, r: 4, "data-testid": `${testid}-point` },
        svg("title", {}, `${yuan(p.point.outstanding)} after block ${p.point.blockNumber} (${utc(p.point.timestamp)})`)
      )
    )
  );
  return h("figure", { class: "chart", "data-testid": testid }, caption, chart);
}
