"""GPU catalog: memory and numeric-format support, looked up case-insensitively.

INTERFACE (filled in by the catalog work):

    @record(frozen=True, slots=True)
    class GPU:
        name: str            # canonical name, e.g. "A100-80GB"
        memory_gb: float     # usable device memory in GiB as marketed (80 for A100-80GB)
        bf16: bool
        tf32: bool
        fp16: bool = True
        kind: Literal["cuda", "mps", "cpu"] = "cuda"
        aliases: tuple[str, ...] = ()

    GPUS: dict[str, GPU]                       # canonical name -> GPU
    def lookup_gpu(name: str) -> GPU | None    # case/separator-insensitive, aliases too
    def gpu_names() -> list[str]               # canonical names, for "did you mean"

Extras beyond the interface: ``GPU.capacity_bytes`` (memory_gb in bytes, GiB based),
``GPU.doc`` (one line about the device) and ``ambiguous_gpu_matches(name)`` (the
canonical names a bare family name such as ``"A100"`` could mean, so the caller
can say "did you mean A100-40GB or A100-80GB?").

Matching rules: case is ignored and so are separators (space, ``-``, ``_``, ``.``,
``/``); a leading vendor/product-line word (``NVIDIA``, ``GeForce``, ``Tesla``,
``Apple``) is ignored too, so ``"a100-80gb"``, ``"A100_80GB"``, ``"a100 80gb"`` and
``"NVIDIA A100 80GB"`` all name the same entry.  A family name that covers several
memory sizes (``"A100"``, ``"V100"``, ``"H100"``) deliberately resolves to ``None``:
guessing the smaller or the larger card would make the memory check wrong.

Facts: bf16 needs compute capability >= 8.0 (Ampere) on NVIDIA; Volta (V100) and
Turing (T4, RTX 20xx) have neither bf16 nor TF32.  Apple M1 has no bf16 in Metal
(M2 and later do); MPS has no TF32.  On Apple silicon ``memory_gb`` is the unified
memory as marketed; by default Metal lets a process use roughly 3/4 of it.
"""

from __future__ import annotations

import re
from typing import Literal

from specc.spec.records import record

__all__ = ["GPU", "GPUS", "ambiguous_gpu_matches", "gpu_names", "lookup_gpu"]

_GIB = 1024**3


@record(frozen=True, slots=True)
class GPU:
    """One accelerator model: how much memory it has and which float formats it runs fast.

    ``memory_gb`` is in GiB as marketed (80 for an A100-80GB).  ``memory_gb == 0``
    means "unknown" (the ``CPU`` entry: host memory is whatever the machine has).
    """

    name: str
    memory_gb: float
    bf16: bool
    tf32: bool
    fp16: bool = True
    kind: Literal["cuda", "mps", "cpu"] = "cuda"
    aliases: tuple[str, ...] = ()
    doc: str = ""

    @property
    def capacity_bytes(self) -> int:
        """Device memory in bytes (GiB based); 0 when unknown."""
        return int(self.memory_gb * _GIB)

    def supports(self, precision: str) -> bool:
        """Whether ``precision`` ("bfloat16", "float16", "float32", "bf16", ...) runs here."""
        p = precision.lower().replace("_", "").replace("-", "")
        if p in {"bfloat16", "bf16"}:
            return self.bf16
        if p in {"float16", "fp16", "half"}:
            return self.fp16
        if p in {"tf32", "tensorfloat32"}:
            return self.tf32
        return p in {"float32", "fp32", "float"}


def _cuda(
    name: str,
    memory_gb: float,
    *,
    ampere_or_newer: bool,
    aliases: tuple[str, ...] = (),
    doc: str = "",
) -> GPU:
    """An NVIDIA entry: bf16 and TF32 both arrive with Ampere (sm_80)."""
    return GPU(
        name=name,
        memory_gb=memory_gb,
        bf16=ampere_or_newer,
        tf32=ampere_or_newer,
        fp16=True,
        kind="cuda",
        aliases=aliases,
        doc=doc,
    )


