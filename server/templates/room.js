// The room view: every 5 seconds, the statuses of the room's sittings from room.json, written
// into the table and the summary (a polite live region). No library; nothing else runs.
(function () {
  "use strict";
  var table = document.getElementById("room");
  var summary = document.getElementById("room-summary");
  if (!table || !summary) { return; }
  var url = table.getAttribute("data-refresh");
  function label(text) { return text.charAt(0).toUpperCase() + text.slice(1); }
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (room) {
        if (!room) { return; }
        room.rows.forEach(function (row) {
          var line = table.querySelector('tr[data-sitting="' + row.sitting_id + '"] .status');
          if (line && line.textContent !== label(row.status)) { line.textContent = label(row.status); }
        });
        var parts = Object.keys(room.counts).map(function (name) {
          return room.counts[name] + " " + name;
        });
        var text = parts.join(", ") + ".";
        if (summary.textContent !== text) { summary.textContent = text; }
      })
      .catch(function () { /* offline for a moment: the next round tries again */ });
  }
  window.setInterval(refresh, 5000);
}());
