"""The TCO Art 2(7) categories as columns of DailyReferralStat (an item may have several: each is counted)."""

from cases.models import Category

CATEGORY_COLUMNS = tuple(f"cat_{value}" for value in Category.values)
CATEGORY_LABELS = dict(zip(CATEGORY_COLUMNS, Category.labels, strict=True))
