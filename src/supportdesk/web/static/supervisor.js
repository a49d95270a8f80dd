/* The supervisor page: live queues and agents, operational and CSAT charts, the
 * per-agent CSAT table with its CSV export, the partner referral report with its CSV
 * export, and the audit log.
 *
 * Live parts refetch when the stream says something changed (queue, conversation and
 * presence frames, and after every reconnect); there is no polling loop.  Charts are
 * SVG documents rendered by the server: they are fetched, parsed as image/svg+xml and
 * imported into the page, so their text is in the DOM.  User content always goes in
 * with textContent.
 */
(function () {
  "use strict";

  var t = SD.t;
  var el = SD.el;
  var AUDIT_PAGE = 50;
  var ROLE_LABELS = {
    customer_support: "staff.tier.customer_support",
    technical_support: "staff.tier.technical_support",
    supervisor: "supervisor.role.supervisor",
    admin: "supervisor.role.admin",
    product: "supervisor.role.product",
  };
  var AUDIT_ACTIONS = [
    "agent.created", "agent.locale_changed", "agent.presence_changed",
    "conversation.assigned", "conversation.opened", "conversation.rated",
    "conversation.resolved", "conversation.transferred",
    "portal.created", "portal.plan_changed",
    "saved_reply.created", "saved_reply.deleted", "saved_reply.updated",
    "staff.login", "staff.login_failed", "staff.logout",
  ];

  var $ = function (id) { return document.getElementById(id); };
  var data = { queues: [], agents: [], csat: null, partners: null, audit: [] };
  var PARTNER_LEVELS = ["platinum", "gold", "silver", "registered"];
  var auditMore = false;
  var timers = {};

  /* Run fn once, shortly after the last of a burst of frames. */
  function soon(name, fn) {
    clearTimeout(timers[name]);
    timers[name] = setTimeout(fn, 150);
  }

  function showError(node, err) {
    node.textContent = (err && err.message) || t("staff.error.generic");
    node.hidden = false;
  }

  /* ---- the period ---- */

  function isoDay(date) { return date.toISOString().slice(0, 10); }

  function addDays(day, n) {
    var date = new Date(day + "T00:00:00Z");
    date.setUTCDate(date.getUTCDate() + n);
    return isoDay(date);
  }

  /* The period as the API wants it: from inclusive, to exclusive (the day after the
   * last day shown), both at midnight UTC. */
  function period() {
    return {
      from: $("sv-from").value + "T00:00:00Z",
      to: addDays($("sv-to").value, 1) + "T00:00:00Z",
      tier: $("sv-tier").value,
    };
  }

  function query(fields) {
    var params = new URLSearchParams();
    Object.keys(fields).forEach(function (name) {
      var value = fields[name];
      if (value !== "" && value != null) params.set(name, value);
    });
    var text = params.toString();
    return text ? "?" + text : "";
  }

  function validPeriod() {
    var error = $("sv-filters-error");
    error.hidden = true;
    if (!$("sv-from").value || !$("sv-to").value || $("sv-from").value > $("sv-to").value) {
      error.textContent = t("supervisor.filters.invalid");
      error.hidden = false;
      return false;
    }
    return true;
  }

  /* ---- queues and agents ---- */

  function tierName(tier) {
    var code = "staff.tier." + tier;
    return t(code);
  }

  function loadQueues() {
    return SD.api("GET", "/api/v1/queues").then(function (queues) {
      data.queues = queues;
      renderQueues();
    }, function (err) { showError($("sv-queues"), err); });
  }

  function renderQueues() {
    var box = $("sv-queues");
    box.replaceChildren();
    data.queues.forEach(function (queue) {
      var card = el("section", "sv-queue");
      card.setAttribute("data-tier", queue.tier);
      var heading = el("h4", null, tierName(queue.tier));
      heading.id = "sv-queue-" + queue.tier;
      card.setAttribute("aria-labelledby", heading.id);
      card.appendChild(heading);
      var facts = el("p", "sv-queue-facts");
      facts.appendChild(el("span", "sv-queue-waiting", t("supervisor.queues.waiting", { count: queue.waiting })));
      if (queue.oldest_waiting_since) {
        var waited = (Date.now() - new Date(queue.oldest_waiting_since).getTime()) / 1000;
        facts.appendChild(document.createTextNode(" · "));
        facts.appendChild(el("span", null, t("supervisor.queues.oldest", {
          time: SD.fmtTime(queue.oldest_waiting_since), duration: SD.fmtDuration(waited),
        })));
      }
      card.appendChild(facts);
      if (queue.conversations.length) {
        var list = el("ul", "sv-queue-list");
        queue.conversations.forEach(function (conv) {
          var item = el("li");
          item.appendChild(el("span", "sv-conv-id", "#" + conv.id));
          item.appendChild(document.createTextNode(" "));
          item.appendChild(el("span", "sv-conv-subject", conv.subject));
          item.appendChild(el("span", "sd-muted sv-conv-time", " · " + SD.fmtTime(conv.created_at)));
          list.appendChild(item);
        });
        card.appendChild(list);
      } else {
        card.appendChild(el("p", "sd-muted", t("supervisor.queues.empty")));
      }
      box.appendChild(card);
    });
  }

  function loadAgents() {
    return SD.api("GET", "/api/v1/staff/agents").then(function (agents) {
      data.agents = agents;
      renderAgents();
      renderAudit(); // actor names come from the agent list
    }, function (err) {
      var body = $("sv-agents").tBodies[0];
      body.replaceChildren();
      var row = el("tr");
      var cell = el("td", "sd-error");
      cell.colSpan = 4;
      showError(cell, err);
      row.appendChild(cell);
      body.appendChild(row);
    });
  }

  function renderAgents() {
    var body = $("sv-agents").tBodies[0];
    body.replaceChildren();
    data.agents.forEach(function (agent) {
      var row = el("tr");
      row.setAttribute("data-agent-id", agent.id);
      row.appendChild(el("th", null, agent.name)).setAttribute("scope", "row");
      var roles = agent.roles.map(function (role) {
        return ROLE_LABELS[role] ? t(ROLE_LABELS[role]) : role;
      });
      row.appendChild(el("td", null, roles.join(", ")));
      var presenceCode = "staff.presence." + agent.presence;
      var presence = el("td", "sv-presence sv-presence--" + agent.presence, t(presenceCode));
      presence.setAttribute("data-presence", agent.presence);
      row.appendChild(presence);
      var load = el("td", "sv-load", t("supervisor.agents.load_value", {
        open: agent.open_chats == null ? 0 : agent.open_chats, max: agent.max_chats,
      }));
      row.appendChild(load);
      body.appendChild(row);
    });
  }

  function onFrame(frame) {
    if (frame.type === "queue") soon("queues", loadQueues);
    else if (frame.type === "conversation") {
      soon("queues", loadQueues);
      soon("agents", loadAgents); // load changes with assignment and resolution
    } else if (frame.type === "presence") {
      var known = data.agents.some(function (agent) {
        if (agent.id !== frame.agent_id) return false;
        agent.presence = frame.presence;
        return true;
      });
      if (known) renderAgents();
      else soon("agents", loadAgents);
    }
  }

  /* ---- charts ---- */

  /* Drop anything active an SVG could carry.  The server never sends it; this keeps the
   * page safe even if a chart were ever built from something else. */
  function inert(root) {
    root.querySelectorAll("script, foreignObject, iframe, a").forEach(function (node) { node.remove(); });
    [root].concat(Array.prototype.slice.call(root.querySelectorAll("*"))).forEach(function (node) {
      Array.prototype.slice.call(node.attributes).forEach(function (attr) {
        if (/^on/i.test(attr.name) || /href$/i.test(attr.name)) node.removeAttribute(attr.name);
      });
    });
    return root;
  }

  function loadChart(figure) {
    var p = period();
    var fields = { from: p.from, to: p.to, tier: p.tier, locale: SD.locale() };
    if (figure.getAttribute("data-metric")) fields.metric = figure.getAttribute("data-metric");
    var url = "/api/v1/reports/charts/" + figure.getAttribute("data-chart") + ".svg" + query(fields);
    figure.setAttribute("aria-busy", "true");
    return fetch(url, { credentials: "same-origin", headers: { Accept: "image/svg+xml" } })
      .then(function (response) {
        if (!response.ok) {
          return response.json().catch(function () { return null; }).then(function (body) {
            throw new SD.ApiError(response.status, "chart_failed",
              (body && body.error && body.error.message) || t("staff.error.generic"));
          });
        }
        return response.text();
      })
      .then(function (text) {
        var parsed = new DOMParser().parseFromString(text, "image/svg+xml");
        var root = parsed.documentElement;
        if (root.localName !== "svg" || parsed.getElementsByTagName("parsererror").length) {
          throw new SD.ApiError(0, "chart_failed", t("staff.error.generic"));
        }
        figure.replaceChildren(document.importNode(inert(root), true));
      })
      .catch(function (err) {
        figure.replaceChildren(el("p", "sd-error", err.message || t("staff.error.generic")));
      })
      .then(function () { figure.removeAttribute("aria-busy"); });
  }

  function loadCharts() {
    document.querySelectorAll(".sv-chart").forEach(loadChart);
  }

  /* ---- CSAT table ---- */

  function loadCsat() {
    var p = period();
    var fields = { from: p.from, to: p.to, tier: p.tier };
    $("sv-csv").href = "/api/v1/reports/csat.csv" + query({
      from: p.from, to: p.to, tier: p.tier, locale: SD.locale(),
    });
    return SD.api("GET", "/api/v1/reports/csat" + query(fields)).then(function (report) {
      data.csat = report;
      renderCsat();
    }, function (err) { showError($("sv-csat-summary"), err); });
  }

  function renderCsat() {
    var report = data.csat;
    if (!report) return;
    $("sv-csat-summary").textContent = report.count
      ? t("supervisor.csat.summary", { count: report.count, average: report.average.toFixed(2) })
      : t("supervisor.csat.empty");
    var body = $("sv-csat-table").tBodies[0];
    body.replaceChildren();
    report.by_agent.forEach(function (row) {
      var tr = el("tr");
      tr.appendChild(el("th", null, row.agent_name)).setAttribute("scope", "row");
      tr.appendChild(el("td", null, tierName(row.tier)));
      tr.appendChild(el("td", "sv-num", String(row.count)));
      tr.appendChild(el("td", "sv-num", row.average.toFixed(2)));
      body.appendChild(tr);
    });
    $("sv-csat-empty").hidden = report.by_agent.length > 0;
  }

  /* ---- partner referrals ---- */

  /* The report has no tier: referral cards are counted wherever they were sent. */
  function loadPartners() {
    var p = period();
    $("sv-partners-csv").href = "/api/v1/reports/partners.csv" + query({
      from: p.from, to: p.to, locale: SD.locale(),
    });
    return SD.api("GET", "/api/v1/reports/partners" + query({ from: p.from, to: p.to }))
      .then(function (report) {
        data.partners = report;
        renderPartners();
      }, function (err) { showError($("sv-partners-summary"), err); });
  }

  function renderPartners() {
    var report = data.partners;
    if (!report) return;
    $("sv-partners-summary").textContent = t("supervisor.partners.summary", {
      partner_cards: report.partner_cards, vendor_cards: report.vendor_cards,
    });
    var body = $("sv-partners-table").tBodies[0];
    body.replaceChildren();
    report.partners.forEach(function (row) {
      var tr = el("tr");
      tr.setAttribute("data-partner-id", row.partner_id);
      tr.appendChild(el("th", null, row.name)).setAttribute("scope", "row");
      tr.appendChild(el("td", null, PARTNER_LEVELS.indexOf(row.level) >= 0
        ? t("supervisor.partners.level." + row.level) : row.level));
      tr.appendChild(el("td", null, t(row.active
        ? "supervisor.partners.active" : "supervisor.partners.inactive")));
      tr.appendChild(el("td", "sv-num sv-referrals", String(row.referrals)));
      tr.appendChild(el("td", "sv-num sv-leads", String(row.leads)));
      tr.appendChild(el("td", "sv-num", row.lead_rate == null ? "–"
        : t("supervisor.unit.percent", { value: Math.round(row.lead_rate * 100) })));
      body.appendChild(tr);
    });
    // Every partner has a row, zeros too (who got nothing matters); the note says when
    // nobody got anything.
    $("sv-partners-empty").hidden = report.partners.some(function (row) {
      return row.referrals > 0 || row.leads > 0;
    });
  }

  /* ---- audit log ---- */

  function auditFields() {
    var p = period();
    return {
      action: $("sv-audit-action").value.trim(),
      actor_type: $("sv-audit-actor-type").value,
      actor_id: $("sv-audit-actor-id").value,
      subject_type: $("sv-audit-subject-type").value.trim(),
      subject_id: $("sv-audit-subject-id").value,
      portal_id: $("sv-audit-portal").value,
      from: p.from,
      to: p.to,
      limit: AUDIT_PAGE,
    };
  }

  function loadAudit(older) {
    var fields = auditFields();
    if (older && data.audit.length) fields.before_id = data.audit[data.audit.length - 1].id;
    $("sv-audit-error").hidden = true;
    return SD.api("GET", "/api/v1/audit" + query(fields)).then(function (entries) {
      data.audit = older ? data.audit.concat(entries) : entries;
      auditMore = entries.length === AUDIT_PAGE;
      renderAudit();
    }, function (err) { showError($("sv-audit-error"), err); });
  }

  function actorText(entry) {
    if (entry.actor_type === "agent") {
      var agent = data.agents.filter(function (a) { return a.id === entry.actor_id; })[0];
      return t("supervisor.audit.actor_agent", { name: agent ? agent.name : "", id: entry.actor_id });
    }
    if (entry.actor_type === "customer") return t("supervisor.audit.actor_customer", { id: entry.actor_id });
    return t("supervisor.audit.actor.system");
  }

  function renderAudit() {
    var body = $("sv-audit-table").tBodies[0];
    body.replaceChildren();
    data.audit.forEach(function (entry) {
      var row = el("tr");
      row.setAttribute("data-action", entry.action);
      var time = el("td");
      var stamp = el("time", null, SD.fmtTime(entry.at));
      stamp.setAttribute("datetime", entry.at);
      time.appendChild(stamp);
      row.appendChild(time);
      row.appendChild(el("td", "sv-action", entry.action));
      row.appendChild(el("td", null, actorText(entry)));
      row.appendChild(el("td", null, entry.subject_id == null
        ? entry.subject_type : entry.subject_type + " #" + entry.subject_id));
      row.appendChild(el("td", null, entry.portal_id == null ? "" : String(entry.portal_id)));
      var details = el("td", "sv-details");
      var keys = Object.keys(entry.data || {});
      if (keys.length) details.appendChild(el("code", null, JSON.stringify(entry.data)));
      row.appendChild(details);
      body.appendChild(row);
    });
    $("sv-audit-status").textContent = data.audit.length
      ? t("supervisor.audit.count", { count: data.audit.length })
      : t("supervisor.audit.empty");
    $("sv-audit-more").hidden = !auditMore;
  }

  /* ---- wiring ---- */

  function refreshAll() {
    if (!validPeriod()) return;
    loadQueues();
    loadAgents();
    loadCharts();
    loadCsat();
    loadPartners();
    loadAudit(false);
  }

  function start() {
    var today = isoDay(new Date());
    $("sv-to").value = today;
    $("sv-from").value = addDays(today, -29);
    var options = $("sv-audit-actions");
    AUDIT_ACTIONS.forEach(function (action) {
      var option = document.createElement("option");
      option.value = action;
      options.appendChild(option);
    });

    $("sv-filters").addEventListener("submit", function (event) {
      event.preventDefault();
      refreshAll();
    });
    $("sv-audit-filters").addEventListener("submit", function (event) {
      event.preventDefault();
      if (validPeriod()) loadAudit(false);
    });
    $("sv-audit-filters").addEventListener("reset", function () {
      setTimeout(function () { loadAudit(false); }, 0); // after the fields are cleared
    });
    $("sv-audit-more").addEventListener("click", function () { loadAudit(true); });

    SD.onLocaleChange(function () {
      renderQueues();
      renderAgents();
      renderCsat();
      renderPartners();
      renderAudit();
      if (validPeriod()) {
        loadCharts();
        loadCsat(); // the CSV links carry the locale
        loadPartners();
      }
    });

    var first = true;
    SD.stream({
      onFrame: onFrame,
      onStatus: function (connected) {
        // After a reconnect, frames may have been missed: read the live state again.
        if (connected && !first) {
          loadQueues();
          loadAgents();
        }
        if (connected) first = false;
      },
    });
    refreshAll();
  }

  SD.boot(function (me) {
    if (!me.is_supervisor) {
      $("sv-refusal").hidden = false;
      $("sv-page").hidden = true;
      $("sv-refusal-heading").focus();
      return;
    }
    $("sv-page").hidden = false;
    start();
  });
})();
