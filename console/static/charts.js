// 平台: the three rates and the settlement rate per week against the 85% target (ECharts).
(function () {
  var data = JSON.parse(document.getElementById("platform-data").textContent);
  var text = window.CONSOLE_TEXT || {};
  if (typeof echarts === "undefined") return;
  var weeks = {};
  Object.keys(data.weeks).forEach(function (p) { data.weeks[p].forEach(function (w) { weeks[w.week] = 1; }); });
  var axis = Object.keys(weeks).sort();
  var series = [];
  Object.keys(data.weeks).forEach(function (p) {
    ["response_rate", "resolution_rate", "satisfaction_rate", "settlement_rate"].forEach(function (k) {
      var byWeek = {};
      data.weeks[p].forEach(function (w) { byWeek[w.week] = w[k] === null ? null : Math.round(w[k] * 1000) / 10; });
      series.push({ name: p + " " + text[k], type: "line", connectNulls: true, data: axis.map(function (w) { return byWeek[w]; }) });
    });
  });
  series.push({ name: text.target, type: "line", data: axis.map(function () { return 85; }), lineStyle: { type: "dashed" }, symbol: "none",
    markLine: { symbol: "none", label: { formatter: text.target + " 85%" }, data: [{ yAxis: 85 }] } });
  var chart = echarts.init(document.getElementById("rates-chart"), null, { renderer: "svg" });
  chart.setOption({ animation: false, tooltip: { trigger: "axis" }, legend: { type: "scroll" }, xAxis: { type: "category", data: axis },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }, series: series });
  var dl = echarts.init(document.getElementById("deadletter-chart"), null, { renderer: "svg" });
  dl.setOption({ animation: false, tooltip: {}, xAxis: { type: "category", data: data.deadletters_by_reason.map(function (r) { return r.label || r.reason; }) },
    yAxis: { type: "value" }, series: [{ type: "bar", data: data.deadletters_by_reason.map(function (r) { return r.n; }) }] });
})();
