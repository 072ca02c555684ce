// Draws the dashboard's charts from the figures the page embeds (json_script); ECharts is served locally.
(function () {
  "use strict";
  var figures = JSON.parse(document.getElementById("dashboard-figures").textContent);
  var charts = [];
  function bar(id, rows, horizontal) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = echarts.init(el);
    var names = rows.map(function (r) { return r[0]; });
    var values = rows.map(function (r) { return r[1]; });
    var category = { type: "category", data: names, axisLabel: { interval: 0, rotate: horizontal ? 0 : 30 } };
    var value = { type: "value" };
    chart.setOption({
      tooltip: { trigger: "axis" },
      grid: { left: horizontal ? 140 : 50, right: 20, bottom: horizontal ? 30 : 80, top: 20 },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign(category, { inverse: true }) : value,
      series: [{ type: "bar", data: values, label: { show: true, position: horizontal ? "right" : "top" } }]
    });
    charts.push(chart);
  }
  function pie(id, rows) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "item", formatter: "{b}: {c}（{d}%）" },
      legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["35%", "65%"], data: rows.map(function (r) { return { name: r[0], value: r[1] }; }) }]
    });
    charts.push(chart);
  }
  bar("chart-by-city", figures.by_city, false);
  pie("chart-by-nature", figures.by_nature);
  pie("chart-by-ownership", figures.by_ownership);
  bar("chart-top-fields", figures.top_fields, true);
  (window.dashboardExtraCharts || []).forEach(function (draw) { draw(echarts, figures, charts); });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
