"""An exported sweep configuration checked by W&B's own sweep engine (the `sweeps`
package: its JSON Schema and its fill-and-validate step), when it is installed."""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import field
from typing import Any

from specc.spec.diagnostics import Collector
from specc.spec.records import record

#: Keys W&B's service takes that an older `sweeps` schema does not declare (`run_cap`
#: joined it in sweeps 0.3, which the dev extra cannot use: it pins numpy below 2).
NEWER_KEYS = ("run_cap",)


@record
class Checked:
    """What W&B's engine found (empty: it accepts the configuration)."""

    violations: list[str] = field(default_factory=list)
    #: Top-level keys left out of the check: the installed schema predates them.
    unchecked: list[str] = field(default_factory=list)


def sweeps_installed() -> bool:
    try:
        return importlib.util.find_spec("sweeps") is not None
    except (ImportError, ValueError):  # a finder refusing it, or a None in sys.modules
        return False


def for_engine(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` without the keys the installed engine's schema predates (W&B's service
    reads those, not the engine)."""
    from sweeps.config.schema import sweep_config_jsonschema

    known = sweep_config_jsonschema.get("properties", {})
    return {k: v for k, v in config.items() if k not in NEWER_KEYS or k in known}


def check_config(config: dict[str, Any]) -> Checked:
    """``config`` through W&B's sweep engine: its schema violations, then its
    fill-and-validate step (the one `wandb sweep` runs)."""
    with warnings.catch_warnings():  # sweeps' pydantic models warn on import
        warnings.simplefilter("ignore")
        import jsonschema
        import sweeps
        from sweeps.config import fill_validate_schema

    body = for_engine(config)
    out = Checked(unchecked=[k for k in config if k not in body])
    out.violations = list(sweeps.schema_violations_from_proposed_config(body))
    if not out.violations:
        try:
            fill_validate_schema(body)
        except (jsonschema.ValidationError, ValueError) as e:
            out.violations.append(str(e.args[0] if e.args else e))
    return out


def check(config: dict[str, Any], diags: Collector) -> bool:
    """X013 for each problem W&B's engine reports, X014 for what it could not check; True
    when the configuration passed (or could not be checked)."""
    if not sweeps_installed():
        diags.add("X014", "the sweep configuration was not checked against W&B's sweep "
                  "schema: the `sweeps` package is not installed", path=("hpo",),
                  on_key=True, hint="`pip install 'sweeps<0.3'` to check it here; `wandb "
                  "sweep` checks it on upload")
        return True
    found = check_config(config)
    for key in found.unchecked:
        diags.add("X014", f"`{key}` was not checked against W&B's sweep schema: the "
                  "installed `sweeps` package predates it", path=("hpo",), on_key=True,
                  hint="W&B's service takes it; `wandb sweep` checks it on upload")
    for message in found.violations:
        diags.add("X013", f"W&B's sweep engine rejects the exported configuration: {message}",
                  path=("hpo", "search_space"), on_key=True,
                  hint="this is a bug in specc's export: please report it with the spec")
    return not found.violations
