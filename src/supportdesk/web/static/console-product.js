/* The agent console (see console.js): recording what a customer asks of the product.
 *
 *   "Record wish"  any agent who may write in the conversation: the customer's words (the
 *                  text selected in a customer message, else their first message), linked
 *                  to an existing topic or a new one: POST .../wishes.  The triage panel
 *                  (console-triage.js) offers it with one click when the category is
 *                  feature_request, through C.openWishDialog.
 *   "File bug"     tier 2 (technical_support): the same, plus steps, expected, actual and
 *                  attachments of this conversation by reference: POST .../bugs.
 * While the agent types, similar topics are suggested (GET /api/v1/topics/similar: the
 * knowledge base's ja/en analysis plus fuzzy matching on the server); the agent picks
 * one or creates a new topic.
 *
 * Also: the request_update system item (a development request changed) as a sentence in
 * the timeline, and /console?conversation=ID (the product board's links) opens that
 * conversation.
 *
 * User content goes into the page with textContent only (SD.el).
 */
(function () {
  "use strict";

  var SD = window.SD;
  var C = window.SDConsole;
  var state = C.state;
  var $ = C.$;
  var t = C.t;
  var showError = C.showError;

  var SUGGEST_DELAY_MS = 250;
  var SUGGEST_LIMIT = 5;
  var SEARCH_MAX = 500;

  // The open dialog: "wish" | "bug", the conversation it is for, the latest suggestion query.
  var dialog = { mode: null, conversationId: null, query: "", timer: null, suggestions: [] };

  function hasRole(role) { return ((state.me && state.me.roles) || []).indexOf(role) >= 0; }

  /* Who may record: the assigned agent or a supervisor (the server decides in the end). */
  function mayRecord() {
    var conv = state.conv;
    if (!conv) return false;
    return state.me.is_supervisor ||
      (conv.assigned_agent !== null && conv.assigned_agent.id === state.me.id);
  }

  function mayFileBug() { return mayRecord() && hasRole("technical_support"); }

  /* ---------------------------------------------------------------- the quote ---- */

  function sortedItems() {
    return Object.keys(state.items).map(Number).sort(function (a, b) { return a - b; })
      .map(function (seq) { return state.items[seq]; });
  }

  /* The text the agent selected inside a customer message of the timeline, if any. */
  function selectedCustomerText() {
    var selection = window.getSelection ? window.getSelection() : null;
    if (!selection || selection.isCollapsed) return "";
    var node = selection.anchorNode;
    var element = node && (node.nodeType === 1 ? node : node.parentElement);
    var item = element && element.closest("#cs-timeline .cs-item--customer");
    return item ? selection.toString().trim() : "";
  }

  function firstCustomerMessage() {
    var items = sortedItems();
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      if (item.kind === "message" && item.author.type === "customer" && item.body) return item.body;
    }
    return state.conv ? state.conv.subject : "";
  }

  function conversationAttachments() {
    var seen = {};
    var found = [];
    sortedItems().forEach(function (item) {
      ((item.data && item.data.attachments) || []).forEach(function (attachment) {
        if (seen[attachment.id]) return;
        seen[attachment.id] = true;
        found.push(attachment);
      });
    });
    return found;
  }

  /* ---------------------------------------------------------------- the dialog ---- */

  function open(mode, quote) {
    if (!state.openId) return;
    dialog.mode = mode;
    dialog.conversationId = state.openId;
    dialog.suggestions = [];
    dialog.query = "";
    var text = quote || selectedCustomerText() || firstCustomerMessage();
    $("cs-product-form").reset();
    $("cs-product-heading").textContent = t(mode === "bug" ? "console.product.bug_heading" : "console.product.wish_heading");
    $("cs-product-intro").textContent = t(mode === "bug" ? "console.product.bug_intro" : "console.product.wish_intro");
    $("cs-product-submit").textContent = t(mode === "bug" ? "console.product.submit_bug" : "console.product.submit_wish");
    $("cs-bug-fields").hidden = mode !== "bug";
    $("cs-product-quote").value = text;
    $("cs-product-search").value = text.split(/\s+/).join(" ").trim().slice(0, SEARCH_MAX);
    $("cs-product-title").value = "";
    showError($("cs-product-error"), "");
    if (mode === "bug") renderAttachments();
    renderSuggestions();
    $("cs-product-new").checked = true;
    renderNewFields();
    $("cs-product-dialog").showModal();
    $("cs-product-quote").focus();
    suggest();
  }

  function renderAttachments() {
    var list = $("cs-bug-attachment-list");
    list.textContent = "";
    var attachments = conversationAttachments();
    attachments.forEach(function (attachment) {
      var li = SD.el("li");
      var label = SD.el("label", "cs-switch");
      var box = SD.el("input");
      box.type = "checkbox";
      box.name = "cs-bug-attachment";
      box.value = String(attachment.id);
      label.appendChild(box);
      label.appendChild(SD.el("span", null, " " + (attachment.filename || "#" + attachment.id)));
      li.appendChild(label);
      list.appendChild(li);
    });
    $("cs-bug-no-attachments").hidden = attachments.length > 0;
  }

  function renderNewFields() {
    var creating = $("cs-product-new").checked;
    $("cs-product-new-fields").hidden = !creating;
    if (creating && !$("cs-product-title").value) {
      $("cs-product-title").value = $("cs-product-search").value.slice(0, 200);
    }
  }

  /* ---------------------------------------------------------------- suggestions ---- */

  function scheduleSuggest() {
    clearTimeout(dialog.timer);
    dialog.timer = setTimeout(suggest, SUGGEST_DELAY_MS);
  }

  function suggest() {
    var text = $("cs-product-search").value.trim();
    if (!text) text = $("cs-product-quote").value.trim();
    text = text.slice(0, SEARCH_MAX);
    if (text === dialog.query) return;
    dialog.query = text;
    if (!text) {
      dialog.suggestions = [];
      renderSuggestions();
      return;
    }
    var params = new URLSearchParams({ text: text, limit: String(SUGGEST_LIMIT) });
    SD.api("GET", "/api/v1/topics/similar?" + params.toString()).then(function (answer) {
      if (dialog.query !== text) return; // a later keystroke asked again
      dialog.suggestions = (answer && answer.items) || answer || [];
      renderSuggestions();
    }, function (err) { showError($("cs-product-error"), err.message); });
  }

  function topicOf(suggestion) { return suggestion.topic || suggestion; }

  function renderSuggestions() {
    var list = $("cs-product-topics");
    var chosen = document.querySelector('input[name="cs-product-topic"]:checked');
    var chosenValue = chosen ? chosen.value : "new";
    list.textContent = "";
    dialog.suggestions.forEach(function (suggestion) {
      var topic = topicOf(suggestion);
      var li = SD.el("li", "cs-product-topic");
      var label = SD.el("label", "cs-switch");
      var radio = SD.el("input");
      radio.type = "radio";
      radio.name = "cs-product-topic";
      radio.value = String(topic.id);
      radio.checked = chosenValue === radio.value;
      radio.addEventListener("change", renderNewFields);
      label.appendChild(radio);
      var text = SD.el("span", "cs-product-topic-text");
      text.appendChild(SD.el("span", "cs-product-topic-title", topic.title));
      text.appendChild(SD.el("span", "sd-muted", " " + t("console.product.topic_facts", {
        state: known("console.product.state." + topic.state, topic.state || ""),
      })));
      label.appendChild(text);
      li.appendChild(label);
      list.appendChild(li);
    });
    if (!document.querySelector('input[name="cs-product-topic"]:checked')) $("cs-product-new").checked = true;
    if (!dialog.suggestions.length && dialog.query) {
      list.appendChild(SD.el("li", "sd-muted", t("console.product.no_similar")));
    }
    renderNewFields();
  }

  function known(code, fallback) {
    var value = t(code);
    return value === code ? fallback : value;
  }

  /* ---------------------------------------------------------------- saving ---- */

  function body() {
    var payload = { quote: $("cs-product-quote").value.trim() };
    var chosen = document.querySelector('input[name="cs-product-topic"]:checked');
    if (chosen && chosen.value !== "new") {
      payload.topic_id = Number(chosen.value);
    } else {
      payload.new_topic = {
        title: $("cs-product-title").value.trim(),
        description: $("cs-product-description").value.trim(),
      };
    }
    if (dialog.mode === "bug") {
      payload.steps = $("cs-bug-steps").value.trim();
      payload.expected = $("cs-bug-expected").value.trim();
      payload.actual = $("cs-bug-actual").value.trim();
      payload.attachment_ids = [];
      document.querySelectorAll('input[name="cs-bug-attachment"]:checked').forEach(function (box) {
        payload.attachment_ids.push(Number(box.value));
      });
    }
    return payload;
  }

  function check(payload) {
    if (!payload.quote) return ["cs-product-quote", "console.product.quote_required"];
    if (payload.new_topic && !payload.new_topic.title) return ["cs-product-title", "console.product.title_required"];
    if (dialog.mode === "bug") {
      if (!payload.steps) return ["cs-bug-steps", "console.product.steps_required"];
      if (!payload.expected) return ["cs-bug-expected", "console.product.expected_required"];
      if (!payload.actual) return ["cs-bug-actual", "console.product.actual_required"];
    }
    return null;
  }

  function save() {
    var payload = body();
    var problem = check(payload);
    showError($("cs-product-error"), "");
    if (problem) {
      showError($("cs-product-error"), t(problem[1]));
      $(problem[0]).focus();
      return;
    }
    var id = dialog.conversationId;
    var mode = dialog.mode;
    var path = "/api/v1/conversations/" + id + (mode === "bug" ? "/bugs" : "/wishes");
    var submit = $("cs-product-submit");
    submit.disabled = true;
    SD.api("POST", path, payload).then(function (answer) {
      $("cs-product-dialog").close();
      // {id, kind, topic_id, topic_title, conversation_id}
      var title = (answer && answer.topic_title) || (payload.new_topic ? payload.new_topic.title : "");
      var message = t(mode === "bug" ? "console.product.bug_filed" : "console.product.wish_recorded",
                      { topic: title });
      if (id === state.openId) {
        showError($("cs-triage-error"), "");
        $("cs-triage-status").textContent = message;
        $("cs-product-status").textContent = message;
      }
    }, function (err) {
      showError($("cs-product-error"), err.message);
    }).then(function () { submit.disabled = false; });
  }

  /* ---------------------------------------------------------------- the head buttons ---- */

  function renderButtons() {
    var open = !!state.conv && state.conv.id === state.openId;
    $("cs-record-wish").hidden = !open || !mayRecord();
    $("cs-file-bug").hidden = !open || !mayFileBug();
  }

  /* ---------------------------------------------------------------- timeline ---- */

  var STATUS_CODES = ["queued", "in_progress", "fixed", "released", "wont_fix"];

  /* A request_update system item (product/ on the server) as a sentence. */
  function requestUpdateSentence(data) {
    var status = STATUS_CODES.indexOf(data.status) >= 0 ? t("console.product.status." + data.status) : data.status;
    return t("console.product.request_update", {
      request: data.request || "", title: data.title || "", status: status || "",
    });
  }
  C.systemSentences = Object.assign(C.systemSentences || {}, { request_update: requestUpdateSentence });

  /* ---------------------------------------------------------------- wiring ---- */

  function wire() {
    var status = SD.el("p", "sd-muted cs-product-status");
    status.id = "cs-product-status";
    status.setAttribute("role", "status");
    $("cs-action-error").insertAdjacentElement("afterend", status);

    $("cs-record-wish").addEventListener("click", function () { open("wish"); });
    $("cs-file-bug").addEventListener("click", function () { open("bug"); });
    $("cs-product-cancel").addEventListener("click", function () { $("cs-product-dialog").close(); });
    $("cs-product-form").addEventListener("submit", function (event) {
      event.preventDefault();
      save();
    });
    $("cs-product-search").addEventListener("input", scheduleSuggest);
    $("cs-product-quote").addEventListener("input", function () {
      if (!$("cs-product-search").value.trim()) scheduleSuggest();
    });
    $("cs-product-new").addEventListener("change", renderNewFields);

    var renderChatHead = C.renderChatHead;
    C.renderChatHead = function () {
      renderChatHead();
      renderButtons();
    };
    var openConversation = C.openConversation;
    C.openConversation = function (id) {
      openConversation(id);
      $("cs-product-status").textContent = "";
      renderButtons();
    };
    // /console?conversation=ID (links on the product board) opens it once signed in.
    var wireActions = C.wireActions;
    C.wireActions = function () {
      wireActions();
      var wanted = Number(new URLSearchParams(location.search).get("conversation"));
      if (wanted > 0) C.openConversation(wanted);
    };
  }

  C.openWishDialog = function (quote) { open("wish", quote); };
  C.mayRecordWish = mayRecord;

  document.addEventListener("DOMContentLoaded", wire);
})();
