"""Reward functions against the import policy (:mod:`specc.spec.reward_policy`): what
`specc run` will import, and names that can never be reward functions. Nothing is imported.

Malformed module names and unknown built-ins are :mod:`specc.spec.rules.names`' (N004,
N005); this rule adds the file form and the policy (N020-N024).
"""

from __future__ import annotations

import os

from specc.spec.project_root import find_root, inside, shown
from specc.spec.reward_policy import (
    file_path,
    in_stdlib_dir,
    locate_module,
    parse_ref,
    shadowing_file,
    stdlib_module,
)
from specc.spec.rules.context import Context


def check(ctx: Context) -> None:
    if ctx.spec.reward is None:
        return
    spec_dir = os.path.dirname(os.path.abspath(ctx.file))
    root = find_root(ctx.file, getattr(ctx, "root", None))
    for i, fn in enumerate(ctx.spec.reward.functions):
        path = ("reward", "functions", i, "name")
        ref = parse_ref(fn.name)
        if ref is None:
            if fn.name.rpartition(":")[0].endswith(".py") or "/" in fn.name:
                ctx.diags.add("N005", f"reward `{fn.name}` is not `path/file.py:function`",
                              path=path, hint="for example `./rewards.py:score`, a file "
                              "beside the spec")
            continue
        if ref.kind == "builtin":
            continue
        if ref.kind == "file":
            target = file_path(ref, spec_dir)
            if not inside(target, root):
                ctx.diags.add("N021", f"reward file `{ref.target}` is outside the project "
                              f"root {shown(root)}", path=path,
                              hint="keep reward code inside the project (a folder with "
                              "`.git`, `pyproject.toml` or `.specc`), or widen it with "
                              "--root DIR")
            elif not os.path.isfile(target) or not target.endswith(".py"):
                ctx.diags.add("N022", f"reward file `{ref.target}` does not exist "
                              f"({shown(target)})", path=path,
                              hint="the path is relative to the spec's folder")
            elif not ctx.point:
                ctx.diags.add("N024", f"`specc run` will import reward file {shown(target)}, "
                              f"function `{ref.function}`", path=path)
            continue
        if stdlib_module(ref.target):
            ctx.diags.add("N020", f"reward `{fn.name}`: `{ref.target}` is a standard-library "
                          "or built-in module, not reward code", path=path,
                          hint="name a function of yours: an installed module, or a file "
                          "in the project (`./rewards.py:score`)")
            continue
        origin = locate_module(ref.target, spec_dir)
        if origin is not None and in_stdlib_dir(origin):
            ctx.diags.add("N020", f"reward `{fn.name}`: `{ref.target}` is a standard-library "
                          f"module ({origin})", path=path,
                          hint="name a function of yours: an installed module, or a file "
                          "in the project (`./rewards.py:score`)")
            continue
        if origin is None:
            local = shadowing_file(ref.target, spec_dir)
            if local is not None:
                rel = os.path.relpath(local, spec_dir) if inside(local, spec_dir) else local
                ctx.diags.add("N023", f"reward module `{ref.target}` is not installed; "
                              f"`specc run` never imports {shown(local)} from the working "
                              "directory or the spec's folder", path=path,
                              hint=f"name the file explicitly: `./{rel}:{ref.function}`"
                              if rel.endswith(".py") else "install the package "
                              "(pip install -e ...) or name its file `./path.py:function`")
            elif not ctx.point:
                ctx.diags.add("N024", f"`specc run` will import installed module "
                              f"`{ref.target}` (not installed in this environment: the run "
                              "fails unless it is installed where it runs)", path=path)
            continue
        if not ctx.point:
            ctx.diags.add("N024", f"`specc run` will import installed module `{ref.target}` "
                          f"from {shown(origin)}, function `{ref.function}`", path=path)
