"""Render the table of bench/README.md from bench/results/*.json (between the two markers).

Every benchmark writes {"benchmark", "finished", "machine", "rows": [{"name", "ours",
"baseline", "ratio", "unit", "target", "met"}], "details"} (bench/harness.py: ``row``, ``write``).

    .venv/bin/python bench/report.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
ORDER = ["ingest", "e2e", "drain", "overload", "scaleout"]


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def render(results: list[dict[str, Any]]) -> str:
    lines = [
        "| benchmark | ours | baseline | ratio | unit | target | met |",
        "| --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for result in results:
        for r in result.get("rows", []):
            met = {True: "yes", False: "**no**", None: ""}[r.get("met")]
            lines.append(
                f"| {r['name']} | {_cell(r.get('ours'))} | {_cell(r.get('baseline'))} "
                f"| {_cell(r.get('ratio'))} | {r.get('unit', '')} | {r.get('target', '')} | {met} |"
            )
    # Only the benchmarks with rows here (bench_assets writes a summary of its own).
    machines = {
        json.dumps(r["machine"], sort_keys=True): r
        for r in results
        if "machine" in r and r.get("rows")
    }
    lines.append("")
    for result in machines.values():
        m = result["machine"]
        lines.append(
            f"Machine: {m.get('cores')} cores ({m.get('cpu')}), {m.get('memory_gb')} GB RAM, "
            f"PostgreSQL {m.get('postgresql')}, Python {m.get('python')}; load average at the "
            f"start of `{result['benchmark']}`: {m.get('load_average_at_start')}; "
            f"finished {result.get('finished')}."
        )
    return "\n".join(lines)


def main() -> None:
    found = {
        p.stem: json.loads(p.read_text())
        for p in sorted((HERE / "results").glob("*.json"))
        if not p.stem.startswith("profile")
    }
    names = [n for n in ORDER if n in found] + sorted(n for n in found if n not in ORDER)
    table = render([found[n] for n in names])
    text = README.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    README.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")
    print(table)


if __name__ == "__main__":
    main()
