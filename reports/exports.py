"""The CSV files of the unit's numbers: the same rows the pages' tables show, one header line, UTF-8."""

import csv
import io

from django.http import HttpResponse

from reports import buckets
from reports.selectors import OUTCOME_SERIES


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _share(value) -> str:
    return "" if value is None else f"{value:.4f}"


def daily_rows(rows) -> tuple[list[str], list[list]]:
    header = ["day", *(key for key, _, _ in OUTCOME_SERIES), "total"]
    return header, [[row["day"].isoformat(), *(row[key] for key, _, _ in OUTCOME_SERIES), row["total"]]
                    for row in rows]


PLATFORM_HEADER = ["platform", "referrals", "withdrawn", "delivered", "acknowledged", "acknowledged_within_sla",
                   "acknowledged_within_sla_share", "removed", "removed_within_sla", "removed_within_sla_share",
                   "ack_median_minutes_at_most", "ack_p90_minutes_at_most", "removal_median_minutes_at_most",
                   "removal_p90_minutes_at_most", "removal_orders_delivered", "removal_orders_within_hour",
                   "removal_orders_within_hour_share", "verified_offline", "verified_offline_rate",
                   "offline_median_minutes_at_most"]


def platform_rows(rows) -> tuple[list[str], list[list]]:
    out = []
    for row in rows:
        out.append([
            row["platform"], row["total"], row["n_withdrawn"], row["delivered"], row["acknowledged"],
            row["ack_within_sla"], _share(row["ack_within_sla_share"]), row["n_removed"], row["removed_within_sla"],
            _share(row["removed_within_sla_share"]), buckets.bound_minutes(row["ack_median"]),
            buckets.bound_minutes(row["ack_p90"]), buckets.bound_minutes(row["removal_median"]),
            buckets.bound_minutes(row["removal_p90"]), row["orders_delivered"], row["orders_within_hour"],
            _share(row["orders_within_hour_share"]),
            row["verified_offline"], _share(row["verified_offline_rate"]), buckets.bound_minutes(row["offline_median"]),
        ])
    return PLATFORM_HEADER, out


def report_rows(report: dict) -> tuple[list[str], list[list]]:
    """The period report as (section, key, value) lines."""
    rows = [["period", "from", report["from"]], ["period", "to", report["to"]],
            ["totals", "items_logged", report["items_logged"]], ["totals", "referrals", report["referrals"]],
            ["totals", "withdrawn", report["withdrawn"]]]
    rows += [["outcome", status, count] for status, count in report["per_outcome"].items()]
    rows += [["instrument", row["instrument"], row["referrals"]] for row in report["per_instrument"]]
    rows += [["platform", row["platform"], row["referrals"]] for row in report["per_platform"]]
    rows += [["category", row["category"], row["referrals"]] for row in report["per_category"]]
    rows += [["group", row["group"], row["referrals"]] for row in report["per_group"]]
    rows += [["dsa_decision", row["decision"], row["referrals"]] for row in report["per_dsa_decision"]]
    rows += [["dsa_ground", row["ground"], row["referrals"]] for row in report["per_dsa_ground"]]
    for measure, times in report["times"].items():
        rows += [[f"time_to_{measure}", "count", times["count"]],
                 [f"time_to_{measure}", "median_minutes_at_most", times["median_minutes_at_most"]],
                 [f"time_to_{measure}", "p90_minutes_at_most", times["p90_minutes_at_most"]]]
    offline = report["verified_offline_rate"]
    rows += [["verified_offline", "delivered", report["delivered"]],
             ["verified_offline", "count", report["verified_offline"]],
             ["verified_offline", "rate", _share(offline)]]
    return ["section", "key", "value"], rows


OPERATION_HEADER = ["platform", "logged", "approved", "sent", "acknowledged", "removed", "withdrawn",
                    "verified_offline", "median_approval_to_removal_minutes"]


def operation_rows(board: dict) -> tuple[list[str], list[list]]:
    """The operation's board: a line per platform, then the total."""
    out = []
    for row in [*board["rows"], board["total"]]:
        offline = row["verified_offline"]
        out.append([row["platform"], row["logged"], row["approved"], row["sent"], row["acknowledged"], row["removed"],
                    row["withdrawn"], _share(offline),
                    "" if row["median_approval_to_removal_minutes"] is None
                    else row["median_approval_to_removal_minutes"]])
    return OPERATION_HEADER, out
