/* The customer widget (see widget.js): the chat view.  The items in seq order (messages
 * with their attachments, system sentences, the notice for secrets removed from the
 * customer's own message, the rating card; access_request cards come from
 * widget-access.js, article cards from widget-kb.js, referral cards from
 * widget-referrals.js through W.cardRenderers), the status line, sending over
 * HTTP and the typing indicator.
 */
(function () {
  "use strict";

  var W = window.SDWidget;
  var state = W.state;
  var $ = W.$;
  var el = W.el;
  var text = W.text;
  var api = W.api;
  var showError = W.showError;
  var has = W.has;
  var newKey = W.newKey;
  var tierName = W.tierName;
  var fmtWhen = W.fmtWhen;
  var files = W.files;
  var chatFiles = W.chatFiles;
  var lastTypingSent = 0;
  var typingTimer = null;

  // ---- chat view -----------------------------------------------------------

  function openChat(conversation, items) {
    state.chat = { id: conversation.id, conversation: conversation, seqs: {}, lastSeq: 0 };
    $("chat-items").replaceChildren();
    $("chat-typing").textContent = "";
    $("chat-error").hidden = true;
    chatFiles.reset(null);
    chatFiles.start(conversation.id);
    renderStatus();
    W.show("chat");
    (items || []).forEach(addItem);
    // The durable record; the socket's resume then continues from the last seq.
    api("GET", "/conversations/" + conversation.id + "/items?after=0&limit=1000").then(
      function (all) {
        all.forEach(addItem);
        W.sendResume();
      }
    );
    $("chat-body").focus();
  }

  function renderStatus() {
    var c = state.chat.conversation;
    var line = "";
    if (c.state === "waiting") {
      line = c.queue_position ? text("chat.queue", { position: c.queue_position })
                              : text("chat.waiting");
    } else if (c.state === "assigned" && c.assigned_agent) {
      line = text("chat.with", { name: c.assigned_agent.name,
                                 tier: tierName(c.assigned_agent.tier) });
    } else if (c.state === "resolved" || c.state === "closed") {
      line = text("chat.resolved");
    }
    $("chat-status").textContent = line;
    $("chat-status").className = "sd-status sd-" + c.state;
    var closed = c.state === "resolved" || c.state === "closed";
    $("chat-form").hidden = closed;
  }

  function addItem(item) {
    if (item.conversation_id !== state.chat.id || state.chat.seqs[item.seq]) return;
    var node = renderItem(item);
    if (!node) return;
    state.chat.seqs[item.seq] = true;
    state.chat.lastSeq = Math.max(state.chat.lastSeq, item.seq);
    node.dataset.seq = item.seq;
    // Keep seq order even if an item arrives late (an HTTP reply racing the socket).
    var list = $("chat-items");
    var before = null;
    for (var i = list.children.length - 1; i >= 0; i--) {
      if (Number(list.children[i].dataset.seq) > item.seq) before = list.children[i];
      else break;
    }
    list.insertBefore(node, before);
    if (!before) node.scrollIntoView({ block: "end" });
    if (item.author.type === "agent") $("chat-typing").textContent = "";
    reportRead();
  }

  // ---- read marker -----------------------------------------------------------
  /* What is on screen in the open chat of a visible page has been read. The server keeps
   * the highest seq reported: a request update the customer has seen is not e-mailed. */
  var readReported = {}; // conversation id -> highest seq reported
  var readTimer = null;

  function reportRead() {
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      var chat = state.chat;
      if (chat.id == null || state.view !== "chat" || document.visibilityState !== "visible") {
        return;
      }
      var seq = chat.lastSeq;
      if (!seq || (readReported[chat.id] || 0) >= seq) return;
      readReported[chat.id] = seq;
      api("POST", "/conversations/" + chat.id + "/read", { seq: seq }).catch(function () {
        readReported[chat.id] = 0; // try again with the next item or the next look
      });
    }, 300);
  }

  document.addEventListener("visibilitychange", reportRead);
  W.reportRead = reportRead; // widget.js calls it when the chat view is shown again

  function renderItem(item) {
    if (item.kind === "message") {
      var mine = item.author.type === "customer";
      var li = el("li", "sd-msg " + (mine ? "sd-mine" : "sd-theirs"));
      var who = mine ? text("chat.you") : item.author.name;
      if (!mine && item.author.tier) who += " · " + tierName(item.author.tier);
      li.appendChild(el("span", "sd-author", who));
      if (item.body) li.appendChild(el("p", "sd-body", item.body));
      var attachments = item.data && item.data.attachments;
      if (attachments && attachments.length) li.appendChild(files.render(attachments));
      return li;
    }
    if (item.kind === "system") {
      var data = item.data || {};
      if (data.event === "secret_removed") return secretNotice(data.kinds || []);
      var systemRenderer = data.system && (W.systemRenderers || {})[data.system];
      if (systemRenderer) return systemRenderer(data, item); // request updates (widget-requests.js)
      if (W.isAccessEvent(data.event) && data.grant_id) W.refreshGrant(data.grant_id);
      return el("li", "sd-system", systemSentence(data));
    }
    if (item.kind === "card" && item.data && item.data.card === "rating_prompt") {
      return ratingCard();
    }
    if (item.kind === "card" && item.data && item.data.card === "access_request") {
      return W.grantCard(item.data.grant_id, { heading: "h3", where: "chat" });
    }
    if (item.kind === "card" && item.data && item.data.card === "article") {
      return W.articleCard(item.data); // a help article an agent sent (widget-kb.js)
    }
    var cardRenderer = item.kind === "card" && item.data && (W.cardRenderers || {})[item.data.card];
    if (cardRenderer) return cardRenderer(item.data, item); // referrals (widget-referrals.js)
    return null; // notes never reach customers; unknown kinds are skipped
  }

  function systemSentence(data) {
    switch (data.event) {
      case "assigned":
        return text("event.assigned", { name: data.agent.name, tier: tierName(data.agent.tier) });
      case "transferred":
        return text("event.transferred", { tier: tierName(data.to_tier) });
      case "resolved":
        return text("event.resolved", { name: data.by ? data.by.name : "" });
      case "rated":
        return text("event.rated", { score: data.score });
      case "access_approved":
        return text("event.access_approved", {
          name: data.specialist_name || "", tier: tierName("technical_support"),
          until: fmtWhen(data.until),
        });
      case "access_denied":
        return text("event.access_denied");
      case "access_first_used":
        return text("event.access_first_used");
      case "access_revoked":
        return text("event.access_revoked");
      case "access_expired":
        return text("event.access_expired");
      case "access_request_expired":
        return text("event.access_request_expired");
      case "access_completed":
        return text("event.access_completed");
      default:
        return "";
    }
  }

  // ---- secrets removed from the customer's own message -------------------------

  function secretNotice(kinds) {
    var li = el("li", "sd-notice");
    var what = kinds.map(function (kind) {
      return has("secret.kind." + kind) ? text("secret.kind." + kind) : text("secret.kind.other");
    }).filter(function (word, i, all) { return all.indexOf(word) === i; });
    li.appendChild(el("p", "sd-notice-title", text("secret.title")));
    li.appendChild(el("p", null, text("secret.removed", {
      what: what.join(text("list.separator")) || text("secret.kind.other"),
    })));
    li.appendChild(el("p", null, text("secret.never")));
    li.appendChild(el("p", "sd-notice-action", text("secret.change")));
    if (kinds.indexOf("card_number") >= 0) li.appendChild(el("p", null, text("secret.card")));
    return li;
  }

  // ---- rating --------------------------------------------------------------

  function ratingCard() {
    var li = el("li", "sd-card");
    if (state.chat.conversation.rated) {
      li.appendChild(el("p", "sd-thanks", text("rating.thanks")));
      return li;
    }
    var form = el("form", "sd-rating");
    var fieldset = el("fieldset");
    fieldset.appendChild(el("legend", null, text("rating.heading")));
    var stars = el("div", "sd-stars");
    var score = 0;
    var buttons = [];
    [1, 2, 3, 4, 5].forEach(function (value) {
      var star = el("button", "sd-star", "★");
      star.type = "button";
      star.setAttribute("aria-label", text("rating.star", { score: value }));
      star.setAttribute("aria-pressed", "false");
      star.dataset.score = value;
      star.addEventListener("click", function () {
        score = value;
        buttons.forEach(function (b, i) {
          b.setAttribute("aria-pressed", String(i + 1 === value));
          b.classList.toggle("sd-on", i < value);
        });
        submit.disabled = false;
      });
      buttons.push(star);
      stars.appendChild(star);
    });
    fieldset.appendChild(stars);
    var commentId = "rating-comment-" + state.chat.id;
    var label = el("label", null, text("rating.comment"));
    label.htmlFor = commentId;
    var comment = el("textarea");
    comment.id = commentId;
    comment.rows = 2;
    comment.maxLength = 2000;
    fieldset.appendChild(label);
    fieldset.appendChild(comment);
    form.appendChild(fieldset);
    var submit = el("button", "sd-primary", text("rating.submit"));
    submit.type = "submit";
    submit.disabled = true;
    form.appendChild(submit);
    var error = el("p", "sd-error");
    error.hidden = true;
    form.appendChild(error);
    var conversationId = state.chat.id;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!score || submit.disabled) return;
      submit.disabled = true; // sent once
      api("POST", "/conversations/" + conversationId + "/rating",
          { score: score, comment: comment.value.trim() })
        .then(function () {
          if (state.chat.id === conversationId) state.chat.conversation.rated = true;
          li.replaceChildren(el("p", "sd-thanks", text("rating.thanks")));
        })
        .catch(function (err) {
          submit.disabled = false;
          showError(error, err);
        });
    });
    li.appendChild(form);
    return li;
  }

  // ---- sending -------------------------------------------------------------

  /* Send the text and every finished upload (uploads still running are waited for;
   * failed ones keep their chip and error). */
  function sendMessage(body) {
    var input = $("chat-body");
    var conversationId = state.chat.id;
    if (conversationId == null || (!body && !chatFiles.count())) return;
    $("chat-error").hidden = true;
    chatFiles.settled().then(function () {
      if (state.chat.id !== conversationId) return;
      var claim = chatFiles.take();
      if (!body && !claim.ids.length) return;
      // Over HTTP, so a message typed while the socket reconnects is not lost; the
      // client_key makes a retry safe.
      var message = { body: body, client_key: newKey() };
      if (claim.ids.length) message.attachment_ids = claim.ids;
      return api("POST", "/conversations/" + conversationId + "/messages", message)
        .then(function (item) {
          claim.sent();
          addItem(item);
        }, function (error) {
          claim.kept();
          if (!input.value) input.value = body;
          showError($("chat-error"), error);
        });
    });
  }

  $("chat-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("chat-body");
    var body = input.value.trim();
    input.value = "";
    sendMessage(body);
  });

  $("chat-body").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("chat-form").requestSubmit();
    }
  });

  $("chat-body").addEventListener("input", function () {
    var now = Date.now();
    if (W.connected() && state.chat.id != null && now - lastTypingSent > 2000) {
      lastTypingSent = now;
      W.send({ type: "typing", conversation_id: state.chat.id });
    }
  });

  function onConversation(conversation) {
    if (conversation.id !== state.chat.id) return;
    state.chat.conversation = conversation;
    renderStatus();
  }

  function onTyping(frame) {
    if (frame.conversation_id !== state.chat.id || frame.who.type !== "agent") return;
    $("chat-typing").textContent = text("chat.typing", { name: frame.who.name });
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { $("chat-typing").textContent = ""; }, 4000);
  }

  Object.assign(W, {
    openChat: openChat,
    addItem: addItem,
    sendMessage: sendMessage,
    onConversation: onConversation,
    onTyping: onTyping,
  });
})();
