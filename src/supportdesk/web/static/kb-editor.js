/* The help-article editor (/supervisor/kb), for admins and supervisors: the article list
 * with drafts (filtered by text, language and status), create and edit with a live
 * preview (debounced POST /api/v1/kb/preview), the version history, and delete (after a
 * confirmation <dialog>) / restore.  A deleted article has status "archived": it is out
 * of search and the customers' reach, listed only under the "Deleted" filter, and saving
 * it with draft or published restores it.  Other agents see a refusal (the API refuses
 * their changes with 403 anyway).
 *
 * The preview's HTML is rendered by the server and sanitised there with nh3
 * (knowledge/render.py): it is inserted through DOMParser and importNode.  Everything else
 * goes into the page with textContent (SD.el).
 */
(function () {
  "use strict";

  var SD = window.SD;
  var PREVIEW_DELAY_MS = 350;
  var ARCHIVED = "archived"; // the API's status for a deleted article
  var STATUS_CODES = { draft: "kb.status.draft", published: "kb.status.published", archived: "kb.status.archived" };
  var state = { articles: [], editing: null, previewTimer: null, previewAsked: 0, deleting: null };

  function $(id) { return document.getElementById(id); }
  function t(code, fields) { return SD.t(code, fields); }

  function showError(node, message) {
    node.textContent = message || "";
    node.hidden = !message;
  }

  function localeName(code) { return t(code === "ja" ? "kb.locale.ja" : "kb.locale.en"); }
  function statusName(code) { return STATUS_CODES[code] ? t(STATUS_CODES[code]) : code; }
  function statusClass(code) { return { draft: "kb-draft", archived: "kb-deleted" }[code] || null; }
  function isDeleted(article) { return !!article && article.status === ARCHIVED; }

  /* Sanitised HTML from the server (nh3 allow-list) in place of `parent`'s children. */
  function putSanitisedHtml(parent, html) {
    parent.textContent = "";
    var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    Array.prototype.forEach.call(doc.body.childNodes, function (node) {
      parent.appendChild(document.importNode(node, true));
    });
  }

  /* ---------------------------------------------------------------- list ---- */

  function matches(article, q) {
    if (!q) return true;
    var text = [article.title, article.slug, article.category].concat(article.tags).join(" ").toLowerCase();
    return text.indexOf(q) >= 0;
  }

  function render() {
    var q = $("kb-q").value.trim().toLowerCase();
    var shown = state.articles.filter(function (article) { return matches(article, q); });
    var list = $("kb-rows");
    list.textContent = "";
    shown.forEach(function (article) {
      var li = SD.el("li");
      var button = SD.el("button", "kb-row");
      button.type = "button";
      button.dataset.article = String(article.id);
      if (state.editing && state.editing.id === article.id) button.setAttribute("aria-current", "true");
      button.appendChild(SD.el("span", "kb-row-title", article.title));
      var meta = SD.el("span", "kb-row-meta");
      var status = SD.el("span", statusClass(article.status), statusName(article.status));
      meta.appendChild(status);
      meta.appendChild(document.createTextNode(
        " · " + [localeName(article.locale), article.category, article.slug].join(" · ")));
      button.appendChild(meta);
      button.addEventListener("click", function () { edit(article.id); });
      li.appendChild(button);
      list.appendChild(li);
    });
    $("kb-count").textContent = t("kb.list.count", { count: shown.length });
  }

  function load() {
    var params = new URLSearchParams({ limit: "500" });
    if ($("kb-filter-locale").value) params.set("locale", $("kb-filter-locale").value);
    if ($("kb-filter-status").value) params.set("status", $("kb-filter-status").value);
    showError($("kb-list-error"), "");
    return SD.api("GET", "/api/v1/kb/articles?" + params.toString()).then(function (articles) {
      state.articles = articles;
      render();
    }, function (err) { showError($("kb-list-error"), err.message); });
  }

  /* ---------------------------------------------------------------- editor ---- */

  function fill(article) {
    $("kb-slug").value = article ? article.slug : "";
    $("kb-locale").value = article ? article.locale : SD.locale();
    // The select offers draft and published only: a deleted article is restored as a draft
    // unless the editor picks published.
    $("kb-status").value = article && !isDeleted(article) ? article.status : "draft";
    $("kb-title").value = article ? article.title : "";
    $("kb-category").value = article ? article.category : "";
    $("kb-tags").value = article ? article.tags.join(", ") : "";
    $("kb-body").value = article ? article.body : "";
    // The slug and language identify an article: they are chosen once, at creation.
    $("kb-slug").disabled = !!article;
    $("kb-locale").disabled = !!article;
    putSanitisedHtml($("kb-preview"), article ? article.html : "");
    showError($("kb-form-error"), "");
    showError($("kb-preview-error"), "");
    showDeletedState();
  }

  /* The "deleted" note and the Delete button follow the article being edited. */
  function showDeletedState() {
    var deleted = isDeleted(state.editing);
    $("kb-deleted-note").hidden = !deleted;
    if (deleted) $("kb-status").setAttribute("aria-describedby", "kb-deleted-note");
    else $("kb-status").removeAttribute("aria-describedby");
    $("kb-delete").hidden = !state.editing || deleted;
  }

  function heading() {
    $("kb-editor-heading").textContent = state.editing
      ? t("kb.form.edit", { title: state.editing.title, version: state.editing.version })
      : t("kb.form.new");
  }

  function openEditor(article) {
    state.editing = article;
    fill(article);
    heading();
    $("kb-editor").hidden = false;
    $("kb-versions-block").hidden = !article;
    $("kb-versions").textContent = "";
    render();
    $("kb-editor-heading").focus();
    if (article) loadVersions(article.id);
  }

  function edit(id) {
    SD.api("GET", "/api/v1/kb/articles/" + id).then(openEditor, function (err) {
      showError($("kb-list-error"), err.message);
    });
  }

  function fieldNames(fields) {
    return fields.map(function (field) {
      var code = "kb.field." + field;
      return t(code) === code ? field : t(code);
    }).join(", ");
  }

  /* One line of the history; `older` is the version before it (undefined for the first).
   * Deleting and restoring read as such rather than as "status (Deleted)". */
  function versionLine(version, older) {
    var fields = {
      version: version.version,
      time: SD.fmtTime(version.created_at),
      who: version.changed_by == null ? "" : t("kb.versions.agent", { id: version.changed_by }),
      changed: fieldNames(version.changed),
      status: statusName(version.status),
    };
    if (version.source === "import") return t("kb.versions.line_import", fields);
    if (version.status === ARCHIVED && version.changed.indexOf("status") >= 0) {
      return t("kb.versions.line_deleted", fields);
    }
    if (older && older.status === ARCHIVED && version.status !== ARCHIVED) {
      var others = version.changed.filter(function (field) { return field !== "status"; });
      if (!others.length) return t("kb.versions.line_restored", fields);
      fields.changed = fieldNames(others);
      return t("kb.versions.line_restored_changed", fields);
    }
    return t("kb.versions.line", fields);
  }

  function loadVersions(id) {
    SD.api("GET", "/api/v1/kb/articles/" + id + "/versions").then(function (versions) {
      if (!state.editing || state.editing.id !== id) return;
      var list = $("kb-versions");
      list.textContent = "";
      versions.forEach(function (version, index) {
        // Newest first: the version before this one is the next in the list.
        var li = SD.el("li", null, versionLine(version, versions[index + 1]));
        li.dataset.version = String(version.version);
        list.appendChild(li);
      });
    }, function () { /* the editor works without its history */ });
  }

  function preview() {
    var asked = ++state.previewAsked;
    SD.api("POST", "/api/v1/kb/preview", { body: $("kb-body").value }).then(function (result) {
      if (asked !== state.previewAsked) return; // a newer keystroke asked again
      showError($("kb-preview-error"), "");
      putSanitisedHtml($("kb-preview"), result.html);
    }, function (err) {
      if (asked === state.previewAsked) showError($("kb-preview-error"), err.message);
    });
  }

  function save() {
    var button = $("kb-save");
    var error = $("kb-form-error");
    showError(error, "");
    var body = {
      slug: $("kb-slug").value.trim(),
      locale: $("kb-locale").value,
      title: $("kb-title").value,
      body: $("kb-body").value,
      category: $("kb-category").value,
      tags: $("kb-tags").value.split(/[,、]/).map(function (tag) { return tag.trim(); })
        .filter(Boolean),
      status: $("kb-status").value,
    };
    var editing = state.editing;
    var restoring = isDeleted(editing);
    button.disabled = true;
    var request = editing
      ? SD.api("PUT", "/api/v1/kb/articles/" + editing.id, body)
      : SD.api("POST", "/api/v1/kb/articles", body);
    request.then(function (article) {
      $("kb-notice").textContent = restoring
        ? t("kb.restored", { title: article.title, version: article.version, status: statusName(article.status) })
        : t("kb.saved", { title: article.title, version: article.version });
      state.editing = article;
      heading();
      showDeletedState();
      $("kb-slug").disabled = true;
      $("kb-locale").disabled = true;
      $("kb-versions-block").hidden = false;
      loadVersions(article.id);
      return load();
    }, function (err) { showError(error, err.message); }).then(function () {
      button.disabled = false;
    });
  }

  /* ---------------------------------------------------------------- delete ---- */

  function closeEditor() {
    state.editing = null;
    $("kb-editor").hidden = true;
    render();
    $("kb-new").focus();
  }

  function askDelete() {
    var article = state.editing;
    if (!article || isDeleted(article)) return;
    state.deleting = article;
    $("kb-confirm-text").textContent = t("kb.confirm.text", { title: article.title, locale: localeName(article.locale) });
    showError($("kb-confirm-error"), "");
    $("kb-confirm-delete").disabled = false;
    $("kb-confirm").showModal();
    $("kb-confirm-cancel").focus(); // the safe choice first
  }

  function confirmDelete() {
    var article = state.deleting;
    if (!article) return;
    $("kb-confirm-delete").disabled = true;
    SD.api("DELETE", "/api/v1/kb/articles/" + article.id).then(function () {
      $("kb-confirm").close();
      $("kb-notice").textContent = t("kb.deleted", { title: article.title });
      if (state.editing && state.editing.id === article.id) closeEditor();
      return load();
    }, function (err) {
      $("kb-confirm-delete").disabled = false;
      showError($("kb-confirm-error"), err.message);
    });
  }

  function wire() {
    $("kb-filter").addEventListener("submit", function (event) { event.preventDefault(); render(); });
    $("kb-q").addEventListener("input", render);
    $("kb-filter-locale").addEventListener("change", load);
    $("kb-filter-status").addEventListener("change", load);
    $("kb-new").addEventListener("click", function () { openEditor(null); });
    $("kb-cancel").addEventListener("click", closeEditor);
    $("kb-delete").addEventListener("click", askDelete);
    $("kb-confirm-delete").addEventListener("click", confirmDelete);
    $("kb-confirm").addEventListener("close", function () { state.deleting = null; });
    $("kb-form").addEventListener("submit", function (event) {
      event.preventDefault();
      save();
    });
    $("kb-body").addEventListener("input", function () {
      clearTimeout(state.previewTimer);
      state.previewTimer = setTimeout(preview, PREVIEW_DELAY_MS);
    });
    SD.onLocaleChange(function () {
      render();
      if (!$("kb-editor").hidden) heading();
      if (state.deleting) {
        $("kb-confirm-text").textContent = t("kb.confirm.text", {
          title: state.deleting.title, locale: localeName(state.deleting.locale) });
      }
      if (state.editing) loadVersions(state.editing.id);
    });
  }

  SD.boot(function (me) {
    var editor = me.is_supervisor || (me.roles || []).indexOf("admin") >= 0;
    if (!editor) {
      $("kb-refused").hidden = false;
      return;
    }
    $("kb-manage").hidden = false;
    wire();
    load();
  });
})();
