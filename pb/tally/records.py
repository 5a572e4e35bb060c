"""``dataclass`` and ``field`` for the engine's working records, without ``dataclasses``.

Why: ``pb tally`` on a small file should start about as fast as the interpreter, and
importing ``dataclasses`` (it pulls in ``inspect``, ``ast``, ``dis``, ``tokenize``) costs
more than a whole small MES tally (bench/README.md, "tally_processes.py"). The rules'
records (``rules.mes.MesRun``) are declared as dataclasses; this module gives them the
same declaration with what they use: annotated fields in order, plain defaults,
``field(default_factory=...)``, ``slots=True``, equality and ``repr`` over the fields.
Anything else (frozen, ordering, keyword-only fields, ...) is refused, not ignored.
The model's public classes are written out by hand instead (``pb.tally.model``).
"""

from __future__ import annotations

_MISSING = object()


class field:  # noqa: N801 - the name of the dataclasses function it stands for
    """A field whose default is made afresh for each object: ``field(default_factory=list)``."""

    __slots__ = ("default_factory",)

    def __init__(self, *, default_factory):
        self.default_factory = default_factory


def dataclass(cls=None, /, *, slots: bool = False):
    """The class with ``__init__``, ``__eq__`` and ``__repr__`` over its annotated fields
    (and ``__slots__`` with ``slots=True``), as ``dataclasses.dataclass`` would build them."""

    def build(cls):
        names = tuple(cls.__dict__.get("__annotations__", {}))
        defaults: dict[str, object] = {}
        for name in names:
            value = cls.__dict__.get(name, _MISSING)
            if value is not _MISSING:
                defaults[name] = value
            elif defaults:
                raise TypeError(f"non-default field {name!r} follows a default field")
        namespace = {key: value for key, value in cls.__dict__.items()
                     if key not in defaults and key not in ("__dict__", "__weakref__")}
        if slots:
            namespace["__slots__"] = names
        namespace["__init__"] = _init(cls.__qualname__, names, defaults)
        namespace["__eq__"] = _eq(names)
        namespace["__hash__"] = None  # mutable, unhashable: as a dataclass with eq=True
        namespace["__repr__"] = _repr(names)
        return type(cls)(cls.__name__, cls.__bases__, namespace)

    return build if cls is None else build(cls)


def _init(qualname: str, names: tuple[str, ...], defaults: dict[str, object]):
    def __init__(self, *args, **kwargs):
        if len(args) > len(names):
            raise TypeError(f"{qualname}() takes {len(names)} arguments, got {len(args)}")
        for name, value in zip(names, args):
            if name in kwargs:
                raise TypeError(f"{qualname}() got multiple values for argument {name!r}")
            setattr(self, name, value)
        for name in names[len(args):]:
            if name in kwargs:
                value = kwargs.pop(name)
            else:
                value = defaults.get(name, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{qualname}() missing argument {name!r}")
                if isinstance(value, field):
                    value = value.default_factory()
            setattr(self, name, value)
        if kwargs:
            raise TypeError(f"{qualname}() got unexpected argument(s) {', '.join(sorted(kwargs))}")

    __init__.__qualname__ = f"{qualname}.__init__"
    return __init__


def _eq(names: tuple[str, ...]):
    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in names)

    return __eq__


def _repr(names: tuple[str, ...]):
    def __repr__(self):
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({values})"

    return __repr__
