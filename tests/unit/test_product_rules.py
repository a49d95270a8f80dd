"""Product rules: the request and topic state machines, mentions over merged topics, the
ranking score with plan weights and recency, and request numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.core.auth import AgentPrincipal, Role
from supportdesk.core.errors import DomainError
from supportdesk.product import rules, texts

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def agent(*roles: Role) -> AgentPrincipal:
    return AgentPrincipal(1, "A", "a@x", frozenset(roles), ("en",), "en")


def code(exc: pytest.ExceptionInfo[DomainError]) -> str:
    return exc.value.code


def test_request_status_machine():
    assert rules.next_request_status("queued", "in_progress") == "in_progress"
    assert rules.next_request_status("in_progress", "fixed") == "fixed"
    assert rules.next_request_status("fixed", "released") == "released"
    assert rules.next_request_status("queued", "wont_fix") == "wont_fix"
    # The same status again is "nothing to do": a retried call notifies nobody.
    assert rules.next_request_status("fixed", "fixed") is None
    for current, wanted in (("queued", "released"), ("released", "queued"), ("queued", "fixed")):
        with pytest.raises(DomainError) as exc:
            rules.next_request_status(current, wanted)
        assert code(exc) == "product_request_transition"
    with pytest.raises(DomainError) as exc:
        rules.next_request_status("queued", "done")
    assert code(exc) == "product_request_status_unknown"


def test_topic_state_machine():
    assert rules.next_topic_state("recorded", "under_discussion") == "under_discussion"
    assert rules.next_topic_state("under_discussion", "accepted") == "accepted"
    assert rules.next_topic_state("under_discussion", "declined") == "declined"
    assert rules.next_topic_state("accepted", "accepted") is None
    with pytest.raises(DomainError) as exc:
        rules.next_topic_state("recorded", "accepted")  # discussed first
    assert code(exc) == "product_topic_transition"
    with pytest.raises(DomainError):
        rules.next_topic_state("accepted", "declined")  # the request exists: final


def test_only_the_product_role_moves_topics_and_only_tier2_files_bugs():
    rules.check_product(agent(Role.PRODUCT))
    for roles in ((Role.SUPERVISOR,), (Role.ADMIN,), (Role.CUSTOMER_SUPPORT,)):
        with pytest.raises(DomainError) as exc:
            rules.check_product(agent(*roles))
        assert code(exc) == "product_role_required"
    rules.check_bug_reporter(agent(Role.TECHNICAL_SUPPORT))
    with pytest.raises(DomainError) as exc:
        rules.check_bug_reporter(agent(Role.CUSTOMER_SUPPORT))
    assert code(exc) == "product_bug_tier2_only"


def m(portal: int, days_ago: float = 0, plan: str = "basic") -> rules.Mention:
    return rules.Mention(portal, plan, NOW - timedelta(days=days_ago))


def test_mentions_count_distinct_portals():
    assert rules.mentions([m(1), m(1), m(1), m(1), m(1)]) == 1
    assert rules.mentions([m(1), m(2), m(3), m(2)]) == 3
    assert rules.mentions([]) == 0


def test_mentions_over_merges_count_each_portal_once():
    # 2 and 3 are merged into 1; 4 into 3 (through it, into 1); 5 stands alone.
    tree = {1: None, 2: 1, 3: 1, 4: 3, 5: None}
    assert rules.root_of(4, tree) == 1
    assert rules.group_of(1, tree) == {1, 2, 3, 4}
    assert rules.group_of(5, tree) == {5}
    links = {1: [m(10)], 2: [m(10), m(11)], 3: [m(12)], 4: [m(11), m(13)], 5: [m(10)]}
    grouped = [link for t in rules.group_of(1, tree) for link in links[t]]
    assert rules.mentions(grouped) == 4  # portals 10, 11, 12, 13
    # Unmerging 3 (and with it 4) restores both counts exactly: no link moved.
    tree[3] = None
    assert rules.group_of(1, tree) == {1, 2}
    assert rules.mentions([x for t in rules.group_of(1, tree) for x in links[t]]) == 2
    assert rules.mentions([x for t in rules.group_of(3, tree) for x in links[t]]) == 3


def test_merge_checks():
    tree = {1: None, 2: 1, 3: None}
    with pytest.raises(DomainError) as exc:
        rules.check_merge(1, 1, tree)
    assert code(exc) == "product_merge_into_itself"
    with pytest.raises(DomainError) as exc:
        rules.check_merge(2, 3, tree)
    assert code(exc) == "product_topic_merged"
    with pytest.raises(DomainError) as exc:
        rules.check_merge(3, 2, tree)
    assert code(exc) == "product_merge_target_merged"
    rules.check_merge(3, 1, tree)


def test_score_formula():
    # One portal mentioned today counts 1; 90 days ago half; its latest mention counts.
    assert rules.score([m(1)], NOW, {}) == pytest.approx(1.0)
    assert rules.score([m(1, days_ago=90)], NOW, {}) == pytest.approx(0.5)
    assert rules.score([m(1, days_ago=180), m(1, days_ago=0)], NOW, {}) == pytest.approx(1.0)
    # Five wishes of one portal weigh as one.
    assert rules.score([m(1, d) for d in range(5)], NOW, {}) == pytest.approx(1.0, abs=0.04)
    three = rules.score([m(1), m(2), m(3)], NOW, {})
    assert three == pytest.approx(3.0)
    # Plan weights from the setting; unnamed plans weigh 1.
    weights = rules.parse_plan_weights("pro:2, enterprise:3")
    assert weights == {"pro": 2.0, "enterprise": 3.0}
    assert rules.score([m(1, plan="enterprise"), m(2)], NOW, weights) == pytest.approx(4.0)
    assert rules.parse_plan_weights("") == {}
    for bad in ("pro", "pro:x", "pro:-1", ":2"):
        with pytest.raises(ValueError):
            rules.parse_plan_weights(bad)


def test_ranking_ties_break_on_mentions_then_age():
    old, new = NOW - timedelta(days=10), NOW
    keys = [
        (rules.rank_key(1.0, 1, new, 3), "c"),
        (rules.rank_key(1.0, 2, new, 2), "b"),
        (rules.rank_key(1.0, 1, old, 4), "d_old"),
        (rules.rank_key(3.0, 3, new, 1), "a"),
    ]
    assert [name for _, name in sorted(keys)] == ["a", "b", "d_old", "c"]


def test_request_numbers():
    assert rules.request_label(1042) == "REQ-1042"
    assert rules.parse_request_number("REQ-1042") == 1042
    assert rules.parse_request_number("req-7") == 7
    assert rules.parse_request_number("1001") == 1001
    for bad in ("REQ-", "REQ-1x", "x", "-1"):
        with pytest.raises(DomainError):
            rules.parse_request_number(bad)


def test_notice_texts_in_both_languages_and_no_deadline():
    text = texts.update_text("status", "REQ-1042", "Export Gantt to PDF", "in_progress")
    assert text["en"] == "Request REQ-1042 “Export Gantt to PDF” is now in progress."
    assert "REQ-1042" in text["ja"] and "開発中" in text["ja"]
    created = texts.update_text("created", "REQ-1042", "Export", "queued")
    assert texts.NO_DEADLINE["en"] in created["en"] and texts.NO_DEADLINE["ja"] in created["ja"]
    assert set(texts.STATUS_NAMES) == set(rules.REQUEST_STATUSES)