_ENTRIES: tuple[GPU, ...] = (
    # --- NVIDIA data-centre, pre-Ampere: no bf16, no TF32 -------------------------------
    _cuda("V100-16GB", 16, ampere_or_newer=False,
          aliases=("Tesla V100 16GB", "V100-SXM2-16GB", "V100-PCIE-16GB"),
          doc="NVIDIA Volta (sm_70): fp16 tensor cores; no bf16, no TF32."),
    _cuda("V100-32GB", 32, ampere_or_newer=False,
          aliases=("Tesla V100 32GB", "V100-SXM2-32GB", "V100-PCIE-32GB", "V100S"),
          doc="NVIDIA Volta (sm_70), 32 GB HBM2: no bf16, no TF32."),
    _cuda("T4", 16, ampere_or_newer=False, aliases=("Tesla T4", "T4-16GB"),
          doc="NVIDIA Turing (sm_75), 16 GB GDDR6: fp16 only (no bf16, no TF32)."),
    # --- NVIDIA data-centre, Ampere and newer --------------------------------------------
    _cuda("A10G", 24, ampere_or_newer=True, aliases=("A10G-24GB",),
          doc="NVIDIA Ampere (sm_86), AWS g5 instances, 24 GB."),
    _cuda("A10", 24, ampere_or_newer=True, aliases=("A10-24GB",),
          doc="NVIDIA Ampere (sm_86), 24 GB."),
    _cuda("L4", 24, ampere_or_newer=True, aliases=("L4-24GB",),
          doc="NVIDIA Ada Lovelace (sm_89), 24 GB."),
    _cuda("L40", 48, ampere_or_newer=True, aliases=("L40-48GB",),
          doc="NVIDIA Ada Lovelace (sm_89), 48 GB."),
    _cuda("L40S", 48, ampere_or_newer=True, aliases=("L40S-48GB",),
          doc="NVIDIA Ada Lovelace (sm_89), 48 GB."),
    _cuda("A100-40GB", 40, ampere_or_newer=True,
          aliases=("A100-SXM4-40GB", "A100-PCIE-40GB", "A100 40G"),
          doc="NVIDIA Ampere (sm_80), 40 GB HBM2."),
    _cuda("A100-80GB", 80, ampere_or_newer=True,
          aliases=("A100-SXM4-80GB", "A100-PCIE-80GB", "A100 80G", "A100 80GB PCIe"),
          doc="NVIDIA Ampere (sm_80), 80 GB HBM2e."),
    _cuda("H100-80GB", 80, ampere_or_newer=True,
          aliases=("H100-SXM", "H100-SXM5", "H100-SXM5-80GB", "H100-PCIE", "H100-PCIE-80GB",
                   "H100 80GB HBM3", "H100 80G"),
          doc="NVIDIA Hopper (sm_90), 80 GB (SXM5 HBM3 or PCIe HBM2e)."),
    _cuda("H100-94GB", 94, ampere_or_newer=True, aliases=("H100-NVL", "H100 NVL 94GB"),
          doc="NVIDIA Hopper H100 NVL (sm_90), 94 GB HBM3."),
    _cuda("H200", 141, ampere_or_newer=True, aliases=("H200-141GB", "H200-SXM", "H200-NVL"),
          doc="NVIDIA Hopper (sm_90), 141 GB HBM3e."),
    _cuda("B200", 180, ampere_or_newer=True, aliases=("B200-180GB", "HGX B200"),
          doc="NVIDIA Blackwell (sm_100), 180 GB HBM3e usable per GPU in HGX B200."),
    # --- NVIDIA workstation / consumer ----------------------------------------------------
    _cuda("RTX-A6000", 48, ampere_or_newer=True, aliases=("A6000", "RTX A6000 48GB"),
          doc="NVIDIA Ampere workstation (sm_86), 48 GB."),
    _cuda("RTX-6000-Ada", 48, ampere_or_newer=True,
          aliases=("RTX 6000 Ada Generation", "RTX6000-Ada-48GB"),
          doc="NVIDIA Ada Lovelace workstation (sm_89), 48 GB."),
    _cuda("RTX-3080", 10, ampere_or_newer=True, aliases=("RTX-3080-10GB",),
          doc="NVIDIA Ampere consumer (sm_86), 10 GB (the original model)."),
    _cuda("RTX-3090", 24, ampere_or_newer=True, aliases=("RTX-3090-24GB", "RTX-3090-Ti"),
          doc="NVIDIA Ampere consumer (sm_86), 24 GB."),
    _cuda("RTX-4080", 16, ampere_or_newer=True, aliases=("RTX-4080-16GB", "RTX-4080-Super"),
          doc="NVIDIA Ada Lovelace consumer (sm_89), 16 GB."),
    _cuda("RTX-4090", 24, ampere_or_newer=True, aliases=("RTX-4090-24GB",),
          doc="NVIDIA Ada Lovelace consumer (sm_89), 24 GB."),
    _cuda("RTX-5090", 32, ampere_or_newer=True, aliases=("RTX-5090-32GB",),
          doc="NVIDIA Blackwell consumer (sm_120), 32 GB."),
    # --- Apple silicon (PyTorch MPS backend) ---------------------------------------------
    GPU("M1-Max-32GB", 32, bf16=False, tf32=False, fp16=True, kind="mps",
        aliases=("M1 Max 32GB",),
        doc="Apple M1 Max, 32 GB unified memory: fp16 only (no bf16 on M1), no TF32."),
    GPU("M1-Max-64GB", 64, bf16=False, tf32=False, fp16=True, kind="mps",
        aliases=("M1 Max 64GB", "M1Max64"),
        doc="Apple M1 Max, 64 GB unified memory: fp16 only (no bf16 on M1), no TF32."),
    GPU("M1-Ultra-128GB", 128, bf16=False, tf32=False, fp16=True, kind="mps",
        aliases=("M1 Ultra 128GB",),
        doc="Apple M1 Ultra, 128 GB unified memory: no bf16, no TF32."),
    GPU("M2-Max-96GB", 96, bf16=True, tf32=False, fp16=True, kind="mps",
        aliases=("M2 Max 96GB",),
        doc="Apple M2 Max, 96 GB unified memory: bf16 in Metal (M2+), no TF32."),
    GPU("M2-Ultra-192GB", 192, bf16=True, tf32=False, fp16=True, kind="mps",
        aliases=("M2 Ultra 192GB",),
        doc="Apple M2 Ultra, 192 GB unified memory: bf16, no TF32."),
    GPU("M3-Max-128GB", 128, bf16=True, tf32=False, fp16=True, kind="mps",
        aliases=("M3 Max 128GB",),
        doc="Apple M3 Max, 128 GB unified memory: bf16, no TF32."),
    GPU("M4-Max-128GB", 128, bf16=True, tf32=False, fp16=True, kind="mps",
        aliases=("M4 Max 128GB",),
        doc="Apple M4 Max, 128 GB unified memory: bf16, no TF32."),
    # --- CPU -------------------------------------------------------------------------------
    GPU("CPU", 0, bf16=True, tf32=False, fp16=False, kind="cpu",
        aliases=("host",),
        doc="No accelerator: runs on the host CPU; memory 0 means host memory, unknown here."),
)

