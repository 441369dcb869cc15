"""Versioned code lists (dispute types, case sources, outcomes, routes) with crosswalks.

The lists are data (``code_lists.toml``); a deployment adds local codes under ``[codes.<list>]`` in
its settings but may not redefine an existing code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["Code", "CodeLists", "load_code_lists"]

_FILE = Path(__file__).with_name("code_lists.toml")
LISTS = ("dispute_type", "case_source", "outcome", "route", "risk_flag")


@dataclass(frozen=True)
class Code:
    code: str
    zh: str
    en: str
    parent: str = ""
    note: str = ""
    report: str = ""

    def label(self, locale: str = "zh_CN") -> str:
        return self.en if locale.startswith("en") else self.zh


@dataclass(frozen=True)
class CodeLists:
    version: str
    lists: dict[str, dict[str, Code]]
    crosswalks: dict[str, dict[str, dict[str, str]]]

    def get(self, list_name: str, code: str) -> Code | None:
        return self.lists[list_name].get(code)

    def has(self, list_name: str, code: str) -> bool:
        return code in self.lists[list_name]

    def choices(self, list_name: str, locale: str = "zh_CN") -> list[tuple[str, str]]:
        return [(c.code, c.label(locale)) for c in self.lists[list_name].values()]

    def label(self, list_name: str, code: str, locale: str = "zh_CN") -> str:
        c = self.get(list_name, code)
        return c.label(locale) if c else code

    def crosswalk(self, scheme: str, list_name: str, code: str) -> str | None:
        """Map an older/local scheme's code to this version's code."""
        return self.crosswalks.get(scheme, {}).get(list_name, {}).get(code)


def _parse(doc: dict[str, Any], local: dict[str, Any] | None) -> CodeLists:
    lists: dict[str, dict[str, Code]] = {}
    for name in LISTS:
        entries = {k: Code(code=k, **v) for k, v in doc.get(name, {}).items()}
        for k, v in (local or {}).get(name, {}).items():
            if k in entries:
                raise ValueError(f"local code {name}.{k} redefines an existing code")
            entries[k] = Code(code=k, **v)
        lists[name] = entries
    return CodeLists(version=doc["version"], lists=lists, crosswalks=doc.get("crosswalk", {}))


@cache
def _builtin() -> dict[str, Any]:
    return tomllib.loads(_FILE.read_text(encoding="utf-8"))


def load_code_lists(local: dict[str, Any] | None = None) -> CodeLists:
    """The built-in code lists, plus a deployment's local additions (``settings.raw["codes"]``)."""
    return _parse(_builtin(), local)
