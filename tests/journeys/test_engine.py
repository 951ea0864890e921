import datetime

import pytest

from bot.journeys.engine import (
    BACK, CHOICE_PREFIX, CLOSED, INVALID, NEXT, RESUME, STOP,
    Catalogue, JourneyDefinitionError, JourneyState, default_catalogue,
)

TODAY = datetime.date(2026, 11, 25)
JOURNEY_IDS = {"open_account", "receive_benefit", "pay_bill", "vneid_portal"}


@pytest.fixture(scope="module")
def catalogue():
    return default_catalogue()


def walk(catalogue, journey_id, commands):
    state = catalogue.start(journey_id, TODAY)
    outcomes = []
    for command in commands:
        outcome = catalogue.apply(state, command)
        outcomes.append(outcome)
        state = CLOSED if outcome.completed else outcome.state
    return state, outcomes


def all_paths(journey):
    """Every path from the first step to an end, as (step ids, commands)."""
    paths = []

    def go(step_id, steps, commands):
        step = journey.step(step_id)
        if step.is_last:
            paths.append((steps + [step_id], commands))
            return
        if step.choices:
            for choice in step.choices:
                go(choice.next, steps + [step_id], commands + [CHOICE_PREFIX + choice.value])
        else:
            go(step.next, steps + [step_id], commands + [NEXT])

    go(journey.first, [], [])
    return paths


def test_the_four_journeys_exist(catalogue):
    assert set(catalogue.journeys) == JOURNEY_IDS
    for journey in catalogue.journeys.values():
        assert len(journey.button) <= 30


@pytest.mark.parametrize("journey_id", sorted(JOURNEY_IDS))
def test_every_path_completes_and_numbers_its_steps(catalogue, journey_id):
    journey = catalogue.get(journey_id)
    paths = all_paths(journey)
    assert len(paths) >= 2, "every journey branches"
    for steps, commands in paths:
        assert 3 <= len(steps) <= 10
        state = catalogue.start(journey_id, TODAY)
        for index, command in enumerate(commands):
            i, n = journey.position(state.step, list(state.history))
            assert i == index + 1
            outcome = catalogue.apply(state, command)
            state = outcome.state
        assert outcome.completed
        assert state.step == steps[-1]
        # the last step's position is i/i
        i, n = journey.position(state.step, list(state.history))
        assert i == n == len(steps)


def test_open_account_branches(catalogue):
    journey = catalogue.get("open_account")
    no_card, _ = walk(catalogue, "open_account", [CHOICE_PREFIX + "no"])
    assert no_card.step == journey.step(journey.first).choice_for("no").next
    state, outcomes = walk(catalogue, "open_account", [CHOICE_PREFIX + "yes", CHOICE_PREFIX + "yes"])
    assert state.step == "choose_bank"
    outcome = catalogue.apply(state, CHOICE_PREFIX + "Agribank")
    assert outcome.slots == {"bank": "Agribank"}
    skipped = catalogue.apply(state, CHOICE_PREFIX + "skip")
    assert skipped.slots == {}


def test_next_on_a_question_asks_to_choose(catalogue):
    state = catalogue.start("open_account", TODAY)
    outcome = catalogue.apply(state, NEXT)
    assert outcome.state == state
    assert outcome.notes == ["choose_first"]


def test_back_returns_to_the_previous_step_and_not_before_the_first(catalogue):
    state = catalogue.start("pay_bill", TODAY)
    first = catalogue.apply(state, BACK)
    assert first.state == state and first.notes == ["first_step"]
    moved = catalogue.apply(state, CHOICE_PREFIX + catalogue.get("pay_bill").step(state.step).choices[0].value)
    back = catalogue.apply(moved.state, BACK)
    assert back.state.step == state.step and back.state.history == ()


def test_stop_pauses_and_keeps_the_place(catalogue):
    state = catalogue.start("vneid_portal", TODAY)
    outcome = catalogue.apply(state, STOP)
    assert outcome.paused and not outcome.completed
    assert outcome.state == state


def test_invalid_input_keeps_the_step_and_says_what_is_expected(catalogue):
    state = catalogue.start("receive_benefit", TODAY)
    outcome = catalogue.apply(state, INVALID)
    assert outcome.state == state and outcome.notes == ["expect_choice"]
    info = catalogue.apply(catalogue.start("open_account", TODAY), CHOICE_PREFIX + "no").state
    assert catalogue.apply(info, INVALID).notes == ["expect_next"]
    assert catalogue.apply(state, CHOICE_PREFIX + "nonsense").notes == ["expect_choice"]


def test_yes_on_an_information_step_moves_on(catalogue):
    info = catalogue.apply(catalogue.start("open_account", TODAY), CHOICE_PREFIX + "no").state
    assert catalogue.apply(info, CHOICE_PREFIX + "yes").state.step != info.step


def test_resume_and_closed_state(catalogue):
    state = catalogue.start("pay_bill", TODAY)
    assert catalogue.apply(state, RESUME).state == state
    closed = catalogue.apply(CLOSED, NEXT)
    assert closed.completed and closed.notes == ["none_open"]


def test_state_round_trips_through_slots():
    state = JourneyState("pay_bill", "find_code", ("which_bill",), "2026-11-25")
    slots = state.as_slots()
    assert slots["journey_open"] is True
    assert JourneyState.from_slots(slots) == state
    assert CLOSED.as_slots()["journey_open"] is False


def test_typed_choice_matching(catalogue):
    step = catalogue.get("pay_bill").step(catalogue.get("pay_bill").first)
    titles = {c.title: c.value for c in step.choices}
    first_title = next(iter(titles))
    assert step.match_typed(first_title.lower()).value == titles[first_title]
    assert step.match_typed("") is None


@pytest.mark.parametrize(
    "broken, message",
    [
        ({"j": {"title": "t", "first": "a", "steps": {"a": {"text": "x", "next": "zz"}}}}, "unknown next"),
        ({"j": {"title": "t", "first": "b", "steps": {"a": {"text": "x", "next": None}}}}, "first step"),
        (
            {"j": {"title": "t", "first": "a", "steps": {"a": {"text": "x", "next": "b"}, "b": {"text": "y", "next": "a"}}}},
            "cycle",
        ),
        (
            {"j": {"title": "t", "first": "a", "steps": {"a": {"text": "x", "next": None}, "b": {"text": "y", "next": None}}}},
            "unreachable",
        ),
    ],
)
def test_broken_definitions_are_refused(tmp_path, broken, message):
    import yaml

    path = tmp_path / "journeys.yml"
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(JourneyDefinitionError, match=message):
        Catalogue.from_file(path)


def test_typed_answer_prefers_the_exact_and_then_the_longest_title(catalogue):
    step = catalogue.get("open_account").step("has_smartphone")  # "Có" / "Không có"
    assert step.match_typed("khong co").value == "no"
    assert step.match_typed("co").value == "yes"
    assert step.match_typed("nha toi khong co may do").value == "no"
