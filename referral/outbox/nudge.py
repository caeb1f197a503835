"""The dispatcher's task name: actions nudge it after commit (core.tasks.send_task_on_commit), by name."""

DISPATCH_TASK = "referral.dispatch_due"
