"""docs/reference.md: every block and key of a spec, generated from its JSON Schema.

The schema (`specc schema`, from the pydantic models and their field docstrings) is walked
from the top: each object becomes a section named by its dotted path, with one table row
per key (type, default, allowed values, description). A block reached from several paths
is described once, where it first appears. `${...}` interpolation, allowed almost
everywhere, is said once at the top instead of in every row.
"""

from __future__ import annotations

import json
import re
from dataclasses import field
from typing import Any

from specc.docgen.codes import GENERATED
from specc.spec.records import record

Schema = dict[str, Any]
INTERPOLATION = "#/$defs/Interpolation"
SCALARS = ("boolean", "integer", "number", "string")


@record(slots=True)
class Section:
    path: str
    ref: str  # "$defs" name, "" for the top level
    also: list[str] = field(default_factory=list)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _alternatives(node: Schema) -> list[Schema]:
    """Flatten anyOf/oneOf, dropping the interpolation alternative."""
    if node.get("$ref") == INTERPOLATION:
        return []
    for key in ("anyOf", "oneOf"):
        if key in node:
            out: list[Schema] = []
            for alt in node[key]:
                out += _alternatives(alt)
            return out
    return [node]


def _ref_name(node: Schema) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


class Reference:
    """Walks the schema once, then renders the sections."""

    def __init__(self, schema: Schema, required: dict[str, set[str]]) -> None:
        self.schema = schema
        self.required = required
        self.defs: dict[str, Schema] = schema.get("$defs", {})
        self.sections: list[Section] = []
        self.where: dict[str, Section] = {}  # def name -> the section describing it
        self._walk("", "", schema)

    # --- walking -----------------------------------------------------------------------------
    def _walk(self, path: str, ref: str, obj: Schema) -> None:
        section = Section(path, ref)
        self.sections.append(section)
        if ref:
            self.where[ref] = section
        for key, prop in obj.get("properties", {}).items():
            child = f"{path}.{key}" if path else key
            for sub_path, name in self._refs(child, prop):
                if name in self.where:
                    known = self.where[name]
                    if sub_path != known.path and sub_path not in known.also:
                        known.also.append(sub_path)
                elif name in self.defs and "properties" in self.defs[name]:
                    self._walk(sub_path, name, self.defs[name])

    def _refs(self, path: str, node: Schema) -> list[tuple[str, str]]:
        """Object definitions a key leads to, with the path each appears at."""
        out: list[tuple[str, str]] = []
        for alt in _alternatives(node):
            name = _ref_name(alt)
            if name:
                out.append((path, name))
            elif alt.get("type") == "array" and isinstance(alt.get("items"), dict):
                out += self._refs(f"{path}[]", alt["items"])
            elif alt.get("type") == "object" and isinstance(alt.get("additionalProperties"),
                                                            dict):
                out += self._refs(f"{path}.<key>", alt["additionalProperties"])
        return out

    # --- rendering ---------------------------------------------------------------------------
    def heading(self, section: Section) -> str:
        if not section.path:
            return "Top level"
        same = [s for s in self.sections if s.path == section.path]
        return section.path + (f" ({section.ref})" if len(same) > 1 else "")

    def link(self, name: str) -> str:
        section = self.where.get(name)
        if section is None:
            return name
        return f"[{self.heading(section)}](#{slug(self.heading(section))})"

    def type_of(self, node: Schema) -> str:
        names: list[str] = []
        for alt in _alternatives(node):
            name = _ref_name(alt)
            if name:
                names.append(self.link(name))
                continue
            kind = alt.get("type")
            if kind == "array":
                items = alt.get("items")
                inner = self.type_of(items) if isinstance(items, dict) else ""
                names.append(f"list of {_group(inner)}" if inner else "list")
            elif kind == "object":
                extra = alt.get("additionalProperties")
                inner = self.type_of(extra) if isinstance(extra, dict) else ""
                names.append(f"mapping of names to {_group(inner)}" if inner else "mapping")
            elif isinstance(kind, str):
                names.append(kind)
        if all(s in names for s in SCALARS):
            names = ["scalar" if n == SCALARS[0] else n for n in names if n not in SCALARS[1:]]
        unique = list(dict.fromkeys(names))
        if "null" in unique and len(unique) > 1:
            unique.remove("null")
            unique.append("null")
        return " or ".join(_group(n) for n in unique) if len(unique) > 1 else "".join(unique)

    @staticmethod
    def allowed(node: Schema) -> str:
        parts: list[str] = []
        for alt in _alternatives(node):
            if "enum" in alt:
                parts.append(", ".join(f"`{json.dumps(v)}`" for v in alt["enum"]))
            if "const" in alt:
                parts.append(f"`{json.dumps(alt['const'])}`")
            low = ("[", alt["minimum"]) if "minimum" in alt else (
                ("(", alt["exclusiveMinimum"]) if "exclusiveMinimum" in alt else None)
            high = ("]", alt["maximum"]) if "maximum" in alt else (
                (")", alt["exclusiveMaximum"]) if "exclusiveMaximum" in alt else None)
            if low and high:
                parts.append(f"{low[0]}{low[1]}, {high[1]}{high[0]}")
            elif low:
                parts.append(f"{'≥' if low[0] == '[' else '>'} {low[1]}")
            elif high:
                parts.append(f"{'≤' if high[0] == ']' else '<'} {high[1]}")
            if "minItems" in alt:
                n = alt["minItems"]
                parts.append(f"at least {n} item{'s' if n != 1 else ''}")
            if "pattern" in alt:
                parts.append(f"matches `{alt['pattern']}`")
        return "; ".join(dict.fromkeys(parts))

    @staticmethod
    def default(node: Schema, required: bool) -> str:
        if required:
            return "required"
        if "default" not in node:
            return ""
        return f"`{json.dumps(node['default'])}`"

    def table(self, ref: str, obj: Schema) -> list[str]:
        required = self.required.get(ref, set())
        rows = ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]
        for key, prop in obj.get("properties", {}).items():
            desc = " ".join(str(prop.get("description", "")).split())
            cells = [f"`{key}`", self.type_of(prop), self.default(prop, key in required),
                     self.allowed(prop), desc]
            rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        return rows

    def render(self) -> str:
        out = [GENERATED, "", "# Spec reference", "",
               "Every block and key of a specc experiment spec, generated from its JSON Schema "
               "([`spec.schema.json`](spec.schema.json), also printed by `specc schema`). "
               "Unknown keys are errors ([S001](codes/S001.md)); wrong types "
               "([S002](codes/S002.md)), out-of-range values ([S003](codes/S003.md)) and "
               "values outside the allowed choices ([S005](codes/S005.md)) too.", "",
               "Almost any value may instead be a `${path.to.key}` or `${resolver:args}` "
               "interpolation, resolved before checking; the tables list the types after "
               "resolution. *required* keys must be set once the `extends` chain is merged "
               "(a parent may set them); a blank default means the value is derived from "
               "other keys or left unset, as its description says.", "", "## Contents", ""]
        for s in self.sections:
            depth = s.path.count(".") if s.path else 0
            out.append(f"{'  ' * depth}- [{self.heading(s)}](#{slug(self.heading(s))})")
        for s in self.sections:
            obj = self.defs[s.ref] if s.ref else self.schema
            level = 2 if not s.path else min(2 + s.path.count("."), 4)
            out += ["", f"{'#' * level} {self.heading(s)}", ""]
            desc = " ".join(str(obj.get("description", "")).split())
            if desc:
                out += [desc, ""]
            if s.also:
                out += ["Also at: " + ", ".join(f"`{p}`" for p in s.also) + ".", ""]
            out += self.table(s.ref, obj)
        return "\n".join(out) + "\n"


def _group(type_text: str) -> str:
    """Parenthesise an alternative that is itself a choice: `list of (a or b)`."""
    return f"({type_text})" if " or " in type_text else type_text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def reference(schema: Schema, required: dict[str, set[str]] | None = None) -> str:
    """The Markdown reference of a spec schema. `required` names each block's required
    keys by `$defs` name ("" for the top level): the editor schema leaves them out, since a
    single file may take them from its `extends` parent."""
    return Reference(schema, required or {}).render()
