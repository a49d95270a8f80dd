/* The agent console (see console.js): the open conversation.  Its head (state, assignee,
 * which actions show), the timeline in seq order with attachments (attachments.js), the
 * composer (drafts per conversation, internal notes, pasted and dropped files, the saved-
 * reply picker), read marks and typing indicators.
 */
(function () {
  "use strict";

  var SD = window.SD;
  var C = window.SDConsole;
  var state = C.state;
  var $ = C.$;
  var t = C.t;
  var tierLabel = C.tierLabel;
  var stateLabel = C.stateLabel;
  var otherTier = C.otherTier;
  var localeLabel = C.localeLabel;
  var showError = C.showError;

  var TYPING_SEND_MS = 3000; // at most one typing frame per this interval
  var TYPING_SHOW_MS = 6000; // how long someone else's typing indicator stays
  var ITEMS_PAGE = 1000;

  var openToken = 0;
  var typingSentAt = 0;
  var typingTimer = null;
  var drafts = {}; // conversation id -> unsent text
  var files = null; // SDAttachments context (the cookie session fetches media)
  var tray = null; // the composer's pending files

  /* ---------------------------------------------------------------- chat view ---- */

  function canAct(conv) {
    return !!conv && (state.me.is_supervisor ||
      (conv.assigned_agent !== null && conv.assigned_agent.id === state.me.id));
  }

  function isFinished(conv) { return conv.state === "resolved" || conv.state === "closed"; }

  function renderChatHead() {
    var conv = state.conv;
    if (!conv) return;
    $("cs-chat-heading").textContent =
      t("console.conversation.number", { id: conv.id }) + " " + conv.subject;
    var meta = [stateLabel(conv.state), tierLabel(conv.tier)];
    if (conv.assigned_agent) meta.push(t("console.chat.assignee", { name: conv.assigned_agent.name }));
    if (conv.queue_position) meta.push(t("console.queue.position", { position: conv.queue_position }));
    meta.push(localeLabel(conv.locale));
    $("cs-chat-meta").textContent = meta.join(" · ");

    var acting = canAct(conv);
    var transfer = $("cs-transfer");
    transfer.hidden = !(acting && conv.state === "assigned");
    transfer.textContent = t("console.action.transfer_to", { tier: tierLabel(otherTier(conv.tier)) });
    $("cs-resolve").hidden = !(acting && (conv.state === "assigned" ||
      (conv.state === "waiting" && state.me.is_supervisor)));
    $("cs-access-request").hidden = !C.mayRequestAccess(conv);
    var reassign = $("cs-reassign");
    reassign.hidden = !(state.me.is_supervisor && !isFinished(conv));
    if (!reassign.hidden) C.renderReassignOptions();

    // The composer: the assignee or a supervisor writes; after resolution only notes.
    var body = $("cs-body");
    var internal = $("cs-internal");
    var readOnly = !acting;
    body.disabled = readOnly;
    $("cs-send").disabled = readOnly;
    $("cs-attach").disabled = readOnly;
    internal.disabled = readOnly || isFinished(conv);
    if (isFinished(conv)) internal.checked = true;
    var note = $("cs-readonly");
    if (readOnly) {
      note.textContent = t("console.composer.read_only");
    } else if (isFinished(conv)) {
      note.textContent = t("console.composer.notes_only");
    }
    note.hidden = !(readOnly || isFinished(conv));
    renderComposerMode();
  }

  function renderComposerMode() {
    var internal = $("cs-internal").checked;
    $("cs-composer").classList.toggle("is-note", internal);
    $("cs-body-label").textContent = t(internal ? "console.composer.label_note" : "console.composer.label");
    $("cs-send").textContent = t(internal ? "console.composer.send_note" : "console.composer.send");
  }

  function timeNode(iso) {
    var time = SD.el("time", "cs-time", SD.fmtTime(iso));
    time.dateTime = iso;
    return time;
  }

  function authorLine(item) {
    var head = SD.el("p", "cs-item-head");
    var who = item.author.type === "customer"
      ? item.author.name || t("console.author.customer")
      : item.author.name;
    head.appendChild(SD.el("span", "cs-author", who));
    var role = item.author.type === "customer"
      ? t("console.author.customer")
      : item.author.tier ? tierLabel(item.author.tier) : t("console.author.staff");
    head.appendChild(SD.el("span", "cs-author-tier", role));
    if (item.kind === "note") {
      var label = item.data && item.data.handoff
        ? t("console.note.handoff", { tier: tierLabel(item.data.to_tier) })
        : t("console.note.label");
      head.appendChild(SD.el("span", "cs-note-label", label));
    }
    head.appendChild(timeNode(item.created_at));
    return head;
  }

  /* A system item or card as a sentence in the agent's language. */
  function systemSentence(item) {
    var data = item.data || {};
    // Sentences other scripts add for their own system items (console-product.js).
    var added = data.system && (C.systemSentences || {})[data.system];
    if (added) return added(data);
    if (item.kind === "card") {
      if (data.card === "rating_prompt") return t("console.card.rating_prompt");
      if (data.card === "access_request") {
        var name = C.requesterOf(item);
        return name ? t("console.card.access_request", { name: name })
                    : t("console.card.access_request_unnamed");
      }
      return t("console.card.other", { card: data.card || "" });
    }
    switch (data.event) {
      case "access_approved":
        // Tier 1 learns only that technical support has access, and until when.
        if (!C.mayReadGrants()) return t("console.event.access_approved_tier1", { time: SD.fmtTime(data.until) });
        return t("console.event.access_approved", {
          name: data.specialist_name || "", time: SD.fmtTime(data.until),
        });
      case "access_denied":
      case "access_first_used":
      case "access_revoked":
      case "access_expired":
      case "access_request_expired":
      case "access_completed":
        return t("console.event." + data.event);
      case "secret_removed":
        return t("console.event.secret_removed", {
          kinds: (data.kinds || []).map(function (kind) {
            var code = "console.secret." + kind;
            return t(code) === code ? kind : t(code);
          }).join(", "),
        });
      case "assigned":
        return t("console.event.assigned", {
          name: data.agent ? data.agent.name : "",
          tier: data.agent ? tierLabel(data.agent.tier) : "",
        });
      case "transferred":
        return t("console.event.transferred", {
          from: tierLabel(data.from_tier), to: tierLabel(data.to_tier),
        });
      case "resolved":
        return t("console.event.resolved", { name: data.by ? data.by.name : "" });
      case "rated":
        return t("console.event.rated", { score: data.score });
      default:
        return t("console.event.other", { event: data.event || "" });
    }
  }

  function itemNode(item) {
    var li = SD.el("li", "cs-item cs-item--" + item.kind);
    li.dataset.seq = String(item.seq);
    if (item.kind === "card" && item.data && item.data.card === "article") return C.articleCardNode(item);
    var cardNode = item.kind === "card" && item.data && (C.cardNodes || {})[item.data.card];
    if (cardNode) return cardNode(item); // referral cards (console-triage.js)
    if (item.kind === "system" || item.kind === "card") {
      li.appendChild(SD.el("span", "cs-system-text", systemSentence(item)));
      li.appendChild(timeNode(item.created_at));
      return li;
    }
    if (item.author.type === "customer") li.classList.add("cs-item--customer");
    if (item.author.type === "agent" && item.author.id === state.me.id) li.classList.add("cs-item--own");
    li.appendChild(authorLine(item));
    if (item.body) li.appendChild(SD.el("div", "cs-item-body", item.body));
    var attachments = item.data && item.data.attachments;
    if (attachments && attachments.length) li.appendChild(files.render(attachments));
    return li;
  }

  /* Add an item of the open conversation in seq order (live items may overtake the
   * initial page of history); an item already shown is ignored. */
  function addItem(item) {
    if (state.items[item.seq]) return;
    state.items[item.seq] = item;
    var newest = item.seq > state.maxSeq;
    if (newest) state.maxSeq = item.seq;
    var timeline = $("cs-timeline");
    var node = itemNode(item);
    var after = null;
    for (var child = timeline.lastElementChild; child; child = child.previousElementSibling) {
      if (Number(child.dataset.seq) < item.seq) { after = child; break; }
    }
    var log = $("cs-log");
    var stick = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    if (after) after.after(node);
    else timeline.prepend(node);
    if (stick || newest) log.scrollTop = log.scrollHeight;
    if (C.isAccessItem(item)) C.accessItemArrived();
  }

  function renderTimeline() {
    var timeline = $("cs-timeline");
    timeline.textContent = "";
    var items = state.items;
    state.items = {};
    state.maxSeq = 0;
    Object.keys(items).map(Number).sort(function (a, b) { return a - b; }).forEach(function (seq) {
      addItem(items[seq]);
    });
  }

  function loadItems(id, after, token) {
    return SD.api("GET", "/api/v1/conversations/" + id + "/items?after=" + after + "&limit=" + ITEMS_PAGE)
      .then(function (items) {
        if (token !== openToken) return null;
        items.forEach(addItem);
        if (items.length === ITEMS_PAGE) return loadItems(id, items[items.length - 1].seq, token);
        return null;
      });
  }

  function openConversation(id) {
    var token = ++openToken;
    var body = $("cs-body");
    // Drafts stay with their conversation, so nothing typed for one customer goes to another.
    if (state.openId) drafts[state.openId] = body.value;
    body.value = drafts[id] || "";
    $("cs-internal").checked = false;
    tray.reset(id); // pending files belong to the conversation they were added in
    tray.start(id);
    state.openId = id;
    state.conv = null;
    state.items = {};
    state.maxSeq = 0;
    state.typingWho = null;
    state.customer = null;
    state.history = null;
    state.grants = null;
    state.tokens = {};
    C.renderAccess();
    $("cs-timeline").textContent = "";
    $("cs-typing").textContent = "";
    showError($("cs-action-error"), "");
    showError($("cs-composer-error"), "");
    $("cs-chat-empty").hidden = true;
    $("cs-chat-view").hidden = false;
    $("cs-customer").hidden = true;
    $("cs-chat-heading").textContent = t("staff.loading");
    $("cs-chat-meta").textContent = "";
    document.querySelectorAll(".cs-conv").forEach(function (button) {
      if (button.dataset.conversation === String(id)) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    });
    SD.api("GET", "/api/v1/conversations/" + id).then(function (conv) {
      if (token !== openToken) return null;
      state.conv = conv;
      C.renderChatHead(); // through C: other scripts add to the head (console-product.js)
      C.loadCustomer(id, token);
      C.loadGrants();
      return loadItems(id, 0, token).then(function () {
        if (token !== openToken) return;
        state.stream.watch(id, state.maxSeq);
        markRead();
        if (!body.disabled) body.focus();
      });
    }).catch(function (err) {
      if (token !== openToken) return;
      $("cs-chat-heading").textContent = t("console.conversation.number", { id: id });
      showError($("cs-action-error"), err.message);
    });
  }

  /* After a reconnect: the state may have moved on; the stream resumes the items. */
  function reloadOpenConversation() {
    var id = state.openId;
    var token = openToken;
    SD.api("GET", "/api/v1/conversations/" + id).then(function (conv) {
      if (token !== openToken) return;
      state.conv = conv;
      C.renderChatHead();
      C.loadGrants();
    }, function () {});
  }

  /* The open conversation is read up to its newest item: the badge goes at once and
   * the server hears of each new high-water mark (items arrive at a human pace). */
  function markRead() {
    var id = state.openId;
    if (!id || !C.isMine(id)) return;
    state.unread[id] = 0;
    C.renderMine();
    var seq = state.maxSeq;
    if (seq <= (state.reported[id] || 0)) return;
    state.reported[id] = seq;
    SD.api("POST", "/api/v1/conversations/" + id + "/read", { seq: seq }).catch(function () {
      state.reported[id] = 0; // try again with the next item or the next opening
    });
  }

  /* ---------------------------------------------------------------- composer ---- */

  function sendMessage() {
    var conv = state.conv;
    var body = $("cs-body");
    var text = body.value;
    var error = $("cs-composer-error");
    if (!conv || body.disabled) return;
    if (!text.trim() && !tray.count()) {
      showError(error, t("console.composer.empty"));
      return;
    }
    showError(error, "");
    var send = $("cs-send");
    send.disabled = true;
    var id = conv.id;
    var internal = $("cs-internal").checked;
    var claim = null;
    // Uploads still running are waited for; failed ones keep their chip and error.
    tray.settled().then(function () {
      if (id !== state.openId) return null;
      claim = tray.take();
      if (!text.trim() && !claim.ids.length) return null;
      var message = { body: text, client_key: SD.newKey(), internal: internal };
      if (claim.ids.length) message.attachment_ids = claim.ids;
      return SD.api("POST", "/api/v1/conversations/" + id + "/messages", message).then(function (item) {
        claim.sent();
        if (id === state.openId && body.value === text) body.value = "";
        else if (drafts[id] === text) delete drafts[id];
        typingSentAt = 0;
        if (id === state.openId) {
          addItem(item);
          markRead();
        }
      });
    }).catch(function (err) {
      if (claim) claim.kept();
      showError(error, err.message);
    }).then(function () {
      send.disabled = !canAct(state.conv);
    });
  }

  function wireComposer() {
    var body = $("cs-body");
    var form = $("cs-composer");
    files = window.SDAttachments.create({
      t: t,
      headers: function (method) {
        return method === "GET" || method === "HEAD" ? {} : { "X-CSRF-Token": SD.me.csrf_token || "" };
      },
      cookie: true,
    });
    tray = files.tray($("cs-files"), { focusAfterRemove: function () { body.focus(); } });
    files.wireButton($("cs-attach"), $("cs-file"), tray);
    files.wirePaste(form, tray);
    files.wireDrop(form, tray);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendMessage();
    });
    // On the form, so it runs after the textarea's own listeners (the saved-reply picker
    // takes Enter while it is open and marks the event handled).
    form.addEventListener("keydown", function (event) {
      if (event.target !== body || event.key !== "Enter" || event.defaultPrevented) return;
      if (event.shiftKey || event.isComposing || event.keyCode === 229) return; // newline / IME
      event.preventDefault();
      sendMessage();
    });
    body.addEventListener("input", function () {
      if (!state.conv || !body.value) return;
      var now = Date.now();
      if (now - typingSentAt < TYPING_SEND_MS) return;
      typingSentAt = now;
      state.stream.send({
        type: "typing", conversation_id: state.conv.id, internal: $("cs-internal").checked,
      });
    });
    $("cs-internal").addEventListener("change", renderComposerMode);
    if (typeof SD.attachReplyPicker === "function") {
      SD.attachReplyPicker(body, {
        locale: function () { return state.conv ? state.conv.locale : SD.locale(); },
      });
    }
  }

  function showTyping(frame) {
    if (frame.conversation_id !== state.openId) return;
    var who = frame.who || {};
    if (who.type === "agent" && who.id === state.me.id) return;
    var name = who.name || (who.type === "customer" ? t("console.author.customer") : "");
    $("cs-typing").textContent = t(frame.internal ? "console.typing.note" : "console.typing.message", { name: name });
    state.typingWho = who.type + ":" + who.id;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(clearTyping, TYPING_SHOW_MS);
  }

  function clearTyping() {
    state.typingWho = null;
    $("cs-typing").textContent = "";
  }

  /* Ignore the answers of a conversation no longer open. */
  function stillOpen(token) { return token === openToken; }

  Object.assign(C, {
    renderChatHead: renderChatHead,
    renderComposerMode: renderComposerMode,
    renderTimeline: renderTimeline,
    addItem: addItem,
    openConversation: openConversation,
    reloadOpenConversation: reloadOpenConversation,
    markRead: markRead,
    stillOpen: stillOpen,
    wireComposer: wireComposer,
    showTyping: showTyping,
    clearTyping: clearTyping,
  });
})();
