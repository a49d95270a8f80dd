"""Choosing who takes a waiting conversation, one at a time and for a whole queue."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from supportdesk.conversations.rules import Candidate, choose_assignee, plan_assignments

pytestmark = pytest.mark.unit


def cand(agent_id: int, *languages: str, open_chats: int = 0, max_chats: int = 5) -> Candidate:
    return Candidate(agent_id, languages or ("en",), open_chats, max_chats)


# --- choose_assignee --------------------------------------------------------------


def test_has_free_slot() -> None:
    assert cand(1, open_chats=4, max_chats=5).has_free_slot
    assert not cand(1, open_chats=5, max_chats=5).has_free_slot


def test_picks_an_agent_who_speaks_the_customers_language() -> None:
    candidates = [cand(1, "en", open_chats=0), cand(2, "ja", "en", open_chats=3)]

    assert choose_assignee("ja", None, candidates) == 2


def test_picks_an_agent_with_a_free_slot() -> None:
    candidates = [cand(1, open_chats=2, max_chats=2), cand(2, open_chats=4, max_chats=5)]

    assert choose_assignee("en", None, candidates) == 2


def test_picks_the_agent_with_the_fewest_open_chats() -> None:
    candidates = [cand(1, open_chats=3), cand(2, open_chats=1), cand(3, open_chats=2)]

    assert choose_assignee("en", None, candidates) == 2


def test_ties_go_to_the_lowest_agent_id() -> None:
    candidates = [cand(7, open_chats=1), cand(3, open_chats=1), cand(5, open_chats=1)]

    assert choose_assignee("en", None, candidates) == 3


def test_preferred_specialist_wins_when_eligible_even_if_busier() -> None:
    candidates = [cand(1, open_chats=0), cand(9, open_chats=4, max_chats=5)]

    assert choose_assignee("en", 9, candidates) == 9


def test_preferred_specialist_without_a_free_slot_does_not_win() -> None:
    candidates = [cand(1, open_chats=3), cand(9, open_chats=5, max_chats=5)]

    assert choose_assignee("en", 9, candidates) == 1


def test_preferred_specialist_who_does_not_speak_the_language_does_not_win() -> None:
    candidates = [cand(1, "ja", open_chats=3), cand(9, "en", open_chats=0)]

    assert choose_assignee("ja", 9, candidates) == 1


def test_preferred_agent_who_is_not_a_candidate_is_ignored() -> None:
    assert choose_assignee("en", 42, [cand(2, open_chats=1), cand(1, open_chats=1)]) == 1


def test_nobody_fits_returns_none() -> None:
    candidates = [cand(1, "en", open_chats=0), cand(2, "ja", open_chats=2, max_chats=2)]

    assert choose_assignee("ja", None, candidates) is None
    assert choose_assignee("ja", 2, candidates) is None


def test_no_candidates_returns_none() -> None:
    assert choose_assignee("en", None, []) is None


def test_accepts_any_iterable_of_candidates() -> None:
    assert choose_assignee("en", None, iter([cand(4, open_chats=2), cand(8, open_chats=0)])) == 8


# --- plan_assignments -------------------------------------------------------------


def test_queue_is_served_first_in_first_out() -> None:
    queue = [(10, "en", None), (11, "en", None), (12, "en", None)]

    assert plan_assignments(queue, [cand(1, max_chats=2)]) == [(10, 1), (11, 1)]


def test_loads_are_updated_as_conversations_are_assigned() -> None:
    candidates = [cand(1, open_chats=0, max_chats=2), cand(2, open_chats=1, max_chats=2)]
    queue = [(10, "en", None), (11, "en", None), (12, "en", None), (13, "en", None)]

    # 10 -> 1 (0 < 1); 11 -> 1 (1 vs 1, lower id); 1 is full; 12 -> 2; 2 is full; 13 waits.
    assert plan_assignments(queue, candidates) == [(10, 1), (11, 1), (12, 2)]


def test_agent_with_max_two_gets_at_most_two() -> None:
    queue = [(n, "en", None) for n in range(10, 20)]

    result = plan_assignments(queue, [cand(1, max_chats=2)])

    assert Counter(agent_id for _, agent_id in result) == {1: 2}


def test_load_is_spread_across_agents() -> None:
    queue = [(n, "en", None) for n in range(10, 14)]

    result = plan_assignments(queue, [cand(1), cand(2)])

    assert result == [(10, 1), (11, 2), (12, 1), (13, 2)]


def test_conversation_nobody_can_take_does_not_block_later_ones() -> None:
    queue = [(10, "ja", None), (11, "en", None), (12, "ja", None), (13, "en", None)]

    assert plan_assignments(queue, [cand(1, "en")]) == [(11, 1), (13, 1)]


def test_preferred_agent_is_honoured_in_a_queue() -> None:
    queue = [(10, "en", 2), (11, "en", None)]

    assert plan_assignments(queue, [cand(1), cand(2, open_chats=3)]) == [(10, 2), (11, 1)]


def test_input_candidates_are_left_untouched() -> None:
    candidates = [cand(1, max_chats=2)]

    plan_assignments([(10, "en", None)], candidates)

    assert candidates == [cand(1, max_chats=2)]


def test_empty_queue_or_no_candidates_assigns_nothing() -> None:
    assert plan_assignments([], [cand(1)]) == []
    assert plan_assignments([(10, "en", None)], []) == []


# --- property ---------------------------------------------------------------------

LANGS = ("en", "ja")


@st.composite
def candidate_lists(draw: st.DrawFn) -> list[Candidate]:
    ids = draw(st.lists(st.integers(1, 50), unique=True, max_size=6))
    result = []
    for agent_id in ids:
        max_chats = draw(st.integers(1, 5))
        languages = tuple(draw(st.lists(st.sampled_from(LANGS), unique=True, max_size=2)))
        result.append(Candidate(agent_id, languages, draw(st.integers(0, max_chats)), max_chats))
    return result


@st.composite
def queues(draw: st.DrawFn) -> list[tuple[int, str, int | None]]:
    ids = draw(st.lists(st.integers(1000, 2000), unique=True, max_size=25))
    return [
        (
            conversation_id,
            draw(st.sampled_from((*LANGS, "fr"))),
            draw(st.none() | st.integers(1, 50)),
        )
        for conversation_id in ids
    ]


@hypothesis_settings(database=None, deadline=None)
@given(candidates=candidate_lists(), queue=queues())
def test_plan_never_overloads_mismatches_language_or_double_assigns(
    candidates: list[Candidate], queue: list[tuple[int, str, int | None]]
) -> None:
    result = plan_assignments(queue, candidates)

    by_id = {c.agent_id: c for c in candidates}
    locale_of = {conversation_id: locale for conversation_id, locale, _ in queue}
    assigned = Counter(agent_id for _, agent_id in result)

    for agent_id, count in assigned.items():
        assert by_id[agent_id].open_chats + count <= by_id[agent_id].max_chats
    for conversation_id, agent_id in result:
        assert locale_of[conversation_id] in by_id[agent_id].languages
    conversation_ids = [conversation_id for conversation_id, _ in result]
    assert len(conversation_ids) == len(set(conversation_ids))
    # Assignments follow queue order.
    order = [conversation_id for conversation_id, _, _ in queue]
    assert conversation_ids == [c for c in order if c in set(conversation_ids)]


@hypothesis_settings(database=None, deadline=None)
@given(candidates=candidate_lists(), queue=queues())
def test_plan_skips_a_conversation_only_when_nobody_could_take_it(
    candidates: list[Candidate], queue: list[tuple[int, str, int | None]]
) -> None:
    result = dict(plan_assignments(queue, candidates))

    load = {c.agent_id: c.open_chats for c in candidates}
    for conversation_id, locale, _preferred in queue:
        able = [
            c.agent_id
            for c in candidates
            if locale in c.languages and load[c.agent_id] < c.max_chats
        ]
        if conversation_id in result:
            assert result[conversation_id] in able
            load[result[conversation_id]] += 1
        else:
            assert able == []
