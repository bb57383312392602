"""``tale backup export PATH`` / ``tale backup restore PATH``: the embedded default's home.

What is exported and how a restore is checked: ``shared.runtime.backup``. On GCP the data is
in Firestore and Supabase, backed up by the platform (``docs/operations.md``); these commands
refuse to run there. A home in use by ``tale run`` / ``tale serve``, an archive that fails its
checksums, or a non-empty home without ``--force`` get one line on stderr and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared import bootstrap
from shared.cli.common import fail_input, out
from shared.runtime.backup import BackupError, Manifest, export_home, restore_home

app = typer.Typer(
    help="Back up and restore the local home (every store, the media and the keys).",
    no_args_is_help=True,
)


def _home() -> Path:
    container = bootstrap.container()
    if container.on_gcp:
        fail_input(
            "on GCP the data is in Firestore and Supabase: use their backups "
            "(docs/operations.md); tale backup works on the local home"
        )
    return container.home


def _summary(manifest: Manifest) -> str:
    databases = sum(1 for e in manifest.files if e.sqlite)
    return (
        f"{len(manifest.files)} files ({databases} databases), "
        f"{manifest.total_bytes / 1e6:,.1f} MB, every one with its SHA-256"
    )


@app.command("export")
def export_command(
    path: Annotated[Path, typer.Argument(help="The archive to write (.tar.gz).")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing archive.")] = False,
) -> None:
    """Write a consistent archive of the home (the runtime must not be running)."""
    home = _home()
    if path.exists() and not force:
        fail_input(f"{path} exists; use --force to replace it")
    try:
        manifest = export_home(home, path)
    except BackupError as exc:
        fail_input(str(exc))
    out.print(f"exported {home} to {path}: {_summary(manifest)}", soft_wrap=True, highlight=False)


@app.command("restore")
def restore_command(
    path: Annotated[Path, typer.Argument(help="An archive written by tale backup export.")],
    force: Annotated[
        bool, typer.Option("--force", help="Empty a non-empty home first (its data is lost).")
    ] = False,
) -> None:
    """Restore an archive into an empty home, after checking every file's checksum."""
    home = _home()
    if not path.is_file():
        fail_input(f"no such archive: {path}")
    try:
        manifest = restore_home(path, home, force=force)
    except BackupError as exc:
        fail_input(str(exc))
    tales = len(bootstrap.container().store.list_tales(limit=100_000))
    out.print(
        f"restored {path} into {home}: {_summary(manifest)} verified; {tales} tale(s)",
        soft_wrap=True,
        highlight=False,
    )


def register(root: typer.Typer) -> None:
    """Add ``tale backup`` to the command line (once)."""
    if not any(group.name == "backup" for group in root.registered_groups):
        root.add_typer(app, name="backup")
