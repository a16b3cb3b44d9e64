"""A seeded corpus of malformed inputs for every case kind, data format and command.

Seeds: every example case in configs/ (coverage, 120, joint, p-median, p-center, quota,
sent-down) and a small table case (with a phased variant), so that each mutation exercises the
same checks a planner's file would meet. Each :class:`Sample` is the files to write, the argv
of ``python -m optimizer``, whether it must be refused (exit 1) or may be valid, and the names of
which one must appear in the message (the culprit: file, field or option).
"""

from __future__ import annotations

import copy
import io
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .test_case_validation import CASE, DEMAND, SITES, TT

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SEEDS = sorted(p.name for p in CONFIGS.glob("*.yaml") if p.stem != "zhuji")  # zhuji: data absent

PHASED = CASE.replace(
    "  max_new_sites: 1\n",
    "  phases:\n    - {name: '2025', budget: 10}\n    - {name: '2026', budget: 12}\n",
)
BAD_VALUES: list[Any] = [
    -1,
    0,
    1e300,
    float("nan"),
    float("inf"),
    True,
    [],
    {},
    None,
    "",
    10**30,
    "abc",
]


@dataclass
class Sample:
    """One malformed (or unusual but valid) input and what the toolkit must answer."""

    name: str
    argv: list[str]  # "{d}" is replaced by the sample's folder
    files: dict[str, bytes] = field(default_factory=dict)
    must_fail: bool = True  # exit 1 expected; else 0, 1 or 2 (but never a traceback)
    culprits: tuple[str, ...] = ()  # one of them must be named when it fails


def _table_files(**over: bytes) -> dict[str, bytes]:
    files = {"demand.csv": DEMAND.encode(), "sites.csv": SITES.encode(), "tt.csv": TT.encode()}
    files.update(over)
    return files


def _absolute(node: Any) -> Any:
    """Data paths of a config made absolute, so the mutated case can live in any folder."""
    if isinstance(node, dict):
        return {k: _absolute(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_absolute(v) for v in node]
    if isinstance(node, str) and ("/" in node or node.endswith((".csv", ".gz", ".pbf"))):
        candidate = (CONFIGS / node).resolve()
        if candidate.exists():
            return str(candidate)
    return node


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for k, v in enumerate(node):
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        node = node[p]
    return node


def _command(mapping: dict[str, Any]) -> str:
    return "validate"


def _dump(mapping: Any) -> bytes:
    return yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False).encode()


def _yaml_mutants(rng: random.Random, seed_name: str, text: str, n: int) -> Iterator[Sample]:
    """Mutations of one seed case, run through ``validate`` (every input check of ``run``)."""
    base = yaml.safe_load(text)
    base = _absolute(base) if seed_name in SEEDS else base
    data = {} if seed_name in SEEDS else _table_files()
    names = (*data, "case.yaml")
    argv = ["validate", "{d}/case.yaml", "-q"]
    paths = list(_paths(base))
    numeric = [
        p
        for p in paths
        if isinstance(_get(base, p), (int, float)) and not isinstance(_get(base, p), bool)
    ]
    maps = [p for p in paths if isinstance(_get(base, p), dict)] + [()]
    for k in range(n):
        op = rng.choice(["drop", "value", "unknown", "text_number", "bool", "duplicate", "text"])
        m = copy.deepcopy(base)
        tag = f"{seed_name}:{k}:{op}"
        if op == "drop" and paths:
            path = rng.choice(paths)
            parent = _get(m, path[:-1])
            del parent[path[-1]]
            yield Sample(
                f"{tag}:{_dotted(path)}", argv, {**data, "case.yaml": _dump(m)}, False, names
            )
        elif op == "value" and paths:
            path = rng.choice(paths)
            _get(m, path[:-1])[path[-1]] = rng.choice(BAD_VALUES)
            yield Sample(
                f"{tag}:{_dotted(path)}", argv, {**data, "case.yaml": _dump(m)}, False, names
            )
        elif op == "unknown":
            path = rng.choice(maps)
            target = _get(m, path)
            keys = [str(x) for x in target] or ["name"]
            typo = rng.choice(keys) + rng.choice(["_", "s", "x"])
            target[typo] = 1
            yield Sample(
                f"{tag}:{typo}", argv, {**data, "case.yaml": _dump(m)}, True, (typo, *names)
            )
        elif op in ("text_number", "bool") and numeric:
            path = rng.choice(numeric)
            _get(m, path[:-1])[path[-1]] = (
                "abc" if op == "text_number" else rng.choice([True, False])
            )
            yield Sample(
                f"{tag}:{_dotted(path)}", argv, {**data, "case.yaml": _dump(m)}, True, names
            )
        elif op == "duplicate":
            lines = _dump(m).decode().splitlines()
            # key lines only: not list items, nor the continuation lines of a folded string
            # that happen to hold a colon ("unless roads: network.")
            keyed = [i for i, ln in enumerate(lines) if re.match(r"^\s*[\w.-]+:(\s|$)", ln)]
            i = rng.choice(keyed)
            lines.insert(i + 1, lines[i])
            body = ("\n".join(lines) + "\n").encode()
            # a duplicated line that opens a block duplicates the key too: always an error
            yield Sample(f"{tag}:line{i + 1}", argv, {**data, "case.yaml": body}, True, names)
        else:
            raw = _dump(m)
            how = rng.choice(["utf16", "binary", "truncate", "nested", "gbk", "quote", "tab"])
            must = how in ("utf16", "binary", "nested", "quote")
            if how == "utf16":
                raw = raw.decode().encode("utf-16")
            elif how == "binary":
                raw = bytes(rng.randrange(256) for _ in range(300)) + b"\x00"
            elif how == "truncate":
                raw = raw[: rng.randrange(1, max(2, len(raw)))]
            elif how == "nested":
                raw = b"model: " + b"[" * 20000
            elif how == "gbk":
                raw = raw.decode().replace("name: ", "name: 县医院 ", 1).encode("gbk")
            elif how == "quote":
                raw = raw.replace(b"name: ", b"name: 'unclosed ", 1)
                must = b"name: 'unclosed " in raw
            else:
                raw = raw.replace(b"\n  ", b"\n\t", 1)  # in a block of text a tab is valid
                must = False
            yield Sample(f"{tag}:{how}", argv, {**data, "case.yaml": raw}, must, names)


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(map(str, path)) or "<root>"


