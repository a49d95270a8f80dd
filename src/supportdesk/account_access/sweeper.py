"""The background task that lapses grants on time: ``do_expire_grants`` every
``SUPPORTDESK_ACCESS_SWEEP_SECONDS``. Correctness never waits for it (minting,
introspection and decisions check expiry themselves); it makes the chat's
``access_expired`` / ``access_request_expired`` items and log entries appear on time."""

from __future__ import annotations

from supportdesk.account_access.actions import do_expire_grants
from supportdesk.core.periodic import PeriodicTask
from supportdesk.services import Services


def grant_sweeper(svc: Services) -> PeriodicTask:
    return PeriodicTask(
        "access-grant-sweeper",
        lambda: do_expire_grants(svc),
        lambda: svc.settings.access_sweep_seconds,
        run_at_start=True,
    )
