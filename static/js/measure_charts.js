// Draws the measure page's charts with plotly.js served by the portal itself (no CDN).
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Plotly === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["toImage", "sendDataToCloud"] };
  var font = { family: "Hiragino Sans, Yu Gothic UI, Meiryo, Noto Sans CJK JP, sans-serif", size: 12 };
  var layout = function (extra) {
    return Object.assign({ font: font, margin: { l: 80, r: 10, t: 10, b: 40 }, height: 260,
      legend: { orientation: "h", y: -0.2 }, separators: ".," }, extra);
  };

  Plotly.newPlot("chart-kpi", [
    { x: data.years, y: data.kpi.targets, name: "目標", type: "scatter", mode: "lines+markers",
      line: { color: "#0b4f8a", dash: "dot" }, connectgaps: false,
      hovertext: data.kpi.target_labels, hoverinfo: "x+name+text" },
    { x: data.years, y: data.kpi.actuals, name: "実績", type: "bar", marker: { color: "#2e7d32" },
      hovertext: data.kpi.actual_labels, hoverinfo: "x+name+text" }
  ], layout({ yaxis: { title: { text: data.unit }, rangemode: "tozero", tickformat: "," } }), config);

  Plotly.newPlot("chart-cost", [
    { x: data.years, y: data.cost.planned, name: "計画（LCC）", type: "bar", marker: { color: "#0b4f8a" } },
    { x: data.years, y: data.cost.actual, name: "決算", type: "bar", marker: { color: "#c77700" } }
  ], layout({ barmode: "group", yaxis: { title: { text: "千円" }, rangemode: "tozero", tickformat: "," } }), config);

  var colours = { "完了": "#2e7d32", "実施中": "#0b4f8a", "遅延": "#b3261e", "未着手": "#8a949e" };
  var bars = data.schedule.slice().reverse();
  // One row per bar by position (two bars may share a label); the label travels as data, not as template.
  var traces = bars.map(function (bar, row) {
    var reported = bar.states.filter(function (s) { return s; });
    var last = reported.length ? reported[reported.length - 1] : "";
    return {
      type: "bar", orientation: "h", y: [row], base: [bar.start - 0.5], x: [bar.end - bar.start + 1],
      showlegend: false,
      customdata: [bar.label + (last ? "（" + last + "）" : "") + (bar.inferred ? "　期間は推定" : "")],
      marker: { color: colours[last] || "#6d9fd1", pattern: { shape: bar.inferred ? "/" : "" } },
      hovertemplate: "%{customdata}<extra></extra>"
    };
  });
  var ticks = data.years.map(function (_, i) { return data.first_year + i; });
  Plotly.newPlot("chart-schedule", traces, layout({
    height: 60 + 34 * Math.max(bars.length, 1), margin: { l: 260, r: 10, t: 10, b: 30 },
    xaxis: { tickvals: ticks, ticktext: data.years, range: [ticks[0] - 0.5, ticks[ticks.length - 1] + 0.5] },
    yaxis: { automargin: true, tickvals: bars.map(function (_, i) { return i; }),
      ticktext: bars.map(function (bar) { return bar.label; }) }
  }), config);
})();