def _with_xy(crs: str, urban_xy: str) -> tuple[str, dict[str, bytes]]:
    """The table case with demand coordinates in ``crs``; the urban point at ``urban_xy``."""
    demand = (
        DEMAND.replace("area\n", "area,x,y\n")
        .replace("urban\n", f"urban,{urban_xy}\n")
        .replace("rural\n", "rural,120.2,29.8\n")
    )
    case = CASE.replace("class: area}", f"class: area, x: x, y: y}}\n  crs: {crs}")
    return case, {"demand.csv": demand.encode()}


def _data_mutants(rng: random.Random, n: int) -> Iterator[Sample]:
    """Malformed data tables of the table case (CSV, GBK, Parquet), run and validated."""

    def parquet(text: str) -> bytes:
        buf = io.BytesIO()
        pd.read_csv(io.StringIO(text), dtype=str).to_parquet(buf)
        return buf.getvalue()

    bad_tables: list[tuple[str, str, bytes, bool]] = [
        ("header-only", "demand.csv", b"vid,pop,town,area\n", True),
        ("header-only", "sites.csv", b"sid,kind,capex,town,exist\n", True),
        ("header-only", "tt.csv", b"vid,sid,min\n", True),
        ("empty", "demand.csv", b"", True),
        ("empty", "sites.csv", b"", True),
        ("empty", "tt.csv", b"", True),
        ("nul", "demand.csv", DEMAND.replace("v2", "v\x002").encode(), True),
        ("nul", "tt.csv", TT.replace("v2,s2", "v2\x00,s2").encode(), True),
        ("five-fields", "tt.csv", (TT + "v3,s1,5,6,7\n").encode(), True),
        ("first-row-long", "tt.csv", TT.replace("v1,s1,5\n", "v1,s1,5,9,9\n").encode(), True),
        ("weight-text", "demand.csv", DEMAND.replace("100", "many").encode(), True),
        ("weight-negative", "demand.csv", DEMAND.replace("100", "-100").encode(), True),
        ("weight-huge", "demand.csv", DEMAND.replace("100", "1e300").encode(), True),
        ("weight-inf", "demand.csv", DEMAND.replace("100", "inf").encode(), True),
        ("dup-id", "demand.csv", DEMAND.replace("v2", "v1").encode(), True),
        ("dup-id", "sites.csv", SITES.replace("s2", "s1").encode(), True),
        ("unknown-od-id", "tt.csv", (TT + "v9,s1,5\n").encode(), True),
        ("dup-pair", "tt.csv", (TT + "v1,s1,7\n").encode(), True),
        ("tt-negative", "tt.csv", TT.replace(",5\n", ",-5\n").encode(), True),
        ("tt-text", "tt.csv", TT.replace(",5\n", ",five\n").encode(), True),
        ("missing-column", "demand.csv", DEMAND.replace("pop", "people").encode(), True),
        ("missing-column", "sites.csv", SITES.replace("capex", "price").encode(), True),
        ("missing-column", "tt.csv", TT.replace("min", "minutes").encode(), True),
        ("binary", "demand.csv", bytes(range(256)) * 3, True),
        ("binary", "tt.csv", bytes(range(256)) * 3, True),
        ("exist-text", "sites.csv", SITES.replace("t1,1", "t1,maybe").encode(), True),
        ("cost-negative", "sites.csv", SITES.replace(",10,", ",-10,").encode(), True),
        ("gbk", "demand.csv", DEMAND.replace("t1", "城关镇").encode("gbk"), False),
        ("gbk", "tt.csv", TT.encode("gbk"), False),
        ("bom", "demand.csv", b"\xef\xbb\xbf" + DEMAND.encode(), False),
        ("crlf", "tt.csv", TT.replace("\n", "\r\n").encode(), False),
        ("blank-lines", "tt.csv", (TT + "\n\n").encode(), False),
        ("unreachable-all", "tt.csv", b"vid,sid,min\nv1,s1,50\n", False),
        ("thousands", "demand.csv", DEMAND.replace("250", '"1,250"').encode(), False),
    ]
    yaml_cases = [
        (
            "parquet",
            CASE.replace("file: tt.csv", "file: tt.parquet"),
            {"tt.parquet": parquet(TT)},
            False,
        ),
        (
            "parquet",
            CASE.replace("file: demand.csv", "file: demand.parquet"),
            {"demand.parquet": parquet(DEMAND)},
            False,
        ),
        (
            "parquet-corrupt",
            CASE.replace("file: tt.csv", "file: tt.parquet"),
            {"tt.parquet": b"PAR1broken"},
            True,
        ),
        (
            "parquet-corrupt",
            CASE.replace("file: sites.csv", "file: sites.parquet"),
            {"sites.parquet": b"PAR1" + bytes(100)},
            True,
        ),
        (
            "tsv",
            CASE.replace("file: tt.csv", "file: tt.tsv"),
            {"tt.tsv": TT.replace(",", "\t").encode()},
            False,
        ),
        (
            "unsupported",
            CASE.replace("file: tt.csv", "file: tt.xlsx"),
            {"tt.xlsx": b"PK\x03\x04"},
            True,
        ),
        ("folder-as-file", CASE.replace("file: tt.csv", "file: ."), {}, True),
        ("long-path", CASE.replace("file: demand.csv", "file: " + "a" * 5000 + ".csv"), {}, True),
        ("missing-file", CASE.replace("file: sites.csv", "file: nowhere/sites.csv"), {}, True),
        ("crs-unknown", *_with_xy("EPSG:99999", "120.1,29.7"), True),
        ("lonlat-range", *_with_xy("EPSG:4326", "500,120"), True),
        ("lonlat-ok", *_with_xy("EPSG:4326", "120.1,29.7"), False),
    ]
    for k in range(n):
        command = rng.choice(["run", "validate"])
        culprits: tuple[str, ...]
        if rng.random() < 0.7:
            label, name, body, must = rng.choice(bad_tables)
            files = _table_files(**{name: body})
            yaml_text, culprits = CASE if rng.random() < 0.7 else PHASED, (name, "case.yaml")
        else:
            label, yaml_text, extra, must = rng.choice(yaml_cases)
            files = {**_table_files(), **extra}
            culprits = ("case.yaml", *extra, "demand.csv", "sites.csv", "tt.csv")
        argv = [command, "{d}/case.yaml", "-q"] + (["--out", "{d}/out"] if command == "run" else [])
        yield Sample(
            f"data:{k}:{command}:{label}",
            argv,
            {**files, "case.yaml": yaml_text.encode()},
            must,
            culprits,
        )


