"""Query expressions that read the same on PostgreSQL (tests, production) and on the embedded SQLite (`make run`)."""

from django.db.models import F, Lookup
from django.db.models.fields.json import DataContains


class JSONArrayContains(Lookup):
    """`qs.filter(JSONArrayContains("categories", "threat"))`: the JSON array in the column holds that string.

    PostgreSQL (and any backend with JSON containment): exactly `categories__contains=["threat"]`, i.e.
    `categories @> '["threat"]'`, the form a GIN index on the column serves. SQLite has no containment operator
    (Django refuses `__contains` on its JSONField): an EXISTS over the array's elements with json_each().
    """

    lookup_name = "json_array_contains"
    prepare_rhs = False  # the element as it is, not the column's JSON encoding of it

    def __init__(self, lhs, rhs):
        super().__init__(F(lhs) if isinstance(lhs, str) else lhs, rhs)

    def as_sql(self, compiler, connection):
        return compiler.compile(DataContains(self.lhs, [self.rhs]))

    def as_sqlite(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        # lhs is the compiled column and rhs a placeholder: the element itself is a parameter.
        sql = f"EXISTS (SELECT 1 FROM json_each({lhs}) AS element WHERE element.value = {rhs})"  # noqa: S608
        return sql, (*lhs_params, *rhs_params)
