"""The comparison kit's report: one results dict in, a folder of Markdown, charts, CSV and JSON out.

`shop compare` and `shop exercise` measure; this module only writes what they measured, so that
both produce the same report format and a teacher can regenerate a report from its results.json
(`python -m shopctl.report results/<run>/results.json`). The results dict:

    {
      "kind": "compare" | "exercise", "title": str, "created": ISO time,
      "machine": {"hostname", "cpus", "memory_gib", "platform", "python", "load_average", "load_average_after"},
      "versions": {name: version}, "options": {name: value},
      "stages": [0, 1, 2],                     # the stages measured, stage 0 first if there
      "pages": {"<stage>": {"<page type>": {"requests", "failures", "rps", "p50", "p95", "p99"}}},
                                               # latencies in ms; the page type "all" sums them all
      "processes": {"<stage>": {"<process>": {"cpu_ms_per_request", "pss_mib", "sql_per_request"}}},
                                               # memory: Pss (shopctl/procstat.py); SQL: Django processes only
      "per_request": {"<stage>": {"sql_queries", "service_calls", "load_cpu_ms"}},
      "notes": [str],                          # what ran, and what could not be measured
      "rounds": {"<stage>": [{"round", "requests", "failures", "seconds", "rps"}]},   # each window alone
      # an exercise only:
      "fault": {"name", "description", "start_s", "end_s"},
      "timeline": {"<stage>": [{"t", "page", "requests", "failures", "p95"}]},   # one row a second and page type
      "page_groups": {"<group>": ["<page type>", ...]},  # the timeline's lines (default: one per page type)
      "pending_payments": {"<stage>": [{"t", "pending", "commits_due"}]},  # payments not settled yet, and
                                               # paid orders' stock commits due (the relay's work)
      "during_fault": {"<stage>": {"<page type>": {"requests", "failures", "p95"}}},  # and "before_fault"
      "recovery_s": {"<stage>": seconds or None},
      "data_check": {"<stage>": {"orders", "lost", "charged_twice", "stock_exact", ...}},
    }

Stages are string keys (JSON's), in the order of "stages". Every figure is optional: a chart or a
table row without data says so instead of failing, so a partial run still gives a report.
"""

import argparse
import csv
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server, in CI or over ssh
import matplotlib.pyplot as plt

# One colour per stage and per process, the same in every chart of every report.
STAGE_COLOURS = {"0": "#4c72b0", "1": "#dd8452", "2": "#55a868"}
PROCESS_COLOURS = {
    "facade": "#8172b3",
    "monolith": "#4c72b0",
    "catalog": "#dd8452",
    "payments": "#55a868",
    "relay": "#937860",
    "postgres": "#64b5cd",
    # The PostgreSQL backends of each deployable's database (shop compare measures them apart).
    "postgres:monolith": "#64b5cd",
    "postgres:catalog": "#a6d8e8",
    "postgres:payments": "#2a7f9e",
    "load": "#bbbbbb",
}
PERCENTILES = ("p50", "p95", "p99")


