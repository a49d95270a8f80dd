/* The customer widget (see widget.js): account access.  An `access_request` card in
 * the chat reads its grant through the API (the timeline item carries only the grant
 * id) and lets the portal administrator approve (narrower, never wider), deny or
 * revoke; the `access_*` system items re-read the grant, so every card showing it
 * updates live.  The "Account access" view lists the portal's grants and its access log.
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
  var show = W.show;
  var tierName = W.tierName;
  var fmtWhen = W.fmtWhen;
  var timeNode = W.timeNode;
  var fmtMinutes = W.fmtMinutes;

  // ---- account access: the grant card ------------------------------------------

  var ACCESS_EVENTS = ["access_approved", "access_denied", "access_revoked", "access_expired",
                       "access_request_expired", "access_completed", "access_first_used"];
  // The durations an approver may choose, besides the requested one (never longer).
  var DURATION_CHOICES = [15, 30, 60, 120, 240, 480, 1440, 4320];
  var grantFetches = {}; // grant id -> timer of a re-read already scheduled
  var cardCount = 0; // for unique element ids: a grant may show in the chat and the page

  function scopeWords(scope) {
    var code = "scope." + String(scope).replace(/\W/g, "_"); // write:settings -> scope.write_settings
    return has(code) ? text(code) : text("scope.other", { scope: scope });
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
    if (state.view !== "access") state.accessReturn = state.view;
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
    var label = has("log.actor." + actor.type) ? text("log.actor." + actor.type) : text("log.actor.system");
    var who = (actor.type === "agent" || actor.type === "customer") && actor.name ? actor.name : label;
    var code = "log.action." + entry.action;
    if (entry.action === "introspected" && entry.data && entry.data.active === false) {
      code = "log.action.introspected_inactive";
    }
    if (has(code)) return text(code, { actor: who });
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
    if (item.conversation_id !== state.chat.id) refreshGrant(data.grant_id);
    if (state.view !== "access" || accessReload) return;
    accessReload = setTimeout(function () {
      accessReload = null;
      if (state.view !== "access") return;
      if (!document.querySelector("#grants-list .sd-grant[data-grant-id='" + data.grant_id + "']")) {
        loadGrants();
      }
      loadLog(true);
    }, 150);
  }

  $("home-access").addEventListener("click", openAccess);
  $("chat-access").addEventListener("click", openAccess);
  $("log-more").addEventListener("click", function () { loadLog(false); });

  function isAccessEvent(event) { return ACCESS_EVENTS.indexOf(event) >= 0; }

  Object.assign(W, {
    isAccessEvent: isAccessEvent,
    refreshGrant: refreshGrant,
    grantCard: grantCard,
    onAccessItem: onAccessItem,
  });
})();
