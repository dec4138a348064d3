"""Allow-listed optimizers and LR schedulers with recorded constructor signatures.

``specc validate`` must check ``policy.optimizer.kwargs`` and scheduler kwargs
without importing torch, so the signatures of the allowed classes are recorded
here: every keyword parameter (the leading ``params``/``optimizer`` positional is
left out), its kind, its default (``REQUIRED`` when it has none) and its legal
range.  They are those of torch 2.13 and bitsandbytes 0.4x; ``tests/test_catalog.py``
compares them with ``inspect.signature`` of the real classes, so an upgrade that
renames or re-defaults a keyword fails the test suite instead of a user's run.

Public API::

    REQUIRED                       # sentinel default of a required parameter
    Param, Signature               # frozen dataclasses
    OPTIMIZERS, SCHEDULERS         # qualname -> Signature
    HF_OPTIM_NAMES                 # qualname -> transformers TrainingArguments.optim
    lookup_optimizer(name), lookup_scheduler(name) -> Signature | None
    check_kwargs(sig, kwargs) -> list[(kwarg, kind, message)]
    optimizer_state_bytes(sig, kwargs, param_bytes) -> float   # per trainable param
    optimizer_names(), scheduler_names()                        # for "did you mean"
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, Literal, TypeGuard

from specc.spec.records import record

__all__ = [
    "HF_OPTIM_NAMES",
    "OPTIMIZERS",
    "REQUIRED",
    "SCHEDULERS",
    "Param",
    "ParamKind",
    "ProblemKind",
    "Signature",
    "check_kwargs",
    "lookup_optimizer",
    "lookup_scheduler",
    "optimizer_names",
    "optimizer_state_bytes",
    "scheduler_names",
]


class _Required:
    """Type of the :data:`REQUIRED` sentinel (a parameter without a default)."""

    _instance: _Required | None = None

    def __new__(cls) -> _Required:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "REQUIRED"

    def __reduce__(self) -> str:
        return "REQUIRED"


REQUIRED: Final = _Required()
"""Default of a parameter the caller must pass."""

ParamKind = Literal[
    "float", "int", "bool", "str", "float_pair", "float_list", "int_list", "float_or_list", "any"
]
ProblemKind = Literal["unknown", "type", "range", "missing"]


@record(frozen=True, slots=True)
class Param:
    """One keyword parameter of a recorded constructor.

    ``low``/``high`` bound every number in the value (each element of a pair or
    list).  ``nullable`` allows ``None`` (``foreach: bool | None = None``);
    ``choices`` restricts a ``str`` parameter.
    """

    name: str
    kind: ParamKind
    default: object
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    doc: str = ""
    nullable: bool = False
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        """Whether the parameter has no default."""
        return self.default is REQUIRED


@record(frozen=True, slots=True)
class Signature:
    """A recorded constructor: its keyword parameters and memory facts.

    ``state_bytes_per_param`` is the optimizer state per trainable parameter with
    the documented defaults, in bytes, counting fp32 states (AdamW: exp_avg +
    exp_avg_sq = 8).  ``state_follows_param_dtype`` is True for torch optimizers,
    whose states are ``zeros_like(param)``: bf16 parameters get bf16 states (use
    :func:`optimizer_state_bytes` for the exact figure).  ``constraints`` names
    cross-parameter rules that :func:`check_kwargs` applies.
    """

    qualname: str
    params: tuple[Param, ...]
    doc: str
    state_bytes_per_param: float = 0.0
    family: str = ""
    state_follows_param_dtype: bool = False
    constraints: tuple[str, ...] = ()

    def param(self, name: str) -> Param | None:
        """The parameter called ``name``, or None."""
        for p in self.params:
            if p.name == name:
                return p
        return None

    def param_names(self) -> list[str]:
        """Parameter names in signature order (for "did you mean")."""
        return [p.name for p in self.params]

    @property
    def short_name(self) -> str:
        """The class name without its module path."""
        return self.qualname.rsplit(".", 1)[-1]


# -- building blocks ----------------------------------------------------------------------

_INF = math.inf


def _lr(default: float) -> Param:
    return Param("lr", "float", default, low=0.0, low_inclusive=False, doc="learning rate (> 0)")


def _betas(default: tuple[float, float] = (0.9, 0.999)) -> Param:
    return Param("betas", "float_pair", default, low=0.0, high=1.0, high_inclusive=False,
                 doc="decay rates of the first and second moment estimates, each in [0, 1)")


def _eps(default: float) -> Param:
    return Param("eps", "float", default, low=0.0, low_inclusive=False,
                 doc="term added to the denominator for numerical stability (> 0)")


def _wd(default: float) -> Param:
    return Param("weight_decay", "float", default, low=0.0, doc="weight decay (>= 0)")


def _flag(name: str, default: bool, doc: str) -> Param:
    return Param(name, "bool", default, doc=doc)


def _opt_flag(name: str, doc: str) -> Param:
    return Param(name, "bool", None, nullable=True, doc=doc)


_AMSGRAD = _flag("amsgrad", False, "use the AMSGrad variant (one more state tensor)")
_MAXIMIZE = _flag("maximize", False, "maximize the objective instead of minimizing it")
_FOREACH = _opt_flag("foreach", "use the multi-tensor (foreach) implementation; None = auto")
_FUSED = _opt_flag("fused", "use the fused kernel implementation; None = auto")
_CAPTURABLE = _flag("capturable", False, "make the step CUDA-graph capturable")
_DIFFERENTIABLE = _flag("differentiable", False, "let autograd run through the step")
_DECOUPLED = _flag("decoupled_weight_decay", False,
                   "decouple weight decay from the gradient (AdamW-style)")


def _torch_optimizer(
    name: str,
    params: tuple[Param, ...],
    doc: str,
    *,
    state_bytes: float,
    family: str,
    constraints: tuple[str, ...] = (),
) -> Signature:
    return Signature(
        qualname=f"torch.optim.{name}", params=params, doc=doc,
        state_bytes_per_param=state_bytes, family=family,
        state_follows_param_dtype=True, constraints=constraints,
    )


def _bnb_adamw(name: str, doc: str, state_bytes: float, *, has_is_paged: bool) -> Signature:
    """A bitsandbytes AdamW variant (all share one signature; paged ones lack ``is_paged``)."""
    params: tuple[Param, ...] = (
        _lr(1e-3),
        _betas(),
        _eps(1e-8),
        _wd(1e-2),
        _flag("amsgrad", False, "accepted for compatibility; bitsandbytes ignores it"),
        Param("optim_bits", "int", 32, low=8, high=32,
              doc="bits of the optimizer state (8 or 32)"),
        Param("args", "any", None, nullable=True, doc="extra bitsandbytes arguments object"),
        Param("min_8bit_size", "int", 4096, low=0,
              doc="tensors with fewer elements keep 32-bit state"),
    )
    # bitsandbytes 0.50 dropped `percentile_clipping` and `block_wise` from AdamW.
    if has_is_paged:
        params += (_flag("is_paged", False, "use paged (unified) memory for the state"),)
    return Signature(
        qualname=f"bitsandbytes.optim.{name}", params=params, doc=doc,
        state_bytes_per_param=state_bytes, family="adamw",
        constraints=("bnb_optim_bits",),
    )


_OPTIMIZER_LIST: tuple[Signature, ...] = (
    _torch_optimizer(
        "AdamW",
        (_lr(1e-3), _betas(), _eps(1e-8), _wd(1e-2), _AMSGRAD, _MAXIMIZE, _FOREACH, _CAPTURABLE,
         _DIFFERENTIABLE, _FUSED),
        "Adam with decoupled weight decay (Loshchilov & Hutter); two moment states per param.",
        state_bytes=8.0, family="adamw",
    ),
    _torch_optimizer(
        "Adam",
        (_lr(1e-3), _betas(), _eps(1e-8), _wd(0), _AMSGRAD, _FOREACH, _MAXIMIZE, _CAPTURABLE,
         _DIFFERENTIABLE, _FUSED, _DECOUPLED),
        "Adam (Kingma & Ba); L2 weight decay unless decoupled_weight_decay=True.",
        state_bytes=8.0, family="adam",
    ),
    _torch_optimizer(
        "SGD",
        (_lr(1e-3),
         Param("momentum", "float", 0, low=0.0, doc="momentum factor (>= 0); 0 keeps no state"),
         Param("dampening", "float", 0, low=0.0, high=1.0, doc="dampening for momentum, [0, 1]"),
         _wd(0),
         _flag("nesterov", False, "Nesterov momentum (needs momentum > 0 and dampening 0)"),
         _MAXIMIZE, _FOREACH, _DIFFERENTIABLE, _FUSED),
        "Stochastic gradient descent; a momentum buffer per param only when momentum > 0.",
        state_bytes=0.0, family="sgd", constraints=("sgd_nesterov",),
    ),
    _torch_optimizer(
        "Adagrad",
        (_lr(1e-2),
         Param("lr_decay", "float", 0, low=0.0, doc="learning-rate decay (>= 0)"),
         _wd(0),
         Param("initial_accumulator_value", "float", 0, low=0.0,
               doc="initial value of the squared-gradient sum (>= 0)"),
         _eps(1e-10), _FOREACH, _MAXIMIZE, _DIFFERENTIABLE, _FUSED),
        "Adagrad; one squared-gradient accumulator per param.",
        state_bytes=4.0, family="adagrad",
    ),
    _torch_optimizer(
        "RMSprop",
        (_lr(1e-2),
         Param("alpha", "float", 0.99, low=0.0, high=1.0, doc="smoothing constant, [0, 1]"),
         _eps(1e-8), _wd(0),
         Param("momentum", "float", 0, low=0.0, doc="momentum factor (>= 0; > 0 adds a state)"),
         _flag("centered", False, "centered RMSprop (adds a gradient-average state)"),
         _CAPTURABLE, _FOREACH, _MAXIMIZE, _DIFFERENTIABLE),
        "RMSprop; one square-average state per param (+1 with momentum, +1 when centered).",
        state_bytes=4.0, family="rmsprop",
    ),
    _torch_optimizer(
        "Adafactor",
        (_lr(1e-2),
         Param("beta2_decay", "float", -0.8, high=0.0,
               doc="decay rate exponent of the second moment (<= 0)"),
         Param("eps", "any", (None, 1e-3),
               doc="(eps1, eps2): eps1 (float or None = auto) for the denominator, "
                   "eps2 for the relative step size"),
         Param("d", "float", 1.0, low=0.0, low_inclusive=False,
               doc="clipping threshold of the update RMS (> 0)"),
         _wd(0.0), _FOREACH, _MAXIMIZE),
        "Adafactor (Shazeer & Stern); factored second moment: row and column statistics.",
        state_bytes=0.5, family="adafactor",
    ),
    _torch_optimizer(
        "NAdam",
        (_lr(2e-3), _betas(), _eps(1e-8), _wd(0),
         Param("momentum_decay", "float", 4e-3, low=0.0, doc="momentum decay psi (>= 0)"),
         _DECOUPLED, _FOREACH, _MAXIMIZE, _CAPTURABLE, _DIFFERENTIABLE),
        "Adam with Nesterov momentum; two moment states per param.",
        state_bytes=8.0, family="nadam",
    ),
    _torch_optimizer(
        "RAdam",
        (_lr(1e-3), _betas(), _eps(1e-8), _wd(0), _DECOUPLED, _FOREACH, _MAXIMIZE, _CAPTURABLE,
         _DIFFERENTIABLE),
        "Rectified Adam; two moment states per param.",
        state_bytes=8.0, family="radam",
    ),
    _bnb_adamw("AdamW8bit", "bitsandbytes 8-bit AdamW: block-wise quantized states "
               "(~2 B/param).", 2.0, has_is_paged=True),
    _bnb_adamw("PagedAdamW8bit", "bitsandbytes paged 8-bit AdamW: 8-bit states in paged "
               "(unified) memory.", 2.0, has_is_paged=False),
    _bnb_adamw("PagedAdamW", "bitsandbytes paged AdamW; 32-bit states unless optim_bits=8.",
               8.0, has_is_paged=False),
    _bnb_adamw("PagedAdamW32bit", "bitsandbytes paged AdamW with 32-bit states.", 8.0,
               has_is_paged=False),
    _bnb_adamw("AdamW", "bitsandbytes AdamW; 32-bit states unless optim_bits=8.", 8.0,
               has_is_paged=True),
)

OPTIMIZERS: dict[str, Signature] = {sig.qualname: sig for sig in _OPTIMIZER_LIST}
"""Allow-listed optimizers: qualname -> recorded signature."""

HF_OPTIM_NAMES: dict[str, str] = {
    "torch.optim.AdamW": "adamw_torch",
    "torch.optim.Adafactor": "adafactor",  # note: HF's "adafactor" is transformers' Adafactor
    "torch.optim.SGD": "sgd",
    "torch.optim.Adagrad": "adagrad",
    "torch.optim.RMSprop": "rmsprop",
    "bitsandbytes.optim.AdamW8bit": "adamw_bnb_8bit",
    "bitsandbytes.optim.PagedAdamW8bit": "paged_adamw_8bit",
    "bitsandbytes.optim.PagedAdamW": "paged_adamw_32bit",
    "bitsandbytes.optim.PagedAdamW32bit": "paged_adamw_32bit",
}
"""Qualname -> ``TrainingArguments.optim`` value.  Entries without one (Adam, NAdam,
RAdam, bitsandbytes AdamW 32-bit) are passed to the trainer as an optimizer class."""


# -- schedulers ---------------------------------------------------------------------------

_LAST_EPOCH = Param("last_epoch", "int", -1, low=-1, doc="index of the last epoch (-1 = start)")


def _scheduler(name: str, params: tuple[Param, ...], doc: str,
               constraints: tuple[str, ...] = ()) -> Signature:
    return Signature(
        qualname=f"torch.optim.lr_scheduler.{name}", params=(*params, _LAST_EPOCH), doc=doc,
        family=name.lower(), constraints=constraints,
    )


_SCHEDULER_LIST: tuple[Signature, ...] = (
    _scheduler("LinearLR", (
        Param("start_factor", "float", 1.0 / 3, low=0.0, high=1.0, low_inclusive=False,
              doc="multiplier of the lr at the start, (0, 1]"),
        Param("end_factor", "float", 1.0, low=0.0, high=1.0,
              doc="multiplier of the lr after total_iters, [0, 1]"),
        Param("total_iters", "int", 5, low=1, doc="steps over which the factor moves (>= 1)"),
    ), "Linearly change the lr multiplier from start_factor to end_factor (warm-up)."),
    _scheduler("ConstantLR", (
        Param("factor", "float", 1.0 / 3, low=0.0, high=1.0,
              doc="constant lr multiplier until total_iters, [0, 1]"),
        Param("total_iters", "int", 5, low=0, doc="steps the factor applies (>= 0)"),
    ), "Multiply the lr by a constant factor for total_iters steps."),
    _scheduler("CosineAnnealingLR", (
        Param("T_max", "int", REQUIRED, low=1, doc="steps of the half cosine period (>= 1)"),
        Param("eta_min", "float", 0.0, low=0.0, doc="minimum learning rate (>= 0)"),
    ), "Cosine annealing from the base lr to eta_min over T_max steps."),
    _scheduler("CosineAnnealingWarmRestarts", (
        Param("T_0", "int", REQUIRED, low=1, doc="steps until the first restart (>= 1)"),
        Param("T_mult", "int", 1, low=1, doc="period growth factor after a restart (>= 1)"),
        Param("eta_min", "float", 0.0, low=0.0, doc="minimum learning rate (>= 0)"),
    ), "Cosine annealing with warm restarts (SGDR)."),
    _scheduler("StepLR", (
        Param("step_size", "int", REQUIRED, low=1, doc="period of lr decay in steps (>= 1)"),
        Param("gamma", "float", 0.1, low=0.0, low_inclusive=False, doc="decay factor (> 0)"),
    ), "Multiply the lr by gamma every step_size steps."),
    _scheduler("MultiStepLR", (
        Param("milestones", "int_list", REQUIRED, low=0,
              doc="increasing step indices at which the lr decays"),
        Param("gamma", "float", 0.1, low=0.0, low_inclusive=False, doc="decay factor (> 0)"),
    ), "Multiply the lr by gamma at each milestone.", constraints=("increasing_milestones",)),
    _scheduler("ExponentialLR", (
        Param("gamma", "float", REQUIRED, low=0.0, low_inclusive=False,
              doc="per-step decay factor (> 0)"),
    ), "Multiply the lr by gamma every step."),
    _scheduler("PolynomialLR", (
        Param("total_iters", "int", 5, low=1, doc="steps until the lr reaches 0 (>= 1)"),
        Param("power", "float", 1.0, low=0.0, doc="power of the polynomial (>= 0)"),
    ), "Decay the lr polynomially to 0 over total_iters steps."),
    _scheduler("OneCycleLR", (
        Param("max_lr", "float_or_list", REQUIRED, low=0.0, low_inclusive=False,
              doc="peak learning rate (> 0), or one per parameter group"),
        Param("total_steps", "int", None, low=1, nullable=True,
              doc="total steps; or give epochs and steps_per_epoch"),
        Param("epochs", "int", None, low=1, nullable=True, doc="epochs (with steps_per_epoch)"),
        Param("steps_per_epoch", "int", None, low=1, nullable=True, doc="steps per epoch"),
        Param("pct_start", "float", 0.3, low=0.0, high=1.0,
              doc="fraction of the cycle spent increasing the lr, [0, 1]"),
        Param("anneal_strategy", "str", "cos", choices=("cos", "linear"),
              doc="annealing strategy: 'cos' or 'linear'"),
        _flag("cycle_momentum", True, "cycle momentum inversely to the lr"),
        Param("base_momentum", "float_or_list", 0.85, low=0.0, high=1.0,
              doc="lower momentum bound, [0, 1]"),
        Param("max_momentum", "float_or_list", 0.95, low=0.0, high=1.0,
              doc="upper momentum bound, [0, 1]"),
        Param("div_factor", "float", 25.0, low=0.0, low_inclusive=False,
              doc="initial lr = max_lr / div_factor (> 0)"),
        Param("final_div_factor", "float", 1e4, low=0.0, low_inclusive=False,
              doc="final lr = initial lr / final_div_factor (> 0)"),
        _flag("three_phase", False, "use a third phase annihilating the lr"),
    ), "The 1cycle policy (Smith & Topin).", constraints=("onecycle_length",)),
)

SCHEDULERS: dict[str, Signature] = {sig.qualname: sig for sig in _SCHEDULER_LIST}
"""Allow-listed LR schedulers: qualname -> recorded signature."""


# -- lookup -------------------------------------------------------------------------------

def _optimizer_index() -> dict[str, str]:
    """Lower-cased accepted spelling -> qualname."""
    index: dict[str, str] = {}
    for qualname, sig in OPTIMIZERS.items():
        index[qualname.lower()] = qualname
        if qualname.startswith("bitsandbytes.optim."):
            short = sig.short_name
            index[f"bnb.optim.{short}".lower()] = qualname
            index[f"bnb.{short}".lower()] = qualname
            index[f"bitsandbytes.{short}".lower()] = qualname
    # Short names: torch first, so "AdamW" is torch's; bnb short names only where unique.
    for qualname, sig in OPTIMIZERS.items():
        index.setdefault(sig.short_name.lower(), qualname)
    # Hugging Face TrainingArguments.optim spellings.
    hf_aliases = {
        "adamw_torch": "torch.optim.AdamW",
        "adamw_torch_fused": "torch.optim.AdamW",
        "adamw_hf": "torch.optim.AdamW",
        "adafactor": "torch.optim.Adafactor",
        "sgd": "torch.optim.SGD",
        "adagrad": "torch.optim.Adagrad",
        "rmsprop": "torch.optim.RMSprop",
        "adamw_8bit": "bitsandbytes.optim.AdamW8bit",
        "adamw_bnb_8bit": "bitsandbytes.optim.AdamW8bit",
        "paged_adamw_8bit": "bitsandbytes.optim.PagedAdamW8bit",
        "paged_adamw_32bit": "bitsandbytes.optim.PagedAdamW32bit",
        "paged_adamw": "bitsandbytes.optim.PagedAdamW",
    }
    index.update(hf_aliases)
    return index


def _scheduler_index() -> dict[str, str]:
    """Lower-cased accepted spelling -> qualname."""
    index: dict[str, str] = {}
    for qualname, sig in SCHEDULERS.items():
        index[qualname.lower()] = qualname
        index[f"torch.optim.{sig.short_name}".lower()] = qualname
        index[sig.short_name.lower()] = qualname
    return index


_OPTIMIZER_INDEX: dict[str, str] = _optimizer_index()
_SCHEDULER_INDEX: dict[str, str] = _scheduler_index()


def lookup_optimizer(name: str) -> Signature | None:
    """The allow-listed optimizer called ``name`` (qualname, short or HF ``optim`` name)."""
    if not isinstance(name, str):
        return None
    qualname = _OPTIMIZER_INDEX.get(name.strip().lower())
    return OPTIMIZERS[qualname] if qualname is not None else None


def lookup_scheduler(name: str) -> Signature | None:
    """The allow-listed LR scheduler called ``name`` (qualname or class name)."""
    if not isinstance(name, str):
        return None
    qualname = _SCHEDULER_INDEX.get(name.strip().lower())
    return SCHEDULERS[qualname] if qualname is not None else None


def optimizer_names() -> list[str]:
    """Allow-listed optimizer qualnames (for "did you mean")."""
    return list(OPTIMIZERS)


def scheduler_names() -> list[str]:
    """Allow-listed scheduler qualnames (for "did you mean")."""
    return list(SCHEDULERS)


# -- checking -----------------------------------------------------------------------------

_KIND_WORDS: dict[str, str] = {
    "float": "a number",
    "int": "an integer",
    "bool": "true or false",
    "str": "a string",
    "float_pair": "a pair of numbers [a, b]",
    "float_list": "a list of numbers",
    "int_list": "a list of integers",
    "float_or_list": "a number or a list of numbers",
    "any": "any value",
}


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _numbers(param: Param, value: object) -> list[float] | None:
    """The numbers inside ``value`` if it has ``param``'s kind, else None (type problem)."""
    kind = param.kind
    if kind == "float":
        return [float(value)] if _is_number(value) else None
    if kind == "int":
        return [float(value)] if _is_int(value) else None
    if kind in {"float_pair", "float_list", "int_list", "float_or_list"}:
        if kind == "float_or_list" and _is_number(value):
            return [float(value)]
        if not isinstance(value, list | tuple):
            return None
        items = list(value)
        if kind == "float_pair" and len(items) != 2:
            return None
        check = _is_int if kind == "int_list" else _is_number
        if not all(check(item) for item in items):
            return None
        return [float(item) for item in items]
    return []


