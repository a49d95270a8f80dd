/* The few helpers every page script needs, in one place: the widget (widget*.js), the
 * staff pages (staff.js) and attachments.js all load this file first.  Exposes
 * window.SDCommon; nothing here knows about a particular page or its strings.
 *
 * User content goes into the page with textContent only, never innerHTML.
 */
(function () {
  "use strict";

  /* An element with an optional class and text (as textContent: never markup). */
  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content != null) node.textContent = content;
    return node;
  }

  /* A catalogue string with its {name} placeholders filled; a missing field is "". */
  function fill(template, fields) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return fields && fields[key] != null ? String(fields[key]) : "";
    });
  }

  /* Put the strings of t(code) into [data-i18n] (text), [data-i18n-label] (aria-label
   * and title) and [data-i18n-placeholder] elements under root (the whole page). */
  function applyStrings(t, root) {
    (root || document).querySelectorAll("[data-i18n]").forEach(function (node) {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
    (root || document).querySelectorAll("[data-i18n-label]").forEach(function (node) {
      var label = t(node.getAttribute("data-i18n-label"));
      node.setAttribute("aria-label", label);
      node.title = label;
    });
    (root || document).querySelectorAll("[data-i18n-placeholder]").forEach(function (node) {
      node.placeholder = t(node.getAttribute("data-i18n-placeholder"));
    });
  }

  /* A fresh client_key: the server's idempotency key for a message or an upload. */
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  window.SDCommon = { el: el, fill: fill, applyStrings: applyStrings, newKey: newKey };
})();
