"""What the letter sandbox's budget costs a letter, against the two obvious alternatives.

    .venv/bin/python benchmarks/bench_letters.py [--n 300]

A letter template is pack data, so its rendering is bounded (``desk.letters.sandbox``: a step
and a deadline on every loop and call, sizes checked on every string operation). Renders the
built-in Markdown and HTML letters of one case ``--n`` times each (median per letter) three
ways, all on the same template files and context, and checks they give the same text:

1. ``render_text`` — the bounded sandbox and the confined loader, as the desk renders;
2. Jinja2's own ``SandboxedEnvironment`` with a ``FileSystemLoader`` — no budget at all (what
   the budget is paid against);
3. a forked child per letter with ``RLIMIT_AS`` (512 MB) and ``RLIMIT_CPU`` (2 s), the plain
   sandbox inside, the text sent back through a pipe — the other way to bound a rendering.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from zhenshen_core.desk.fonts import LETTER as LETTER_FONTS
from zhenshen_core.desk.letters import letter_context, md_cell, md_escape, render_text
from zhenshen_core.desk.letters.render import DEFAULT_TEMPLATES, TEMPLATE_DIR
from zhenshen_core.model import load_case

CASE: dict[str, Any] = {
    "external_id": "GX20200413-000001",
    "channel": "hotline_12345",
    "received_at": "2020-04-13T09:30:00+08:00",
    "title": "报规报建缺少权属证明",
    "content": "厂房为早年取得，土地证因历史遗留问题未能换发，办理报规报建时无法提供权属证明文件。",
    "domain": "planning_title_proof",
    "enterprise": {"name": "成都睿澜科技有限公司", "uscc": "91510100MA68NDJH6X"},
    "departments": [{"id": "gxq.gtj", "role": "lead"}, {"id": "gxq.gycsjsj", "role": "co"}],
    "tier": "general",
    "chair": "office_head",
    "severity": "S2",
    "meetings": [
        {
            "id": "M1",
            "kind": "joint_review",
            "scheduled_at": "2020-04-16T14:30:00+08:00",
            "held_at": "2020-04-16T14:30:00+08:00",
            "chair": "office_head",
            "attendees": ["gxq.gtj", "gxq.gycsjsj"],
        }
    ],
    "opinion": {
        "letter_no": "成高甄审〔2020〕3号",
        "result": "supported",
        "reasons": "企业用地取得合法，权属证明缺失系历史原因所致，可以权属说明替代。",
        "measures": [
            {"description": "规划和自然资源局出具权属说明", "department": "gxq.gtj",
             "due": "2020-04-30"},
            {"description": "公园城市建设局并联受理报建", "department": "gxq.gycsjsj",
             "due": "2020-05-15"},
        ],
        "legal_basis": ["《优化营商环境条例》（国务院令第722号）"],
        "issued_at": "2020-04-20T10:00:00+08:00",
    },
}
NAMES = {"gxq.gtj": "规划和自然资源局", "gxq.gycsjsj": "公园城市建设局"}


def context() -> dict[str, Any]:
    return letter_context(
        load_case(CASE),
        None,
        org="成都高新区营商环境领导小组办公室",
        department_names=NAMES,
        domain_names={"planning_title_proof": "报规报建/权属证明"},
    )


def plain(ctx: Mapping[str, Any], fmt: str) -> str:
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=fmt == "html",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["md_cell"] = md_cell
    env.globals["fonts"] = {k: jinja2.utils.markupsafe.Markup(v) for k, v in LETTER_FONTS.items()}
    return env.get_template(DEFAULT_TEMPLATES[fmt]).render(dict(ctx))


def forked(ctx: Mapping[str, Any], fmt: str) -> str:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: limits, render, write, leave
        os.close(read)
        resource.setrlimit(resource.RLIMIT_AS, (512 * 2**20, 512 * 2**20))
        resource.setrlimit(resource.RLIMIT_CPU, (2, 2))
        data = plain(ctx, fmt).encode("utf-8")
        with os.fdopen(write, "wb") as out:
            out.write(data)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as incoming:
        data = incoming.read()
    os.waitpid(pid, 0)
    return data.decode("utf-8")


def per_letter(render: Callable[[], str], n: int) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        render()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="renders of each letter and way")
    args = parser.parse_args()
    ctx = context()
    print(f"one letter, median of {args.n} renders (Python {sys.version.split()[0]})")
    for fmt in ("markdown", "html"):
        bounded = render_text(ctx, fmt=fmt)  # type: ignore[arg-type]
        if plain(ctx, fmt) != bounded or forked(ctx, fmt) != bounded:
            raise SystemExit(f"{fmt}: the three ways disagree")
        ways: dict[str, Callable[[str], str]] = {
            "bounded sandbox (render_text)": lambda f: render_text(ctx, fmt=f),  # type: ignore[arg-type]
            "plain Jinja2 sandbox, no bounds": lambda f: plain(ctx, f),
            "fork + rlimits per letter": lambda f: forked(ctx, f),
        }
        base = None
        for name, render in ways.items():
            seconds = per_letter(lambda: render(fmt), args.n)  # noqa: B023 (called here)
            base = base or seconds
            print(f"  {fmt:<8} {name:<32} {seconds * 1e3:7.2f} ms  ({seconds / base:4.2f}x)")


if __name__ == "__main__":
    main()
