"""Seed 002's GRPO config layout read as a specc spec.

    mode: local            # or cluster
    output_dir: ./grpo_results_local
    training: {num_train_epochs, per_device_train_batch_size, gradient_accumulation_steps,
               learning_rate, warmup_steps, ...}     # transformers TrainingArguments names
    grpo: {generation_batch_size, num_generations, beta, ...}   # TRL GRPOConfig names

The seed passes the model on the command line (`--model gpt2`); here that is `model:`
(or `-o policy.model_name=...`). `lora:` takes PEFT's names (`r`, `lora_alpha`, ...).
specc's own keys (`grpo.num_prompts_per_step`, `data`, `reward`, `hardware`, `hpo`, ...)
pass as written. Recognised by a `training:` mapping or `mode: local|cluster` at the top
level, without a `policy` block.
"""

from __future__ import annotations

from typing import Any

from specc.spec.catalog.trl_fields import CONFIGS, TRAINING_ARGUMENTS
from specc.spec.diagnostics import Collector
from specc.spec.dialects import trl_table as T
from specc.spec.dialects.rewrite import Tree
from specc.spec.dialects.trl_cli import ORDER, hpo_block, world_of
from specc.spec.dialects.trl_map import Field, Mapper
from specc.spec.locations import Locations, Path

MODES = ("local", "cluster")
#: Top-level keys of the layout, beside specc's own root keys.
_TOP = ("mode", "output_dir", "training", "grpo", "model", "model_name", "model_name_or_path",
        "dataset", "dataset_name", "lora")
#: `lora:` keys -> ModelConfig fields.
_LORA = {"r": "lora_r", "lora_r": "lora_r", "alpha": "lora_alpha", "lora_alpha": "lora_alpha",
         "dropout": "lora_dropout", "lora_dropout": "lora_dropout",
         "target_modules": "lora_target_modules", "lora_target_modules": "lora_target_modules",
         "modules_to_save": "lora_modules_to_save", "use_rslora": "use_rslora",
         "enabled": "use_peft", "use_peft": "use_peft"}


def detect(data: dict[str, Any]) -> bool:
    """Whether ``data`` is in seed 002's layout."""
    if "policy" in data:
        return False
    return isinstance(data.get("training"), dict) or data.get("mode") in MODES


def normalise(data: dict[str, Any], locs: Locations, diags: Collector, file: str,
              algorithm: str | None = None) -> set[Path]:
    """Rewrite a seed-002 config into a specc spec, in place."""
    tree = Tree(locs, file)
    written = data.get("algorithm")
    algo = written if isinstance(written, str) else algorithm or "grpo"
    trl_algo = algo if algo in T.ALGORITHMS else None
    head: Path = next(((k,) for k in ("mode", "training", "grpo") if k in data), ())
    fields: dict[str, Field] = {}
    notes: list[str] = []
    for key, value in data.items():
        if key == "mode":
            if value in MODES:
                notes.append(f"mode `{value}` (seed 002's config choice; specc reads the "
                             "GPUs from `hardware`)")
            else:
                diags.add("S005", f"mode `{value}` is not one of seed 002's modes",
                          path=("mode",), hint="use `local` or `cluster`")
        elif key in ("model", "model_name", "model_name_or_path"):
            fields["model_name_or_path"] = Field("model_name_or_path", value, (key,))
        elif key in ("dataset", "dataset_name"):
            fields["dataset_name"] = Field("dataset_name", value, (key,))
        elif key == "output_dir":
            fields["output_dir"] = Field("output_dir", value, (key,))
        elif key in ("training", "grpo", "lora") and not isinstance(value, dict):
            diags.add("S002", f"`{key}` must be a mapping, got {value!r}", path=(key,),
                      hint=f"`{key}:` holds keys (see seed 002's config structure)")
        elif key == "training":
            _training(value, fields, diags, trl_algo)
        elif key == "grpo":
            _grpo(value, fields, tree, diags, trl_algo)
        elif key == "lora":
            _lora(value, fields, diags)
        elif key == "hpo":
            continue  # after the fields: TRL names in its search space are read as paths
        elif key in T.SPECC_ROOT:
            tree.put((key,), value, (key,), subtree=True)
        else:
            diags.add("S001", f"unknown key `{key}` in a seed-002 config", path=(key,),
                      on_key=True, hint=T.key_hint(str(key), [*_TOP, *T.SPECC_ROOT]))
    tree.put(("layout",), "seed002", head)
    tree.put(("algorithm",), algo, ("algorithm",) if "algorithm" in data else head)
    mapper = Mapper(tree, diags, trl_algo, world=world_of(data))
    mapper.run(fields)
    if "hpo" in data:
        hpo_block(data["hpo"], tree, trl_algo, mapper)
    mapper.require_model(head, "seed 002 takes the model on its command line (`--model "
                         "gpt2`): add `model: gpt2` here, or pass `-o policy.model_name=gpt2`")
    if mapper.mapped:
        notes.append(", ".join(mapper.mapped))
    if mapper.filled:
        notes.append("TRL's defaults where specc's differ: " + ", ".join(mapper.filled))
    if mapper.ignored:
        notes.append("at TRL's default (nothing to do): " + ", ".join(mapper.ignored))
    at = tree.where(head)
    tree.commit(data, locs, order=ORDER)
    diags.add("R035", "seed 002 GRPO config read as a specc spec"
              + (": " + "; ".join(notes) if notes else ""), path=head, file=at.file,
              line=at.line, column=at.column,
              hint="`specc plan --show-spec` prints the spec it was read as")
    return mapper.reported


def _training(block: dict[str, Any], fields: dict[str, Field], diags: Collector,
              algo: str | None) -> None:
    allowed = set(TRAINING_ARGUMENTS) | set(CONFIGS.get(algo or "", {}))
    for key, value in block.items():
        name = str(key)
        if name in allowed:
            fields[name] = Field(name, value, ("training", key))
        else:
            diags.add("S001", f"unknown key `{name}` under `training` (transformers "
                      "TrainingArguments names)", path=("training", key), on_key=True,
                      hint=T.key_hint(name, sorted(allowed)))


def _grpo(block: dict[str, Any], fields: dict[str, Field], tree: Tree, diags: Collector,
          algo: str | None) -> None:
    from specc.spec.models.algorithms import GRPO  # the model, only for a `grpo:` block

    own = GRPO.model_fields
    trl = T.fields(algo) if algo else {}
    for key, value in block.items():
        name = str(key)
        if name in trl:
            fields[name] = Field(name, value, ("grpo", key))
        elif name in own:
            tree.put(("grpo", name), value, ("grpo", key), subtree=True)
        else:
            diags.add("S001", f"unknown key `{name}` under `grpo` (TRL GRPOConfig or specc "
                      "names)", path=("grpo", key), on_key=True,
                      hint=T.key_hint(name, sorted({*trl, *own})))


def _lora(block: dict[str, Any], fields: dict[str, Field], diags: Collector) -> None:
    if "enabled" not in block and "use_peft" not in block:
        fields["use_peft"] = Field("use_peft", True, ("lora",))
    for key, value in block.items():
        name = _LORA.get(str(key))
        if name is None:
            diags.add("S001", f"unknown key `{key}` under `lora`", path=("lora", key),
                      on_key=True, hint=T.key_hint(str(key), sorted(_LORA)))
            continue
        fields[name] = Field(name, value, ("lora", key))
