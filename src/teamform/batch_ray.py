"""The ``ray`` engine of :func:`teamform.batch.form_many` (``pip install teamform[ray]``).

Each job is a Ray task asking for as many CPUs as it has CP-SAT threads, so
Ray's scheduler, not teamform, keeps a node's cores from being oversubscribed.
Jobs carry the bytes of their files and return the teams and result as text,
so the cluster's nodes need teamform installed but no shared file system.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from teamform.errors import InputError

if TYPE_CHECKING:
    from teamform.batch import Outcome, Payload


def run_on_ray(
    payloads: list[Payload],
    address: str | None,
    run_payload: Callable[[Payload], Outcome],
    failed_outcome: Callable[[Payload, str], Outcome],
) -> Iterator[Outcome]:
    """Run the jobs as Ray tasks; yield each outcome as soon as it is ready.

    Uses the Ray instance this process is already connected to; otherwise
    connects to ``address`` (or to ``RAY_ADDRESS``, or starts a local
    instance when neither is set) and disconnects at the end. ``run_payload``
    runs a job on a node; ``failed_outcome`` is the answer of a job whose task
    failed (both from :mod:`teamform.batch`, which calls this).
    """
    try:
        import ray
    except ImportError:
        raise InputError(
            "the ray engine needs Ray: pip install 'teamform[ray]'", column="--engine"
        ) from None
    connected_here = not ray.is_initialized()
    if connected_here:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise InputError(
                f"cannot connect to the Ray cluster at {address or 'RAY_ADDRESS'}: {exc}",
                column="--address",
            ) from None
    try:
        task = ray.remote(run_payload)
        pending: dict[Any, Payload] = {
            task.options(num_cpus=max(1, int(p.options.get("workers", 1)))).remote(p): p
            for p in payloads
        }
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                p = pending.pop(ref)
                try:
                    yield ray.get(ref)
                except Exception as exc:  # the task or its worker failed
                    yield failed_outcome(p, f"ray task failed: {type(exc).__name__}: {exc}")
    finally:
        if connected_here:
            ray.shutdown()
