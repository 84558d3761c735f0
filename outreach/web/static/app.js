// outreach — small progressive enhancements; every page also works without JavaScript.
(function () {
  "use strict";

  // Ask before a button that acts on many letters at once.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // "Select all on this page" checkbox of the recipients table.
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("#recipients input[name=key]").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }

  // ← and → step to the previous and next letter (as the page's own links do), unless typing.
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) { return; }
    var link = event.key === "ArrowLeft" ? document.getElementById("previous")
      : event.key === "ArrowRight" ? document.getElementById("next") : null;
    if (link && link.href) {
      event.preventDefault();
      window.location.href = link.href;
    }
  });

  // A build or an approval running in the background: its count and time left, asked for now and
  // then; once it has ended, the page is loaded again to show its report (and the letters it changed).
  document.querySelectorAll("[data-job-url]").forEach(function (notice) {
    var url = notice.getAttribute("data-job-url");
    var every = Number(notice.getAttribute("data-poll-ms")) || 3000;
    var text = notice.querySelector(".job-text");
    var bar = notice.querySelector(".job-bar");
    var reload = notice.querySelector(".job-reload");
    if (reload) { reload.hidden = true; }
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && !data.running) { window.location.reload(); return; }
          if (data) {
            text.textContent = data.text;
            bar.hidden = !data.total;
            bar.max = Math.max(data.total, 1);
            bar.value = data.done;
          }
          window.setTimeout(poll, every);
        })
        .catch(function () { window.setTimeout(poll, every); });  // the server may be restarting
    }
    window.setTimeout(poll, every);
  });

  // The field picker: "Chép" puts the tag on the clipboard (select-and-copy where the Clipboard API is
  // refused, e.g. over plain HTTP beyond localhost) and says so; the search box filters the rows.
  function copied(button, ok) {
    var status = document.getElementById("copy-status");
    var message = ok ? "Đã chép " + button.getAttribute("data-copy") : "Không chép được; hãy bôi đen thẻ rồi bấm Ctrl+C.";
    button.textContent = ok ? "Đã chép" : "Chưa chép";
    if (status) { status.textContent = message; }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var text = button.getAttribute("data-copy");
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
      copied(button, ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button, true); }, fallback);
    } else {
      fallback();
    }
  });
  document.querySelectorAll("input[data-filter]").forEach(function (box) {
    var rows = document.querySelectorAll(box.getAttribute("data-filter") + " tbody tr");
    box.addEventListener("input", function () {
      var words = box.value.toLowerCase().trim();
      rows.forEach(function (row) { row.hidden = words !== "" && row.textContent.toLowerCase().indexOf(words) < 0; });
    });
  });

  // Sending progress: poll the JSON endpoint and update the numbers and the recent events.
  var panel = document.querySelector("[data-progress-url]");
  if (!panel) { return; }
  var url = panel.getAttribute("data-progress-url");
  var every = Number(panel.getAttribute("data-poll-ms")) || 3000;
  var shown = {};  // the counts the page was rendered with
  document.querySelectorAll("dd[data-count]").forEach(function (node) {
    shown[node.getAttribute("data-count")] = Number(node.textContent);
  });

  function setText(selector, value) {
    document.querySelectorAll(selector).forEach(function (node) { node.textContent = String(value); });
  }

  function cell(text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) { td.className = className; }
    return td;
  }

  function update(data) {
    var stale = document.getElementById("stale-notice");
    if (stale) {
      stale.hidden = Object.keys(data.counts).every(function (state) { return data.counts[state] === shown[state]; });
    }
    Object.keys(data.counts).forEach(function (state) {
      setText('[data-count="' + state + '"]', data.counts[state]);
    });
    setText('[data-field="sent"]', data.sent);
    setText('[data-field="approved"]', data.approved);
    setText('[data-field="percent"]', data.percent);
    setText('[data-field="pause_reason"]', data.pause_reason);
    setText('[data-field="pause_by"]', data.pause_by);
    var bar = document.getElementById("progress-bar");
    if (bar) { bar.max = Math.max(data.approved, 1); bar.value = data.sent; }
    var paused = document.getElementById("paused-notice");
    if (paused) { paused.hidden = !data.paused; }
    var running = document.getElementById("running");
    if (running) {
      running.textContent = running.getAttribute(data.running ? "data-running-label" : "data-idle-label");
      running.className = "badge " + (data.running ? "badge-sending" : "badge-drafted");
    }
    var body = document.getElementById("events");
    if (body && data.events.length) {
      var rows = data.events.map(function (e) {
        var tr = document.createElement("tr");
        tr.appendChild(cell(e.at, "small nowrap"));
        tr.appendChild(cell(e.key.split("/").pop(), "code"));
        tr.appendChild(cell(e.name));
        tr.appendChild(cell(e.change));
        tr.appendChild(cell(e.actor));
        tr.appendChild(cell(e.detail, "small"));
        return tr;
      });
      body.replaceChildren.apply(body, rows);
    }
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { update(data); } })
      .catch(function () { /* the server may be restarting; try again next time */ })
      .finally(function () { window.setTimeout(poll, every); });
  }
  poll();
}());