GPUS: dict[str, GPU] = {gpu.name: gpu for gpu in _ENTRIES}
"""Canonical name -> GPU, in catalog order."""

# Leading words that do not identify the device ("NVIDIA A100 80GB" == "A100-80GB").
_VENDOR_PREFIXES: tuple[str, ...] = ("nvidia", "geforce", "tesla", "apple", "quadro")
_SEPARATORS = re.compile(r"[\s\-_./]+")


def _normalize(name: str) -> str:
    """Lower-case, drop separators and a leading vendor/product-line word."""
    key = _SEPARATORS.sub("", name.strip().lower())
    changed = True
    while changed:
        changed = False
        for prefix in _VENDOR_PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix):
                key = key[len(prefix):]
                changed = True
    return key


def _build_index() -> dict[str, str]:
    """Normalized name or alias -> canonical name; a clash is a catalog bug."""
    index: dict[str, str] = {}
    for gpu in _ENTRIES:
        for spelling in (gpu.name, *gpu.aliases):
            key = _normalize(spelling)
            owner = index.get(key)
            if owner is not None and owner != gpu.name:
                raise RuntimeError(f"GPU alias {spelling!r} names both {owner} and {gpu.name}")
            index[key] = gpu.name
    return index


_INDEX: dict[str, str] = _build_index()

# Bare family names that cover several memory sizes: they must not silently resolve.
_FAMILIES: dict[str, tuple[str, ...]] = {
    "v100": ("V100-16GB", "V100-32GB"),
    "a100": ("A100-40GB", "A100-80GB"),
    "h100": ("H100-80GB", "H100-94GB"),
    "m1max": ("M1-Max-32GB", "M1-Max-64GB"),
    "m1": ("M1-Max-32GB", "M1-Max-64GB", "M1-Ultra-128GB"),
    "m2": ("M2-Max-96GB", "M2-Ultra-192GB"),
}


def lookup_gpu(name: str) -> GPU | None:
    """Find a GPU by canonical name or alias, ignoring case, separators and vendor words.

    Returns ``None`` for unknown names and for ambiguous family names such as
    ``"A100"`` (see :func:`ambiguous_gpu_matches`).
    """
    if not isinstance(name, str) or not name.strip():
        return None
    key = _normalize(name)
    if key in _FAMILIES:
        return None
    canonical = _INDEX.get(key)
    return GPUS[canonical] if canonical is not None else None


def ambiguous_gpu_matches(name: str) -> list[str]:
    """Canonical names a bare family name could mean (``"A100"`` -> both A100s), else ``[]``."""
    if not isinstance(name, str):
        return []
    return list(_FAMILIES.get(_normalize(name), ()))


def gpu_names() -> list[str]:
    """All canonical GPU names, in catalog order (for "did you mean")."""
    return list(GPUS)
