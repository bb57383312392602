"""``tale doctor``: do the configured scenario's models exist and accept the settings?

Exit codes: 0 everything checked out, 1 a model is missing or refuses the settings, 2 the
check could not be made (a project, credentials or a setting is missing).
"""

from __future__ import annotations

import typer
from rich.table import Table

from shared import bootstrap
from shared.cli.common import err, out


def doctor() -> None:
    """Check the configured scenario's models: that they exist (a metadata call to the
    provider, with credentials) and accept the configured settings (Tale's dated tables).
    Nothing is generated or paid."""
    settings = bootstrap.container().settings
    if settings.scenario == "A":
        from shared.providers.google.doctor import check

        report = check(settings, lambda: bootstrap.container().genai)
        table = Table(title="Scenario A: Google models on Vertex AI")
        for column in ("for", "model", "checked in", "", "detail"):
            table.add_column(column, no_wrap=column in ("for", "model"))
        for f in report.findings:
            mark = "[green]ok[/green]" if f.ok else "[red]FAIL[/red]"
            table.add_row(f.role, f.model, f.where, mark, f.detail)
        out.print(table)
        for missing in report.missing:
            err.print(f"[red]missing:[/red] {missing}")
        raise typer.Exit(report.exit_code)
    if settings.scenario == "B":
        _self_hosted()
    out.print("Scenario offline: the offline generators need no model and no credentials.")


def _self_hosted() -> None:
    from shared.providers.capabilities import check_renderable

    settings = bootstrap.container().settings
    missing = [
        name
        for name, value in (
            ("TALE_GPU_JOB (the Cloud Run GPU job)", settings.gpu_job),
            ("TALE_PLANNER_URL (the self-hosted language model)", settings.planner_url),
        )
        if not value
    ]
    refused = check_renderable(settings, "9:16", 8)
    status = "cannot render the default 9:16 tale: " + refused.reason if refused else "renders 9:16"
    out.print(f"Scenario B: video model {settings.gpu_pipeline} {status}")
    for name in missing:
        err.print(f"[red]missing:[/red] {name}")
    raise typer.Exit(2 if missing else 1 if refused else 0)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
