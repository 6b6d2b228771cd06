"""What a change is compared with: the base commit of each environment, and its rendering.

An environment's base is the commit last deployed to it when this checkout knows it (the git
tag `deployed/<env>`, written by `playback-infra deployed-tag` from what the pipeline
recorded in the environment); else, and for the stacks outside the environments, the merge
base with `main` on a branch off `main`, and on `main` itself its last commit's parent
(`HEAD~1`), or `HEAD` while uncommitted changes are there to be compared.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from playback_infra.checks.groups import DELIVERY, TEMPLATES, Rendering, group_changes, rendering
from playback_infra.checks.replacement import Change

if TYPE_CHECKING:
    from playback_infra.checks.cache import Cache

MAIN = "main"
DEPLOYED_TAG = "deployed/{env}"


class BaseError(Exception):
    """The base to compare with cannot be read (no git, unknown ref)."""


@dataclass(frozen=True)
class Base:
    commit: str
    name: str  # how it was found: `deployed/prod`, `merge base with main`, `HEAD~1`, a --base
    why: str

    def describe(self) -> str:
        where = f"{self.commit[:12]} ({self.name}" if self.commit else f"({self.name}"
        return f"{where}: {self.why})"


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    except OSError as error:  # no such directory, or no git
        raise BaseError(f"git {' '.join(args)} in {root}: {error}") from error
    if done.returncode != 0:
        raise BaseError(f"git {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


def _commit(root: Path, ref: str) -> str | None:
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except BaseError:
        return None


def tag_deployed(root: Path, env: str, commit: str, message: str) -> str:
    """Point the annotated tag `deployed/<env>` at `commit`; its name."""
    if _commit(root, commit) is None:
        raise BaseError(f"commit {commit[:12]} is not in {root}")
    tag = DEPLOYED_TAG.format(env=env)
    _git(
        root,
        "tag",
        "--force",
        "--annotate",
        tag,
        "--message",
        f"deployed to {env}: {message}",
        commit,
    )
    return tag


def committed_head(root: Path) -> str | None:
    """HEAD when the generated templates and parameter files are HEAD's (what a deployment
    from this checkout deploys is then that commit), else None."""
    head = _commit(root, "HEAD")
    if head is None or _git(root, "status", "--porcelain", "--", "templates", "parameters"):
        return None
    return head


def fallback(root: Path, given: str | None = None) -> Base:
    """The base without a deployed commit: `given`, the merge base with main, HEAD~1 or HEAD."""
    if given:
        commit = _commit(root, given)
        if commit is None:
            raise BaseError(f"--base {given} is not a commit here; give a branch, tag or SHA")
        return Base(commit, given, "given with --base")
    head = _commit(root, "HEAD")
    if head is None:
        raise BaseError(f"{root} is not a git checkout with a commit; commit first, or give --base")
    main = _commit(root, MAIN)
    if main is not None and main != head:
        return Base(
            _git(root, "merge-base", "HEAD", MAIN),
            f"merge base with {MAIN}",
            f"where this branch left {MAIN}",
        )
    where = f"HEAD is {MAIN}" if main else f"no {MAIN} branch here"
    if _git(root, "status", "--porcelain", "--untracked-files=no"):
        return Base(head, "HEAD", f"{where}, with uncommitted changes")
    parent = _commit(root, "HEAD~1")
    if parent is None:
        return Base(head, "HEAD", f"{where}, its only commit")
    return Base(parent, "HEAD~1", f"{where}: its last commit is compared with its parent")


def deployed(root: Path, env: str) -> Base | None:
    """The commit last deployed to `env`, when this checkout has its tag."""
    tag = DEPLOYED_TAG.format(env=env)
    commit = _commit(root, f"refs/tags/{tag}")
    if commit is None:
        return None
    when = _git(root, "for-each-ref", "--format=%(taggerdate:short)", f"refs/tags/{tag}")
    recorded = f", tagged {when}" if when else ""
    return Base(commit, tag, f"the commit last deployed to {env}{recorded}")


def _read(root: Path, commit: str) -> tuple[dict[str, dict], dict[str, str]]:
    """The templates (parsed) and parameter files (text) committed at `commit`."""
    from cfnlint.decode import decode_str

    templates, files = {}, {}
    for path in _git(
        root, "ls-tree", "-r", "--name-only", commit, "templates/", "parameters/"
    ).split():
        if not path.endswith((".yaml", ".json")):
            continue
        text = _git(root, "show", f"{commit}:{path}")
        if path.startswith("templates/"):
            template, problems = decode_str(text)
            if template is None:
                raise BaseError(f"{commit[:12]}:{path} does not parse: {problems}")
            templates[Path(path).stem] = json.loads(json.dumps(template, default=str))
        else:
            files[path] = text
    return templates, files


@cache
def _rendering(root: Path, commit: str, store: Cache | None) -> Rendering:
    """The rendering committed at `commit`; from `store` when it holds it for that commit,
    this code and this cfn-lint (the parser)."""
    from importlib.metadata import version

    from playback_infra.checks.cache import key

    cache_key = key(commit, version("cfn-lint"), Path(__file__).read_bytes())
    stored = store.get("replacement-base", cache_key) if store is not None else None
    if stored is not None:
        templates, files = stored["templates"], stored["files"]
    else:
        templates, files = _read(root, commit)
        if store is not None:
            store.put("replacement-base", cache_key, {"templates": templates, "files": files})
    return rendering(templates, files)


def rendering_at(root: Path, base: Base, store: Cache | None = None) -> Rendering:
    """The templates and parameter files committed at the base (kept in `store` per commit)."""
    return _rendering(root.resolve(), base.commit, store)


@dataclass(frozen=True)
class Section:
    """One group's changes (an environment, the delivery stacks, the other templates) and
    the base they are counted from."""

    group: str
    base: Base
    changes: list[Change]


def sections(
    root: Path, now: Rendering, given: str | None = None, store: Cache | None = None
) -> tuple[Base, list[Section]]:
    """Every group's changes from its base to `now`, environments first (in `now`'s order,
    then any the base has and `now` lost); the bases' renderings kept in `store`."""
    common = fallback(root, given)
    before = rendering_at(root, common, store)
    envs = [*now.environments, *(e for e in before.environments if e not in now.environments)]
    # An environment's own base is its deployed commit, unless --base says otherwise.
    per_env = {env: (None if given else deployed(root, env)) or common for env in envs}
    found = [
        Section(env, per_env[env], group_changes(rendering_at(root, per_env[env], store), now, env))
        for env in envs
    ]
    found += [
        Section(group, common, group_changes(before, now, group)) for group in (DELIVERY, TEMPLATES)
    ]
    return common, found
