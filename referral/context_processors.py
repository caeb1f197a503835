"""What base.html shows on every page: the supervisor's open alerts, and how many manual tasks are waiting.

Evaluated lazily, when the template first reads it: a supervisor's page costs two more queries (alerts, manual
tasks), an administrator's one, and everyone else's none.
"""

from functools import cached_property

from django.db import connection
from django.db.models import Count, Window

from alerts.models import Alert
from core.compiled import CompiledQuery
from core.roles import ALERT_HANDLERS, SUPERVISORS
from referral.models import Delivery, DeliveryStatus

BANNER_SIZE = 3
# Their SQL compiled once (core/compiled.py): the ORM took longer to build each than the database to run it.
# One query: the latest few, each row carrying the count of all unresolved alerts (counted before LIMIT).
_ALERTS = CompiledQuery(lambda: Alert.objects.filter(resolved_at__isnull=True)
                        .only("id", "kind", "message", "created_at")
                        .annotate(unresolved_total=Window(Count("id"))).order_by("-id")[:BANNER_SIZE])
_ATTNAMES = {field.column: field.attname for field in Alert._meta.concrete_fields}
_MANUAL_TASKS = CompiledQuery(lambda: Delivery.objects.filter(status=DeliveryStatus.MANUAL))


class DeskStatus:
    def __init__(self, role: str):
        self.role = role

    @cached_property
    def _alerts(self) -> list[Alert]:
        if self.role not in ALERT_HANDLERS:
            return []
        names, found = _ALERTS.rows()
        attnames = [_ATTNAMES[name] for name in names[:-1]]
        alerts = []
        for row in found:
            alert = Alert.from_db(connection.alias, attnames, row[:-1])
            alert.unresolved_total = row[-1]
            alerts.append(alert)
        return alerts

    @cached_property
    def alert_count(self) -> int:
        return self._alerts[0].unresolved_total if self._alerts else 0

    @cached_property
    def latest_alerts(self) -> list[Alert]:
        return self._alerts

    @cached_property
    def manual_task_count(self) -> int | None:
        """Supervisors only: analysts' pages stay free of extra queries (their nav link carries no number)."""
        if self.role not in SUPERVISORS:
            return None
        return _MANUAL_TASKS.count()


def desk_status(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.role not in ALERT_HANDLERS:
        return {}
    return {"desk": DeskStatus(user.role)}
