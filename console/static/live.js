// Live alerts on 工作台: server-sent events from /events, added to the list without a reload.
(function () {
  var list = document.getElementById("live-alerts");
  var state = document.getElementById("live-state");
  var text = window.CONSOLE_TEXT || {};
  function bj(iso) {
    if (!iso) return "";
    var d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
    return d.toISOString().slice(0, 16).replace("T", " ") + " +08:00";
  }
  var source = new EventSource("/events");
  source.onopen = function () { state.textContent = text.live; };
  source.onerror = function () { state.textContent = text.lost; };
  source.addEventListener("alert", function (ev) {
    var a = JSON.parse(ev.data);
    var li = document.createElement("li");
    li.className = "live-alert";
    li.dataset.alert = a.alert_id;
    var link = a.case_id ? '<a href="/cases/' + encodeURIComponent(a.case_id) + '">' + a.case_id + "</a>" : a.subject;
    li.innerHTML = bj(a.observed_at) + " · <b></b> · " + a.level_label + " · " + a.platform_id + " · " + link;
    li.querySelector("b").textContent = a.type_label + " " + a.rule_title;
    list.insertBefore(li, list.firstChild);
  });
})();