def _type_ok(param: Param, value: object) -> bool:
    if value is None:
        return param.nullable or param.kind == "any"
    if param.kind == "any":
        return True
    if param.kind == "bool":
        return isinstance(value, bool)
    if param.kind == "str":
        return isinstance(value, str)
    return _numbers(param, value) is not None


def _bounds_text(param: Param) -> str:
    lo = "(" if not param.low_inclusive else "["
    hi = ")" if not param.high_inclusive else "]"
    low = "-inf" if param.low is None else f"{param.low:g}"
    high = "inf" if param.high is None else f"{param.high:g}"
    if param.low is not None and param.high is None:
        return f"{'>' if not param.low_inclusive else '>='} {low}"
    if param.high is not None and param.low is None:
        return f"{'<' if not param.high_inclusive else '<='} {high}"
    return f"in {lo}{low}, {high}{hi}"


def _in_range(param: Param, x: float) -> bool:
    if math.isnan(x):
        return False
    if param.low is not None and (x < param.low or (x == param.low and not param.low_inclusive)):
        return False
    if param.high is None:
        return True
    return x < param.high or (x == param.high and param.high_inclusive)


def _check_one(sig: Signature, param: Param, value: object) -> tuple[str, str, str] | None:
    """Type, choice and range problems of one supplied value."""
    where = f"{sig.short_name}({param.name}=...)"
    if not _type_ok(param, value):
        expected = _KIND_WORDS[param.kind] + (" or null" if param.nullable else "")
        return (param.name, "type",
                f"{where} expects {expected}, got {type(value).__name__} {value!r}")
    if value is None:
        return None
    if param.choices and value not in param.choices:
        allowed = ", ".join(repr(c) for c in param.choices)
        return (param.name, "range", f"{where} must be one of {allowed}, got {value!r}")
    numbers = _numbers(param, value) or []
    if param.low is None and param.high is None:
        return None
    bad = [x for x in numbers if not _in_range(param, x)]
    if bad:
        shown = value if len(numbers) == 1 else f"{value!r} (element {bad[0]:g})"
        return (param.name, "range", f"{where} must be {_bounds_text(param)}, got {shown}")
    return None


