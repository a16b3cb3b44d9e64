"""Fuzz: several hundred malformed inputs, each refused with a clear message, never a traceback.

The corpus (tests/fuzz_corpus.py) is seeded and covers every case kind, data format and
command. Each sample runs the CLI in-process (``main(argv)``, output captured) and must end
with exit 1 naming the culprit (file, field, row or option), or, for an unusual but valid
input, exit 0 or 2; never a traceback or an internal error. About 100 samples run in the default
suite; the whole corpus with ``-m slow``.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from optimizer.cli import main

from .fuzz_corpus import Sample, corpus

CORPUS = corpus()
QUICK_EVERY = 4  # every 4th sample runs by default (~100 of them)
SLOW_SEEDS = ("andorra_joint.yaml", "andorra.yaml", "andorra_ems.yaml")  # validate routes OSM


def run_sample(sample: Sample, folder: Path) -> tuple[int, str, str]:
    """Write the sample's files under ``folder``, run its argv; return (exit code, out, err)."""
    for name, body in sample.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    argv = [a.replace("{d}", str(folder)) for a in sample.argv]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def check(sample: Sample, code: int, err: str) -> None:
    assert "Traceback" not in err and code != 3, f"{sample.name}: {err[-2000:]}"
    if sample.must_fail:
        assert code == 1, f"{sample.name}: accepted (exit {code}); {err[-500:]}"
    else:
        assert code in (0, 1, 2), f"{sample.name}: exit {code}"
    if code == 1:
        assert err.strip(), f"{sample.name}: exit 1 without a message"
        assert any(c in err for c in sample.culprits), (
            f"{sample.name}: the message names none of {sample.culprits}: {err[-800:]}"
        )


def _params() -> list[object]:
    out = []
    for k, s in enumerate(CORPUS):
        slow = k % QUICK_EVERY or s.name.split(":")[0] in SLOW_SEEDS
        out.append(pytest.param(s, id=s.name[:80], marks=pytest.mark.slow if slow else ()))
    return out


def test_corpus_is_large_and_covers_every_kind():
    kinds = {s.name.split(":")[0] for s in CORPUS}
    assert len(CORPUS) >= 500
    assert {
        "andorra.yaml",
        "andorra_ems.yaml",
        "andorra_joint.yaml",
        "andorra_pmedian.yaml",
    } <= kinds
    assert {"andorra_pcenter.yaml", "zhuji_quota.yaml", "qingdao_sent_down.yaml"} <= kinds
    assert {"table", "phased", "data", "cli"} <= kinds


@pytest.mark.parametrize("sample", _params())
def test_malformed_input_gets_a_clear_answer(sample, tmp_path):
    code, _out, err = run_sample(sample, tmp_path)
    check(sample, code, err)
