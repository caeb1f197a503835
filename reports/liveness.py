"""What the desk measured itself about content going offline, for the dashboard and the period report.

Not measured yet: the desk's own liveness checks (issue 11, "Liveness checks") are being built apart. Until they
land these answer None, and the pages say "not measured yet" rather than showing a number.
"""


def verified_offline_rate(*, platform_id=None, date_from=None, date_to=None, case_id=None, group_id=None,
                          instrument="") -> float | None:
    """The share (0–1) of delivered referrals the desk itself saw go offline; None while nothing is measured."""
    return None


def median_time_to_offline(*, platform_id=None, date_from=None, date_to=None, case_id=None, group_id=None,
                           instrument="") -> float | None:
    """Median seconds from receipt to the desk's first offline verdict; None while nothing is measured."""
    return None
