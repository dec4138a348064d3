"""Shared base classes for spec blocks."""

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

# Descriptions come from the docstring under each field. They are read from the
# source only when the JSON Schema is exported (``schema.py``), so validation
# never pays for parsing source files.


class Block(BaseModel):
    """A closed block: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=False,
                              populate_by_name=True)


class NemoBlock(BaseModel):
    """A block NeMo RL also declares. Keys specc does not model are kept (in
    ``model_extra``) and checked against NeMo RL's declaration by ``spec.nemo``: a key
    NeMo RL declares is type-checked and carried through, a key neither declares is S001.
    Search-space paths and "did you mean" see only specc's own fields."""

    model_config = ConfigDict(extra="allow", strict=True, validate_default=False,
                              populate_by_name=True)
    __nemo__: ClassVar[bool] = True


class OpenBlock(BaseModel):
    """A block specc carries through without modelling every key (NeMo RL's extras)."""

    model_config = ConfigDict(extra="allow", strict=True, validate_default=False)


PositiveInt = Annotated[int, Field(ge=1)]
NonNegInt = Annotated[int, Field(ge=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]
FreeForm = dict[str, Any]


def empty_dict() -> dict[Any, Any]:
    """`default_factory` of an empty mapping. A Python function rather than `dict`: pydantic
    reads every factory's signature, and a builtin's is parsed from its text signature,
    which compiles the tokenizer's patterns (a hundredth of a cold `specc validate`)."""
    return {}


def empty_list() -> list[Any]:
    """`default_factory` of an empty list (see :func:`empty_dict`)."""
    return []