def _constraint_problems(
    sig: Signature, kwargs: Mapping[str, Any], reported: set[str]
) -> list[tuple[str, str, str]]:
    """Cross-parameter rules the real constructor enforces."""
    problems: list[tuple[str, str, str]] = []

    def value(name: str) -> Any:
        p = sig.param(name)
        return kwargs.get(name, p.default if p is not None else None)

    for rule in sig.constraints:
        if rule == "sgd_nesterov" and value("nesterov") is True and "nesterov" not in reported:
            momentum, dampening = value("momentum"), value("dampening")
            if _is_number(momentum) and _is_number(dampening) and (
                momentum <= 0 or dampening != 0
            ):
                problems.append(("nesterov", "range",
                                 "SGD(nesterov=True) needs momentum > 0 and dampening 0, got "
                                 f"momentum={momentum}, dampening={dampening}"))
        elif rule == "onecycle_length":
            total = value("total_steps")
            epochs, per_epoch = value("epochs"), value("steps_per_epoch")
            if total is None and (epochs is None or per_epoch is None):
                problems.append(("total_steps", "missing",
                                 "OneCycleLR needs total_steps, or both epochs and "
                                 "steps_per_epoch"))
        elif rule == "increasing_milestones" and "milestones" not in reported:
            milestones = kwargs.get("milestones")
            if isinstance(milestones, list | tuple) and any(
                b <= a for a, b in zip(milestones, list(milestones)[1:], strict=False)
            ):
                problems.append(("milestones", "range",
                                 f"MultiStepLR(milestones=...) must increase strictly, "
                                 f"got {list(milestones)}"))
        elif rule == "bnb_optim_bits" and "optim_bits" not in reported:
            bits = kwargs.get("optim_bits")
            if bits is not None and bits not in (8, 32):
                problems.append(("optim_bits", "range",
                                 f"{sig.short_name}(optim_bits=...) must be 8 or 32, got {bits}"))
    return problems