def write(results: dict, folder: Path) -> Path:
    """Write report.md, the charts, pages.csv, processes.csv and results.json into folder; returns report.md."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    _write_csv(results, folder)
    charts = {
        "throughput": _throughput_chart(results, folder / "throughput.png"),
        "latency": _latency_chart(results, folder / "latency.png"),
    }
    # An exercise measures what shoppers saw, not what each process cost.
    if results.get("kind") != "exercise":
        charts["cpu"] = _cpu_chart(results, folder / "cpu.png")
        charts["memory"] = _memory_chart(results, folder / "memory.png")
    if results.get("timeline"):
        charts["timeline"] = _timeline_chart(results, folder / "timeline.png")
    report = folder / "report.md"
    report.write_text(_markdown(results, charts))
    return report


# --- figures derived from the results -------------------------------------------------------------


def stages(results: dict) -> list[str]:
    return [str(stage) for stage in results.get("stages", [])]


def page_types(results: dict) -> list[str]:
    """Every page type measured, in the order first met, "all" last."""
    seen = []
    for stage in stages(results):
        for page in results.get("pages", {}).get(stage, {}):
            if page != "all" and page not in seen:
                seen.append(page)
    return [*seen, "all"]


# The page types of the API readers are named api-... (shopctl/workload.py); the others are the
# shoppers' pages. Two groups, so that a shift between them shows (docs/benchmarks.md).
PAGE_GROUPS = ("shopper pages", "API reads")


def page_groups(results: dict, stage: str) -> dict[str, float]:
    """Requests per second of each group of page types at stage; {} unless both were measured."""
    totals = dict.fromkeys(PAGE_GROUPS, 0.0)
    for page, row in results.get("pages", {}).get(stage, {}).items():
        if page != "all" and row.get("rps") is not None:
            totals[PAGE_GROUPS[page.startswith("api-")]] += row["rps"]
    return totals if all(totals.values()) else {}


def ratio(value, base):
    """value / base, or None when either is missing or base is 0."""
    if value is None or not base:
        return None
    return value / base


def cpu_total(results: dict, stage: str):
    processes = results.get("processes", {}).get(stage, {})
    values = [p.get("cpu_ms_per_request") for p in processes.values() if p.get("cpu_ms_per_request") is not None]
    return sum(values) if values else None


def _page(results, stage, page):
    return results.get("pages", {}).get(stage, {}).get(page, {})


def _fmt(value, digits=1):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _fmt_ratio(value):
    return "–" if value is None else f"**{value:.2f}**"


# --- CSV ----------------------------------------------------------------------------------------------


def _write_csv(results, folder):
    with open(folder / "pages.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["stage", "page", "requests", "failures", "error_rate", "rps", "p50_ms", "p95_ms", "p99_ms"])
        for stage in stages(results):
            for page, row in results.get("pages", {}).get(stage, {}).items():
                requests, failures = row.get("requests", 0), row.get("failures", 0)
                writer.writerow(
                    [
                        stage,
                        page,
                        requests,
                        failures,
                        round(failures / requests, 4) if requests else "",
                        row.get("rps"),
                        row.get("p50"),
                        row.get("p95"),
                        row.get("p99"),
                    ]
                )
    with open(folder / "processes.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["stage", "process", "cpu_ms_per_request", "pss_mib", "sql_per_request"])
        for stage in stages(results):
            for process, row in results.get("processes", {}).get(stage, {}).items():
                writer.writerow(
                    [stage, process, row.get("cpu_ms_per_request"), row.get("pss_mib"), row.get("sql_per_request")]
                )
    if results.get("timeline"):
        with open(folder / "timeline.csv", "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["stage", "t_s", "page", "requests", "failures", "p95_ms"])
            for stage in stages(results):
                for row in results["timeline"].get(stage, []):
                    writer.writerow([stage, row["t"], row["page"], row["requests"], row["failures"], row.get("p95")])


# --- charts -------------------------------------------------------------------------------------------


def _no_data(axes, what):
    axes.text(0.5, 0.5, f"no {what} measured", ha="center", va="center", transform=axes.transAxes, color="#888")
    axes.set_xticks([])
    axes.set_yticks([])


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path.name


def _throughput_chart(results, path):
    """Requests per second of the whole mix, one bar per stage, with its ratio to stage 0; split
    into the shoppers' pages and the API reads when both were measured, each with its own ratio
    (in a closed loop the faster kind sends more, so the whole mix's ratio hides a shift)."""
    figure, axes = plt.subplots(figsize=(6.5, 4.5))
    labels = stages(results)
    values = [_page(results, stage, "all").get("rps") for stage in labels]
    if not any(values):
        _no_data(axes, "throughput")
        return _save(figure, path)
    names = [f"stage {s}" for s in labels]
    colours = [STAGE_COLOURS.get(s, "#999") for s in labels]
    base_stage = labels[0] if labels and labels[0] == "0" else None
    groups = {stage: page_groups(results, stage) for stage in labels}
    if all(groups.values()):
        bottom = [0.0] * len(labels)
        for group, hatch in zip(PAGE_GROUPS, ("", "//"), strict=True):
            heights = [groups[stage][group] for stage in labels]
            bars = axes.bar(names, heights, bottom=bottom, color=colours, hatch=hatch, edgecolor="white")
            for bar, stage, height, low in zip(bars, labels, heights, bottom, strict=True):
                text = f"{group}\n{height:.1f}"
                if base_stage and stage != base_stage and groups[base_stage][group]:
                    text += f" ×{height / groups[base_stage][group]:.2f}"
                axes.annotate(
                    text,
                    (bar.get_x() + bar.get_width() / 2, low + height / 2),
                    ha="center",
                    va="center",
                    fontsize=8,
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.85, "linewidth": 0},
                )
            bottom = [low + height for low, height in zip(bottom, heights, strict=True)]
        axes.set_title("Throughput per stage, higher is better (API reads hatched)")
    else:
        axes.bar(names, [v or 0 for v in values], color=colours)
        axes.set_title("Throughput per stage (higher is better)")
    base = values[0] if base_stage else None
    for index, value in enumerate(values):
        text = _fmt(value)
        if base and value is not None:
            text += f" in all, ×{value / base:.2f}"
        axes.annotate(text, (index, value or 0), ha="center", va="bottom", fontsize=9)
    axes.set_ylabel("requests per second")
    axes.set_ylim(0, max(v or 0 for v in values) * 1.15 or 1)
    return _save(figure, path)


