"""Scheduled jobs: the table (:mod:`~kehu.core.jobs.tables`) and the runner
(:mod:`~kehu.core.jobs.runner`: leasing, retries, the registry, :class:`JobContext`)."""

from kehu.core.jobs.runner import (
    JOB_REGISTRY,
    Handler,
    JobContext,
    JobOutcome,
    JobRun,
    JobSpec,
    WorkerLoop,
    lease_due_job,
    register_job,
    run_due_jobs,
    run_worker,
    schedule,
    schedule_periodic,
)

__all__ = [
    "JOB_REGISTRY",
    "Handler",
    "JobContext",
    "JobOutcome",
    "JobRun",
    "JobSpec",
    "WorkerLoop",
    "lease_due_job",
    "register_job",
    "run_due_jobs",
    "run_worker",
    "schedule",
    "schedule_periodic",
]
