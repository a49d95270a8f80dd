/* supportdesk customer widget (runs inside the iframe served at /widget).
 *
 * Flow: wait for the identity token from the host page (postMessage) -> GET /me
 * (locale) -> GET /me/eligibility -> explanation, or ask form + history -> chat view
 * fed by the WebSocket /api/v1/stream (hello, then resume with cursors; reconnect
 * with backoff; de-duplicate by seq).
 *
 * All user content goes into the page with textContent, never innerHTML.
 * Test hook: window.__supportdesk.dropSocket() closes the socket (it reconnects).
 */
(function () {
  "use strict";

  var ALL_STRINGS = JSON.parse(document.getElementById("sd-strings").textContent);
  var S = ALL_STRINGS.en;
  var token = "";
  var socket = null;
  var socketReady = false;
  var retries = 0;
  var reconnectTimer = null;
  var holdReconnect = false; // test hook: keep the socket down until reconnectNow()
  var lastTypingSent = 0;
  var typingTimer = null;

  // The open conversation: its public shape, and the seqs already shown.
  var chat = { id: null, conversation: null, seqs: {}, lastSeq: 0 };

  function $(id) { return document.getElementById(id); }

  function text(code, fields) {
    var value = S[code] || code;
    return value.replace(/\{(\w+)\}/g, function (_, key) {
      return fields && fields[key] != null ? String(fields[key]) : "";
    });
  }

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content != null) node.textContent = content;
    return node;
  }

  function applyStrings() {
    document.querySelectorAll("[data-i18n]").forEach(function (node) {
      node.textContent = text(node.getAttribute("data-i18n"));
    });
    document.querySelectorAll("[data-i18n-label]").forEach(function (node) {
      var label = text(node.getAttribute("data-i18n-label"));
      node.setAttribute("aria-label", label);
      node.title = label;
    });
  }

  function show(view) {
    ["loading", "error", "ineligible", "home", "chat"].forEach(function (name) {
      $("view-" + name).hidden = name !== view;
    });
    $("sd-back").hidden = view !== "chat";
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  // ---- HTTP ---------------------------------------------------------------

  function api(method, path, body) {
    var options = { method: method, headers: { Authorization: "Bearer " + token } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch("/api/v1" + path, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var error = new Error((data.error && data.error.message) || text("widget.error"));
          error.code = data.error && data.error.code;
          throw error;
        }
        return data;
      });
    });
  }

  function showError(node, error) {
    node.textContent = (error && error.message) || text("widget.error");
    node.hidden = false;
  }

  // ---- start --------------------------------------------------------------

  function start(newToken) {
    token = newToken;
    api("GET", "/me")
      .then(function (me) {
        var locale = me.locale === "ja" ? "ja" : "en";
        S = ALL_STRINGS[locale];
        document.documentElement.lang = locale;
        applyStrings();
        return api("GET", "/me/eligibility");
      })
      .then(function (verdict) {
        if (!verdict.eligible) return showIneligible(verdict);
        show("home");
        loadHistory();
        connect();
      })
      .catch(function (error) {
        show("error");
        showError($("sd-error"), error);
      });
  }

  function showIneligible(verdict) {
    $("ineligible-message").textContent = verdict.message;
    $("link-pricing").href = verdict.links.pricing;
    $("link-help").href = verdict.links.help_center;
    show("ineligible");
  }

  // ---- home: ask form and history ----------------------------------------

  function loadHistory() {
    return api("GET", "/conversations").then(function (list) {
      var ul = $("history-list");
      ul.replaceChildren();
      $("history-empty").hidden = list.length > 0;
      list.forEach(function (conversation) {
        var button = el("button", "sd-history-item");
        button.type = "button";
        button.appendChild(el("span", "sd-history-subject", conversation.subject));
        button.appendChild(el("span", "sd-badge sd-" + conversation.state,
                              text("state." + conversation.state)));
        button.addEventListener("click", function () { openChat(conversation); });
        var li = el("li");
        li.appendChild(button);
        ul.appendChild(li);
      });
    });
  }

  $("ask-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var body = $("ask-body").value.trim();
    if (!body) return;
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    $("ask-error").hidden = true;
    api("POST", "/conversations", { body: body, client_key: newKey() })
      .then(function (result) {
        $("ask-body").value = "";
        openChat(result.conversation, [result.item]);
      })
      .catch(function (error) { showError($("ask-error"), error); })
      .finally(function () { button.disabled = false; });
  });

  // ---- chat view -----------------------------------------------------------

  function openChat(conversation, items) {
    chat = { id: conversation.id, conversation: conversation, seqs: {}, lastSeq: 0 };
    $("chat-items").replaceChildren();
    $("chat-typing").textContent = "";
    $("chat-error").hidden = true;
    renderStatus();
    show("chat");
    (items || []).forEach(addItem);
    // The durable record; the socket's resume then continues from the last seq.
    api("GET", "/conversations/" + conversation.id + "/items?after=0&limit=1000").then(
      function (all) {
        all.forEach(addItem);
        sendResume();
      }
    );
    $("chat-body").focus();
  }

  function tierName(tier) { return text("tier." + tier); }

  function renderStatus() {
    var c = chat.conversation;
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
    if (item.conversation_id !== chat.id || chat.seqs[item.seq]) return;
    var node = renderItem(item);
    if (!node) return;
    chat.seqs[item.seq] = true;
    chat.lastSeq = Math.max(chat.lastSeq, item.seq);
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
  }

  function renderItem(item) {
    if (item.kind === "message") {
      var mine = item.author.type === "customer";
      var li = el("li", "sd-msg " + (mine ? "sd-mine" : "sd-theirs"));
      var who = mine ? text("chat.you") : item.author.name;
      if (!mine && item.author.tier) who += " · " + tierName(item.author.tier);
      li.appendChild(el("span", "sd-author", who));
      li.appendChild(el("p", "sd-body", item.body));
      return li;
    }
    if (item.kind === "system") return el("li", "sd-system", systemSentence(item.data || {}));
    if (item.kind === "card" && item.data && item.data.card === "rating_prompt") {
      return ratingCard();
    }
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
      default:
        return "";
    }
  }

  // ---- rating --------------------------------------------------------------

  function ratingCard() {
    var li = el("li", "sd-card");
    if (chat.conversation.rated) {
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
    var commentId = "rating-comment-" + chat.id;
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
    var conversationId = chat.id;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!score || submit.disabled) return;
      submit.disabled = true; // sent once
      api("POST", "/conversations/" + conversationId + "/rating",
          { score: score, comment: comment.value.trim() })
        .then(function () {
          if (chat.id === conversationId) chat.conversation.rated = true;
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

  $("chat-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("chat-body");
    var body = input.value.trim();
    if (!body || chat.id == null) return;
    input.value = "";
    $("chat-error").hidden = true;
    // Over HTTP, so a message typed while the socket reconnects is not lost; the
    // client_key makes a retry safe.
    var key = newKey();
    var conversationId = chat.id;
    api("POST", "/conversations/" + conversationId + "/messages", { body: body, client_key: key })
      .then(addItem)
      .catch(function (error) {
        if (!input.value) input.value = body;
        showError($("chat-error"), error);
      });
  });

  $("chat-body").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("chat-form").requestSubmit();
    }
  });

  $("chat-body").addEventListener("input", function () {
    var now = Date.now();
    if (socketReady && chat.id != null && now - lastTypingSent > 2000) {
      lastTypingSent = now;
      socket.send(JSON.stringify({ type: "typing", conversation_id: chat.id }));
    }
  });

  // ---- WebSocket -----------------------------------------------------------

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + "/api/v1/stream?token=" +
                          encodeURIComponent(token));
    socket = ws;
    ws.onmessage = function (event) {
      if (socket !== ws) return;
      var frame = JSON.parse(event.data);
      if (frame.type === "hello") {
        socketReady = true;
        retries = 0;
        setBanner("");
        sendResume();
      } else if (frame.type === "item") {
        addItem(frame.item);
      } else if (frame.type === "conversation") {
        onConversation(frame.conversation);
      } else if (frame.type === "typing") {
        onTyping(frame);
      }
    };
    ws.onclose = function (event) {
      if (socket !== ws) return;
      socket = null;
      socketReady = false;
      if (event.code === 4401) {
        setBanner(text("widget.error"));
        return;
      }
      setBanner(text("widget.reconnecting"));
      if (holdReconnect) return;
      var delay = Math.min(10000, 500 * Math.pow(2, retries)) * (0.75 + Math.random() / 2);
      retries += 1;
      reconnectTimer = setTimeout(connect, delay);
    };
  }

  function sendResume() {
    if (!socketReady || chat.id == null) return;
    var cursors = {};
    cursors[chat.id] = chat.lastSeq;
    socket.send(JSON.stringify({ type: "resume", cursors: cursors }));
  }

  function onConversation(conversation) {
    if (conversation.id !== chat.id) return;
    chat.conversation = conversation;
    renderStatus();
  }

  function onTyping(frame) {
    if (frame.conversation_id !== chat.id || frame.who.type !== "agent") return;
    $("chat-typing").textContent = text("chat.typing", { name: frame.who.name });
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { $("chat-typing").textContent = ""; }, 4000);
  }

  function setBanner(message) {
    $("sd-banner").textContent = message;
    $("sd-banner").hidden = !message;
  }

  // ---- navigation and host messages ----------------------------------------

  $("sd-back").addEventListener("click", function () {
    chat = { id: null, conversation: null, seqs: {}, lastSeq: 0 };
    show("home");
    loadHistory();
  });

  $("sd-close").addEventListener("click", function () {
    window.parent.postMessage({ type: "supportdesk:close" }, "*");
  });

  window.addEventListener("message", function (event) {
    var data = event.data || {};
    // Only the embedding page; frame-ancestors decides which pages may embed us.
    if (event.source !== window.parent || data.type !== "supportdesk:init" || token) return;
    if (typeof data.token === "string" && data.token) start(data.token);
  });

  window.__supportdesk = {
    dropSocket: function (options) {
      holdReconnect = Boolean(options && options.hold);
      if (socket) socket.close();
    },
    reconnectNow: function () {
      holdReconnect = false;
      clearTimeout(reconnectTimer);
      if (!socket) connect();
    },
    connected: function () { return socketReady; },
    lastSeq: function () { return chat.lastSeq; }
  };

  applyStrings();
  window.parent.postMessage({ type: "supportdesk:ready" }, "*");
})();
