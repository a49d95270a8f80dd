/* The agent console (see console.js): the customer panel of the open conversation,
 * with the portal, plan and user, and the portal's earlier conversations.
 */
(function () {
  "use strict";

  var SD = window.SD;
  var C = window.SDConsole;
  var state = C.state;
  var $ = C.$;
  var t = C.t;
  var tierLabel = C.tierLabel;
  var stateLabel = C.stateLabel;
  var localeLabel = C.localeLabel;

  /* ---------------------------------------------------------------- customer panel ---- */

  function loadCustomer(id, token) {
    Promise.all([
      SD.api("GET", "/api/v1/conversations/" + id + "/customer"),
      SD.api("GET", "/api/v1/conversations/" + id + "/portal-history"),
    ]).then(function (results) {
      if (!C.stillOpen(token)) return;
      state.customer = results[0];
      state.history = results[1];
      renderCustomer();
    }, function () { /* the panel stays hidden; the chat itself still works */ });
  }

  function fact(list, label, value) {
    list.appendChild(SD.el("dt", null, label));
    list.appendChild(SD.el("dd", null, value));
  }

  function renderCustomer() {
    var panel = state.customer;
    if (!panel) return;
    var facts = $("cs-customer-facts");
    facts.textContent = "";
    var plan = panel.portal.plan;
    fact(facts, t("console.customer.portal"), panel.portal.external_id);
    fact(facts, t("console.customer.plan"), t(plan.commercial ? "console.customer.plan_commercial" : "console.customer.plan_free", {
      plan: SD.locale() === "ja" ? plan.name_ja : plan.name_en,
    }));
    fact(facts, t("console.customer.name"), panel.user.name || panel.user.external_id);
    fact(facts, t("console.customer.user_id"), panel.user.external_id);
    fact(facts, t("console.customer.email"), panel.user.email || t("console.customer.none"));
    fact(facts, t("console.customer.role"), t("console.customer.role_" + (panel.user.role === "admin" ? "admin" : "user")));
    fact(facts, t("console.customer.locale"), localeLabel(panel.user.locale));

    var list = $("cs-history");
    list.textContent = "";
    $("cs-history-empty").hidden = state.history.length > 0;
    state.history.forEach(function (entry) {
      var li = SD.el("li", "cs-history-entry");
      var button = SD.el("button", "cs-conv");
      button.type = "button";
      button.dataset.conversation = String(entry.id);
      button.appendChild(C.convTitle(entry.id, entry.subject));
      button.appendChild(SD.el("span", "cs-conv-meta",
        [stateLabel(entry.state), tierLabel(entry.tier), SD.fmtTime(entry.created_at)].join(" · ")));
      button.addEventListener("click", function () { C.openConversation(entry.id); });
      li.appendChild(button);
      var handlers = entry.handled_by.map(function (agent) {
        return t("console.history.agent", { name: agent.name, tier: tierLabel(agent.tier) });
      });
      li.appendChild(SD.el("p", "cs-handled sd-muted", handlers.length
        ? t("console.history.handled_by", { agents: handlers.join(", ") })
        : t("console.history.unhandled")));
      list.appendChild(li);
    });
    $("cs-customer").hidden = false;
  }

  Object.assign(C, {
    loadCustomer: loadCustomer,
    renderCustomer: renderCustomer,
  });
})();
