/* The agent console: presence, the queues of my tiers, my chats with unread badges,
 * the chat view (timeline, composer, transfer, resolve, reassign), the customer panel
 * and conversation search.  Everything stays live over one socket (SD.stream): frames
 * trigger re-reads of the small lists they change; nothing polls.  The one timer ticks
 * the "oldest wait" durations on screen, locally.
 *
 * Attachments (attachments.js): thumbnails, the lightbox, the video player and download
 * links in the timeline; an attach button, pasted screenshots and dropped files in the
 * composer, sent with the next message.
 *
 * User content goes into the page with textContent only (SD.el), never innerHTML.
 */
(function () {
  "use strict";

  var SD = window.SD;
  var TYPING_SEND_MS = 3000; // at most one typing frame per this interval
  var TYPING_SHOW_MS = 6000; // how long someone else's typing indicator stays
  var ITEMS_PAGE = 1000;

  var state = {
    me: null,
    stream: null,
    queues: [],
    mine: [],
    unread: {}, // conversation id -> unread count (server's count, plus live items)
    counted: {}, // conversation id -> highest seq already reflected in `unread`
    reported: {}, // conversation id -> highest seq reported read to the server
    searchResults: null,
    openId: null,
    conv: null,
    items: {}, // seq -> item of the open conversation
    maxSeq: 0, // the highest seq shown in the open conversation
    typingWho: null, // "customer:3": whose typing indicator is showing
    customer: null,
    history: null,
    agents: null, // supervisors: every agent, for reassigning
    specialists: [],
    grants: null, // account-access grants of the open conversation (tier 2, supervisors)
    tokens: {}, // grant id -> the access token minted here (shown once, kept until it ends)
  };
  var openToken = 0;
  var typingSentAt = 0;
  var typingTimer = null;
  var refreshTimers = {};
  var drafts = {}; // conversation id -> unsent text
  var files = null; // SDAttachments context (the cookie session fetches media)
  var tray = null; // the composer's pending files

  function $(id) { return document.getElementById(id); }
  function t(code, fields) { return SD.t(code, fields); }

  function tierLabel(tier) { return t("staff.tier." + tier); }
  function stateLabel(value) { return t("staff.state." + value); }
  function otherTier(tier) {
    return tier === "customer_support" ? "technical_support" : "customer_support";
  }

  function showError(node, message) {
    node.textContent = message || "";
    node.hidden = !message;
  }

  /* Run fn once shortly after the last of a burst of calls: one assignment run sends a
   * frame per waiting conversation, and the lists need one re-read, not fifty. */
  function soon(name, fn) {
    if (refreshTimers[name]) return;
    refreshTimers[name] = setTimeout(function () {
      refreshTimers[name] = null;
      fn();
    }, 100);
  }

  /* ---------------------------------------------------------------- lists ---- */

  function convButton(conv, options) {
    var button = SD.el("button", "cs-conv");
    button.type = "button";
    button.dataset.conversation = String(conv.id);
    if (conv.id === state.openId) button.setAttribute("aria-current", "true");
    var title = SD.el("span", "cs-conv-title");
    title.appendChild(SD.el("span", "cs-conv-id", t("console.conversation.number", { id: conv.id })));
    title.appendChild(document.createTextNode(" "));
    title.appendChild(SD.el("span", "cs-conv-subject", conv.subject));
    button.appendChild(title);
    var meta = [];
    if (options && options.position && conv.queue_position) {
      meta.push(t("console.queue.position", { position: conv.queue_position }));
    }
    if (!options || options.showState !== false) meta.push(stateLabel(conv.state));
    meta.push(tierLabel(conv.tier));
    meta.push(conv.locale === "ja" ? t("console.locale.ja") : t("console.locale.en"));
    button.appendChild(SD.el("span", "cs-conv-meta", meta.join(" · ")));
    var count = options && options.unread;
    if (count) {
      var badge = SD.el("span", "cs-badge", String(count));
      badge.setAttribute("aria-label", t("console.mine.unread", { count: count }));
      badge.title = t("console.mine.unread", { count: count });
      button.appendChild(badge);
    }
    button.addEventListener("click", function () { openConversation(conv.id); });
    return button;
  }

  function renderList(list, convs, options) {
    list.textContent = "";
    convs.forEach(function (conv) {
      var li = SD.el("li");
      var opts = Object.assign({}, options || {});
      if (opts.withUnread) opts.unread = state.unread[conv.id] || 0;
      li.appendChild(convButton(conv, opts));
      list.appendChild(li);
    });
  }

  function renderMine() {
    renderList($("cs-mine"), state.mine, { withUnread: true, showState: false });
    $("cs-mine-empty").hidden = state.mine.length > 0;
    var total = state.mine.reduce(function (sum, c) { return sum + (state.unread[c.id] || 0); }, 0);
    document.title = (total ? "(" + total + ") " : "") + t("console.title");
  }

  function renderQueues() {
    var root = $("cs-queues");
    root.textContent = "";
    state.queues.forEach(function (queue) {
      var section = SD.el("section", "cs-block cs-queue");
      section.dataset.tier = queue.tier;
      var headingId = "cs-queue-" + queue.tier;
      section.setAttribute("aria-labelledby", headingId);
      var heading = SD.el("h2", null, t("console.queue.heading", { tier: tierLabel(queue.tier) }));
      heading.id = headingId;
      section.appendChild(heading);
      var facts = SD.el("p", "cs-queue-facts");
      var waiting = SD.el("span", "cs-queue-waiting", t("console.queue.waiting", { count: queue.waiting }));
      facts.appendChild(waiting);
      if (queue.oldest_waiting_since) {
        facts.appendChild(document.createTextNode(" · "));
        facts.appendChild(SD.el("span", null, t("console.queue.oldest") + " "));
        var age = SD.el("span", "cs-age");
        age.dataset.since = queue.oldest_waiting_since;
        facts.appendChild(age);
      }
      section.appendChild(facts);
      if (!queue.conversations.length) {
        section.appendChild(SD.el("p", "sd-muted", t("console.queue.empty")));
      }
      var list = SD.el("ul", "cs-list");
      renderList(list, queue.conversations, { position: true, showState: false });
      section.appendChild(list);
      root.appendChild(section);
    });
    tickAges();
  }

  function tickAges() {
    var now = Date.now();
    document.querySelectorAll(".cs-age[data-since]").forEach(function (node) {
      node.textContent = SD.fmtDuration((now - Date.parse(node.dataset.since)) / 1000);
    });
  }

  function renderSearch() {
    var list = $("cs-search-results");
    if (state.searchResults === null) {
      list.textContent = "";
      return;
    }
    renderList(list, state.searchResults, {});
  }

  function refreshQueues() {
    return SD.api("GET", "/api/v1/queues").then(function (queues) {
      state.queues = queues;
      renderQueues();
    }, function () { /* the next frame or reconnect refreshes again */ });
  }

  function refreshMine() {
    return Promise.all([
      SD.api("GET", "/api/v1/conversations?scope=mine&limit=200"),
      SD.api("GET", "/api/v1/staff/me/unread"),
    ]).then(function (results) {
      var mine = results[0];
      var unread = results[1] || {};
      state.mine = mine.slice().sort(function (a, b) { return a.id - b.id; });
      state.unread = {};
      mine.forEach(function (conv) {
        state.unread[conv.id] = conv.id === state.openId ? 0 : unread[String(conv.id)] || 0;
        // The server's count covers every item up to last_seq: live items count on top.
        state.counted[conv.id] = Math.max(state.counted[conv.id] || 0, conv.last_seq);
        // Live items of my chats start after what the list knows (no history replay).
        // Not the open one: its cursor follows what the timeline has really shown.
        if (conv.id !== state.openId) state.stream.watch(conv.id, conv.last_seq);
      });
      renderMine();
    }, function () { /* refreshed again on the next frame or reconnect */ });
  }

  function refreshAll() {
    refreshQueues();
    refreshMine();
    if (state.openId) reloadOpenConversation();
  }

  /* ---------------------------------------------------------------- search ---- */

  function wireSearch() {
    $("cs-search").addEventListener("submit", function (event) {
      event.preventDefault();
      var q = $("cs-search-q").value.trim();
      var status = $("cs-search-status");
      if (!q) {
        state.searchResults = null;
        status.textContent = "";
        renderSearch();
        return;
      }
      status.textContent = t("console.search.searching");
      SD.api("GET", "/api/v1/conversations/search?q=" + encodeURIComponent(q)).then(function (rows) {
        state.searchResults = rows;
        status.textContent = rows.length
          ? t("console.search.count", { count: rows.length })
          : t("console.search.none");
        renderSearch();
      }, function (err) {
        state.searchResults = null;
        status.textContent = err.message;
        renderSearch();
      });
    });
  }

  /* ---------------------------------------------------------------- presence ---- */

  function wirePresence() {
    var select = $("cs-presence");
    select.value = state.me.presence || "offline";
    select.addEventListener("change", function () {
      var wanted = select.value;
      showError($("cs-presence-error"), "");
      SD.api("PUT", "/api/v1/staff/me/presence", { presence: wanted }).then(function (result) {
        state.me.presence = result.presence;
      }, function (err) {
        select.value = state.me.presence || "offline";
        showError($("cs-presence-error"), err.message);
      });
    });
  }

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
    meta.push(conv.locale === "ja" ? t("console.locale.ja") : t("console.locale.en"));
    $("cs-chat-meta").textContent = meta.join(" · ");

    var acting = canAct(conv);
    var transfer = $("cs-transfer");
    transfer.hidden = !(acting && conv.state === "assigned");
    transfer.textContent = t("console.action.transfer_to", { tier: tierLabel(otherTier(conv.tier)) });
    $("cs-resolve").hidden = !(acting && (conv.state === "assigned" ||
      (conv.state === "waiting" && state.me.is_supervisor)));
    $("cs-access-request").hidden = !mayRequestAccess(conv);
    var reassign = $("cs-reassign");
    reassign.hidden = !(state.me.is_supervisor && !isFinished(conv));
    if (!reassign.hidden) renderReassignOptions();

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
    var time = SD.el("time", "cs-time", SD.fmtTime(item.created_at));
    time.dateTime = item.created_at;
    head.appendChild(time);
    return head;
  }

  /* A system item or card as a sentence in the agent's language. */
  function systemSentence(item) {
    var data = item.data || {};
    if (item.kind === "card") {
      if (data.card === "rating_prompt") return t("console.card.rating_prompt");
      if (data.card === "access_request") {
        var name = requesterOf(item);
        return name ? t("console.card.access_request", { name: name })
                    : t("console.card.access_request_unnamed");
      }
      return t("console.card.other", { card: data.card || "" });
    }
    switch (data.event) {
      case "access_approved":
        // Tier 1 learns only that technical support has access, and until when.
        if (!mayReadGrants()) return t("console.event.access_approved_tier1", { time: SD.fmtTime(data.until) });
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
    if (item.kind === "system" || item.kind === "card") {
      li.appendChild(SD.el("span", "cs-system-text", systemSentence(item)));
      var time = SD.el("time", "cs-time", SD.fmtTime(item.created_at));
      time.dateTime = item.created_at;
      li.appendChild(time);
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
    if (isAccessItem(item)) accessItemArrived();
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
    renderAccess();
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
      renderChatHead();
      loadCustomer(id, token);
      loadGrants();
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
      renderChatHead();
      loadGrants();
    }, function () {});
  }

  /* The open conversation is read up to its newest item: the badge goes at once and
   * the server hears of each new high-water mark (items arrive at a human pace). */
  function markRead() {
    var id = state.openId;
    if (!id || !isMine(id)) return;
    state.unread[id] = 0;
    renderMine();
    var seq = state.maxSeq;
    if (seq <= (state.reported[id] || 0)) return;
    state.reported[id] = seq;
    SD.api("POST", "/api/v1/conversations/" + id + "/read", { seq: seq }).catch(function () {
      state.reported[id] = 0; // try again with the next item or the next opening
    });
  }

  function isMine(id) {
    return state.mine.some(function (conv) { return conv.id === id; });
  }

  /* ---------------------------------------------------------------- customer panel ---- */

  function loadCustomer(id, token) {
    Promise.all([
      SD.api("GET", "/api/v1/conversations/" + id + "/customer"),
      SD.api("GET", "/api/v1/conversations/" + id + "/portal-history"),
    ]).then(function (results) {
      if (token !== openToken) return;
      state.customer = results[0];
      state.history = results[1];
      renderCustomer();
    }, function () { /* the panel stays hidden; the chat itself still works */ });
  }

  function fact(list, label, value) {
    list.appendChild(SD.el("dt", null, label));
    list.appendChild(SD.el("dd", null, value));
  }

  function renderCustomer() {
    var panel = state.customer;
    if (!panel) return;
    var facts = $("cs-customer-facts");
    facts.textContent = "";
    var plan = panel.portal.plan;
    fact(facts, t("console.customer.portal"), panel.portal.external_id);
    fact(facts, t("console.customer.plan"), t(plan.commercial ? "console.customer.plan_commercial" : "console.customer.plan_free", {
      plan: SD.locale() === "ja" ? plan.name_ja : plan.name_en,
    }));
    fact(facts, t("console.customer.name"), panel.user.name || panel.user.external_id);
    fact(facts, t("console.customer.user_id"), panel.user.external_id);
    fact(facts, t("console.customer.email"), panel.user.email || t("console.customer.none"));
    fact(facts, t("console.customer.role"), t("console.customer.role_" + (panel.user.role === "admin" ? "admin" : "user")));
    fact(facts, t("console.customer.locale"), panel.user.locale === "ja" ? t("console.locale.ja") : t("console.locale.en"));

    var list = $("cs-history");
    list.textContent = "";
    $("cs-history-empty").hidden = state.history.length > 0;
    state.history.forEach(function (entry) {
      var li = SD.el("li", "cs-history-entry");
      var button = SD.el("button", "cs-conv");
      button.type = "button";
      button.dataset.conversation = String(entry.id);
      var title = SD.el("span", "cs-conv-title");
      title.appendChild(SD.el("span", "cs-conv-id", t("console.conversation.number", { id: entry.id })));
      title.appendChild(document.createTextNode(" "));
      title.appendChild(SD.el("span", "cs-conv-subject", entry.subject));
      button.appendChild(title);
      button.appendChild(SD.el("span", "cs-conv-meta",
        [stateLabel(entry.state), tierLabel(entry.tier), SD.fmtTime(entry.created_at)].join(" · ")));
      button.addEventListener("click", function () { openConversation(entry.id); });
      li.appendChild(button);
      var handlers = entry.handled_by.map(function (agent) {
        return t("console.history.agent", { name: agent.name, tier: tierLabel(agent.tier) });
      });
      li.appendChild(SD.el("p", "cs-handled sd-muted", handlers.length
        ? t("console.history.handled_by", { agents: handlers.join(", ") })
        : t("console.history.unhandled")));
      list.appendChild(li);
    });
    $("cs-customer").hidden = false;
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

  /* ---------------------------------------------------------------- actions ---- */

  function afterAction(conv) {
    if (conv.id === state.openId) {
      state.conv = conv;
      renderChatHead();
    }
    refreshMine();
    refreshQueues();
  }

  function wireActions() {
    $("cs-resolve").addEventListener("click", function () {
      var conv = state.conv;
      showError($("cs-action-error"), "");
      SD.api("POST", "/api/v1/conversations/" + conv.id + "/resolve").then(afterAction, function (err) {
        showError($("cs-action-error"), err.message);
      });
    });

    $("cs-reassign").addEventListener("submit", function (event) {
      event.preventDefault();
      var conv = state.conv;
      var agentId = Number($("cs-reassign-agent").value);
      if (!agentId) return;
      showError($("cs-action-error"), "");
      SD.api("POST", "/api/v1/conversations/" + conv.id + "/assign", { agent_id: agentId })
        .then(afterAction, function (err) { showError($("cs-action-error"), err.message); });
    });

    var dialog = $("cs-transfer-dialog");
    $("cs-transfer").addEventListener("click", openTransferDialog);
    $("cs-transfer-cancel").addEventListener("click", function () { dialog.close(); });
    $("cs-transfer-note").addEventListener("input", function () {
      $("cs-transfer-note").removeAttribute("aria-invalid");
      showError($("cs-transfer-error"), "");
    });
    $("cs-transfer-form").addEventListener("submit", function (event) {
      event.preventDefault();
      submitTransfer();
    });
  }

  function renderReassignOptions() {
    var select = $("cs-reassign-agent");
    var conv = state.conv;
    if (state.agents === null) {
      state.agents = [];
      SD.api("GET", "/api/v1/staff/agents").then(function (agents) {
        state.agents = agents;
        if (state.conv) renderReassignOptions();
      }, function () { state.agents = null; });
    }
    var current = select.value;
    select.textContent = "";
    select.appendChild(new Option(t("console.reassign.choose"), ""));
    state.agents.filter(function (agent) {
      return agent.roles.indexOf(conv.tier) >= 0 &&
        !(conv.assigned_agent && conv.assigned_agent.id === agent.id);
    }).forEach(function (agent) {
      select.appendChild(new Option(t("console.agent.option", {
        name: agent.name,
        presence: t("staff.presence." + agent.presence),
        chats: agent.open_chats,
      }), String(agent.id)));
    });
    select.value = current;
  }

  function openTransferDialog() {
    var conv = state.conv;
    var target = otherTier(conv.tier);
    $("cs-transfer-heading").textContent = t("console.transfer.heading", { tier: tierLabel(target) });
    $("cs-transfer-note").value = "";
    showError($("cs-transfer-error"), "");
    var field = $("cs-transfer-specialist-field");
    field.hidden = target !== "technical_support";
    var select = $("cs-transfer-specialist");
    select.textContent = "";
    select.appendChild(new Option(t("console.transfer.any_specialist"), ""));
    if (!field.hidden) {
      SD.api("GET", "/api/v1/staff/specialists").then(function (rows) {
        state.specialists = rows;
        rows.forEach(function (agent) {
          select.appendChild(new Option(t("console.agent.option", {
            name: agent.name,
            presence: t("staff.presence." + agent.presence),
            chats: agent.open_chats,
          }), String(agent.id)));
        });
      }, function (err) { showError($("cs-transfer-error"), err.message); });
    }
    $("cs-transfer-dialog").showModal();
    $("cs-transfer-note").focus();
  }

  function submitTransfer() {
    var conv = state.conv;
    var noteField = $("cs-transfer-note");
    var error = $("cs-transfer-error");
    // The form refuses an empty note itself; a note of blanks is the server's to judge
    // (it answers 422 transfer_note_required, shown here like any refusal).
    if (noteField.value === "") {
      showError(error, t("console.transfer.note_required"));
      noteField.setAttribute("aria-invalid", "true");
      noteField.focus();
      return;
    }
    noteField.removeAttribute("aria-invalid");
    showError(error, "");
    var preferred = $("cs-transfer-specialist").value;
    var submit = $("cs-transfer-submit");
    submit.disabled = true;
    SD.api("POST", "/api/v1/conversations/" + conv.id + "/transfer", {
      to_tier: otherTier(conv.tier),
      note: noteField.value,
      preferred_agent_id: preferred && !$("cs-transfer-specialist-field").hidden ? Number(preferred) : null,
    }).then(function (updated) {
      $("cs-transfer-dialog").close();
      afterAction(updated);
      $("cs-chat-heading").focus();
    }, function (err) {
      if (err.code === "transfer_note_required") noteField.setAttribute("aria-invalid", "true");
      showError(error, err.message);
    }).then(function () { submit.disabled = false; });
  }

  /* ---------------------------------------------------------------- account access ---- */

  /* Tier 2 and supervisors read grants; tier 1 never calls an access endpoint (they
   * answer 403) and sees only "technical support has access until …", derived from the
   * timeline's access_* items. */
  function mayReadGrants() {
    return state.me.roles.indexOf("technical_support") >= 0 || state.me.is_supervisor;
  }

  /* Only the technical-support specialist the conversation is assigned to may ask. */
  function mayRequestAccess(conv) {
    return state.me.roles.indexOf("technical_support") >= 0 && conv.tier === "technical_support" &&
      conv.state === "assigned" && !!conv.assigned_agent && conv.assigned_agent.id === state.me.id;
  }

  var ACCESS_EVENTS = ["access_approved", "access_denied", "access_first_used", "access_revoked",
    "access_expired", "access_request_expired", "access_completed"];
  var ACCESS_ENDS = ["access_revoked", "access_expired", "access_completed"];

  function isAccessItem(item) {
    var data = item.data || {};
    return (item.kind === "card" && data.card === "access_request") ||
      (item.kind === "system" && ACCESS_EVENTS.indexOf(data.event) >= 0);
  }

  /* Who asked, for the card's line. The card item carries only the grant id; tier 1
   * may not read grants, but only the specialist assigned at the time may ask, so the
   * timeline's last technical-support assignment before the card names them. */
  function requesterOf(item) {
    return item.author.type === "agent" ? item.author.name : "";
  }

  function scopeWords(scopes) {
    return scopes.map(function (scope) {
      var code = "console.scope." + String(scope).replace(/\W/g, "_");
      return t(code) === code ? scope : t(code);
    }).join(", ");
  }

  function accessItemArrived() {
    if (mayReadGrants()) soon("grants", loadGrants);
    else renderAccessLine();
  }

  function loadGrants() {
    var id = state.openId;
    if (!id || !mayReadGrants()) return;
    SD.api("GET", "/api/v1/conversations/" + id + "/access-grants").then(function (grants) {
      if (id !== state.openId) return;
      state.grants = grants;
      renderAccess();
    }, function (err) {
      if (id === state.openId) showError($("cs-access-error"), err.message);
    });
  }

  function renderAccess() {
    renderGrants();
    renderAccessLine();
  }

  function grantLine(grant) {
    var fields = {
      name: grant.specialist.name,
      scopes: scopeWords(grant.state === "pending" || !grant.scopes.length ? grant.requested_scopes : grant.scopes),
      duration: SD.fmtDuration(60 * (grant.granted_minutes || grant.requested_minutes)),
    };
    switch (grant.state) {
      case "pending":
        fields.time = SD.fmtTime(grant.answer_by);
        return t("console.grant.pending", fields);
      case "active":
        fields.time = SD.fmtTime(grant.active_until);
        return t("console.grant.active", fields);
      default:
        fields.state = t("console.grant.state." + grant.state);
        fields.time = SD.fmtTime(grant.ended_at || grant.decided_at || grant.answer_by);
        return t("console.grant.ended", fields);
    }
  }

  function renderGrants() {
    var section = $("cs-access");
    var list = $("cs-grants");
    list.textContent = "";
    var grants = state.grants || [];
    section.hidden = !grants.length;
    grants.forEach(function (grant) {
      if (grant.state !== "active") delete state.tokens[grant.id];
      var li = SD.el("li", "cs-grant cs-grant--" + grant.state);
      li.dataset.grant = String(grant.id);
      li.appendChild(SD.el("p", "cs-grant-line", grantLine(grant)));
      li.appendChild(SD.el("p", "cs-grant-reason sd-muted", t("console.grant.reason", { reason: grant.reason })));
      if (grant.state === "active" && grant.specialist.id === state.me.id) {
        var mint = SD.el("button", "cs-token-button", t("console.grant.token"));
        mint.type = "button";
        mint.addEventListener("click", function () { mintToken(grant, mint); });
        li.appendChild(mint);
      }
      var minted = state.tokens[grant.id];
      if (minted) li.appendChild(tokenField(grant, minted));
      list.appendChild(li);
    });
  }

  function mintToken(grant, button) {
    button.disabled = true;
    showError($("cs-access-error"), "");
    SD.api("POST", "/api/v1/access-grants/" + grant.id + "/tokens").then(function (minted) {
      state.tokens[grant.id] = minted;
      renderGrants();
      var field = document.querySelector(".cs-token-value[data-grant='" + grant.id + "']");
      if (field) { field.focus(); field.select(); }
    }, function (err) {
      button.disabled = false;
      showError($("cs-access-error"), err.message);
      if (err.code === "grant_not_active") loadGrants();
    });
  }

  /* The token, once: a read-only field to copy from (the server never shows it again). */
  function tokenField(grant, minted) {
    var box = SD.el("div", "cs-token");
    var id = "cs-token-" + grant.id;
    var label = SD.el("label", null, t("console.grant.token_label", { time: SD.fmtTime(minted.expires_at) }));
    label.htmlFor = id;
    box.appendChild(label);
    var row = SD.el("div", "cs-row");
    var input = SD.el("input", "cs-token-value");
    input.id = id;
    input.readOnly = true;
    input.value = minted.token;
    input.dataset.grant = String(grant.id);
    input.setAttribute("autocomplete", "off");
    input.spellcheck = false;
    row.appendChild(input);
    var copy = SD.el("button", null, t("console.grant.copy"));
    copy.type = "button";
    row.appendChild(copy);
    box.appendChild(row);
    var status = SD.el("p", "sd-muted cs-token-status");
    status.setAttribute("role", "status");
    box.appendChild(status);
    copy.addEventListener("click", function () {
      input.focus();
      input.select();
      var done = function () { status.textContent = t("console.grant.copied"); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(minted.token).then(done, function () {
          status.textContent = t("console.grant.copy_manually");
        });
      } else {
        status.textContent = t("console.grant.copy_manually");
      }
    });
    return box;
  }

  /* Tier 1: "Technical support has access until …" while an approved grant has not
   * ended, from the timeline alone. */
  function renderAccessLine() {
    var line = $("cs-access-line");
    if (!state.conv || mayReadGrants()) {
      line.hidden = true;
      return;
    }
    var until = {};
    Object.keys(state.items).map(Number).sort(function (a, b) { return a - b; }).forEach(function (seq) {
      var item = state.items[seq];
      var data = item.data || {};
      if (item.kind !== "system" || !data.grant_id) return;
      if (data.event === "access_approved") until[data.grant_id] = data.until;
      else if (ACCESS_ENDS.indexOf(data.event) >= 0) delete until[data.grant_id];
    });
    var latest = null;
    Object.keys(until).forEach(function (grantId) {
      var value = until[grantId];
      if (Date.parse(value) > Date.now() && (!latest || Date.parse(value) > Date.parse(latest))) latest = value;
    });
    line.textContent = latest ? t("console.access.tier1_line", { time: SD.fmtTime(latest) }) : "";
    line.hidden = !latest;
  }

  function openAccessDialog() {
    $("cs-access-reason").value = "";
    $("cs-access-reason").removeAttribute("aria-invalid");
    $("cs-access-duration").removeAttribute("aria-invalid");
    document.querySelectorAll("#cs-access-form input[name=scope]").forEach(function (box) {
      box.checked = box.value === "read"; // read-only unless the specialist asks for more
    });
    $("cs-access-duration").value = "2";
    $("cs-access-unit").value = "60";
    showError($("cs-access-form-error"), "");
    $("cs-access-dialog").showModal();
    $("cs-access-reason").focus();
  }

  function submitAccessRequest() {
    var conv = state.conv;
    var error = $("cs-access-form-error");
    var reason = $("cs-access-reason");
    var duration = $("cs-access-duration");
    var scopes = [];
    document.querySelectorAll("#cs-access-form input[name=scope]:checked").forEach(function (box) {
      scopes.push(box.value);
    });
    reason.removeAttribute("aria-invalid");
    duration.removeAttribute("aria-invalid");
    if (!scopes.length) {
      showError(error, t("console.access.scopes_required"));
      document.querySelector("#cs-access-form input[name=scope]").focus();
      return;
    }
    if (!reason.value.trim()) {
      showError(error, t("console.access.reason_required"));
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      return;
    }
    var amount = Number(duration.value);
    if (!(amount > 0) || Math.floor(amount) !== amount) {
      showError(error, t("console.access.duration_invalid"));
      duration.setAttribute("aria-invalid", "true");
      duration.focus();
      return;
    }
    showError(error, "");
    var submit = $("cs-access-submit");
    submit.disabled = true;
    SD.api("POST", "/api/v1/conversations/" + conv.id + "/access-requests", {
      scopes: scopes,
      reason: reason.value,
      duration_minutes: amount * Number($("cs-access-unit").value),
    }).then(function () {
      $("cs-access-dialog").close();
      loadGrants();
      $("cs-chat-heading").focus();
    }, function (err) {
      // The server's message says what is allowed (e.g. the longest duration).
      showError(error, err.message);
      if (/duration/.test(err.code)) {
        duration.setAttribute("aria-invalid", "true");
        duration.focus();
      } else if (/reason/.test(err.code)) {
        reason.setAttribute("aria-invalid", "true");
        reason.focus();
      }
    }).then(function () { submit.disabled = false; });
  }

  function wireAccess() {
    $("cs-access-request").addEventListener("click", openAccessDialog);
    $("cs-access-cancel").addEventListener("click", function () { $("cs-access-dialog").close(); });
    $("cs-access-form").addEventListener("submit", function (event) {
      event.preventDefault();
      submitAccessRequest();
    });
  }

  /* ---------------------------------------------------------------- live frames ---- */

  function onItem(conversationId, item) {
    if (conversationId === state.openId) {
      addItem(item);
      // Their message arrived: they are no longer typing it.
      if (state.typingWho === item.author.type + ":" + item.author.id) clearTyping();
      markRead();
      return;
    }
    if (!isMine(conversationId)) return;
    if (item.seq <= (state.counted[conversationId] || 0)) return;
    state.counted[conversationId] = item.seq;
    if (item.author.type === "agent" && item.author.id === state.me.id) return;
    state.unread[conversationId] = (state.unread[conversationId] || 0) + 1;
    renderMine();
  }

  function onConversation(conv) {
    if (conv.id === state.openId && state.conv) {
      state.conv = conv;
      renderChatHead();
    }
    var mineNow = conv.state === "assigned" && conv.assigned_agent && conv.assigned_agent.id === state.me.id;
    if (mineNow || isMine(conv.id)) soon("mine", refreshMine);
    soon("queues", refreshQueues);
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "item":
        onItem(frame.conversation_id, frame.item);
        break;
      case "conversation":
        onConversation(frame.conversation);
        break;
      case "queue":
        soon("queues", refreshQueues);
        break;
      case "typing":
        showTyping(frame);
        break;
      case "presence":
        if (frame.agent_id === state.me.id) {
          state.me.presence = frame.presence;
          $("cs-presence").value = frame.presence;
        }
        if (state.agents && state.agents.length) state.agents = null; // re-read when needed
        break;
      default:
        break;
    }
  }

  /* ---------------------------------------------------------------- start ---- */

  function renderAll() {
    renderQueues();
    renderMine();
    renderSearch();
    if (state.conv) {
      renderChatHead();
      renderTimeline();
      renderAccess();
    }
    if (state.customer) renderCustomer();
  }

  function start(me) {
    state.me = me;
    var connectedBefore = false;
    state.stream = SD.stream({
      onFrame: onFrame,
      onStatus: function (connected) {
        // After a reconnect the lists may be stale; the stream resumes the items.
        if (connected && connectedBefore) refreshAll();
        if (connected) connectedBefore = true;
      },
    });
    wirePresence();
    wireSearch();
    wireComposer();
    wireActions();
    wireAccess();
    SD.onLocaleChange(renderAll);
    refreshQueues();
    refreshMine();
    renderComposerMode();
    setInterval(tickAges, 1000); // a local clock for the durations on screen, not a poll
    // Test hook, as in the widget: close the socket (it reconnects and resumes by itself).
    window.__console = {
      drop: function () { state.stream.drop(); },
      connected: function () { return state.stream.connected(); },
    };
  }

  SD.boot(start);
})();
