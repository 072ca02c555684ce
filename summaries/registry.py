"""The kinds of export a user can start. Each builds one workbook from the job's region (and year)."""
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ExportKind:
    code: str
    label: str
    needs_year: bool
    build: Callable  # build(job, workbook, progress) -> None; progress(fraction 0..1, stage text)


EXPORT_KINDS: dict[str, ExportKind] = {}


def register(code: str, label: str, *, needs_year: bool):
    def decorator(build):
        EXPORT_KINDS[code] = ExportKind(code, label, needs_year, build)
        return build

    return decorator


def kind_choices():
    from . import builders  # noqa: F401  (registers the kinds)

    return [(kind.code, kind.label) for kind in EXPORT_KINDS.values()]


def get_kind(code: str) -> ExportKind | None:
    from . import builders  # noqa: F401

    return EXPORT_KINDS.get(code)


def kinds_needing_year() -> list[str]:
    from . import builders  # noqa: F401

    return [kind.code for kind in EXPORT_KINDS.values() if kind.needs_year]
