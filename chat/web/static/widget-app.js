/* The compact chat inside the widget iframe. Same-origin calls to /api/ask/stream; every piece of text from
 * the user, the answer or the articles goes into the page with textContent, never as HTML. */
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var color = params.get("color") || "";
  if (/^#[0-9a-fA-F]{3,8}$|^[a-zA-Z]{3,20}$/.test(color)) document.documentElement.style.setProperty("--accent", color);
  var title = (params.get("title") || "Ask the articles").slice(0, 60);
  document.getElementById("title").textContent = title;
  document.title = title;

  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("q");
  var send = document.getElementById("send");
  var history = [];
  var busy = false;

  document.getElementById("close").addEventListener("click", function () {
    if (window.parent !== window) window.parent.postMessage("research-chatbot:close", "*");
  });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function bubble(cls, text) {
    var node = el("div", "msg " + cls, text);
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function render(node, answer) {
    node.textContent = "";
    node.className = "msg bot" + (answer.refused ? " refused" : "");
    var valid = {};
    answer.citations.forEach(function (c) { valid[c.n] = c; });
    var list = el("ul", "sources");
    function marks(parent, numbers) {
      numbers.forEach(function (n) {
        if (!valid[n]) return;
        var b = el("button", "cite", "[" + n + "]");
        b.type = "button";
        b.title = valid[n].title;
        b.addEventListener("click", function () {
          list.querySelectorAll(".quote").forEach(function (q) { q.classList.remove("active"); });
          var item = list.querySelector('.quote[data-n="' + n + '"]');
          if (item) { item.classList.add("active"); item.scrollIntoView({ block: "nearest" }); }
        });
        parent.appendChild(b);
      });
    }
    function same(a, b) { return a.length === b.length && a.every(function (n, i) { return n === b[i]; }); }
    // The answer's layout (answer.blocks): lead line, headings, bullets, runs of cited sentences, notes.
    answer.blocks.forEach(function (block) {
      if (block.kind === "lead" || block.kind === "note") {
        node.appendChild(el("p", block.kind, block.text));
      } else if (block.kind === "heading") {
        node.appendChild(el("p", "heading", block.text + ":"));
      } else {
        var p = el("p", block.kind === "item" ? "item" : "prose");
        if (block.label) p.appendChild(el("strong", "", block.label + " — "));
        block.pieces.forEach(function (piece, i) {
          if (i) p.appendChild(document.createTextNode(" "));
          p.appendChild(document.createTextNode(piece.text));
          // A run of sentences from one passage shows one marker, at the end of the run.
          var next = block.pieces[i + 1];
          if (!(block.kind === "text" && next && same(next.citations, piece.citations))) marks(p, piece.citations);
        });
        node.appendChild(p);
      }
    });
    // An answer that does not directly address the question says so (answer.relevance_label).
    var notes = { partial: "These passages answer only part of what you asked.",
                  weak: "These are the closest passages found; they may not answer your question." };
    if (!answer.refused && notes[answer.relevance_label]) {
      node.appendChild(el("span", "relevance " + answer.relevance_label, notes[answer.relevance_label]));
    }
    if (answer.refused && answer.suggestions && answer.suggestions.length) {
      node.appendChild(chips("You could ask:", answer.suggestions));
    }
    // One entry per article (its title once), holding a quote per citation with a link into the article.
    var byArticle = {};
    answer.citations.forEach(function (c) {
      var group = byArticle[c.source];
      if (!group) {
        group = byArticle[c.source] = el("li", "article");
        group.appendChild(el("strong", "", c.title || c.source));
        group.appendChild(el("span", "meta", " — " + [c.publisher, c.author, c.published].filter(Boolean).join(", ")));
        list.appendChild(group);
      }
      var quote = el("div", "quote");
      quote.setAttribute("data-n", String(c.n));
      quote.appendChild(el("span", "n", String(c.n)));
      quote.appendChild(el("q", "", c.highlight));
      var open = el("a", "open", "Open in article ↗");
      open.href = c.article_link;
      open.target = "_blank";
      open.rel = "noopener";
      quote.appendChild(open);
      group.appendChild(quote);
    });
    if (answer.citations.length) node.appendChild(list);
    log.scrollTop = log.scrollHeight;
  }

  // Questions offered as buttons: the examples under the greeting, the suggestions of a refusal.
  function chips(label, questions) {
    var box = el("div", "suggest");
    box.appendChild(el("span", "", label));
    questions.forEach(function (q) {
      var b = el("button", "chip", q);
      b.type = "button";
      b.addEventListener("click", function () { ask(q); });
      box.appendChild(b);
    });
    return box;
  }

  function fail(node, message) {
    node.className = "msg bot error";
    node.textContent = message;
  }

  function ask(question) {
    question = (question || "").trim();
    if (!question || busy) return;
    busy = true;
    send.disabled = true;
    if (starter) { starter.remove(); starter = null; }
    bubble("user", question);
    var node = bubble("bot typing", "");
    node.setAttribute("aria-label", "Looking through the articles");
    for (var i = 0; i < 3; i++) node.appendChild(el("span", "dot"));
    var draft = "";
    var turns = history.slice(-8);
    fetch("/api/ask/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question: question, history: turns })
    }).then(function (response) {
      if (!response.ok) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          fail(node, body.error || ("The server answered " + response.status + "."));
        });
      }
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function handle(block) {
        var event = "message", data = "";
        block.split("\n").forEach(function (line) {
          if (line.indexOf("event: ") === 0) event = line.slice(7);
          else if (line.indexOf("data: ") === 0) data += line.slice(6);
        });
        if (!data) return;
        var payload = JSON.parse(data);
        if (event === "token") { draft += payload.text; node.className = "msg bot"; node.textContent = draft; }
        else if (event === "answer") {
          render(node, payload);
          history.push({ role: "user", content: question }, { role: "assistant", content: payload.answer });
        } else if (event === "error") fail(node, payload.error);
      }
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          buffer += decoder.decode(chunk.value, { stream: true });
          var blocks = buffer.split("\n\n");
          buffer = blocks.pop();
          blocks.forEach(handle);
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      fail(node, "Could not reach the chatbot. Please try again.");
    }).then(function () {
      busy = false;
      send.disabled = false;
      input.focus();
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var q = input.value;
    input.value = "";
    ask(q);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  var greeting = (params.get("greeting") || "").slice(0, 240);  // the same caps as widget.js
  bubble("bot", greeting || "Hi! Ask me about the articles; every answer cites its sources.");
  var examples = [];
  try { examples = JSON.parse(log.getAttribute("data-examples") || "[]"); } catch (e) { examples = []; }
  var starter = null;  // the example chips under the greeting, until the first question
  if (examples.length) {
    starter = chips("Try:", examples.slice(0, 3));
    starter.classList.add("starter");
    log.appendChild(starter);
  }
})();
