/* The library page's upload and remove (chat/web/articles.py, routes in chat/web/admin.py). The admin token is
 * typed by the person managing the library, kept for this tab only (sessionStorage) and sent as a Bearer header;
 * the server checks it on every call. Text from the server goes into the page with textContent only. */
(function () {
  "use strict";
  var token = document.getElementById("token");
  var form = document.getElementById("upload");
  var files = document.getElementById("files");
  var bar = document.getElementById("progress");
  var report = document.getElementById("report");
  if (!token || !form) return;
  // Remove buttons show once a token is typed (the server still checks it on every call).
  function showRemove() {
    document.querySelectorAll("button.remove").forEach(function (b) { b.hidden = !token.value.trim(); });
  }
  token.value = sessionStorage.getItem("research-chatbot:admin") || "";
  if (token.value) document.getElementById("admin").open = true;
  showRemove();
  token.addEventListener("input", function () {
    sessionStorage.setItem("research-chatbot:admin", token.value);
    showRemove();
  });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function say(text, cls) { report.textContent = ""; report.appendChild(el("p", cls || "", text)); }

  function summary(r) {
    var parts = ["added", "updated", "unchanged", "deleted", "skipped", "failed"].filter(function (k) { return r[k]; })
      .map(function (k) { return r[k] + " " + k; });
    return "Ingested in " + (r.seconds || 0).toFixed(1) + " s: " + (parts.join(", ") || "nothing changed") +
      "; " + r.chunks_embedded + " passages embedded.";
  }

  // Runs one admin call and follows its NDJSON stream: progress, then the report (or an error).
  function run(request, busyText) {
    var buttons = document.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    say(busyText);
    bar.hidden = false;
    bar.removeAttribute("value");
    var failed = false, finished = false;  // finished: the stream gave its report or its error
    return fetch(request.url, {
      method: request.method, body: request.body,
      headers: { Authorization: "Bearer " + token.value.trim() }
    }).then(function (response) {
      if (!response.ok) {
        failed = true;
        return response.json().catch(function () { return {}; }).then(function (body) {
          say(body.error || ("The server answered " + response.status + "."), "error");
        });
      }
      var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function handle(line) {
        if (!line.trim()) return;
        var event;
        try { event = JSON.parse(line); } catch (e) { return; }  // a cut line: the end of the stream says more
        if (event.event === "progress") {
          bar.max = Math.max(event.total, 1);
          bar.value = event.done;
          say(busyText + " " + event.done + " of " + event.total + " passages embedded.");
        } else if (event.event === "error") {
          failed = finished = true;
          say("The ingest failed: " + event.error, "error");
        } else if (event.event === "report") {
          finished = true;
          var r = event.report;
          report.textContent = "";
          report.appendChild(el("p", "", summary(r)));
          var list = el("ul");
          (r.files || []).forEach(function (f) {
            list.appendChild(el("li", f.status, f.source + ": " + f.status + (f.reason ? " (" + f.reason + ")" : "")));
          });
          report.appendChild(list);
          if ((r.files || []).some(function (f) { return f.status === "failed" || f.status === "skipped"; })) failed = true;
        }
      }
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            handle(buffer);
            if (!finished) {
              failed = true;
              say("The run ended without a report (the server stopped or the connection broke); reload the page " +
                  "to see what is indexed.", "error");
            }
            return;
          }
          buffer += decoder.decode(chunk.value, { stream: true });
          var lines = buffer.split("\n");
          buffer = lines.pop();
          lines.forEach(handle);
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      failed = true;
      say("Could not reach the server.", "error");
    }).then(function () {
      bar.hidden = true;
      buttons.forEach(function (b) { b.disabled = false; });
      if (!failed) {
        var done = el("a", "", "Refresh the list");
        done.href = location.pathname + location.search;
        report.appendChild(done);
      }
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!files.files.length) { say("Choose one or more files first.", "error"); return; }
    var body = new FormData();
    Array.prototype.forEach.call(files.files, function (f) { body.append("files", f, f.name); });
    run({ url: "/admin/articles", method: "POST", body: body }, "Uploading and ingesting…").then(function () {
      files.value = "";
    });
  });

  document.querySelectorAll("button.remove").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = button.getAttribute("data-source");
      if (!window.confirm("Remove " + source + " from the corpus folder and the index?")) return;
      document.getElementById("admin").open = true;
      var path = source.split("/").map(encodeURIComponent).join("/");
      run({ url: "/admin/articles/" + path, method: "DELETE" }, "Removing " + source + "…");
    });
  });
})();
