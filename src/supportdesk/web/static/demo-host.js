/* The demo host page: a "?" icon opens the help panel; its "Ask a question" button
 * opens the supportdesk widget for the signed-in demo user. */
(function () {
  "use strict";
  var toggle = document.getElementById("help-toggle");
  var panel = document.getElementById("help-panel");

  function setOpen(open) {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) document.getElementById("help-close").focus();
    else toggle.focus();
  }

  toggle.addEventListener("click", function () { setOpen(panel.hidden); });
  document.getElementById("help-close").addEventListener("click", function () { setOpen(false); });
  document.getElementById("ask-question").addEventListener("click", function () {
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    window.SupportDesk.open();
  });
  var select = document.getElementById("demo-user");
  select.addEventListener("change", function () { select.form.submit(); });
})();
