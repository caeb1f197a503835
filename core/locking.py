"""The one order in which transactions take locks, so that no two of them can wait for each other.

Every transaction takes what it needs in this order, never a kind higher in the list after one lower down:

  1. cases, then items                 the subject of a workflow (triage, approval)
  2. contact points                    only to change one (disable after a 410, enable, re-drive's check)
  3. deliveries                        SKIP LOCKED where a busy row may be passed over (claims, open batches)
  4. referrals
  5. alerts

Audit events take no lock: a transaction inserts its events unsealed, and the sealer (audit.chain.seal, a
transaction of its own that writes nothing else) chains them after they commit.

and under these rules:

* Several rows of one kind are locked in one statement, in ascending id (`.order_by("pk")`).
* Row locks are FOR NO KEY UPDATE: `select_for_update(no_key=True)`. No workflow changes a primary key, and
  unlike FOR UPDATE this lock does not block the key-share lock a foreign-key check takes, so a locked contact
  point (delivery, item, ...) never holds up a transaction inserting rows that point at it.
* A query that joins locks its own rows only: `select_for_update(of=("self",))`. A delivery fetched with
  select_related must not lock the contact point and platform behind it.
* The circuit breaker's UPDATEs on the contact point (referral/outbox/pacing.py) and the dispatcher's release
  of a delivery run in autocommit: one row, one statement, no other lock held. They are never called inside a
  transaction. Nor is any network I/O (referral/outbox/dispatcher.py).

The transactions, in that order: approval (items; the open batch delivery, SKIP LOCKED), liaison status (the
referral), dispatcher claim (deliveries, SKIP LOCKED), dispatcher results (the contact point when a 410 disables
it; the deliveries; their referrals), re-drive (the contact point; the delivery; its referrals; its alerts).

A conflict that happens anyway (PostgreSQL's deadlock detector, a serialization failure) makes the workflow
function run again as a whole: core.transactions.retry_on_conflict.
"""
