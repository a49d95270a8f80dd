/* The saved-replies page (/supervisor/replies): supervisors list, filter, create, edit
 * and delete replies in both languages, and try the composer's "/" picker on a practice
 * textarea. Other agents see a refusal. Everything goes through the API; replies are
 * put into the page with textContent only. */
(function () {
  "use strict";

  var URL = "/api/v1/saved-replies";
  var FILTER_DEBOUNCE_MS = 200;
  var PREVIEW = 120;
  var t = SD.t;

  var state = { replies: [], editing: null, deleting: null, filterTimer: null, request: 0 };

  function $(id) { return document.getElementById(id); }

  function showError(node, message) {
    node.textContent = message || "";
    node.hidden = !message;
  }

  function notice(message) {
    $("rp-notice").textContent = message;
  }

  function localeName(code) {
    return t(code === "ja" ? "replies.locale.ja" : "replies.locale.en");
  }

  function preview(text) {
    var flat = text.replace(/\s+/g, " ").trim();
    return flat.length > PREVIEW ? flat.slice(0, PREVIEW - 1) + "…" : flat;
  }

  /* ---- the list ---- */

  function load() {
    var ticket = ++state.request;
    var params = new URLSearchParams({ q: $("rp-q").value, limit: "200" });
    if ($("rp-filter-locale").value) params.set("locale", $("rp-filter-locale").value);
    return SD.api("GET", URL + "?" + params.toString()).then(function (replies) {
      if (ticket !== state.request) return;
      showError($("rp-list-error"), "");
      state.replies = replies;
      render();
    }, function (err) {
      if (ticket === state.request) showError($("rp-list-error"), err.message);
    });
  }

  function actionButton(label, text, className, onClick) {
    var button = SD.el("button", className, text);
    button.type = "button";
    button.setAttribute("aria-label", label);
    button.addEventListener("click", onClick);
    return button;
  }

  function render() {
    var rows = $("rp-rows");
    rows.textContent = "";
    state.replies.forEach(function (reply) {
      var row = SD.el("tr");
      row.dataset.id = String(reply.id);
      var shortcut = SD.el("td", "rp-shortcut");
      shortcut.appendChild(SD.el("code", null, "/" + reply.shortcut));
      var fields = { shortcut: reply.shortcut, locale: localeName(reply.locale) };
      var actions = SD.el("td", "rp-actions");
      actions.append(
        actionButton(t("replies.edit.label", fields), t("replies.edit"), "rp-edit", function () { edit(reply); }),
        actionButton(t("replies.delete.label", fields), t("replies.delete"), "sd-danger rp-delete", function () { askDelete(reply); })
      );
      var updated = SD.el("td", "rp-updated");
      var time = SD.el("time", null, SD.fmtTime(reply.updated_at));
      time.dateTime = reply.updated_at;
      updated.appendChild(time);
      row.append(
        shortcut,
        SD.el("td", "rp-locale", localeName(reply.locale)),
        SD.el("td", "rp-title", reply.title),
        SD.el("td", "rp-preview", preview(reply.body)),
        updated,
        actions
      );
      rows.appendChild(row);
    });
    $("rp-count").textContent = state.replies.length
      ? t("replies.list.count", { count: state.replies.length })
      : t("replies.list.empty");
  }

  /* ---- the editor ---- */

  function openEditor(reply) {
    state.editing = reply;
    $("rp-editor").hidden = false;
    $("rp-editor-heading").textContent = t(reply ? "replies.form.edit" : "replies.form.new");
    $("rp-shortcut").value = reply ? reply.shortcut : "";
    $("rp-locale").value = reply ? reply.locale : SD.locale();
    $("rp-title").value = reply ? reply.title : "";
    $("rp-body").value = reply ? reply.body : "";
    showError($("rp-form-error"), "");
    $("rp-shortcut").focus();
  }

  function edit(reply) { openEditor(reply); }

  function closeEditor() {
    var from = state.editing;
    state.editing = null;
    $("rp-editor").hidden = true;
    var row = from && document.querySelector('#rp-rows tr[data-id="' + from.id + '"] .rp-edit');
    (row || $("rp-new")).focus();
  }

  function save(event) {
    event.preventDefault();
    var body = {
      shortcut: $("rp-shortcut").value,
      locale: $("rp-locale").value,
      title: $("rp-title").value,
      body: $("rp-body").value,
    };
    var editing = state.editing;
    var request = editing ? SD.api("PUT", URL + "/" + editing.id, body) : SD.api("POST", URL, body);
    $("rp-save").disabled = true;
    request.then(function (saved) {
      notice(t("replies.saved", { shortcut: saved.shortcut }));
      state.editing = saved;
      return load().then(closeEditor);
    }, function (err) {
      showError($("rp-form-error"), err.message);
      var field = { saved_reply_shortcut_invalid: "rp-shortcut", saved_reply_shortcut_taken: "rp-shortcut",
        saved_reply_title_empty: "rp-title", saved_reply_title_too_long: "rp-title",
        saved_reply_body_empty: "rp-body", saved_reply_body_too_long: "rp-body" }[err.code];
      if (field) $(field).focus();
    }).then(function () {
      $("rp-save").disabled = false;
    });
  }

  /* ---- deleting ---- */

  function askDelete(reply) {
    state.deleting = reply;
    $("rp-confirm-text").textContent = t("replies.confirm.text", { shortcut: reply.shortcut, title: reply.title });
    showError($("rp-confirm-error"), "");
    $("rp-confirm").showModal();
    $("rp-confirm-cancel").focus();
  }

  function confirmDelete() {
    var reply = state.deleting;
    if (!reply) return;
    SD.api("DELETE", URL + "/" + reply.id).then(function () {
      $("rp-confirm").close();
      notice(t("replies.deleted", { shortcut: reply.shortcut }));
      if (state.editing && state.editing.id === reply.id) closeEditor();
      return load().then(function () { $("rp-new").focus(); });
    }, function (err) {
      showError($("rp-confirm-error"), err.message);
    });
  }

  /* ---- the page ---- */

  function wire() {
    $("rp-filter").addEventListener("submit", function (event) {
      event.preventDefault();
      load();
    });
    $("rp-q").addEventListener("input", function () {
      clearTimeout(state.filterTimer);
      state.filterTimer = setTimeout(load, FILTER_DEBOUNCE_MS);
    });
    $("rp-filter-locale").addEventListener("change", load);
    $("rp-new").addEventListener("click", function () { openEditor(null); });
    $("rp-form").addEventListener("submit", save);
    $("rp-cancel").addEventListener("click", closeEditor);
    $("rp-confirm-delete").addEventListener("click", confirmDelete);
    $("rp-confirm").addEventListener("close", function () { state.deleting = null; });

    $("rp-try-locale").value = SD.locale();
    SD.attachReplyPicker($("rp-try"), { locale: function () { return $("rp-try-locale").value; } });
    SD.onLocaleChange(function () {
      render();
      if (!$("rp-editor").hidden) {
        $("rp-editor-heading").textContent = t(state.editing ? "replies.form.edit" : "replies.form.new");
      }
    });
  }

  SD.boot(function (me) {
    if (!me.is_supervisor) {
      $("rp-refused").hidden = false;
      return;
    }
    $("rp-manage").hidden = false;
    wire();
    load();
  });
})();
