/* The partner directory for admins (/console/partners): the list with inactive partners
 * too, add and edit (every field replaced with PUT), deactivate (DELETE: partners are
 * never removed, cards and leads refer to them), and a CSV import that takes the whole
 * file or nothing (row errors listed).  Other agents see a refusal (the admin API refuses
 * them with 403 anyway).
 *
 * Everything goes into the page with textContent (SD.el).
 */
(function () {
  "use strict";

  var SD = window.SD;
  var CSV_COLUMNS = ["name", "level", "specializations", "countries", "languages", "contact_url",
                     "email", "description_en", "description_ja", "active"];
  // The field of the form each refusal of the API is about (partners/rules.py).
  var FIELD_OF_ERROR = {
    partner_name_invalid: "pa-name",
    partner_name_taken: "pa-name",
    partner_level_invalid: "pa-level",
    partner_specialization_invalid: "pa-specializations",
    partner_country_invalid: "pa-countries",
    partner_language_invalid: "pa-languages",
    partner_url_invalid: "pa-url",
    partner_email_invalid: "pa-email",
    partner_description_too_long: "pa-description-en",
  };
  var state = { partners: [], editing: null };

  function $(id) { return document.getElementById(id); }
  function t(code, fields) { return SD.t(code, fields); }

  function showError(node, message) {
    node.textContent = message || "";
    node.hidden = !message;
  }

  function known(code, fallback) {
    var value = t(code);
    return value === code ? fallback : value;
  }

  function levelName(level) { return known("partners.level." + level, level); }
  function specName(code) { return known("partners.spec." + code, code); }

  function splitList(value) {
    return value.split(/[\s,;|、]+/).map(function (part) { return part.trim(); }).filter(Boolean);
  }

  /* ---------------------------------------------------------------- list ---- */

  function cell(row, content) {
    var td = SD.el("td", null, content);
    row.appendChild(td);
    return td;
  }

  function render() {
    var rows = $("pa-rows");
    rows.textContent = "";
    state.partners.forEach(function (partner) {
      var tr = SD.el("tr", partner.active ? null : "pa-inactive");
      tr.dataset.partner = String(partner.id);
      var name = SD.el("th", "pa-name", partner.name);
      name.scope = "row";
      tr.appendChild(name);
      cell(tr, levelName(partner.level));
      cell(tr, partner.specializations.map(specName).join(", "));
      cell(tr, partner.languages.join(", "));
      cell(tr, partner.countries.join(", "));
      cell(tr, t(partner.active ? "partners.status.active" : "partners.status.inactive"));
      var actions = cell(tr, null);
      actions.className = "pa-actions";
      var edit = SD.el("button", "pa-edit", t("partners.edit"));
      edit.type = "button";
      edit.setAttribute("aria-label", t("partners.edit_label", { name: partner.name }));
      edit.addEventListener("click", function () { openEditor(partner); });
      actions.appendChild(edit);
      if (partner.active) {
        var off = SD.el("button", "sd-danger pa-deactivate", t("partners.deactivate"));
        off.type = "button";
        off.setAttribute("aria-label", t("partners.deactivate_label", { name: partner.name }));
        off.addEventListener("click", function () { deactivate(partner, off); });
        actions.appendChild(off);
      }
      rows.appendChild(tr);
    });
    var active = state.partners.filter(function (p) { return p.active; }).length;
    $("pa-count").textContent = t("partners.list.count", { count: state.partners.length, active: active });
    $("pa-empty").hidden = state.partners.length > 0;
    $("pa-table").hidden = state.partners.length === 0;
  }

  function load() {
    showError($("pa-list-error"), "");
    return SD.api("GET", "/api/v1/admin/partners").then(function (partners) {
      state.partners = partners;
      render();
    }, function (err) { showError($("pa-list-error"), err.message); });
  }

  function deactivate(partner, button) {
    button.disabled = true;
    showError($("pa-list-error"), "");
    SD.api("DELETE", "/api/v1/admin/partners/" + partner.id).then(function (saved) {
      $("pa-notice").textContent = t("partners.deactivated", { name: saved.name });
      if (state.editing && state.editing.id === saved.id) fillForm(saved);
      return load();
    }, function (err) {
      button.disabled = false;
      showError($("pa-list-error"), err.message);
    }).then(function () {
      // The row's button is gone: keep the keyboard in the row.
      var row = document.querySelector('#pa-rows tr[data-partner="' + partner.id + '"] .pa-edit');
      if (row) row.focus();
    });
  }

  /* ---------------------------------------------------------------- editor ---- */

  function heading() {
    $("pa-editor-heading").textContent = state.editing
      ? t("partners.form.edit_heading", { name: state.editing.name })
      : t("partners.form.add_heading");
  }

  function clearInvalid() {
    document.querySelectorAll("#pa-form [aria-invalid]").forEach(function (node) {
      node.removeAttribute("aria-invalid");
    });
  }

  function fillForm(partner) {
    $("pa-name").value = partner ? partner.name : "";
    $("pa-level").value = partner ? partner.level : "registered";
    document.querySelectorAll("#pa-specializations input").forEach(function (box) {
      box.checked = !!partner && partner.specializations.indexOf(box.value) >= 0;
    });
    $("pa-languages").value = partner ? partner.languages.join(", ") : "";
    $("pa-countries").value = partner ? partner.countries.join(", ") : "";
    $("pa-url").value = partner ? partner.contact_url : "";
    $("pa-email").value = partner ? partner.email : "";
    $("pa-description-en").value = partner ? partner.description_en : "";
    $("pa-description-ja").value = partner ? partner.description_ja : "";
    $("pa-active").checked = partner ? partner.active : true;
  }

  function openEditor(partner) {
    state.editing = partner;
    fillForm(partner);
    clearInvalid();
    showError($("pa-form-error"), "");
    heading();
    $("pa-editor").hidden = false;
    $("pa-editor-heading").focus();
  }

  function formBody() {
    var specializations = [];
    document.querySelectorAll("#pa-specializations input:checked").forEach(function (box) {
      specializations.push(box.value);
    });
    return {
      name: $("pa-name").value,
      level: $("pa-level").value,
      specializations: specializations,
      languages: splitList($("pa-languages").value),
      countries: splitList($("pa-countries").value),
      contact_url: $("pa-url").value,
      email: $("pa-email").value,
      description_en: $("pa-description-en").value,
      description_ja: $("pa-description-ja").value,
      active: $("pa-active").checked,
    };
  }

  function save() {
    var button = $("pa-save");
    clearInvalid();
    showError($("pa-form-error"), "");
    var editing = state.editing;
    button.disabled = true;
    var request = editing
      ? SD.api("PUT", "/api/v1/admin/partners/" + editing.id, formBody())
      : SD.api("POST", "/api/v1/admin/partners", formBody());
    request.then(function (partner) {
      state.editing = partner;
      heading();
      $("pa-notice").textContent = t("partners.saved", { name: partner.name });
      return load();
    }, function (err) {
      showError($("pa-form-error"), err.message);
      var field = FIELD_OF_ERROR[err.code] && $(FIELD_OF_ERROR[err.code]);
      if (field) {
        field.setAttribute("aria-invalid", "true");
        var focusable = field.tagName === "FIELDSET" ? field.querySelector("input") : field;
        focusable.focus();
      }
    }).then(function () { button.disabled = false; });
  }

  /* ---------------------------------------------------------------- import ---- */

  function importIntro() {
    $("pa-import-intro").textContent = t("partners.import.intro", { columns: CSV_COLUMNS.join(", ") });
  }

  function importErrors(message, rows) {
    showError($("pa-import-error"), message);
    var list = $("pa-import-rows");
    list.textContent = "";
    (rows || []).forEach(function (row) {
      var line = row.column
        ? t("partners.import.row_column", { row: row.row, column: row.column, message: row.message })
        : t("partners.import.row", { row: row.row, message: row.message });
      list.appendChild(SD.el("li", null, line));
    });
  }

  /* The body is the file itself (text/csv), so this is a fetch of its own rather than
   * SD.api (JSON only); the 422 answer carries the row errors. */
  function importFile() {
    var file = $("pa-import-file").files[0];
    importErrors("", []);
    if (!file) {
      importErrors(t("partners.import.choose"), []);
      $("pa-import-file").focus();
      return;
    }
    var button = $("pa-import-submit");
    button.disabled = true;
    fetch("/api/v1/admin/partners/import", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "text/csv", Accept: "application/json",
                 "X-CSRF-Token": (SD.me && SD.me.csrf_token) || "" },
      body: file,
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (response.ok) {
          $("pa-notice").textContent = t("partners.import.done", data);
          $("pa-import").reset();
          return load();
        }
        var error = (data && data.error) || {};
        if (error.code === "partner_csv_invalid") {
          importErrors(t("partners.import.errors"), error.errors);
        } else {
          importErrors(error.message || t("staff.error.generic"), []);
        }
        return null;
      });
    }, function () {
      importErrors(t("staff.error.generic"), []);
    }).then(function () { button.disabled = false; });
  }

  /* ---------------------------------------------------------------- start ---- */

  function wire() {
    $("pa-new").addEventListener("click", function () { openEditor(null); });
    $("pa-cancel").addEventListener("click", function () {
      state.editing = null;
      $("pa-editor").hidden = true;
      $("pa-new").focus();
    });
    $("pa-form").addEventListener("submit", function (event) {
      event.preventDefault();
      save();
    });
    $("pa-import").addEventListener("submit", function (event) {
      event.preventDefault();
      importFile();
    });
    SD.onLocaleChange(function () {
      render();
      importIntro();
      if (!$("pa-editor").hidden) heading();
    });
  }

  SD.boot(function (me) {
    if ((me.roles || []).indexOf("admin") < 0) {
      $("pa-refused").hidden = false;
      return;
    }
    $("pa-manage").hidden = false;
    wire();
    importIntro();
    load();
  });
})();