def check_kwargs(sig: Signature, kwargs: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Problems of ``kwargs`` against ``sig``: ``(kwarg, kind, message)`` tuples.

    ``kind`` is ``"unknown"`` (no such keyword; the caller adds "did you mean"),
    ``"type"``, ``"range"`` or ``"missing"`` (a required keyword is absent).
    Problems come in signature order, unknown keywords last.
    """
    if not isinstance(kwargs, Mapping):
        return [("", "type", f"{sig.short_name} kwargs must be a mapping, "
                 f"got {type(kwargs).__name__}")]
    problems: list[tuple[str, str, str]] = []
    reported: set[str] = set()
    for param in sig.params:
        if param.name in kwargs:
            problem = _check_one(sig, param, kwargs[param.name])
            if problem is not None:
                problems.append(problem)
                reported.add(param.name)
        elif param.required:
            problems.append((param.name, "missing",
                             f"{sig.short_name} requires {param.name!r} ({param.doc})"))
            reported.add(param.name)
    problems.extend(_constraint_problems(sig, kwargs, reported))
    known = {p.name for p in sig.params}
    for name in kwargs:
        if name not in known:
            problems.append((str(name), "unknown",
                             f"{sig.short_name} has no keyword argument {name!r}"))
    return problems


def optimizer_state_bytes(
    sig: Signature, kwargs: Mapping[str, Any] | None = None, param_bytes: int = 4
) -> float:
    """Optimizer state bytes per trainable parameter for these kwargs.

    torch optimizers keep their states in the parameter dtype (``param_bytes``:
    2 for bf16/fp16 parameters, 4 for fp32 ones such as LoRA adapters); AMSGrad
    adds a state, SGD/RMSprop momentum adds one, centered RMSprop adds one.
    bitsandbytes keeps 1 byte per state at ``optim_bits=8`` and 4 at 32.
    Adafactor's factored statistics are approximated as ``state_bytes_per_param``.
    """
    kw = dict(kwargs or {})
    if sig.family == "adafactor":
        return sig.state_bytes_per_param
    if sig.qualname.startswith("bitsandbytes."):
        bits = kw.get("optim_bits")
        if sig.short_name in {"AdamW8bit", "PagedAdamW8bit"}:
            per_state = 1.0  # the 8-bit classes ignore optim_bits
        elif sig.short_name == "PagedAdamW32bit":
            per_state = 4.0
        else:
            per_state = 1.0 if bits == 8 else 4.0
        return 2 * per_state
    states = sig.state_bytes_per_param / 4.0  # state tensors with the defaults
    if kw.get("amsgrad") is True:
        states += 1
    momentum = kw.get("momentum", 0)
    if sig.family == "sgd" and _is_number(momentum) and momentum > 0:
        states += 1
    if sig.family == "rmsprop":
        if _is_number(momentum) and momentum > 0:
            states += 1
        if kw.get("centered") is True:
            states += 1
    return states * (param_bytes if sig.state_follows_param_dtype else 4)
