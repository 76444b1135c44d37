"""Letter templates read only files that really lie in their folder (and the built-ins).

Real symbolic links: the template itself, what it includes, imports or extends, a linked
``templates`` folder of a pack, and a link swapped after the first load.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from zhenshen_core import Desk, MemoryStore, load_pack
from zhenshen_core.desk.letters import LetterError, render_text
from zhenshen_core.desk.letters.confined import MAX_TEMPLATE_BYTES, ConfinedLoader
from zhenshen_core.desk.letters.sandbox import BoundedSandbox

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")

SECRET = "root:x:0:0:SECRET-LINE"
BASE_PACK = Path(__file__).parents[2] / "rules" / "packs" / "base"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "passwd"
    target.write_text(SECRET + "\n", encoding="utf-8")
    return target


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    templates = tmp_path / "pack" / "templates"
    templates.mkdir(parents=True)
    return templates


@pytest.mark.parametrize("absolute", [True, False])
def test_a_template_linked_outside_is_not_read(
    folder: Path, secret: Path, absolute: bool
) -> None:
    link = folder / "opinion_letter.md.j2"
    link.symlink_to(secret if absolute else Path(os.path.relpath(secret, folder)))
    with pytest.raises(LetterError) as caught:
        render_text({}, template=link)
    message = str(caught.value)
    assert SECRET not in message
    assert f"{link} leads outside the template folder (to {secret})" in message


@pytest.mark.parametrize(
    "statement",
    [
        '{% include "part.j2" %}',
        '{% include "part.j2" ignore missing %}',  # a refusal is not a missing template
        '{% import "part.j2" as part %}{{ part }}',
        '{% from "part.j2" import nothing %}',
        '{% extends "part.j2" %}',
    ],
)
def test_include_import_and_extends_through_a_link_are_refused_at_their_line(
    folder: Path, secret: Path, statement: str
) -> None:
    (folder / "part.j2").symlink_to(secret)
    main = folder / "main.md.j2"
    main.write_text(f"line one\n{statement}\n", encoding="utf-8")
    with pytest.raises(LetterError) as caught:
        render_text({}, template=main)
    message = str(caught.value)
    assert SECRET not in message
    assert message.startswith(f"letter template {main}:2: {folder / 'part.j2'} leads outside")


def test_links_inside_the_folder_and_to_built_in_templates_still_work(folder: Path) -> None:
    (folder / "real.j2").write_text("[{{ org }}]", encoding="utf-8")
    (folder / "alias.j2").symlink_to("real.j2")
    main = folder / "main.md.j2"
    main.write_text('{% include "alias.j2" %}', encoding="utf-8")
    assert render_text({"org": "甲"}, template=main) == "[甲]"


def test_a_link_swapped_after_the_first_load_is_checked_again(folder: Path, secret: Path) -> None:
    """The loader says a served template is stale when its real path changes, so a link
    swapped in afterwards is checked on the next load (Jinja reloads stale templates)."""
    part = folder / "part.j2"
    part.write_text("harmless", encoding="utf-8")
    env = BoundedSandbox(loader=ConfinedLoader([folder]), auto_reload=True)
    assert env.get_template("part.j2").render() == "harmless"
    part.unlink()
    part.symlink_to(secret)
    with pytest.raises(Exception, match="leads outside the template folder") as caught:
        env.get_template("part.j2")
    assert SECRET not in str(caught.value)


def test_a_pipe_or_an_oversized_template_is_refused(folder: Path) -> None:
    big = folder / "big.md.j2"
    big.write_text("x" * (MAX_TEMPLATE_BYTES + 1), encoding="utf-8")
    with pytest.raises(LetterError, match="is larger than 1,000,000 bytes"):
        render_text({}, template=big)
    if hasattr(os, "mkfifo"):
        fifo = folder / "fifo.j2"
        os.mkfifo(fifo)
        main = folder / "main.md.j2"
        main.write_text('{% include "fifo.j2" %}', encoding="utf-8")
        with pytest.raises(LetterError):  # never blocks waiting for a writer
            render_text({}, template=main)


def _desk_with_templates(tmp_path: Path) -> tuple[Desk, Path]:
    pack = tmp_path / "pack"
    shutil.copytree(BASE_PACK, pack, dirs_exist_ok=True)
    return Desk(MemoryStore(), pack=load_pack(pack, plugin_packs={})), pack


def test_the_desk_refuses_a_pack_template_linked_outside(tmp_path: Path, secret: Path) -> None:
    desk, pack = _desk_with_templates(tmp_path)
    (pack / "templates").mkdir(exist_ok=True)
    (pack / "templates" / "opinion_letter.md.j2").symlink_to(secret)
    with pytest.raises(LetterError, match="leads outside the pack"):
        desk.pack_template("markdown")


def test_the_desk_refuses_a_linked_templates_folder(tmp_path: Path, secret: Path) -> None:
    desk, pack = _desk_with_templates(tmp_path)
    shutil.rmtree(pack / "templates", ignore_errors=True)
    (secret.parent / "opinion_letter.md.j2").write_text(SECRET, encoding="utf-8")
    (pack / "templates").symlink_to(secret.parent)
    with pytest.raises(LetterError, match="leads outside the pack"):
        desk.pack_template("markdown")


def test_the_desk_uses_its_own_pack_template(tmp_path: Path) -> None:
    desk, pack = _desk_with_templates(tmp_path)
    (pack / "templates").mkdir(exist_ok=True)
    own = pack / "templates" / "opinion_letter.md.j2"
    own.write_text("{{ org }}", encoding="utf-8")
    assert desk.pack_template("markdown") == str(own)
