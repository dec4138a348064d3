"""Settings that have no effect (warnings), and NeMo RL blocks carried through (info)."""

from __future__ import annotations

from specc.spec.models.algorithms import GENERATES
from specc.spec.models.logger import CARRIED_LOGGER_KEYS
from specc.spec.models.policy import NEMO_POLICY_BLOCKS
from specc.spec.rules.context import Context

_NEMO_TOP = ("checkpointing", "env")
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
    carried += [k for k in _NEMO_TOP if getattr(spec, k) is not None]
    if spec.logger is not None:
        carried += ["logger." + ".".join(k) for k in CARRIED_LOGGER_KEYS
                    if ctx.written(("logger", *k)) and _asks(spec.logger, k)]
    if spec.cluster is not None and spec.cluster.model_extra:
        carried.append("cluster")
    if carried:
        first = tuple(carried[0].split("."))
        ctx.diags.add("R030", "carried through unmodelled (specc does not act on them): "
                      + ", ".join(f"`{c}`" for c in carried), path=first, on_key=True,
                      hint="NeMo RL settings are kept as written; specc's own keys drive its "
                      "runs")


def _asks(block: object, path: tuple[str, ...]) -> bool:
    """Whether a carried setting asks for something (a switch set to false does not)."""
    value = block
    for part in path:
        value = getattr(value, part, None)
    return value not in (None, False, 0)
