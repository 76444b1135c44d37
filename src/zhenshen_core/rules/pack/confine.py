"""A pack reaches only its own files: every path it names must really lie in its folder.

A pack is a folder that may come from another district, and a folder can hold symbolic links:
``templates/opinion_letter.md.j2`` linked to ``/etc/passwd`` put that file into a letter, and
``include: ["linkdir/*.yaml"]`` through a linked folder loaded rules from elsewhere. So every
path a pack names (its rule files, its tests and golden files, its letter templates and what
they include) is resolved — each link followed, each ``..`` removed — and used only when the
real path lies inside the pack's real folder, or inside the folder of a base pack it declares
in ``extends`` (a district pack may link to the rules of the pack it builds on). Anything else
is refused as ``P210`` where the pack names it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path


class PackRoots:
    """The real folders a pack's paths may lead into: its own, then (looked up only when a
    path leads elsewhere) those of the base packs it declares."""

    def __init__(self, folder: Path, bases: Callable[[], Iterable[Path]] = tuple) -> None:
        self.folder = folder.resolve()
        self._bases = bases
        self._base_roots: list[Path] | None = None

    def roots(self) -> Sequence[Path]:
        if self._base_roots is None:
            self._base_roots = [Path(b).resolve() for b in self._bases()]
        return [self.folder, *self._base_roots]

    def admits(self, path: Path) -> bool:
        """True when the real path of ``path`` lies in the pack (or a declared base)."""
        real = real_path(path)
        if inside(real, self.folder):
            return True
        return any(inside(real, root) for root in self.roots()[1:])

    def refusal(self, path: Path, shown: str) -> str:
        """Why ``path`` (displayed as ``shown``) is refused."""
        return outside_message(shown, real_path(path))


def real_path(path: Path) -> Path:
    """``path`` with every link followed and every ``..`` removed (``os.path.realpath``)."""
    return Path(path).resolve()


def inside(real: Path, root: Path) -> bool:
    return real == root or real.is_relative_to(root)


def link_display(path: Path) -> str:
    """Where ``path`` is (not where it leads), relative to the working directory if it can be."""
    try:
        return str(Path(path).absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def outside_message(shown: str, real: Path) -> str:
    return (
        f"{shown} leads outside the pack (to {real}): a pack may only use files in its own "
        "folder or in a base pack's folder"
    )


__all__ = ["PackRoots", "inside", "link_display", "outside_message", "real_path"]
