"""Queries compiled once instead of on every request (the list pages, the header, the per-request middleware).

A page's queries are the same SQL from one request to the next but for a few integers (a case's id, the ids of a
page's items, a cursor), and Django compiles each queryset again every time, at more cost than PostgreSQL takes to
run it. A `CompiledQuery` builds its queryset once per shape with stand-ins for those integers (values no row has),
finds the stand-ins among the compiled query's parameters, and later puts the real integers in their places and
runs the SQL on the cursor, each column converted as the ORM converts it (its field's from_db_value).
"""

from contextlib import suppress
from threading import Lock

from django.db import connection

# The first stand-in; each next one is one less. Negative (no row has such an id) and within a 32-bit integer
# field's range (the ORM finds no row for a value out of its field's range, and compiles no SQL for it).
STAND_IN = -2_000_000_000


class _Caught(Exception):
    """A statement caught before it reached the database (CompiledQuery._compile_count)."""


class CompiledQuery:
    """`build(*args)` gives a queryset; each arg an int or a list of ints, which only ever reach the SQL as
    parameters. `rows(*args)` runs it: (column names, [tuples of converted values]); `instances` makes them
    model instances."""

    def __init__(self, build):
        self._build = build
        self._compiled: dict[tuple, tuple] = {}
        self._lock = Lock()

    def rows(self, *args) -> tuple[list[str], list[tuple]]:
        sql, slots, converters = self._compiled_for(args, self._compile)
        with connection.cursor() as cursor:
            cursor.execute(sql, self._params(slots, args))
            names = [column[0] for column in cursor.description]
            found = cursor.fetchall()
        if converters:
            found = [self._convert(row, converters) for row in found]
        return names, found

    def count(self, *args) -> int:
        """`build(*args).count()`: the SQL Django runs for it (a COUNT, over a subquery when sliced), compiled once."""
        sql, slots, _ = self._compiled_for(args, self._compile_count)
        with connection.cursor() as cursor:
            cursor.execute(sql, self._params(slots, args))
            return cursor.fetchone()[0]

    def _compiled_for(self, args: tuple, compile_shape) -> tuple:
        shape = (compile_shape.__name__, *(len(arg) if isinstance(arg, list | tuple) else None for arg in args))
        compiled = self._compiled.get(shape)
        if compiled is None:
            compiled = compile_shape(shape[1:])
            with self._lock:
                self._compiled[shape] = compiled
        return compiled

    @staticmethod
    def _params(slots: list, args: tuple) -> list:
        values = [v for arg in args for v in (arg if isinstance(arg, list | tuple) else [arg])]
        return [values[x] if kind == "int" else str(values[x]) if kind == "str" else x for kind, x in slots]

    @staticmethod
    def _stand_ins(shape: tuple) -> tuple[list, dict, int]:
        stand_ins, args, n = {}, [], 0
        for length in shape:
            count = 1 if length is None else length
            values = [STAND_IN - n - i for i in range(count)]
            stand_ins.update({value: n + i for i, value in enumerate(values)})
            n += count
            args.append(values[0] if length is None else values)
        return args, stand_ins, n

    @staticmethod
    def _slots(params, stand_ins: dict, n: int) -> list:
        # A parameter is the place of a value (an int, or its text: an id compared with a text column) or a constant.
        as_text = {str(value): index for value, index in stand_ins.items()}
        slots = [("int", stand_ins[p]) if type(p) is int and p in stand_ins
                 else ("str", as_text[p]) if type(p) is str and p in as_text else ("constant", p) for p in params]
        if sorted(x for kind, x in slots if kind != "constant") != list(range(n)):
            raise AssertionError(f"a stand-in is missing from the query or there twice: {params}")
        return slots

    def _compile(self, shape: tuple) -> tuple:
        args, stand_ins, n = self._stand_ins(shape)
        compiler = self._build(*args).query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        return sql, self._slots(params, stand_ins, n), compiler.get_converters(fields)

    def _compile_count(self, shape: tuple) -> tuple:
        """The statement `.count()` sends to the database, caught on its way there (and not run)."""
        args, stand_ins, n = self._stand_ins(shape)
        caught = []

        def catch(execute, sql, params, many, context):
            caught.append((sql, params))
            raise _Caught

        logged = len(connection.queries_log)
        with connection.execute_wrapper(catch), suppress(_Caught):
            self._build(*args).count()
        if connection.queries_logged and len(connection.queries_log) > logged:
            connection.queries_log.pop()  # DEBUG's log of queries (and the tests' counts) shows only what ran
        [(sql, params)] = caught
        return sql, self._slots(params, stand_ins, n), None

    def instances(self, model, *args) -> list:
        """The rows as `model` instances (a queryset of whole rows of it), any annotation an attribute."""
        names, found = self.rows(*args)
        attnames = [field.attname for field in model._meta.concrete_fields]
        count = len(attnames)
        if names[:count] != [field.column for field in model._meta.concrete_fields]:
            raise AssertionError(f"not whole rows of {model.__name__}: {names}")
        objects = []
        for row in found:
            instance = model.from_db(connection.alias, attnames, row[:count])
            for name, value in zip(names[count:], row[count:], strict=True):
                setattr(instance, name, value)
            objects.append(instance)
        return objects

    @staticmethod
    def _convert(row: tuple, converters: dict) -> tuple:
        values = list(row)
        for position, (functions, expression) in converters.items():
            for function in functions:
                values[position] = function(values[position], expression, connection)
        return tuple(values)
