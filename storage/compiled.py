"""Queries whose SQL is built once and kept: peewee builds a query's SQL in Python every time it runs it, which on
the hot paths (a customer's BAL, a contractor's /job) cost more than running it (docs/benchmarks.md)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property

from peewee import CharField, Field, ForeignKeyField, IntegerField, Model, Query, TextField

from storage.models import db


class Compiled:
    """A peewee query built into SQL once per kind of database and shape of its values, then run with new values.

    Peewee builds a query's SQL in Python every time it runs it: 0.1-0.2 ms for each of a view's queries, where
    SQLite runs one in about 0.02 ms, so on a burst's hot paths (BAL, /job) building SQL was most of the time
    (docs/benchmarks.md). `build(*values)` makes the query from `values`: strings, integers, aware datetimes, None,
    or lists of them. It is built once with stand-ins in their place (None stays None: it may change the SQL), which
    show where each value lands among the SQL's parameters; after that only the parameters change. A select's rows
    come as the driver gives them (`tuples`), or, for a select of whole models joined by their foreign keys, as the
    models iterating the query gives (`models`: each column converted by its field, the joined models set on the
    first), without peewee working out again for every run which column is whose (a third of a BAL's use case
    under the profiler went to that). A write is `execute`d.
    """

    # no id, no text, no moment of ours looks like these
    _INT, _TEXT, _MOMENT = -7_000_000_000_000_000_000, "\x00stand-in {}\x00", datetime(1, 1, 1, tzinfo=timezone.utc)

    def __init__(self, build: Callable[..., Query]):
        self._build = build
        self._texts: dict[tuple, _Text] = {}

    def tuples(self, *values) -> list[tuple]:
        text, params = self._text(values)
        return db.execute_sql(text.sql, params).fetchall()

    def models(self, *values) -> list[Model]:
        text, params = self._text(values)
        return [_made(text.layout, row) for row in db.execute_sql(text.sql, params).fetchall()]

    def execute(self, *values) -> None:
        text, params = self._text(values)
        db.execute_sql(text.sql, params)

    def _text(self, values: tuple) -> tuple["_Text", list]:
        """The compiled text for values of this shape, and its parameters for these values."""
        flat = [v for value in values for v in (value if isinstance(value, list) else (value,))]
        shape = (type(db.obj), tuple(len(v) if isinstance(v, list) else v is None for v in values))
        if shape not in self._texts:  # two threads may both build it: the same text either way
            self._texts[shape] = self._compile(values, flat)
        text = self._texts[shape]
        return text, [_stored(flat[p.index]) if isinstance(p, _At) else p for p in text.template]

    def _compile(self, values: tuple, flat: list) -> "_Text":
        stand_ins = iter([self._stand_in(i, v) for i, v in enumerate(flat)])
        query = self._build(*[[next(stand_ins) for _ in v] if isinstance(v, list) else next(stand_ins)
                              for v in values])
        sql, params = query.sql()
        where = {_stored(self._stand_in(i, v)): _At(i) for i, v in enumerate(flat) if v is not None}
        template = [where.get(p, p) if isinstance(p, (int, str, datetime)) else p for p in params]
        if {p for p in template if isinstance(p, _At)} != set(where.values()):
            raise ValueError(f"a value of {self._build} is not one parameter of its SQL: {sql}")
        return _Text(sql, template, query)

    def _stand_in(self, i: int, value):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str, datetime)):
            raise TypeError(f"Compiled takes strings, integers and moments, not {value!r}")
        if isinstance(value, datetime):
            return self._MOMENT + timedelta(microseconds=i)
        return self._INT - i if isinstance(value, int) else self._TEXT.format(i)


def _stored(value):
    """A value as a parameter: a moment as storage.models.UtcDateTimeField stores it, naive UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime; Paystage keeps every moment timezone-aware")
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


@dataclass(frozen=True)
class _At:
    index: int  # the value at this place among the flattened values


@dataclass
class _Text:
    """A query compiled: its SQL, its parameters (constants, and _At where a value goes), the query it came from."""

    sql: str
    template: list
    query: Query

    @cached_property
    def layout(self) -> list[tuple[type[Model], ForeignKeyField | None, list[tuple[str, Callable | None]]]]:
        """Whose each column of a select of whole models is: (the model, the first model's foreign key to it, its
        fields' names and converters), in the order of the columns."""
        root, parts = self.query.model, {}
        for column in self.query.selected_columns:
            parts.setdefault(column.model, []).append(column)
        return [(model, None if model is root else next(
            key for key in root._meta.fields.values() if isinstance(key, ForeignKeyField) and key.rel_model is model),
            [(field.name, column_converter(field)) for field in fields]) for model, fields in parts.items()]


def column_converter(field: Field) -> Callable | None:
    """How a column of `field` comes back as the model holds it; None where the drivers give it so already (text as
    str, integers and ids as int), which on a BAL spares most of the calls."""
    if isinstance(field, (CharField, TextField, IntegerField, ForeignKeyField)):
        return None
    return field.python_value


def _made(layout: list, row: tuple) -> Model:
    """One row as the models iterating its query gives: each column converted by its field, the joined models set
    on the first by its foreign keys, nothing dirty (they are as stored)."""
    made, at = [], 0
    for model, key, fields in layout:
        instance = model(**{name: value if convert is None else convert(value)
                            for (name, convert), value in zip(fields, row[at:at + len(fields)])})
        at += len(fields)
        if key is not None:
            setattr(made[0], key.name, instance)
        made.append(instance)
    for instance in made:
        instance._dirty.clear()
    return made[0]
