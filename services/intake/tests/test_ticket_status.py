"""The status agents and customers see: derived from the job's LATEST state (by when each event
occurred, whatever order they arrive in), never the furthest step ever reached. Pure domain."""
from datetime import datetime, timedelta, timezone

import pytest

from services.intake.domain import model

T0 = datetime(2026, 11, 22, 1, 30, tzinfo=timezone.utc)


def happened(*types: str) -> list[tuple[datetime, str]]:
    """``(occurred_at, type)`` pairs, one minute apart, in the order given."""
    return [(T0 + timedelta(minutes=i), t) for i, t in enumerate(types)]


def arriving_shuffled(events):
    """The same events delivered in another order (reversed): arrival must not matter."""
    return list(reversed(events))


JOB = ("ticket_opened", "engineer_assigned", "job_accepted", "appointment_set",
       "engineer_en_route", "engineer_checked_in", "job_diagnosed", "quote_issued",
       "job_completed")


def test_a_new_ticket_is_open_and_events_that_are_not_states_change_nothing():
    assert model.status_of("open", happened("ticket_opened")) == "open"
    assert model.status_of("open", happened("ticket_opened", "parts_consumed",
                                            "customer_contacted", "sla_at_risk")) == "open"
    assert model.status_of("open", happened(*JOB)) == "completed"
    assert model.status_of("open", happened(*JOB, "parts_consumed")) == "completed"


def test_a_declined_job_that_nobody_else_can_take_shows_escalated_not_assigned():
    events = happened("ticket_opened", "engineer_assigned", "job_declined", "assignment_failed")
    assert model.status_of("open", events) == "escalated"


def test_a_declined_job_waits_for_an_engineer_until_it_is_reassigned():
    declined = happened("ticket_opened", "engineer_assigned", "job_declined")
    assert model.status_of("open", declined) == "open"
    assert model.status_of("open", happened("ticket_opened", "engineer_assigned",
                                            "job_declined", "engineer_assigned")) == "assigned"


def test_a_manual_reassignment_from_en_route_shows_assigned():
    events = happened("ticket_opened", "engineer_assigned", "job_accepted", "engineer_en_route",
                      "engineer_assigned")
    assert model.status_of("open", events) == "assigned"


def test_an_escalated_ticket_may_be_resolved_remotely():
    events = happened("ticket_opened", "engineer_assigned", "job_declined", "assignment_failed")
    model.check_resolve(model.status_of("open", events))


def test_the_latest_event_by_occurrence_wins_whatever_the_arrival_order():
    events = happened("ticket_opened", "engineer_assigned", "job_declined", "assignment_failed")
    assert model.status_of("open", arriving_shuffled(events)) == "escalated"
    events = happened(*JOB)
    assert model.status_of("open", arriving_shuffled(events)) == "completed"
    # a late-arriving earlier step does not move the job back
    on_site = happened("ticket_opened", "engineer_assigned", "engineer_checked_in")
    assert model.status_of("open", [on_site[2], on_site[0], on_site[1]]) == "on_site"


def test_events_that_occurred_at_the_same_moment_keep_their_arrival_order():
    at = T0 + timedelta(minutes=5)
    events = [(T0, "engineer_assigned"), (at, "job_declined"), (at, "assignment_failed")]
    assert model.status_of("open", events) == "escalated"


def test_a_rejected_sign_off_reopens_the_work_until_it_is_signed_off():
    assert model.status_of("open", happened(*JOB, "job_rework")) == "rework"
    assert model.status_of("open", happened(*JOB, "job_rework", "engineer_checked_in")) == "on_site"
    assert model.status_of("open", happened(*JOB, "job_rework", "job_completed",
                                            "job_closed")) == "closed"


def test_a_closed_job_stays_closed():
    assert model.status_of("open", happened(*JOB, "job_closed", "survey_issued")) == "closed"
    assert model.status_of("open", happened(*JOB, "job_closed", "engineer_assigned")) == "closed"
    # the survey is issued when the job is closed: it shows closed even before job_closed arrives
    assert model.status_of("open", happened(*JOB, "survey_issued")) == "closed"


def test_intake_states_win_over_the_work_status():
    assert model.status_of("cancelled", happened("engineer_assigned")) == "cancelled"
    assert model.status_of("resolved", happened("ticket_opened")) == "resolved"
    assert model.status_of("linked", happened("ticket_opened")) == "linked"
    assert model.status_of("linked", happened("engineer_assigned")) == "assigned"


@pytest.mark.parametrize("types,allowed", [
    (("ticket_opened",), True),
    (("ticket_opened", "engineer_assigned", "job_declined", "assignment_failed"), True),
    (("ticket_opened", "engineer_assigned", "job_declined"), True),
    (("ticket_opened", "engineer_assigned"), False),
    (("ticket_opened", "engineer_assigned", "job_accepted"), False),
])
def test_only_a_ticket_nobody_has_taken_can_be_resolved_remotely(types, allowed):
    status = model.status_of("open", happened(*types))
    if allowed:
        model.check_resolve(status)
    else:
        with pytest.raises(model.TransitionError):
            model.check_resolve(status)
