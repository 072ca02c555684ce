// Draws the dashboard's charts from the figures the page embeds (json_script); ECharts is served locally.
(function () {
  "use strict";
  var figures = JSON.parse(document.getElementById("dashboard-figures").textContent);
  var charts = [];
  // summaries/figures.py's rule: thousands separators, whole numbers without decimals, others with two.
  function figure(v) {
    if (v === null || v === undefined || v === "") { return "—"; }
    var whole = Number(v) % 1 === 0;
    return Number(v).toLocaleString("zh-CN", { minimumFractionDigits: whole ? 0 : 2, maximumFractionDigits: whole ? 0 : 2 });
  }
  function change(v) {
    var rounded = Math.round(v * 1000) / 10;
    return (rounded > 0 ? "+" : rounded < 0 ? "−" : "") + Math.abs(rounded).toFixed(1) + "%";
  }
  // Tooltips drawn on the canvas: ECharts' HTML tooltips are built with style="…" attributes, which the
  // Content-Security-Policy refuses (ADR 0031).
  function tooltip(options) { return Object.assign({ renderMode: "richText" }, options); }
  function make(id) {
    var el = document.getElementById(id);
    if (!el || typeof echarts === "undefined") { return null; }
    var chart = echarts.init(el);
    charts.push(chart);
    return chart;
  }
  function empty(chart) {
    chart.setOption({ title: { text: "暂无数据", left: "center", top: "middle", textStyle: { color: "#999", fontSize: 14 } } });
  }
  function bar(id, rows, horizontal) {
    var chart = make(id);
    if (!chart) { return; }
    if (!rows.length) { empty(chart); return; }
    var category = { type: "category", data: rows.map(function (r) { return r[0]; }), axisLabel: { interval: 0, rotate: horizontal ? 0 : 30 } };
    var value = { type: "value", axisLabel: { formatter: figure } };
    chart.setOption({
      tooltip: tooltip({ trigger: "axis", valueFormatter: figure }),
      grid: { left: horizontal ? 150 : 50, right: 30, bottom: horizontal ? 30 : 80, top: 20 },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign(category, { inverse: true }) : value,
      series: [{ type: "bar", data: rows.map(function (r) { return r[1]; }), label: { show: true, position: horizontal ? "right" : "top", formatter: function (p) { return figure(p.value); } } }]
    });
  }
  function pie(id, rows) {
    var chart = make(id);
    if (!chart) { return; }
    rows = rows.filter(function (r) { return r[1] > 0; });
    if (!rows.length) { empty(chart); return; }
    chart.setOption({
      tooltip: tooltip({ trigger: "item", formatter: function (p) { return p.name + ": " + figure(p.value) + "（" + p.percent + "%）"; } }),
      legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["35%", "62%"], data: rows.map(function (r) { return { name: r[0], value: r[1] }; }) }]
    });
  }
  function byCity(id, rows) {
    var chart = make(id);
    if (!chart) { return; }
    if (!rows.length) { empty(chart); return; }
    chart.setOption({
      tooltip: tooltip({ trigger: "axis", valueFormatter: figure }),
      legend: { top: 0 },
      grid: { left: 50, right: 70, bottom: 80, top: 40 },
      xAxis: { type: "category", data: rows.map(function (r) { return r[0]; }), axisLabel: { interval: 0, rotate: 30 } },
      yAxis: [{ type: "value", name: "机构数", axisLabel: { formatter: figure } },
        { type: "value", name: "营业收入（万元）", axisLabel: { formatter: figure } }],
      series: [
        { name: "机构数", type: "bar", data: rows.map(function (r) { return r[1]; }) },
        { name: "营业收入（万元）", type: "line", yAxisIndex: 1, data: rows.map(function (r) { return r[2]; }) }
      ]
    });
  }
  function yearOnYear(id, rows) {
    // The like-for-like change (同口径): the institutions counted in both years.
    var chart = make(id);
    if (!chart) { return; }
    rows = rows.filter(function (r) { return r.same_change !== null; });
    if (!rows.length) { empty(chart); return; }
    chart.setOption({
      tooltip: tooltip({ trigger: "axis", valueFormatter: function (v) { return change(v / 100); } }),
      grid: { left: 110, right: 50, bottom: 30, top: 20 },
      xAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.label; }) },
      series: [{
        type: "bar", label: { show: true, position: "right", formatter: function (p) { return change(p.value / 100); } },
        data: rows.map(function (r) {
          return { value: Math.round(r.same_change * 1000) / 10, itemStyle: { color: r.same_change >= 0 ? "#198754" : "#dc3545" } };
        })
      }]
    });
  }
  pie("chart-filing-states", figures.filing_states);
  byCity("chart-by-city", figures.by_area);
  bar("chart-top-fields", figures.top_fields, true);
  yearOnYear("chart-year-on-year", figures.year_on_year);
  pie("chart-by-nature", figures.by_nature);
  pie("chart-by-ownership", figures.by_ownership);
  (window.dashboardExtraCharts || []).forEach(function (draw) { draw(echarts, figures, charts); });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
