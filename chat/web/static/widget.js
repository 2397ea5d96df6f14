/* Research chatbot widget loader. One line on any allowed site:
 *   <script src="http://HOST:7860/widget.js" data-title="Ask the articles" data-color="#1d4ed8"
 *           data-position="bottom-right" data-greeting="Hi! Ask me about the small-cap rally." async></script>
 * Adds a floating button that opens a compact chat panel: an iframe to /widget on the chatbot's server, so the
 * host page never calls the API itself. The server also enforces the allowlist with CSP frame-ancestors. */
(function () {
  "use strict";
  var ALLOWED = __ALLOWED_ORIGINS__;
  if (window.__researchChatbotWidget) return;
  var script = document.currentScript;
  if (!script) {
    var found = document.querySelectorAll('script[src*="/widget.js"]');
    script = found[found.length - 1];
  }
  if (!script) return;
  var server = new URL(script.src, location.href).origin;
  var here = location.origin;
  if (here !== server && ALLOWED.indexOf("*") < 0 && ALLOWED.indexOf(here) < 0) {
    console.warn("[research-chatbot] " + here + " may not embed this widget (ALLOWED_EMBED_ORIGINS on " + server + ").");
    return;
  }
  window.__researchChatbotWidget = true;

  var d = script.dataset;
  var title = (d.title || "Ask the articles").slice(0, 60);
  var color = /^#[0-9a-fA-F]{3,8}$|^[a-zA-Z]{3,20}$/.test(d.color || "") ? d.color : "#1d4ed8";
  var left = d.position === "bottom-left";
  var greeting = (d.greeting || "").slice(0, 240);
  var query = new URLSearchParams({ title: title, color: color, greeting: greeting, host: here });

  function css(el, styles) { for (var k in styles) el.style.setProperty(k, styles[k]); return el; }
  var side = left ? "left" : "right";

  var button = document.createElement("button");
  button.type = "button";
  button.id = "research-chatbot-button";
  button.setAttribute("aria-label", "Open chat: " + title);
  button.setAttribute("aria-expanded", "false");
  var ICON_CHAT = '<svg width="26" height="26" viewBox="0 0 24 24" fill="none" stroke="white" stroke-width="2" ' +
    'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 ' +
    '2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/></svg>';
  var ICON_CLOSE = '<svg width="24" height="24" viewBox="0 0 24 24" fill="none" stroke="white" stroke-width="2.5" ' +
    'stroke-linecap="round" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>';
  button.innerHTML = ICON_CHAT;
  css(button, { position: "fixed", bottom: "20px", width: "56px", height: "56px", "border-radius": "50%",
    border: "none", background: color, cursor: "pointer", "box-shadow": "0 6px 20px rgba(0,0,0,.25)",
    "z-index": "2147483000", display: "flex", "align-items": "center", "justify-content": "center", padding: "0" });
  button.style.setProperty(side, "20px");

  var frame = document.createElement("iframe");
  frame.id = "research-chatbot-frame";
  frame.title = title;
  frame.src = server + "/widget?" + query.toString();
  frame.setAttribute("referrerpolicy", "no-referrer");
  css(frame, { position: "fixed", bottom: "88px", width: "min(380px, calc(100vw - 32px))",
    height: "min(560px, calc(100vh - 120px))", border: "1px solid rgba(0,0,0,.12)", "border-radius": "14px",
    "box-shadow": "0 12px 40px rgba(0,0,0,.28)", "z-index": "2147483000", display: "none", background: "white" });
  frame.style.setProperty(side, "20px");

  function toggle(open) {
    var show = open === undefined ? frame.style.display === "none" : open;
    frame.style.display = show ? "block" : "none";
    button.setAttribute("aria-expanded", String(show));
    button.setAttribute("aria-label", (show ? "Close chat: " : "Open chat: ") + title);
    button.innerHTML = show ? ICON_CLOSE : ICON_CHAT;
  }
  button.addEventListener("click", function () { toggle(); });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
  window.addEventListener("message", function (e) {
    if (e.origin === server && e.data === "research-chatbot:close") toggle(false);
  });
  function mount() { document.body.appendChild(frame); document.body.appendChild(button); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
