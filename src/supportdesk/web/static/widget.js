/* supportdesk customer widget (runs inside the iframe served at /widget).
 *
 * Flow: wait for the identity token from the host page (postMessage) -> GET /me
 * (locale) -> GET /me/eligibility -> explanation, or ask form + history -> chat view
 * fed by the WebSocket /api/v1/stream (hello, then resume with cursors; reconnect
 * with backoff; de-duplicate by seq).
 *
 * The page's scripts share one namespace, window.SDWidget (here "W"): this file makes
 * it and holds the state, strings, API calls, times and durations, the attachments
 * context, the views, the home view (ask form and history), the socket and the start.
 * The others add to it, in the order the template loads them:
 *   widget-chat.js    the chat view: items, system sentences, the secret notice, the
 *                     rating card, sending and typing
 *   widget-access.js  account access: the grant card (approve narrower, deny, revoke)
 *                     in the chat and the "Account access" page (grants, access log)
 *   widget-kb.js      help articles: suggestions while the customer types a question,
 *                     the article view (votes, "this solved my problem", ask anyway)
 *                     and the article card in the chat
 *   widget-referrals.js  partner and vendor referral cards, the lead confirmation
 *   widget-triage.js  coaching before sending: what a vague question lacks, partners
 *                     for out-of-scope work, a marketplace app's developer
 *   widget-requests.js  development-request updates in the chat, "My requests"
 * The widget tells the host it is ready once all of them have loaded.
 *
 * Attachments (attachments.js): an attach button, drag and drop and pasted screenshots
 * in the ask form and the chat composer.  The ask form's files wait for the
 * conversation its question creates, then upload and go in a message of their own;
 * the composer's upload at once and go with the next message.  Media are fetched with
 * the identity token and shown through blob: URLs.
 *
 * All user content goes into the page with textContent, never innerHTML.
 * Test hook: window.__supportdesk.dropSocket() closes the socket (it reconnects).
 */
