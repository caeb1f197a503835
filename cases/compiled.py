"""Queries of the list pages compiled once instead of on every request.

A page's queries are the same SQL from one request to the next but for a few integers (a case's id, the ids of a
page's items, a cursor), and Django compiles each queryset again every time, at more cost than PostgreSQL takes to
run it. A `CompiledQuery` builds its queryset once per shape with stand-ins for those integers (values no row has),
finds the stand-ins among the compiled query's parameters, and later puts the real integers in their places and
runs the SQL on the cursor, each column converted as the ORM converts it (its field's from_db_value).
"""

from threading import Lock

from django.db import connection

STAND_IN = -(10**15)  # the first stand-in; each next one is one less


class CompiledQuery:
    """`build(*args)` gives a queryset; each arg an int or a list of ints, which only ever reach the SQL as
    parameters. `rows(*args)` runs it: (column names, [tuples of converted values]); `instances` makes them
    model instances."""

    def __init__(self, build):
        self._build = build
        self._compiled: dict[tuple, tuple] = {}
        self._lock = Lock()

    def rows(self, *args) -> tuple[list[str], list[tuple]]:
        shape = tuple(len(arg) if isinstance(arg, list | tuple) else None for arg in args)
        compiled = self._compiled.get(shape)
        if compiled is None:
            compiled = self._compile(shape)
            with self._lock:
                self._compiled[shape] = compiled
        sql, slots, converters = compiled
        values = [v for arg in args for v in (arg if isinstance(arg, list | tuple) else [arg])]
        params = [values[x] if kind == "int" else str(values[x]) if kind == "str" else x for kind, x in slots]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            names = [column[0] for column in cursor.description]
            found = cursor.fetchall()
        if converters:
            found = [self._convert(row, converters) for row in found]
        return names, found

    def _compile(self, shape: tuple) -> tuple:
        stand_ins, args, n = {}, [], 0
        for length in shape:
            count = 1 if length is None else length
            values = [STAND_IN - n - i for i in range(count)]
            stand_ins.update({value: n + i for i, value in enumerate(values)})
            n += count
            args.append(values[0] if length is None else values)
        compiler = self._build(*args).query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        # A parameter is the place of a value (an int, or its text: an id compared with a text column) or a constant.
        as_text = {str(value): index for value, index in stand_ins.items()}
        slots = [("int", stand_ins[p]) if type(p) is int and p in stand_ins
                 else ("str", as_text[p]) if type(p) is str and p in as_text else ("constant", p) for p in params]
        if sorted(x for kind, x in slots if kind != "constant") != list(range(n)):
            raise AssertionError(f"a stand-in is missing from the query or there twice: {params}")
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        return sql, slots, compiler.get_converters(fields)

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