def _command_mutants(rng: random.Random, n: int) -> Iterator[Sample]:
    """Bad command-line values and run folders, for every command."""
    case = {**_table_files(), "case.yaml": CASE.encode()}
    bad_numbers = ["-1", "0", "nan", "inf", "-inf", "abc", ""]
    runs = ["{d}/missing", "{d}/empty", "{d}/case.yaml", "{d}/list", "{d}/garbage"]
    run_files = {
        "empty/.keep": b"",
        "list/solution.json": b"[]",
        "garbage/solution.json": b"{not json",
    }
    makers = [
        lambda: (
            ["run", "{d}/case.yaml", "--out", "{d}/o", "--time-limit", rng.choice(bad_numbers)],
            case,
            ("--time-limit",),
        ),
        lambda: (
            [
                "sweep",
                "{d}/case.yaml",
                "--param",
                "model.max_new_sites",
                "--values",
                "1,2",
                "--out",
                "{d}/s",
                "--workers",
                rng.choice(["0", "-2", "two", "1.5"]),
            ],
            case,
            ("--workers",),
        ),
        lambda: (
            [
                "sweep",
                "{d}/case.yaml",
                "--param",
                "model.max_new_sites",
                "--values",
                rng.choice(["", "a,b", "1:0:1", ",", "1:5:0", "nan"]),
                "--out",
                "{d}/s",
                "--workers",
                "1",
            ],
            case,
            ("--values", "values"),
        ),
        lambda: _bad_param(
            rng.choice(
                ["model.nothing", "model.standards[9].minutes", "", "solver", "model.standards[x]"]
            ),
            case,
        ),
        lambda: (
            ["batch", "{d}/case.yaml", "--out", "{d}/b", "--workers", rng.choice(["0", "-1", "x"])],
            case,
            ("--workers",),
        ),
        lambda: (["batch", "{d}/nothing*.yaml", "--out", "{d}/b"], case, ("batch", "nothing")),
        lambda: (["run", "{d}/case.yaml", "--out", "{d}/case.yaml"], case, ("case.yaml",)),
        lambda: (["run", "{d}/case.yaml", "--out", "{d}/demand.csv/sub"], case, ("demand.csv",)),
        lambda: (["run", "{d}", "--out", "{d}/o"], case, (" ",)),
        lambda: (["run", "{d}/missing.yaml", "--out", "{d}/o"], case, ("missing.yaml",)),
        lambda: (["report", rng.choice(runs)], {**case, **run_files}, ("RUN_DIR",)),
        lambda: (
            ["compare", rng.choice(runs), rng.choice(runs), "--out", "{d}/c"],
            {**case, **run_files},
            ("RUN_A", "RUN_B"),
        ),
        lambda: (
            [
                "prepare",
                "network",
                "{d}/" + rng.choice(["missing.graphml", "x.osm.pbf", "x.graphml.gz", "x.graphml"]),
                "--out",
                "{d}/net",
            ],
            {
                "x.osm.pbf": b"garbage" * 50,
                "x.graphml.gz": b"\x1f\x8b\x08\x00broken",
                "x.graphml": b"<graphml><graph edgedefault='directed'><node id='1'/></graph></graphml>",
            },
            ("missing.graphml", "x.osm.pbf", "x.graphml"),
        ),
        lambda: (
            ["prepare", "cells", "{d}/x.tif", "--out", "{d}/c.csv"],
            {"x.tif": b"II*\x00" + bytes(200)},
            ("x.tif",),
        ),
        lambda: (
            [
                "prepare",
                "candidates",
                "{d}/n.csv",
                "{d}/e.csv",
                "--spacing-m",
                rng.choice(["0", "-5", "nan", "x"]),
                "--out",
                "{d}/c.csv",
            ],
            {},
            ("--spacing-m",),
        ),
        lambda: (
            [
                "prepare",
                "candidates",
                "{d}/n.csv",
                "{d}/e.csv",
                "--spacing-m",
                "500",
                "--out",
                "{d}/c.csv",
            ],
            {},
            ("n.csv",),
        ),
        lambda: (
            ["prepare", "pois", "{d}/x.osm.pbf", "--out", "{d}/p.csv"],
            {"x.osm.pbf": b"\x00" * 64},
            ("x.osm.pbf",),
        ),
        # staff is an alias of run (every kind through one front door): a missing case file
        lambda: (["staff", "{d}/missing.yaml", "--out", "{d}/o"], case, ("missing.yaml",)),
        lambda: (["run", "{d}/case.yaml", "--backend", "gurobi"], case, ("--backend",)),
        lambda: (["frobnicate"], {}, ("frobnicate",)),
    ]
    for k in range(n):
        which = rng.randrange(len(makers))
        argv, files, culprits = makers[which]()
        yield Sample(f"cli:{k}:{argv[0]}:{which}", argv, dict(files), True, culprits)


def _bad_param(
    param: str, case: dict[str, bytes]
) -> tuple[list[str], dict[str, bytes], tuple[str, ...]]:
    argv = ["sweep", "{d}/case.yaml", "--param", param, "--values", "1,2", "--out", "{d}/s"]
    return [*argv, "--workers", "1"], case, ("--param", param or "param")


def corpus(seed: int = 15, per_seed: int = 40, data: int = 110, commands: int = 90) -> list[Sample]:
    """The whole corpus: mutants of every seed case, of the data tables and of the commands."""
    rng = random.Random(seed)
    out: list[Sample] = []
    for name in SEEDS:
        out += _yaml_mutants(rng, name, (CONFIGS / name).read_text(encoding="utf-8"), per_seed)
    out += _yaml_mutants(rng, "table", CASE, per_seed)
    out += _yaml_mutants(rng, "phased", PHASED, per_seed // 2)
    out += _data_mutants(rng, data)
    out += _command_mutants(rng, commands)
    return out
