/* The customer widget (see widget.js): development requests.
 *
 *   In the chat   the `request_update` system item (a request linked to this conversation
 *                 was created or changed: product/ on the server) as a card in the
 *                 customer's language, with the request number, title and status, and a
 *                 way to "My requests".  Drawn through W.systemRenderers, which
 *                 widget-chat.js consults; it arrives live over the socket.
 *   My requests   GET /my/requests: the requests linked to this portal's conversations,
 *                 each with its status history, and why there are no dates.
 *
 * Everything goes into the page with textContent.
 */
(function () {
  "use strict";

  var W = window.SDWidget;
  var state = W.state;
  var $ = W.$;
  var el = W.el;
  var text = W.text;
  var has = W.has;
  var api = W.api;
  var showError = W.showError;

  function customerLocale() { return document.documentElement.lang === "ja" ? "ja" : "en"; }

  /* {en, ja} -> the customer's language, else the other one. */
  function inLanguage(pair) {
    if (!pair) return "";
    if (typeof pair === "string") return pair;
    return pair[customerLocale()] || pair.en || pair.ja || "";
  }

  function statusName(status) {
    return has("requests.status." + status) ? text("requests.status." + status) : status || "";
  }

  function requestLabel(number) {
    return typeof number === "number" ? "REQ-" + number : String(number || "");
  }

  /* ---- the item in the chat ---- */

  /* data = {system: "request_update", request: "REQ-1042", title, status, text: {en, ja}}. */
  function requestUpdate(data) {
    var li = el("li", "sd-card sd-request-update");
    li.dataset.request = requestLabel(data.request);
    li.dataset.status = data.status || "";
    li.appendChild(el("p", "sd-request-label", text("requests.update.label")));
    var sentence = inLanguage(data.text) || text("requests.update.text", {
      request: requestLabel(data.request), title: data.title || "", status: statusName(data.status),
    });
    li.appendChild(el("p", "sd-request-text", sentence));
    var more = el("button", "sd-link-button sd-request-more", text("requests.open"));
    more.type = "button";
    more.addEventListener("click", function () { openRequests("chat"); });
    li.appendChild(more);
    return li;
  }

  W.systemRenderers = Object.assign(W.systemRenderers || {}, { request_update: requestUpdate });

  /* ---- My requests ---- */

  function historyList(history) {
    var ol = el("ol", "sd-request-history");
    history.forEach(function (step) {
      var li = el("li");
      li.dataset.status = step.status || "";
      li.appendChild(W.timeNode(step.at || step.created_at));
      li.appendChild(document.createTextNode(" "));
      var words = step.change === "title"
        ? text("requests.history.title", { title: step.title || "" })
        : statusName(step.status);
      li.appendChild(el("span", null, words));
      ol.appendChild(li);
    });
    return ol;
  }

  function requestEntry(request) {
    var li = el("li", "sd-card sd-request");
    var label = requestLabel(request.number);
    li.dataset.request = label;
    var head = el("p", "sd-request-head");
    head.appendChild(el("span", "sd-request-number", label));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("span", "sd-badge sd-request-status sd-request-" + request.status,
                        request.status_name || statusName(request.status)));
    li.appendChild(head);
    li.appendChild(el("p", "sd-request-title", request.title));
    var history = request.history || [];
    if (history.length) {
      li.appendChild(el("h3", "sd-request-history-heading", text("requests.history.heading")));
      li.appendChild(historyList(history));
    }
    return li;
  }

  function openRequests(from) {
    state.requestsReturn = from;
    W.show("requests");
    $("requests-error").hidden = true;
    $("requests-heading").focus();
    api("GET", "/my/requests").then(function (answer) {
      var requests = Array.isArray(answer) ? answer : (answer.requests || answer.items || []);
      var note = !Array.isArray(answer) && answer.no_deadline ? inLanguage(answer.no_deadline) : "";
      $("requests-no-deadline").textContent = note || text("requests.no_deadline");
      var list = $("requests-list");
      list.replaceChildren();
      requests.forEach(function (request) { list.appendChild(requestEntry(request)); });
      $("requests-empty").hidden = requests.length > 0;
    }).catch(function (error) { showError($("requests-error"), error); });
  }

  $("home-requests").addEventListener("click", function () { openRequests("home"); });

  W.openRequests = openRequests;
})();