def _latency_chart(results, path):
    """p50, p95 and p99 per page type: one group per page type, one bar per stage, p50 solid,
    p95 and p99 as lighter marks above it."""
    pages = [page for page in page_types(results) if any(_page(results, s, page) for s in stages(results))]
    figure, axes = plt.subplots(figsize=(max(7, len(pages) * 0.9), 4.5))
    if not pages:
        _no_data(axes, "latency")
        return _save(figure, path)
    labels = stages(results)
    width = 0.8 / max(1, len(labels))
    for index, stage in enumerate(labels):
        xs = [i + (index - (len(labels) - 1) / 2) * width for i in range(len(pages))]
        p50 = [_page(results, stage, page).get("p50") or 0 for page in pages]
        axes.bar(xs, p50, width, color=STAGE_COLOURS.get(stage, "#999"), label=f"stage {stage} p50")
        for key, marker in (("p95", "_"), ("p99", "x")):
            values = [_page(results, stage, page).get(key) for page in pages]
            axes.scatter(
                [x for x, v in zip(xs, values, strict=True) if v],
                [v for v in values if v],
                marker=marker,
                s=60,
                color=STAGE_COLOURS.get(stage, "#999"),
            )
    # The markers' meaning once, in grey, whatever the stage's colour.
    axes.scatter([], [], marker="_", s=60, color="#555", label="p95")
    axes.scatter([], [], marker="x", s=60, color="#555", label="p99")
    axes.set_xticks(range(len(pages)))
    axes.set_xticklabels(pages, rotation=30, ha="right")
    axes.set_ylabel("milliseconds")
    axes.set_title("Latency per page type: bar p50, – p95, × p99 (lower is better)")
    axes.legend(fontsize=8, ncol=2)
    return _save(figure, path)


def _stacked_chart(results, path, field, ylabel, title, what):
    figure, axes = plt.subplots(figsize=(7.5, 4.5))
    # Only the stages whose processes were measured: an empty bar would read as "costs nothing".
    labels = [stage for stage in stages(results) if results.get("processes", {}).get(stage)]
    processes = []
    for stage in labels:
        for process in results.get("processes", {}).get(stage, {}):
            if process not in processes:
                processes.append(process)
    # The same order in every chart and stage, whichever stage met a process first: the servers, then PostgreSQL.
    known = list(PROCESS_COLOURS)
    processes.sort(key=lambda name: known.index(name) if name in known else len(known))
    if not processes:
        _no_data(axes, what)
        return _save(figure, path)
    bottoms = [0.0] * len(labels)
    for process in processes:
        values = [results["processes"].get(stage, {}).get(process, {}).get(field) or 0 for stage in labels]
        axes.bar(
            [f"stage {s}" for s in labels],
            values,
            bottom=bottoms,
            label=process,
            color=PROCESS_COLOURS.get(process, "#999"),
        )
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    for index, total in enumerate(bottoms):
        axes.annotate(_fmt(total), (index, total), ha="center", va="bottom", fontsize=9)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    # Beside the bars, never over them, top to bottom in the order of the stack.
    handles, names = axes.get_legend_handles_labels()
    axes.legend(handles[::-1], names[::-1], fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))
    # Room for the totals above the bars (margins() alone let a bar's top touch the title).
    axes.set_ylim(0, max(bottoms) * 1.15 or 1)
    return _save(figure, path)


def _cpu_chart(results, path):
    return _stacked_chart(
        results,
        path,
        "cpu_ms_per_request",
        "CPU milliseconds per request",
        "CPU per request, by process (lower is better)",
        "CPU",
    )