(function () {
  "use strict";

  var SDCommon = window.SDCommon;
  var W = (window.SDWidget = {});
  var ALL_STRINGS = JSON.parse(document.getElementById("sd-strings").textContent);
  var S = ALL_STRINGS.en;
  var locale = "en";
  var token = "";
  var socket = null;
  var socketReady = false;
  var retries = 0;
  var reconnectTimer = null;
  var holdReconnect = false; // test hook: keep the socket down until reconnectNow()

  var state = {
    view: "loading",
    accessReturn: "home", // the view the "Account access" page goes back to
    // The open conversation: its public shape, and the seqs already shown.
    chat: { id: null, conversation: null, seqs: {}, lastSeq: 0 },
  };

  var el = SDCommon.el;
  var newKey = SDCommon.newKey;

  function $(id) { return document.getElementById(id); }

  function text(code, fields) {
    return SDCommon.fill(S[code] || code, fields);
  }

  /* Whether the current language has this code (to fall back to a general word). */
  function has(code) { return Boolean(S[code]); }

  function applyStrings() { SDCommon.applyStrings(text); }

  function show(view) {
    var views = ["loading", "error", "ineligible", "home", "chat", "access", "article", "solved",
                 "requests"];
    views.forEach(function (name) { $("view-" + name).hidden = name !== view; });
    state.view = view;
    $("sd-back").hidden = view !== "chat" && view !== "access" && view !== "requests";
    if (view === "chat" && W.reportRead) W.reportRead();
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

  function tierName(tier) { return text("tier." + tier); }

  // ---- times and durations ---------------------------------------------------

  /* "14:00" today, "5 Mar 14:00" (or "3月5日 14:00") on another day. */
  function fmtWhen(iso) {
    if (!iso) return "";
    var date = new Date(iso);
    var options = { hour: "2-digit", minute: "2-digit" };
    if (date.toDateString() !== new Date().toDateString()) {
      options.month = "short";
      options.day = "numeric";
    }
    return date.toLocaleString(locale === "ja" ? "ja-JP" : "en-GB", options);
  }

  function timeNode(iso) {
    var node = el("time", null, fmtWhen(iso));
    node.dateTime = iso;
    return node;
  }

  /* Minutes in plain words: "30 minutes", "2 hours", "1 hour 30 minutes", "3 days". */
  function fmtMinutes(minutes) {
    function unit(name, n) { return text(n === 1 ? "duration." + name + "_one" : "duration." + name, { n: n }); }
    if (minutes >= 1440 && minutes % 1440 === 0) return unit("days", minutes / 1440);
    if (minutes >= 60 && minutes % 60 === 0) return unit("hours", minutes / 60);
    if (minutes > 60) {
      return text("duration.hours_minutes", { h: Math.floor(minutes / 60), m: minutes % 60 });
    }
    return unit("minutes", minutes);
  }

  // ---- attachments ---------------------------------------------------------

  var files = window.SDAttachments.create({
    t: text,
    headers: function () { return { Authorization: "Bearer " + token }; },
    cookie: false, // the token cannot ride on <img>/<video> requests: blob: URLs
  });
  var askFiles = files.tray($("ask-files"), { focusAfterRemove: function () { $("ask-body").focus(); } });
  var chatFiles = files.tray($("chat-files"), { focusAfterRemove: function () { $("chat-body").focus(); } });
  files.wireButton($("ask-attach"), $("ask-file"), askFiles);
  files.wireButton($("chat-attach"), $("chat-file"), chatFiles);
  files.wirePaste($("ask-form"), askFiles);
  files.wirePaste($("chat-form"), chatFiles);
  files.wireDrop($("ask-form"), askFiles);
  files.wireDrop($("view-chat"), chatFiles);

  // ---- start --------------------------------------------------------------

  function start(newToken) {
    token = newToken;
    api("GET", "/me")
      .then(function (me) {
        locale = me.locale === "ja" ? "ja" : "en";
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
        button.addEventListener("click", function () { W.openChat(conversation); });
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
    // Coaching first (widget-triage.js): a vague or out-of-scope question is held once.
    if (W.holdForCoaching(body)) return;
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    $("ask-error").hidden = true;
    var question = { body: body, client_key: newKey() };
    // The help articles the customer was shown (widget-kb.js): kept for the agent.
    var suggested = W.kbSuggestedIds();
    if (suggested.length) question.suggested_article_ids = suggested;
    api("POST", "/conversations", question)
      .then(function (result) {
        $("ask-body").value = "";
        W.kbReset();
        var withFiles = askFiles.count() > 0;
        W.openChat(result.conversation, [result.item]);
        // The files could not upload before the conversation existed: now they do,
        // and go to the agent in a message of their own.
        if (withFiles) {
          askFiles.moveTo(chatFiles);
          W.sendMessage("");
        }
      })
      .catch(function (error) { showError($("ask-error"), error); })
      .finally(function () { button.disabled = false; });
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
        W.addItem(frame.item);
        W.onAccessItem(frame.item);
      } else if (frame.type === "conversation") {
        W.onConversation(frame.conversation);
      } else if (frame.type === "typing") {
        W.onTyping(frame);
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
    if (!socketReady || state.chat.id == null) return;
    var cursors = {};
    cursors[state.chat.id] = state.chat.lastSeq;
    socket.send(JSON.stringify({ type: "resume", cursors: cursors }));
  }

  function connected() { return socketReady; }

  function send(frame) { socket.send(JSON.stringify(frame)); }

  function setBanner(message) {
    $("sd-banner").textContent = message;
    $("sd-banner").hidden = !message;
  }

  // ---- navigation and host messages ----------------------------------------

  $("sd-back").addEventListener("click", function () {
    if (state.view === "access" && state.accessReturn === "chat" && state.chat.id != null) {
      show("chat");
      $("chat-access").focus();
      return;
    }
    // "My requests" opened from a request update in the chat goes back to that chat.
    if (state.view === "requests" && state.requestsReturn === "chat" && state.chat.id != null) {
      show("chat");
      $("chat-body").focus();
      return;
    }
    state.chat = { id: null, conversation: null, seqs: {}, lastSeq: 0 };
    chatFiles.reset(null);
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
    lastSeq: function () { return state.chat.lastSeq; }
  };

  Object.assign(W, {
    state: state,
    $: $,
    el: el,
    text: text,
    has: has,
    show: show,
    newKey: newKey,
    api: api,
    showError: showError,
    tierName: tierName,
    fmtWhen: fmtWhen,
    timeNode: timeNode,
    fmtMinutes: fmtMinutes,
    files: files,
    askFiles: askFiles,
    chatFiles: chatFiles,
    sendResume: sendResume,
    connected: connected,
    send: send,
  });

  // Ready for the token once every script of the widget has added its part.
  document.addEventListener("DOMContentLoaded", function () {
    applyStrings();
    window.parent.postMessage({ type: "supportdesk:ready" }, "*");
  });
})();
