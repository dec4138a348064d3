"""Settings that have no effect (warnings), and NeMo RL blocks carried through (info)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from specc.spec.diagnostics import Collector, dotted
from specc.spec.facts import GENERATES
from specc.spec.models.logger import CARRIED_LOGGER_KEYS
from specc.spec.models.policy import NEMO_POLICY_BLOCKS, NEMO_TOP_BLOCKS
from specc.spec.rules.context import Context

if TYPE_CHECKING:
    from specc.spec.locations import Path
    from specc.spec.nemo.walk import Walked

_LORA_KEYS = ("r", "alpha", "dropout", "target_modules", "bias", "use_rslora",
              "modules_to_save")


def check(ctx: Context) -> None:
    if ctx.point:
        return
    spec = ctx.spec
    lora = spec.policy.lora
    if not lora.enabled:
        set_keys = [k for k in _LORA_KEYS if ctx.written(("policy", "lora", k))]
        if set_keys:
            ctx.diags.add("W001", "LoRA is disabled, so " + ", ".join(f"`{k}`" for k in set_keys)
                          + (" has" if len(set_keys) == 1 else " have") + " no effect",
                          path=("policy", "lora", set_keys[0]), on_key=True,
                          hint="set `policy.lora.enabled: true`, or remove the LoRA settings")
    opt = ctx.data.get("policy", {}).get("optimizer", 0) if isinstance(
        ctx.data.get("policy"), dict) else 0
    megatron = spec.policy.megatron_cfg
    if opt is None and not (isinstance(megatron, dict) and megatron.get("enabled") is True):
        ctx.diags.add("S006", "`policy.optimizer` is null, but only a Megatron policy "
                      "(`megatron_cfg.enabled: true`) takes its optimizer from "
                      "`megatron_cfg.optimizer`", path=("policy", "optimizer"),
                      hint="give `policy.optimizer: {name: torch.optim.AdamW, kwargs: {lr: "
                      "...}}`, or enable `policy.megatron_cfg`")
    algo = ctx.algorithm
    if algo and algo not in GENERATES and ctx.written(("policy", "generation")) and not (
            spec.hpo and any(p.startswith("policy.generation") for p in spec.hpo.search_space)):
        ctx.diags.add("W003", f"`policy.generation` has no effect: `{algo}` does not generate",
                      path=("policy", "generation"), on_key=True,
                      hint="remove it, or pick an algorithm that generates (grpo, rloo)")
    if spec.hpo is not None and not spec.hpo.search_space and spec.hpo.preset is None:
        ctx.diags.add("W004", "`hpo` has no `search_space` and no `preset`: every trial is the "
                      "same run", path=("hpo",), on_key=True,
                      hint="add `search_space:` entries, or `preset: dpo`")
    if spec.hpo is not None and spec.hpo.evaluation.cross_validation is not None \
            and spec.data.validation is not None:
        k = spec.hpo.evaluation.cross_validation.n_folds
        ctx.diags.add("W005", f"`data.validation` is not used: with {k}-fold cross-validation "
                      "each fold holds out part of `data.train` and trials are scored on it",
                      path=("data", "validation"), on_key=True,
                      hint="remove `data.validation`, or `hpo.evaluation.cross_validation` to "
                      "score trials on it")
    carried = [f"policy.{k}" for k in NEMO_POLICY_BLOCKS if getattr(spec.policy, k) is not None]
    carried += [k for k in NEMO_TOP_BLOCKS if getattr(spec, k) is not None]
    if spec.logger is not None:
        carried += ["logger." + ".".join(k) for k in CARRIED_LOGGER_KEYS
                    if ctx.written(("logger", *k)) and _asks(spec.logger, k)]
    if ctx.nemo is not None:
        nemo_notes(ctx.nemo, ctx.diags, [tuple(c.split(".")) for c in carried])
    elif carried:
        _carried([tuple(c.split(".")) for c in carried], ctx.diags)


_SHOWN = 10


def _carried(paths: list[Path], diags: Collector, stamp: str = "") -> None:
    shown = [f"`{dotted(p)}`" for p in paths[:_SHOWN]]
    more = f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else ""
    declared = f"; {stamp} declares them" if stamp else ""
    diags.add("R030", f"carried through unmodelled (specc does not act on them{declared}): "
              + ", ".join(shown) + more, path=paths[0], on_key=True,
              hint="NeMo RL settings are kept as written and type-checked against NeMo RL's "
              "declaration; specc's own keys drive its runs")


def nemo_notes(nemo: Walked, diags: Collector, carried: list[Path] | None = None) -> None:
    """Once per file: the keys NeMo RL's declaration accepted (R030), the values read from
    the environment that validate cannot check (R032), and a NeMo RL algorithm specc only
    validates (R033)."""
    from specc.spec.nemo.catalog import catalog

    stamp = catalog().stamp
    paths = list(carried or [])
    seen = set(paths)
    for p in nemo.carried:  # keep a path unless one already kept is a prefix of it
        if not any(p[:k] in seen for k in range(len(p) + 1)):
            paths.append(p)
            seen.add(p)
    if paths:
        _carried(paths, diags, stamp)
    if nemo.env:
        diags.add("R032", "`${oc.env:...}` is read from the environment when NeMo RL runs; "
                  "validate does not read it, so checks that need "
                  + ", ".join(f"`{dotted(p)}`" for p in nemo.env[:_SHOWN])
                  + (f" and {len(nemo.env) - _SHOWN} more" if len(nemo.env) > _SHOWN else "")
                  + " are skipped", path=nemo.env[0],
                  hint="pass the value with `-o key=value` to check it")
    if nemo.nemo_only:
        diags.add("R033", f"a NeMo RL `{nemo.master}` config: validated against {stamp}'s "
                  "schema (and its batch arithmetic); specc does not train it, so `specc plan` "
                  "and `specc run` refuse it", path=(nemo.master_key,), on_key=True,
                  hint="train it with NeMo RL; specc trains sft, dpo, grpo, ppo and its own "
                  "algorithms")


def _asks(block: object, path: tuple[str, ...]) -> bool:
    """Whether a carried setting asks for something (a switch set to false does not)."""
    value = block
    for part in path:
        value = getattr(value, part, None)
    return value not in (None, False, 0)