def _memory_chart(results, path):
    return _stacked_chart(
        results,
        path,
        "pss_mib",
        "memory (Pss: shared pages split), MiB",
        "Memory of the stage's processes (lower is better)",
        "memory",
    )


def _timeline_chart(results, path):
    """Per stage: failures per second and p95 per group of page types across the run (and the
    payments waiting, when measured), the fault window shaded from its start to the moment it was
    removed, a dashed line where its removal began."""
    labels = [stage for stage in stages(results) if results["timeline"].get(stage)]
    pending = results.get("pending_payments", {})
    columns = 3 if any(pending.get(stage) for stage in labels) else 2
    figure, rows = plt.subplots(len(labels), columns, figsize=(5.5 * columns, 3.6 * len(labels)), squeeze=False)
    fault = results.get("fault", {})
    for axes_row, stage in zip(rows, labels, strict=True):
        errors, latency = axes_row[0], axes_row[1]
        groups = _timeline_groups(results, stage)
        # Every second of the run: a second without a request of the group failed nothing (0) and
        # has no p95 (a gap in the line, not a line drawn across it).
        seconds = range(max((max(points) for points in groups.values()), default=0) + 1)
        for group, points in groups.items():
            errors.plot(seconds, [points.get(t, {}).get("failures", 0) for t in seconds], label=group, linewidth=1.4)
            latency.plot(
                seconds,
                [points.get(t, {}).get("p95") or float("nan") for t in seconds],
                label=group,
                linewidth=1.4,
                marker=".",
            )
        if columns == 3:
            waiting = pending.get(stage, [])
            top = 1
            for key, label, colour in (
                ("pending", "payments not settled", "#937860"),
                ("commits_due", "stock commits due", "#64b5cd"),
            ):
                values = [p.get(key) or 0 for p in waiting]
                axes_row[2].plot([p["t"] for p in waiting], values, color=colour, label=label)
                top = max(top, *values) if values else top
            axes_row[2].set_ylim(bottom=0, top=top * 1.15)
            axes_row[2].set_ylabel("orders")
            axes_row[2].set_title(f"stage {stage}: what waits for the relay")
            axes_row[2].legend(fontsize=7)
        for axes in axes_row:
            if fault.get("start_s") is not None:
                axes.axvspan(
                    fault["start_s"],
                    fault.get("end_s") or fault["start_s"],
                    color="#d62728",
                    alpha=0.12,
                    label="fault injected",
                )
                if fault.get("restore_s") and fault.get("restore_s") != fault.get("end_s"):
                    axes.axvline(
                        fault["restore_s"], color="#d62728", linestyle="--", linewidth=0.8, label="removal began"
                    )
            axes.set_xlabel("seconds since the load started")
        errors.set_ylim(bottom=0, top=max(1, errors.get_ylim()[1]))
        errors.set_ylabel("failed requests per second")
        errors.set_title(f"stage {stage}: what failed")
        latency.set_ylabel("p95 ms, slowest page type of the group (log)")
        latency.set_yscale("log")
        latency.set_title(f"stage {stage}: how slow")
        errors.legend(fontsize=7)
    figure.suptitle(f"{fault.get('name', 'exercise')}: the shopper's view, second by second")
    return _save(figure, path)


def _timeline_groups(results, stage):
    """{group: {second: {"failures", "p95"}}}: the failures of the group's page types summed, the
    p95 of the slowest of them (page_groups; one group per page type when the results have none)."""
    group_of = {page: group for group, pages in results.get("page_groups", {}).items() for page in pages}
    groups = {}
    for row in results["timeline"][stage]:
        point = groups.setdefault(group_of.get(row["page"], row["page"]), {}).setdefault(
            row["t"], {"failures": 0, "p95": None}
        )
        point["failures"] += row["failures"]
        if row.get("p95") is not None:
            point["p95"] = max(point["p95"] or 0, row["p95"])
    # In page_groups' order, so that each group has the same colour in every report.
    order = [*results.get("page_groups", {}), *sorted(groups)]
    return {group: groups[group] for group in dict.fromkeys(order) if group in groups}


# --- Markdown -------------------------------------------------------------------------------------------


