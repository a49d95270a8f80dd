/* The agent console (see console.js): account access.  Tier 2 and supervisors see the
 * conversation's grants, and the specialist mints and copies an access token; tier 1
 * sees only "technical support has access until ...", from the timeline; the assigned
 * specialist asks for access with the request dialog.
 */
(function () {
  "use strict";

  var SD = window.SD;
  var C = window.SDConsole;
  var state = C.state;
  var $ = C.$;
  var t = C.t;
  var showError = C.showError;

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
    if (mayReadGrants()) C.soon("grants", loadGrants);
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

  Object.assign(C, {
    mayReadGrants: mayReadGrants,
    mayRequestAccess: mayRequestAccess,
    isAccessItem: isAccessItem,
    requesterOf: requesterOf,
    accessItemArrived: accessItemArrived,
    loadGrants: loadGrants,
    renderAccess: renderAccess,
    wireAccess: wireAccess,
  });
})();
