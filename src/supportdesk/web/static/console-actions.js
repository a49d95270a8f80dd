/* The agent console (see console.js): what the assignee or a supervisor does with the
 * open conversation: resolve, reassign (supervisors) and transfer to the other tier
 * with a handoff note.
 */
(function () {
  "use strict";

  var SD = window.SD;
  var C = window.SDConsole;
  var state = C.state;
  var $ = C.$;
  var t = C.t;
  var tierLabel = C.tierLabel;
  var otherTier = C.otherTier;
  var showError = C.showError;

  /* ---------------------------------------------------------------- actions ---- */

  function afterAction(conv) {
    if (conv.id === state.openId) {
      state.conv = conv;
      C.renderChatHead();
    }
    C.refreshMine();
    C.refreshQueues();
  }

  function wireActions() {
    $("cs-resolve").addEventListener("click", function () {
      var conv = state.conv;
      showError($("cs-action-error"), "");
      SD.api("POST", "/api/v1/conversations/" + conv.id + "/resolve").then(afterAction, function (err) {
        showError($("cs-action-error"), err.message);
      });
    });

    $("cs-reassign").addEventListener("submit", function (event) {
      event.preventDefault();
      var conv = state.conv;
      var agentId = Number($("cs-reassign-agent").value);
      if (!agentId) return;
      showError($("cs-action-error"), "");
      SD.api("POST", "/api/v1/conversations/" + conv.id + "/assign", { agent_id: agentId })
        .then(afterAction, function (err) { showError($("cs-action-error"), err.message); });
    });

    var dialog = $("cs-transfer-dialog");
    $("cs-transfer").addEventListener("click", openTransferDialog);
    $("cs-transfer-cancel").addEventListener("click", function () { dialog.close(); });
    $("cs-transfer-note").addEventListener("input", function () {
      $("cs-transfer-note").removeAttribute("aria-invalid");
      showError($("cs-transfer-error"), "");
    });
    $("cs-transfer-form").addEventListener("submit", function (event) {
      event.preventDefault();
      submitTransfer();
    });
  }

  /* "Name (online, 2 chats)": an agent to choose, with their presence and load. */
  function agentOption(agent) {
    return new Option(t("console.agent.option", {
      name: agent.name,
      presence: t("staff.presence." + agent.presence),
      chats: agent.open_chats,
    }), String(agent.id));
  }

  function renderReassignOptions() {
    var select = $("cs-reassign-agent");
    var conv = state.conv;
    if (state.agents === null) {
      state.agents = [];
      SD.api("GET", "/api/v1/staff/agents").then(function (agents) {
        state.agents = agents;
        if (state.conv) renderReassignOptions();
      }, function () { state.agents = null; });
    }
    var current = select.value;
    select.textContent = "";
    select.appendChild(new Option(t("console.reassign.choose"), ""));
    state.agents.filter(function (agent) {
      return agent.roles.indexOf(conv.tier) >= 0 &&
        !(conv.assigned_agent && conv.assigned_agent.id === agent.id);
    }).forEach(function (agent) {
      select.appendChild(agentOption(agent));
    });
    select.value = current;
  }

  function openTransferDialog() {
    var conv = state.conv;
    var target = otherTier(conv.tier);
    $("cs-transfer-heading").textContent = t("console.transfer.heading", { tier: tierLabel(target) });
    $("cs-transfer-note").value = "";
    showError($("cs-transfer-error"), "");
    var field = $("cs-transfer-specialist-field");
    field.hidden = target !== "technical_support";
    var select = $("cs-transfer-specialist");
    select.textContent = "";
    select.appendChild(new Option(t("console.transfer.any_specialist"), ""));
    if (!field.hidden) {
      SD.api("GET", "/api/v1/staff/specialists").then(function (rows) {
        state.specialists = rows;
        rows.forEach(function (agent) {
          select.appendChild(agentOption(agent));
        });
      }, function (err) { showError($("cs-transfer-error"), err.message); });
    }
    $("cs-transfer-dialog").showModal();
    $("cs-transfer-note").focus();
  }

  function submitTransfer() {
    var conv = state.conv;
    var noteField = $("cs-transfer-note");
    var error = $("cs-transfer-error");
    // The form refuses an empty note itself; a note of blanks is the server's to judge
    // (it answers 422 transfer_note_required, shown here like any refusal).
    if (noteField.value === "") {
      showError(error, t("console.transfer.note_required"));
      noteField.setAttribute("aria-invalid", "true");
      noteField.focus();
      return;
    }
    noteField.removeAttribute("aria-invalid");
    showError(error, "");
    var preferred = $("cs-transfer-specialist").value;
    var submit = $("cs-transfer-submit");
    submit.disabled = true;
    SD.api("POST", "/api/v1/conversations/" + conv.id + "/transfer", {
      to_tier: otherTier(conv.tier),
      note: noteField.value,
      preferred_agent_id: preferred && !$("cs-transfer-specialist-field").hidden ? Number(preferred) : null,
    }).then(function (updated) {
      $("cs-transfer-dialog").close();
      afterAction(updated);
      $("cs-chat-heading").focus();
    }, function (err) {
      if (err.code === "transfer_note_required") noteField.setAttribute("aria-invalid", "true");
      showError(error, err.message);
    }).then(function () { submit.disabled = false; });
  }

  Object.assign(C, {
    wireActions: wireActions,
    renderReassignOptions: renderReassignOptions,
  });
})();
