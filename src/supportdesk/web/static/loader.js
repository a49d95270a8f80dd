/* supportdesk widget loader.
 *
 *   <script src="https://support.example.com/widget.js" data-token="IDENTITY_JWT"></script>
 *   SupportDesk.open();              // or SupportDesk.open({token: "..."})
 *   SupportDesk.close();
 *
 * The widget runs in an iframe served by supportdesk, so the host page's CSS cannot
 * reach it. The identity token is handed to the iframe with postMessage (never in
 * its URL, which would end up in logs and Referer headers).
 */
(function () {
  "use strict";
  if (window.SupportDesk) return;

  var script = document.currentScript;
  var origin = new URL(script.src, location.href).origin;
  var defaultToken = script.getAttribute("data-token") || "";
  var frame = null;
  var pendingToken = "";

  function style(el, props) {
    for (var key in props) el.style[key] = props[key];
  }

  function onMessage(event) {
    if (!frame || event.source !== frame.contentWindow || event.origin !== origin) return;
    var data = event.data || {};
    if (data.type === "supportdesk:ready") {
      frame.contentWindow.postMessage({ type: "supportdesk:init", token: pendingToken }, origin);
    } else if (data.type === "supportdesk:close") {
      close();
    }
  }

  function open(options) {
    var token = (options && options.token) || defaultToken;
    if (!token) throw new Error("SupportDesk.open: no identity token");
    if (frame && token === pendingToken) {
      frame.focus();
      return;
    }
    close();
    pendingToken = token;
    frame = document.createElement("iframe");
    frame.id = "supportdesk-frame";
    frame.name = "supportdesk-widget";
    frame.title = "Support";
    frame.src = origin + "/widget";
    frame.setAttribute("referrerpolicy", "no-referrer");
    style(frame, {
      position: "fixed", right: "16px", bottom: "16px", zIndex: "2147483000",
      width: "380px", maxWidth: "calc(100vw - 32px)",
      height: "600px", maxHeight: "calc(100vh - 32px)",
      border: "0", borderRadius: "12px", background: "#fff",
      boxShadow: "0 8px 32px rgba(0,0,0,.25)", colorScheme: "light"
    });
    if (window.innerWidth <= 480) {
      style(frame, { right: "0", bottom: "0", maxWidth: "100vw", width: "100vw",
                     height: "100vh", maxHeight: "100vh", borderRadius: "0" });
    }
    document.body.appendChild(frame);
  }

  function close() {
    if (frame) frame.remove();
    frame = null;
    pendingToken = "";
  }

  window.addEventListener("message", onMessage);
  window.SupportDesk = { open: open, close: close };
})();
