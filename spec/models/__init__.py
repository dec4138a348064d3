"""The spec language as pydantic models, one module per block."""

from specc.spec.models.algorithms import ALGORITHM_BLOCKS, Algorithm
from specc.spec.models.root import Spec

__all__ = ["ALGORITHM_BLOCKS", "Algorithm", "Spec"]
