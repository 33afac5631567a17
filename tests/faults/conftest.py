"""Show what each fault test counted (orders by status, charges, lost, duplicated; the pay answers)
at the end of the run, whether it passed or failed: pytest keeps a passing test's output to
itself, and the issue asks CI to print these counts. A test records them with record_property."""


def pytest_terminal_summary(terminalreporter):
    lines = [
        f"{report.nodeid.rsplit('::', 1)[-1]}: {name}: {value}"
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call" and report.nodeid.startswith("tests/faults/")
        for name, value in report.user_properties
    ]
    if lines:
        terminalreporter.section("fault tests: what they counted")
        for line in lines:
            terminalreporter.write_line(line)
