/* The agent console: presence, the queues of my tiers, my chats with unread badges,
 * the chat view (timeline, composer, transfer, resolve, reassign), the customer panel
 * and conversation search.  Everything stays live over one socket (SD.stream): frames
 * trigger re-reads of the small lists they change; nothing polls.  The one timer ticks
 * the "oldest wait" durations on screen, locally.
 *
 * The page's scripts share one namespace, window.SDConsole (here "C"): this file makes
 * it and holds the state, the small helpers, the lists (my chats, queues, search),
 * presence, the live frames and the start.  The others add to it, in the order the
 * template loads them:
 *   console-chat.js      the open conversation: head, timeline, composer, typing
 *   console-customer.js  the customer panel and their earlier conversations
 *   console-actions.js   resolve, reassign, transfer
 *   console-access.js    account access: grants, tokens, the request dialog
 *   console-kb.js        the knowledge-base side panel and article cards
 *   console-triage.js    the triage panel with its one-click actions, referral cards
 * The page starts (SD.boot) once all of them have loaded.
 *
 * User content goes into the page with textContent only (SD.el), never innerHTML.
 */
(function () {
  "use strict";

  var SD = window.SD;
  var C = (window.SDConsole = {});

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
  var refreshTimers = {};

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

  /* "#12 Subject" of a conversation button: the number and the subject in spans. */
  function convTitle(id, subject) {
    var title = SD.el("span", "cs-conv-title");
    title.appendChild(SD.el("span", "cs-conv-id", t("console.conversation.number", { id: id })));
    title.appendChild(document.createTextNode(" "));
    title.appendChild(SD.el("span", "cs-conv-subject", subject));
    return title;
  }

  function localeLabel(value) {
    return value === "ja" ? t("console.locale.ja") : t("console.locale.en");
  }

  /* ---------------------------------------------------------------- lists ---- */

  function convButton(conv, options) {
    var button = SD.el("button", "cs-conv");
    button.type = "button";
    button.dataset.conversation = String(conv.id);
    if (conv.id === state.openId) button.setAttribute("aria-current", "true");
    button.appendChild(convTitle(conv.id, conv.subject));
    var meta = [];
    if (options && options.position && conv.queue_position) {
      meta.push(t("console.queue.position", { position: conv.queue_position }));
    }
    if (!options || options.showState !== false) meta.push(stateLabel(conv.state));
    meta.push(tierLabel(conv.tier));
    meta.push(localeLabel(conv.locale));
    button.appendChild(SD.el("span", "cs-conv-meta", meta.join(" · ")));
    var count = options && options.unread;
    if (count) {
      var badge = SD.el("span", "cs-badge", String(count));
      badge.setAttribute("aria-label", t("console.mine.unread", { count: count }));
      badge.title = t("console.mine.unread", { count: count });
      button.appendChild(badge);
    }
    button.addEventListener("click", function () { C.openConversation(conv.id); });
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
    if (state.openId) C.reloadOpenConversation();
  }

  function isMine(id) {
    return state.mine.some(function (conv) { return conv.id === id; });
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

  /* ---------------------------------------------------------------- live frames ---- */

  function onItem(conversationId, item) {
    if (conversationId === state.openId) {
      C.addItem(item);
      // Their message arrived: they are no longer typing it.
      if (state.typingWho === item.author.type + ":" + item.author.id) C.clearTyping();
      C.markRead();
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
      C.renderChatHead();
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
        C.showTyping(frame);
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
      C.renderChatHead();
      C.renderTimeline();
      C.renderAccess();
    }
    if (state.customer) C.renderCustomer();
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
    C.wireComposer();
    C.wireActions();
    C.wireAccess();
    SD.onLocaleChange(renderAll);
    refreshQueues();
    refreshMine();
    C.renderComposerMode();
    setInterval(tickAges, 1000); // a local clock for the durations on screen, not a poll
    // Test hook, as in the widget: close the socket (it reconnects and resumes by itself).
    window.__console = {
      drop: function () { state.stream.drop(); },
      connected: function () { return state.stream.connected(); },
    };
  }

  Object.assign(C, {
    state: state,
    $: $,
    t: t,
    tierLabel: tierLabel,
    stateLabel: stateLabel,
    otherTier: otherTier,
    localeLabel: localeLabel,
    convTitle: convTitle,
    showError: showError,
    soon: soon,
    renderMine: renderMine,
    refreshQueues: refreshQueues,
    refreshMine: refreshMine,
    isMine: isMine,
  });

  // After every script of the page has added its part to the namespace.
  document.addEventListener("DOMContentLoaded", function () { SD.boot(start); });
})();
