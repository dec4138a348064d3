"""Map TRL fields (TrainingArguments, ModelConfig, ScriptArguments, the trainer configs)
onto specc keys, for the TRL CLI and seed 002 layouts.

Each field is type-checked against the installed TRL's declaration (S002), then becomes
a specc key at the user's line; a field specc cannot honour is a warning naming it
(R036), unless it holds TRL's default (nothing to honour). Fields whose values decide
others (batch sizes, precision, rewards) have a rule each below.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from specc.spec.catalog.optim import HF_OPTIM_NAMES
from specc.spec.catalog.trl_fields import REWARD_FUNCS
from specc.spec.diagnostics import Collector
from specc.spec.dialects import trl_table as T
from specc.spec.dialects.rewrite import Tree
from specc.spec.facts import ROLLOUTS
from specc.spec.locations import Path
from specc.spec.records import record

_OPTIMS = {hf: qual for qual, hf in reversed(HF_OPTIM_NAMES.items())}
_DTYPES = {"bfloat16": "bfloat16", "bf16": "bfloat16", "float16": "float16",
           "fp16": "float16", "half": "float16", "float32": "float32", "fp32": "float32",
           "float": "float32"}
_DPO_LOSSES = {"sigmoid": "dpo", "ipo": "ipo", "hinge": "hinge", "robust": "robust"}


@record
class Field:
    name: str
    value: Any
    #: Where the user wrote it (None: filled from TRL's default).
    old: Path | None


@record
class Mapper:
    """One file's TRL fields -> specc keys in ``tree``."""

    tree: Tree
    diags: Collector
    algo: str | None
    mapped: list[str] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    world: int = 1
    #: Spec paths whose problem the rewrite already reported (the schema stays quiet).
    reported: set[Path] = field(default_factory=set)

    def require_model(self, head: Path, how: str) -> None:
        """One S004 in the user's terms when no model is named."""
        path: Path = ("policy", "model_name")
        if self.tree.has(path) or path in self.reported:
            return
        self.diags.add("S004", "no model: the config names none", path=head, on_key=True,
                       hint=how)
        self.reported.add(path)

    def run(self, given: dict[str, Field]) -> None:
        fields = dict(given)
        if self.algo is not None:
            table = T.fields(self.algo)
            for name in T.FILLED:
                if name not in fields and name in table and table[name][1] is not None:
                    fields[name] = Field(name, table[name][1], None)
                    self.filled.append(f"{name} {table[name][1]!r}")
        typed = {n: f for n, f in fields.items() if self._typed(f)}
        for name in set(fields) - set(typed):  # reported: the schema says nothing more
            path = T.path_of(name, self.algo)
            if path is not None and "{" not in path:
                self.reported.add(tuple(path.split(".")))
        fields = typed
        for f in fields.values():
            self._one(f, fields)
        self._batch(fields)
        self._precision(fields)
        self._rewards(fields)

    # --- one field -----------------------------------------------------------------------

    def _typed(self, f: Field) -> bool:
        algos = [self.algo] if self.algo else list(T.owners(f.name))
        types = {T.fields(a)[f.name][0] for a in algos if f.name in T.fields(a)}
        if not types or any(T.type_ok(f.value, t) for t in types):
            return True
        self.diags.add("S002", f"`{f.name}` must be {' or '.join(sorted(types))} (TRL's "
                       f"declaration), got {f.value!r}", path=f.old or (),
                       hint="write a value of that type")
        return False

    def put(self, path: str, value: Any, f: Field, *, subtree: bool = False) -> None:
        new: Path = tuple(path.split("."))
        self.tree.put(new, value, f.old, subtree=subtree)
        if f.old is not None:
            self.mapped.append(f"{f.name} -> {path}")

    def _one(self, f: Field, fields: dict[str, Field]) -> None:
        if f.name in T.SPECIAL:
            self._special(f, fields)
            return
        path = T.path_of(f.name, self.algo)
        per_algo = any(f.name in paths for paths in T.ALGO_PATHS.values())
        if (path is not None and "{algo}" in path) or (self.algo is None and per_algo):
            self.pending.append(f.name)
            return
        if path is None:
            self.ignore(f)
            return
        value = f.value
        if f.name == "num_train_epochs" and isinstance(value, float) and value.is_integer():
            value = int(value)
        if f.name == "warmup_steps" and isinstance(value, float) and 0 < value < 1:
            path = "policy.scheduler.warmup_ratio"  # transformers 5: below 1 is a ratio
        if f.name == "max_steps" and isinstance(value, int) and value <= 0:
            return  # TRL's "not set": the epochs decide
        if f.name == "lora_target_modules" and value == ["all-linear"]:
            value = "all-linear"
        self.put(path, value, f, subtree=isinstance(value, list | dict))

    def ignore(self, f: Field, why: str = "") -> None:
        """A TRL field specc does not act on: quiet at TRL's default, else R036."""
        if f.old is None:
            return
        default = self._default(f.name)
        if f.value == default and not why:
            self.ignored.append(f.name)
            return
        reason = why or "specc has no key for it and its trainer call does not pass it " \
            f"(TRL's default is {default!r})"
        self.diags.add("R036", f"TRL field `{f.name}` is not honoured: {reason}",
                       path=f.old, on_key=True,
                       hint="remove it, or run `trl` itself when you need it")

    def _default(self, name: str) -> Any:
        algos = [self.algo] if self.algo else T.owners(name)
        for a in algos:
            if name in T.fields(a):
                return T.fields(a)[name][1]
        return None

    # --- rules ---------------------------------------------------------------------------

    def _special(self, f: Field, fields: dict[str, Field]) -> None:
        n, v = f.name, f.value
        if n in ("gradient_accumulation_steps", "generation_batch_size",
                 "steps_per_generation", "bf16", "fp16", "dtype", "reward_funcs",
                 "reward_weights"):
            return  # read together below
        if n in ("adam_beta1", "adam_beta2"):
            if n == "adam_beta1" or "adam_beta1" not in fields:
                b1 = fields.get("adam_beta1", Field(n, self._default("adam_beta1"), None)).value
                b2 = fields.get("adam_beta2", Field(n, self._default("adam_beta2"), None)).value
                self.put("policy.optimizer.kwargs.betas", [b1, b2], f)
        elif n == "optim":
            qual = _OPTIMS.get(str(v))
            if v == "adamw_torch_fused":
                self.put("policy.optimizer.name", "torch.optim.AdamW", f)
                self.tree.put(("policy", "optimizer", "kwargs", "fused"), True, f.old)
            elif qual is not None:
                self.put("policy.optimizer.name", qual, f)
            else:
                self.ignore(f, f"specc's optimizers are named by class; `{v}` has no entry "
                            "in its allow-list")
        elif n == "lr_scheduler_kwargs" and isinstance(v, dict):
            for key in ("min_lr_rate", "num_cycles"):
                if key in v:
                    self.tree.put(("policy", "scheduler", key), v[key],
                                  (*f.old, key) if f.old else None)
            rest = sorted(set(v) - {"min_lr_rate", "num_cycles"})
            if rest:
                self.ignore(f, "specc's short scheduler takes only `min_lr_rate` and "
                            "`num_cycles`; not " + ", ".join(f"`{k}`" for k in rest))
            elif f.old is not None:
                self.mapped.append("lr_scheduler_kwargs -> policy.scheduler")
        elif n == "eval_strategy":
            self._eval(f, fields)
        elif n in ("eval_steps", "dataset_test_split"):
            if "eval_strategy" not in fields:
                self.ignore(f, "TRL evaluates only with `eval_strategy: steps`")
        elif n == "use_vllm":
            if v is True:
                self.put("policy.generation.backend", "vllm", f)
        elif n == "scale_rewards":
            if self.algo is None:
                self.pending.append(n)
            else:
                self._scale(f)
        elif n in ("loss_type", "loss_weights"):
            if self.algo is None:
                self.pending.append(n)
            else:
                self._loss(f, fields)
        elif n == "report_to":
            if v not in ("none", None, [], ["none"]):
                self.ignore(f, "specc's tracking is the `logger` block "
                            "(`logger: {wandb_enabled: true}`)")
        elif n == "lora_task_type":
            if v != "CAUSAL_LM":
                self.ignore(f, "specc trains causal LMs")

    def _eval(self, f: Field, fields: dict[str, Field]) -> None:
        if f.value == "no":
            return
        if f.value != "steps":
            self.ignore(f, "specc evaluates every `val_period` steps (`eval_strategy: steps`)")
            return
        steps = fields.get("eval_steps")
        logging = fields.get("logging_steps")
        period = steps.value if steps else logging.value if logging else 500
        if isinstance(period, float) and period.is_integer():
            period = int(period)
        src = steps or f
        if self.algo is None:
            self.pending.append("eval_steps")
            return
        self.put(f"{self.algo}.val_period", period, src)
        split = fields.get("dataset_test_split")
        name = fields.get("dataset_name")
        if name is not None:
            self.tree.put(("data", "validation", "path"), name.value, name.old)
            value = split.value if split else self._default("dataset_test_split")
            self.tree.put(("data", "validation", "split"), value, split.old if split else
                          f.old)
            self.mapped.append("dataset_test_split -> data.validation.split")

    def _scale(self, f: Field) -> None:
        v = f.value
        if self.algo != "grpo":
            self.ignore(f)
        elif v in ("group", True):
            self.put("grpo.normalize_rewards", True, f)
        elif v in ("none", False):
            self.put("grpo.normalize_rewards", False, f)
        else:
            self.ignore(f, f"specc normalises rewards per group or not at all, not `{v}`")

    def _loss(self, f: Field, fields: dict[str, Field]) -> None:
        if f.name == "loss_weights":
            if "loss_type" not in fields:
                self.ignore(f)
            return
        v = f.value
        if self.algo == "grpo" and v in ("grpo", "bnpo", "dr_grpo", "dapo"):
            self.put("grpo.loss_type", v, f)
            return
        if self.algo != "dpo":
            self.ignore(f, f"specc's {self.algo} block has no loss choice" if v != self._default(
                "loss_type") else "")
            return
        losses = v if isinstance(v, list) else [v]
        weights_f = fields.get("loss_weights")
        weights = weights_f.value if weights_f and isinstance(weights_f.value, list) else \
            [1.0] * len(losses)
        prefs = [x for x in losses if x in _DPO_LOSSES]
        if len(prefs) != 1 or any(x not in (*_DPO_LOSSES, "sft") for x in losses) or \
                len(weights) != len(losses):
            self.ignore(f, "specc's DPO takes one of sigmoid/ipo/hinge/robust, optionally "
                        "with `sft`")
            return
        self.put("dpo.preference_loss", _DPO_LOSSES[prefs[0]], f)
        by = dict(zip(losses, weights, strict=True))
        if by[prefs[0]] != 1.0:
            self.put("dpo.preference_loss_weight", by[prefs[0]], weights_f or f)
        if "sft" in by:
            self.put("dpo.sft_loss_weight", by["sft"], weights_f or f)

    def _batch(self, fields: dict[str, Field]) -> None:
        micro = fields.get("per_device_train_batch_size")
        ga = fields.get("gradient_accumulation_steps")
        if micro is None or ga is None:
            return
        m, g = micro.value, ga.value
        if not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in (m, g)):
            return  # the schema reports the micro batch; TRL's type check the rest
        src = ga if ga.old is not None else micro
        self.tree.put(("policy", "train_global_batch_size"), m * g * self.world, src.old)
        if ga.old is not None:
            self.mapped.append("gradient_accumulation_steps -> policy.train_global_batch_size "
                               f"({m} x {g}" + (f" x {self.world} GPUs" if self.world > 1
                                                else "") + ")")
        if self.algo not in ROLLOUTS:  # TRL's generation-batch fields
            for n in ("generation_batch_size", "steps_per_generation"):
                if n in fields:
                    self.ignore(fields[n])
            return
        self._generation(fields, m, g)

    def _generation(self, fields: dict[str, Field], m: int, g: int) -> None:
        gens_f = fields.get("num_generations")
        gens = gens_f.value if gens_f else None
        gbs_f = fields.get("generation_batch_size")
        spg_f = fields.get("steps_per_generation")
        per_step = m * self.world
        if gbs_f is not None and spg_f is not None:
            self.diags.add("S006", "`generation_batch_size` and `steps_per_generation` can not "
                           "both be set (TRL)", path=spg_f.old or (), on_key=True,
                           hint="keep one of them")
            return
        src = gbs_f or spg_f
        if gbs_f is not None:
            gbs = gbs_f.value
            if not isinstance(gbs, int) or gbs % per_step:
                self.diags.add("S006", f"generation_batch_size {gbs} must be divisible by the "
                               f"per-step batch {m} x {self.world} GPUs (TRL)",
                               path=gbs_f.old or (), hint=f"use a multiple of {per_step}")
                return
        else:
            spg = spg_f.value if spg_f else g
            gbs = per_step * spg if isinstance(spg, int) else None
        if not isinstance(gens, int) or gbs is None or gens < 1:
            return
        if gbs % gens:
            where = src or gens_f
            self.diags.add("S006", f"generation batch {gbs} must be divisible by "
                           f"num_generations {gens} (TRL)", path=(where.old if where and
                                                                   where.old else ()),
                           hint=f"use a generation batch that is a multiple of {gens}")
            return
        self.tree.put((self.algo or "grpo", "num_prompts_per_step"), gbs // gens,
                      src.old if src else (gens_f.old if gens_f else None))
        if src is not None and src.old is not None:
            self.mapped.append(f"{src.name} -> {self.algo}.num_prompts_per_step "
                               f"({gbs} / {gens} generations)")

    def _precision(self, fields: dict[str, Field]) -> None:
        dtype = fields.get("dtype")
        if dtype is not None and dtype.value in _DTYPES:
            self.put("policy.precision", _DTYPES[dtype.value], dtype)
        elif dtype is not None and dtype.old is not None and dtype.value not in ("auto", None):
            self.ignore(dtype, f"specc's precision is bfloat16, float16 or float32, "
                        f"not `{dtype.value}`")
        else:
            bf16, fp16 = fields.get("bf16"), fields.get("fp16")
            if fp16 is not None and fp16.value is True:
                self.put("policy.precision", "float16", fp16)
            elif bf16 is not None and bf16.value is True:
                self.put("policy.precision", "bfloat16", bf16)
            elif bf16 is not None and bf16.value is False:
                self.put("policy.precision", "float32", bf16)

    def _rewards(self, fields: dict[str, Field]) -> None:
        funcs = fields.get("reward_funcs")
        weights = fields.get("reward_weights")
        if funcs is None:
            if weights is not None:
                self.ignore(weights, "no `reward_funcs` to weight")
            return
        names = funcs.value if isinstance(funcs.value, list) else [funcs.value]
        ws = weights.value if weights and isinstance(weights.value, list) else None
        if ws is not None and len(ws) != len(names):
            self.diags.add("S006", f"{len(ws)} reward_weights for {len(names)} reward_funcs "
                           "(TRL)", path=weights.old if weights and weights.old else (),
                           hint="give one weight per reward function")
            ws = None
        out: list[tuple[dict[str, Any], Path | None, Path | None]] = []
        for i, name in enumerate(names):
            old = (*funcs.old, i) if funcs.old and isinstance(funcs.value, list) else funcs.old
            spec_name = T.reward_name(str(name))
            if spec_name is None:
                self.diags.add("N018", f"reward function `{name}` is not one TRL knows by "
                               "name nor a dotted import path", path=old or (),
                               hint="TRL's: " + ", ".join(f"`{r}`" for r in REWARD_FUNCS)
                               + "; or `my_module.my_reward`, or `specc.rewards.exact_match`")
                continue
            entry: dict[str, Any] = {"name": spec_name}
            if ws is not None:
                entry["weight"] = ws[i]
            out.append((entry, old, (*weights.old, i) if ws is not None and weights and
                        weights.old else None))
        if out:
            self.tree.put(("reward", "functions"), [e for e, _, _ in out], funcs.old)
            for i, (_, old, wold) in enumerate(out):
                self.tree.locate(("reward", "functions", i), old)
                self.tree.locate(("reward", "functions", i, "name"), old)
                if wold is not None:
                    self.tree.locate(("reward", "functions", i, "weight"), wold)
            self.mapped.append("reward_funcs -> reward.functions")
