"""The one order in which transactions take locks, so that no two of them can wait for each other.

Every transaction takes what it needs in this order, never a kind higher in the list after one lower down:

  1. cases, then items                 the subject of a workflow (triage, approval)
  2. contact points                    only to change one (disable after a 410, enable, re-drive's check)
  3. deliveries                        SKIP LOCKED where a busy row may be passed over (claims, open batches)
  4. referrals
  5. alerts
  6. the audit chain's advisory lock   last: taken by audit.chain when the transaction writes its events

and under these rules:

* Several rows of one kind are locked in one statement, in ascending id (`.order_by("pk")`).
* Row locks are FOR NO KEY UPDATE: `select_for_update(no_key=True)`. No workflow changes a primary key, and
  unlike FOR UPDATE this lock does not block the key-share lock a foreign-key check takes, so a locked contact
  point (delivery, item, ...) never holds up a transaction inserting rows that point at it.
* A query that joins locks its own rows only: `select_for_update(of=("self",))`. A delivery fetched with
  select_related must not lock the contact point and platform behind it.
* Foreign-key checks run before the audit lock. Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, so
  the key-share locks on parent rows (the platform and contact point of a new referral and delivery, the item,
  the user) would otherwise be taken at COMMIT, after the audit lock, by a transaction that everyone else is
  queued behind. audit.chain calls `check_constraints_now()` before it takes the lock; the holder of the audit
  lock then never waits for a row.
* The circuit breaker's UPDATEs on the contact point (referral/outbox/pacing.py) and the dispatcher's release
  of a delivery run in autocommit: one row, one statement, no other lock held. They are never called inside a
  transaction. Nor is any network I/O (referral/outbox/dispatcher.py).

The transactions, in that order: approval (items; the open batch delivery, SKIP LOCKED; the audit lock),
liaison status (the referral; the audit lock), dispatcher claim (deliveries, SKIP LOCKED), dispatcher results
(the contact point when a 410 disables it; the deliveries; their referrals; the audit lock), re-drive (the
contact point; the delivery; its referrals; its alerts; the audit lock).

A conflict that happens anyway (PostgreSQL's deadlock detector, a serialization failure) makes the workflow
function run again as a whole: core.transactions.retry_on_conflict.
"""

from django.db import connection


def check_constraints_now() -> None:
    """Run the transaction's deferred foreign-key checks now, and the later ones as each statement ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
