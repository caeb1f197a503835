"""Two login-lockout counts (django-axes): one user name from one address, and one user name from any address.

AXES_LOCKOUT_PARAMETERS names both; axes compares one number with AXES_FAILURE_LIMIT, so the count across addresses
is scaled to reach that limit exactly when it reaches its own, higher AXES_USERNAME_FAILURE_LIMIT. Rotating
addresses against one name is counted; someone sharing a proxy's address with a supervisor locks that pair for the
cool-off only, and failures during a lockout do not extend it (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT).
"""

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum


class DeskLockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        counts = [attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
                  for attempts in self.get_user_attempts(request, credentials)]
        per_address, per_name = counts[0], (counts[1] if len(counts) > 1 else 0)
        return max(per_address, per_name * settings.AXES_FAILURE_LIMIT // settings.AXES_USERNAME_FAILURE_LIMIT)
