/* supportdesk customer widget (runs inside the iframe served at /widget).
 *
 * Flow: wait for the identity token from the host page (postMessage) -> GET /me
 * (locale) -> GET /me/eligibility -> explanation, or ask form + history -> chat view
 * fed by the WebSocket /api/v1/stream (hello, then resume with cursors; reconnect
 * with backoff; de-duplicate by seq).
 *
 * Account access: an `access_request` card in the chat reads its grant through the API
 * (the timeline item carries only the grant id) and lets the portal administrator
 * approve (narrower, never wider), deny or revoke; the `access_*` system items re-read
 * the grant, so every card showing it updates live. The "Account access" view lists the
 * portal's grants and its access log.  A `secret_removed` item becomes a notice.
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

  var ALL_STRINGS = JSON.parse(document.getElementById("sd-strings").textContent);
  var S = ALL_STRINGS.en;
  var locale = "en";
  var token = "";
  var socket = null;
  var socketReady = false;
  var retries = 0;
  var reconnectTimer = null;
  var holdReconnect = false; // test hook: keep the socket down until reconnectNow()
  var lastTypingSent = 0;
  var typingTimer = null;
  var currentView = "loading";
  var accessReturn = "home"; // the view the "Account access" page goes back to

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
    ["loading", "error", "ineligible", "home", "chat", "access"].forEach(function (name) {
      $("view-" + name).hidden = name !== view;
    });
    currentView = view;
    $("sd-back").hidden = view !== "chat" && view !== "access";
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
        var withFiles = askFiles.count() > 0;
        openChat(result.conversation, [result.item]);
        // The files could not upload before the conversation existed: now they do,
        // and go to the agent in a message of their own.
        if (withFiles) {
          askFiles.moveTo(chatFiles);
          sendMessage("");
        }
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
    chatFiles.reset(null);
    chatFiles.start(conversation.id);
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
      if (item.body) li.appendChild(el("p", "sd-body", item.body));
      var attachments = item.data && item.data.attachments;
      if (attachments && attachments.length) li.appendChild(files.render(attachments));
      return li;
    }
    if (item.kind === "system") {
      var data = item.data || {};
      if (data.event === "secret_removed") return secretNotice(data.kinds || []);
      if (ACCESS_EVENTS.indexOf(data.event) >= 0 && data.grant_id) refreshGrant(data.grant_id);
      return el("li", "sd-system", systemSentence(data));
    }
    if (item.kind === "card" && item.data && item.data.card === "rating_prompt") {
      return ratingCard();
    }
    if (item.kind === "card" && item.data && item.data.card === "access_request") {
      return grantCard(item.data.grant_id, { heading: "h3", where: "chat" });
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

  // ---- secrets removed from the customer's own message -------------------------

  function secretNotice(kinds) {
    var li = el("li", "sd-notice");
    var what = kinds.map(function (kind) {
      return S["secret.kind." + kind] ? text("secret.kind." + kind) : text("secret.kind.other");
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

  // ---- account access: the grant card ------------------------------------------

  var ACCESS_EVENTS = ["access_approved", "access_denied", "access_revoked", "access_expired",
                       "access_request_expired", "access_completed", "access_first_used"];
  // The durations an approver may choose, besides the requested one (never longer).
  var DURATION_CHOICES = [15, 30, 60, 120, 240, 480, 1440, 4320];
  var grantFetches = {}; // grant id -> timer of a re-read already scheduled
  var cardCount = 0; // for unique element ids: a grant may show in the chat and the page

  function scopeWords(scope) {
    var code = "scope." + String(scope).replace(/\W/g, "_"); // write:settings -> scope.write_settings
    return S[code] ? text(code) : text("scope.other", { scope: scope });
  }

  /* A card for one grant, filled when its grant is read; every card showing the grant
   * is re-filled when the grant changes. */
  function grantCard(grantId, options) {
    var li = el("li", "sd-card sd-grant");
    li.dataset.grantId = String(grantId);
    li.dataset.heading = options.heading;
    li.dataset.where = options.where;
    li.appendChild(el("p", "sd-muted", text("widget.loading")));
    refreshGrant(grantId);
    return li;
  }

  /* Re-read a grant once, however many items about it arrive together. */
  function refreshGrant(grantId) {
    if (grantFetches[grantId]) return;
    grantFetches[grantId] = setTimeout(function () {
      api("GET", "/access-grants/" + grantId)
        .then(showGrant)
        .catch(function (error) {
          document.querySelectorAll(".sd-grant[data-grant-id='" + grantId + "']").forEach(
            function (node) {
              if (!node.dataset.state) node.replaceChildren(el("p", "sd-error", error.message));
            }
          );
        })
        .finally(function () { delete grantFetches[grantId]; });
    }, 0);
  }

  function showGrant(grant) {
    document.querySelectorAll(".sd-grant[data-grant-id='" + grant.id + "']").forEach(
      function (node) { fillGrantCard(node, grant); }
    );
  }

  function grantStateLine(grant) {
    switch (grant.state) {
      case "pending":
        return text("grant.state.pending", { time: fmtWhen(grant.answer_by) });
      case "active":
        return text("grant.state.active", { time: fmtWhen(grant.active_until) });
      case "denied":
        return text("grant.state.denied");
      case "expired_unanswered":
        return text("grant.state.expired_unanswered");
      case "expired":
        return text("grant.state.expired", { time: fmtWhen(grant.ended_at || grant.active_until) });
      case "revoked":
        return text("grant.state.revoked", { time: fmtWhen(grant.ended_at) });
      case "completed":
        return text("grant.state.completed", { time: fmtWhen(grant.ended_at) });
      default:
        return grant.state;
    }
  }

  function fact(list, label, value) {
    list.appendChild(el("dt", null, label));
    var dd = el("dd");
    if (typeof value === "string") dd.textContent = value;
    else dd.appendChild(value);
    list.appendChild(dd);
  }

  function fillGrantCard(node, grant) {
    var first = !node.dataset.state;
    node.replaceChildren();
    node.dataset.state = grant.state;
    var name = grant.specialist.name;
    node.appendChild(el(node.dataset.heading, "sd-card-title", text("grant.title", { name: name })));
    var granted = grant.state === "active" || grant.granted_minutes != null;
    var facts = el("dl", "sd-facts");
    fact(facts, text("grant.who"), text("grant.who_value", {
      name: name, tier: tierName("technical_support"),
    }));
    var scopes = el("ul", "sd-scopes");
    (granted ? grant.scopes : grant.requested_scopes).forEach(function (scope) {
      var li = el("li", null, scopeWords(scope));
      li.dataset.scope = scope;
      scopes.appendChild(li);
    });
    fact(facts, text("grant.what"), scopes);
    var minutes = granted ? grant.granted_minutes : grant.requested_minutes;
    var howLong = fmtMinutes(minutes);
    if (granted && grant.granted_minutes < grant.requested_minutes) {
      howLong = text("grant.shortened", {
        granted: howLong, requested: fmtMinutes(grant.requested_minutes),
      });
    }
    fact(facts, text("grant.how_long"), howLong);
    fact(facts, text("grant.why"), grant.reason);
    if (node.dataset.where === "page") {
      fact(facts, text("grant.requested_at"), timeNode(grant.requested_at));
    }
    node.appendChild(facts);

    var stateLine = el("p", "sd-grant-state sd-grant-" + grant.state, grantStateLine(grant));
    stateLine.tabIndex = -1;
    node.appendChild(stateLine);
    if (grant.state === "active" && grant.first_used_at) {
      node.appendChild(el("p", "sd-muted", text("grant.first_used", { time: fmtWhen(grant.first_used_at) })));
    }
    var error = el("p", "sd-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    if (grant.state === "pending") node.appendChild(decisionForm(grant, error));
    if (grant.state === "active") node.appendChild(revokeButton(grant, error));
    node.appendChild(error);
    // A new request at the end of the chat grew from a one-line placeholder: show it
    // from its title, so who asks and why are read first.
    if (first && node.parentNode === $("chat-items") && !node.nextElementSibling) {
      node.scrollIntoView({ block: "start" });
    }
  }

  /* After a decision the form is gone: keep the keyboard user on this card. */
  function decided(node) {
    return function (grant) {
      showGrant(grant);
      var line = node.querySelector(".sd-grant-state");
      if (line) line.focus();
    };
  }

  function decisionForm(grant, error) {
    var prefix = "grant-" + grant.id + "-" + (++cardCount);
    var form = el("form", "sd-decision");
    var fieldset = el("fieldset");
    fieldset.appendChild(el("legend", null, text("grant.allow")));
    var boxes = grant.requested_scopes.map(function (scope, i) {
      var row = el("div", "sd-check");
      var box = el("input");
      box.type = "checkbox";
      box.id = prefix + "-scope-" + i;
      box.value = scope;
      box.checked = true;
      var label = el("label", null, scopeWords(scope));
      label.htmlFor = box.id;
      row.appendChild(box);
      row.appendChild(label);
      fieldset.appendChild(row);
      return box;
    });
    var durationLabel = el("label", null, text("grant.duration"));
    durationLabel.htmlFor = prefix + "-duration";
    var duration = el("select");
    duration.id = prefix + "-duration";
    duration.appendChild(new Option(text("grant.duration_requested", {
      duration: fmtMinutes(grant.requested_minutes),
    }), String(grant.requested_minutes)));
    DURATION_CHOICES.slice().reverse().forEach(function (minutes) {
      if (minutes < grant.requested_minutes) {
        duration.appendChild(new Option(fmtMinutes(minutes), String(minutes)));
      }
    });
    fieldset.appendChild(durationLabel);
    fieldset.appendChild(duration);
    form.appendChild(fieldset);

    var bar = el("div", "sd-card-actions");
    var approve = el("button", "sd-primary", text("grant.approve"));
    approve.type = "submit";
    var deny = el("button", "sd-secondary", text("grant.deny"));
    deny.type = "button";
    bar.appendChild(approve);
    bar.appendChild(deny);
    form.appendChild(bar);
    var hint = el("p", "sd-muted", text("grant.narrow_hint"));
    form.appendChild(hint);

    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        // Approving nothing is not an approval: deny instead.
        approve.disabled = !boxes.some(function (b) { return b.checked; });
      });
    });
    var node = null;
    function busy(on) {
      approve.disabled = on;
      deny.disabled = on;
    }
    function failed(err) {
      busy(false);
      showError(error, err);
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var scopes = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
      if (!scopes.length) return;
      node = form.closest(".sd-grant");
      busy(true);
      error.hidden = true;
      api("POST", "/access-grants/" + grant.id + "/approve",
          { scopes: scopes, duration_minutes: Number(duration.value) })
        .then(decided(node), failed);
    });
    deny.addEventListener("click", function () {
      node = form.closest(".sd-grant");
      busy(true);
      error.hidden = true;
      api("POST", "/access-grants/" + grant.id + "/deny").then(decided(node), failed);
    });
    return form;
  }

  function revokeButton(grant, error) {
    var bar = el("div", "sd-card-actions");
    var revoke = el("button", "sd-danger", text("grant.revoke"));
    revoke.type = "button";
    revoke.addEventListener("click", function () {
      var node = revoke.closest(".sd-grant");
      revoke.disabled = true;
      error.hidden = true;
      api("POST", "/access-grants/" + grant.id + "/revoke").then(decided(node), function (err) {
        revoke.disabled = false;
        showError(error, err);
      });
    });
    bar.appendChild(revoke);
    return bar;
  }

  // ---- account access: the page (grants and the access log) --------------------

  var LOG_PAGE = 50;
  var logOldest = null; // the id the next "older entries" page starts before
  var accessReload = null;

  function openAccess() {
    if (currentView !== "access") accessReturn = currentView;
    show("access");
    $("access-heading").focus();
    loadGrants();
    loadLog(true);
  }

  function loadGrants() {
    return api("GET", "/me/access-grants").then(function (grants) {
      var list = $("grants-list");
      list.replaceChildren();
      $("grants-empty").hidden = grants.length > 0;
      grants.forEach(function (grant) {
        var node = el("li", "sd-card sd-grant");
        node.dataset.grantId = String(grant.id);
        node.dataset.heading = "h4";
        node.dataset.where = "page";
        fillGrantCard(node, grant);
        list.appendChild(node);
      });
    }).catch(function (error) { showError($("access-error"), error); });
  }

  function logSentence(entry) {
    var actor = entry.actor || {};
    // People by name; the host product and the system by a word in the customer's language.
    var label = S["log.actor." + actor.type] ? text("log.actor." + actor.type) : text("log.actor.system");
    var who = (actor.type === "agent" || actor.type === "customer") && actor.name ? actor.name : label;
    var code = "log.action." + entry.action;
    if (entry.action === "introspected" && entry.data && entry.data.active === false) {
      code = "log.action.introspected_inactive";
    }
    if (S[code]) return text(code, { actor: who });
    return text("log.action.other", { actor: who, action: entry.action });
  }

  function logEntry(entry) {
    var li = el("li", "sd-log-entry sd-log-" + String(entry.action).replace(/[^\w-]/g, "_"));
    li.dataset.action = entry.action;
    li.appendChild(timeNode(entry.at));
    li.appendChild(el("span", "sd-log-text", logSentence(entry)));
    // What was asked or granted: the scopes in plain words and the duration.
    var data = entry.data || {};
    var details = [];
    if (Array.isArray(data.scopes)) details.push(data.scopes.map(scopeWords).join(text("list.separator")));
    if (typeof data.minutes === "number") details.push(fmtMinutes(data.minutes));
    if (details.length) li.appendChild(el("span", "sd-log-details", details.join(" · ")));
    var refs = [];
    if (entry.grant_id) refs.push(text("log.grant", { id: entry.grant_id }));
    if (entry.conversation_id) refs.push(text("log.conversation", { id: entry.conversation_id }));
    if (refs.length) li.appendChild(el("span", "sd-log-refs sd-muted", refs.join(" · ")));
    return li;
  }

  function loadLog(reset) {
    var path = "/me/access-log?limit=" + LOG_PAGE;
    if (!reset && logOldest) path += "&before_id=" + logOldest;
    var more = $("log-more");
    more.disabled = true;
    return api("GET", path).then(function (page) {
      var list = $("log-list");
      if (reset) list.replaceChildren();
      page.entries.forEach(function (entry) { list.appendChild(logEntry(entry)); });
      if (page.entries.length) logOldest = page.entries[page.entries.length - 1].id;
      $("log-empty").hidden = list.children.length > 0;
      $("log-broken").hidden = page.chain_intact !== false;
      more.hidden = page.entries.length < LOG_PAGE;
    }).catch(function (error) {
      showError($("access-error"), error);
    }).finally(function () { more.disabled = false; });
  }

  /* Any access item of the portal's conversations (the socket brings them all): update
   * the cards showing that grant, and the page if it is open (a new request adds a
   * grant, every change adds log entries). */
  function onAccessItem(item) {
    var data = item.data || {};
    var isCard = item.kind === "card" && data.card === "access_request";
    var isEvent = item.kind === "system" && ACCESS_EVENTS.indexOf(data.event) >= 0;
    if (!(isCard || isEvent) || !data.grant_id) return;
    if (item.conversation_id !== chat.id) refreshGrant(data.grant_id);
    if (currentView !== "access" || accessReload) return;
    accessReload = setTimeout(function () {
      accessReload = null;
      if (currentView !== "access") return;
      if (!document.querySelector("#grants-list .sd-grant[data-grant-id='" + data.grant_id + "']")) {
        loadGrants();
      }
      loadLog(true);
    }, 150);
  }

  $("home-access").addEventListener("click", openAccess);
  $("chat-access").addEventListener("click", openAccess);
  $("log-more").addEventListener("click", function () { loadLog(false); });

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

  /* Send the text and every finished upload (uploads still running are waited for;
   * failed ones keep their chip and error). */
  function sendMessage(body) {
    var input = $("chat-body");
    var conversationId = chat.id;
    if (conversationId == null || (!body && !chatFiles.count())) return;
    $("chat-error").hidden = true;
    chatFiles.settled().then(function () {
      if (chat.id !== conversationId) return;
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
        onAccessItem(frame.item);
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
    if (currentView === "access" && accessReturn === "chat" && chat.id != null) {
      show("chat");
      $("chat-access").focus();
      return;
    }
    chat = { id: null, conversation: null, seqs: {}, lastSeq: 0 };
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
    lastSeq: function () { return chat.lastSeq; }
  };

  applyStrings();
  window.parent.postMessage({ type: "supportdesk:ready" }, "*");
})();