def _markdown(results, charts):
    labels = stages(results)
    # Ratios to stage 0 only when there is another stage to compare (an exercise runs one).
    base = "0" if "0" in labels and len(labels) > 1 else None
    lines = [f"# {results.get('title', 'Comparison')}", ""]
    machine = results.get("machine", {})
    lines += [
        f"Made {results.get('created', '?')} on {machine.get('hostname', '?')} "
        f"({machine.get('cpus', '?')} cores, {machine.get('memory_gib', '?')} GiB, {machine.get('platform', '?')}, "
        f"Python {machine.get('python', '?')})"
        + (
            f"; load average {_loads(machine['load_average'])} before, {_loads(machine.get('load_average_after'))} after."
            if machine.get("load_average")
            else "."
        ),
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(results.get("versions", {}).items())) + ".",
        "",
        "Options: " + ", ".join(f"`{k}={v}`" for k, v in sorted(results.get("options", {}).items())) + ".",
        "",
        "Everything ran on this one machine: the shoppers, nginx, gunicorn and PostgreSQL share its cores. Read the",
        "figures as ratios between stages measured side by side, not as what the shop can do on its own hardware.",
        "",
    ]
    if results.get("notes"):
        lines += ["## What ran", "", *[f"- {note}" for note in results["notes"]], ""]
    if results.get("fault"):
        fault = results["fault"]
        lines += [
            f"## The fault: {fault.get('name')}",
            "",
            f"{fault.get('description', '')} Injected from {fault.get('start_s')} s to {fault.get('end_s')} s "
            "after the load started.",
            "",
        ]
    lines += ["## Throughput", "", f"![throughput per stage]({charts['throughput']})", ""]
    header = "| page type | " + " | ".join(f"stage {s} req/s" for s in labels)
    if base:
        header += " | " + " | ".join(f"stage {s} / 0" for s in labels if s != base)
    lines += [header + " |", "|---|" + "---:|" * (len(labels) + (len(labels) - 1 if base else 0))]
    groups = {stage: page_groups(results, stage) for stage in labels}
    for page in page_types(results):
        if page == "all" and all(groups.values()):
            for group in PAGE_GROUPS:
                row = [_fmt(groups[s][group]) for s in labels]
                if base:
                    row += [_fmt_ratio(ratio(groups[s][group], groups[base][group])) for s in labels if s != base]
                lines.append(f"| *{group}* | " + " | ".join(row) + " |")
        row = [_fmt(_page(results, s, page).get("rps")) for s in labels]
        if base:
            row += [
                _fmt_ratio(ratio(_page(results, s, page).get("rps"), _page(results, base, page).get("rps")))
                for s in labels
                if s != base
            ]
        lines.append(f"| {page} | " + " | ".join(row) + " |")
    if results.get("rounds"):
        lines += _rounds(results)
    lines += ["", "## Latency and errors", "", f"![latency per page type]({charts['latency']})", ""]
    lines += [
        "| page type | stage | requests | errors | error rate | p50 ms | p95 ms | p99 ms | p50 / stage 0 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for page in page_types(results):
        for stage in labels:
            row = _page(results, stage, page)
            if not row:
                continue
            requests, failures = row.get("requests", 0), row.get("failures", 0)
            rate = f"{failures / requests:.2%}" if requests else "–"
            p50_ratio = ratio(row.get("p50"), _page(results, base, page).get("p50")) if base and stage != base else None
            lines.append(
                f"| {page} | {stage} | {requests:,} | {failures:,} | {rate} | {_fmt(row.get('p50'))} | "
                f"{_fmt(row.get('p95'))} | {_fmt(row.get('p99'))} | {_fmt_ratio(p50_ratio)} |"
            )
    if "cpu" in charts:
        lines += _processes_markdown(results, charts, labels, base)
    if results.get("per_request"):
        lines += [
            "",
            "## Work per request",
            "",
            "| stage | SQL queries per request | service calls per request | load generator's CPU ms per request |",
            "|---:|---:|---:|---:|",
        ]
        for stage in labels:
            row = results["per_request"].get(stage, {})
            lines.append(
                f"| {stage} | {_fmt(row.get('sql_queries'), 2)} | {_fmt(row.get('service_calls'), 2)} | "
                f"{_fmt(row.get('load_cpu_ms'), 2)} |"
            )
    if results.get("during_fault"):
        lines += _fault_markdown(results, labels)
    if results.get("timeline"):
        lines += ["", "## Second by second", "", f"![timeline]({charts['timeline']})", ""]
        for stage in labels:
            recovered = results.get("recovery_s", {}).get(stage)
            text = (
                "did not recover before the load ended"
                if recovered is None
                else f"recovered {recovered:.1f} s after the fault was removed"
            )
            lines.append(f"- stage {stage}: {text}.")
        if results.get("kind") == "exercise":
            lines += ["", "Recovery and the data check are defined in docs/exercises.md."]
    if results.get("data_check"):
        lines += [
            "",
            "## Nothing lost?",
            "",
            "| stage | " + " | ".join(_data_keys(results)) + " |",
            "|---:|" + "---:|" * len(_data_keys(results)),
        ]
        for stage in labels:
            check = results["data_check"].get(stage, {})
            lines.append(f"| {stage} | " + " | ".join(str(check.get(key, "–")) for key in _data_keys(results)) + " |")
    lines += [
        "",
        "Raw figures: `results.json`, `pages.csv`, `processes.csv`"
        + (", `timeline.csv`" if results.get("timeline") else "")
        + ".",
        "",
    ]
    return "\n".join(lines)


def _loads(values):
    return "–" if not values else " / ".join(f"{value:.2f}" for value in values)


def _rounds(results):
    """Each round's throughput per stage: how far the rounds scatter, which the ratios should be read against."""
    labels = stages(results)
    count = max((len(results["rounds"].get(stage, [])) for stage in labels), default=0)
    if count < 2:
        return []
    lines = [
        "",
        "Each round alone (requests per second of the whole mix; the stages took turns, in alternating order):",
        "",
        "| round | " + " | ".join(f"stage {s}" for s in labels) + " |",
        "|---:|" + "---:|" * len(labels),
    ]
    for index in range(count):
        cells = []
        for stage in labels:
            rounds = results["rounds"].get(stage, [])
            cells.append(_fmt(rounds[index].get("rps")) if index < len(rounds) else "–")
        lines.append(f"| {index + 1} | " + " | ".join(cells) + " |")
    return lines


def _processes_markdown(results, charts, labels, base):
    lines = [
        "",
        "## CPU and memory by process",
        "",
        f"![CPU per request]({charts['cpu']})",
        "",
        f"![memory by process]({charts['memory']})",
        "",
        "| stage | process | CPU ms per request | memory MiB (Pss) | SQL statements per request |",
        "|---:|---|---:|---:|---:|",
    ]
    for stage in labels:
        for process, row in results.get("processes", {}).get(stage, {}).items():
            lines.append(
                f"| {stage} | {process} | {_fmt(row.get('cpu_ms_per_request'), 2)} | {_fmt(row.get('pss_mib'))} | "
                f"{_fmt(row.get('sql_per_request'), 2)} |"
            )
        total = cpu_total(results, stage)
        ratio_text = ""
        if base and stage != base:
            ratio_text = f" (× {_fmt(ratio(total, cpu_total(results, base)), 2)} of stage 0)"
        memory = [row.get("pss_mib") for row in results.get("processes", {}).get(stage, {}).values()]
        memory_total = sum(value for value in memory if value is not None) if any(memory) else None
        lines.append(f"| {stage} | **all** | **{_fmt(total, 2)}**{ratio_text} | **{_fmt(memory_total)}** | |")
    return lines


def _fault_markdown(results, labels):
    """Per stage and page type: before the fault and during it (the exercises)."""
    lines = [
        "",
        "## Before and during the fault",
        "",
        "p95 is the slowest second's p95 in each window.",
        "",
        "| stage | page type | requests before | failed before | p95 before | requests during | failed during | p95 during |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for stage in labels:
        before = results.get("before_fault", {}).get(stage, {})
        during = results["during_fault"].get(stage, {})
        for page in [page for page in page_types(results) if page in during or page in before]:
            row, was = during.get(page, {"requests": 0, "failures": 0}), before.get(page, {})
            lines.append(
                f"| {stage} | {page} | {was.get('requests', 0)} | {was.get('failures', 0)} | {_fmt(was.get('p95'), 0)} | "
                f"{row['requests']} | {row['failures']} | {_fmt(row.get('p95'), 0)} |"
            )
    return lines


def _data_keys(results):
    keys = []
    for check in results.get("data_check", {}).values():
        keys += [key for key in check if key not in keys]
    return keys


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write a report folder again from its results.json.")
    parser.add_argument("results", type=Path, help="a results.json written by shop compare or shop exercise")
    parser.add_argument("--out", type=Path, default=None, help="the folder to write (default: the results' own)")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    print(write(results, args.out or args.results.parent))


if __name__ == "__main__":
    main()
