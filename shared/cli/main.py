"""``tale``: run stories through the embedded local runtime and inspect tales.

Exit codes: 0 success, 1 the tale failed or was cancelled, 2 bad input or usage.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from schemas.story import StorySubmission, Style
from shared import bootstrap, service
from shared.cli.common import drive, fail_input, local_runtime, out
from shared.cli.said import language_line, said_in_story_language
from shared.cli.views import events_table, tale_detail, tales_table
from shared.config import Settings
from shared.domain.errors import IllegalTransition, InvalidStory, TaleNotFound
from shared.domain.tale import TaleRecord, TaleState

app = typer.Typer(
    help="Tale: a story becomes a short video.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main_options(
    home: Annotated[
        Path | None,
        typer.Option(help="State and media folder (env TALE_HOME).", envvar="TALE_HOME"),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log retries.")] = False,
) -> None:
    from shared.observability.logs import setup_logging

    settings = Settings(home=home) if home else Settings()
    # Console lines locally; Cloud Logging JSON with TALE_LOG_FORMAT=json (every record).
    loud = verbose or settings.log_format == "json"
    setup_logging(settings, level=logging.INFO if loud else logging.ERROR, target="stderr")
    bootstrap.configure(settings)


def describe(exc: ValidationError) -> str:
    """One line per problem, naming the option or 'story' rather than model fields."""
    names = {
        "text": "story",
        "aspect_ratio": "--aspect (aspect_ratio)",
        "shot_count": "--shots (shot_count)",
        "shot_seconds": "--seconds (shot_seconds)",
        "language": "--language (language)",
        "options.voice": "--voice (options.voice)",
        "options.captions": "--captions (options.captions)",
    }
    lines = []
    for e in exc.errors():
        field = ".".join(str(p) for p in e["loc"])
        lines.append(f"{names.get(field, field)}: {e['msg'].removeprefix('Value error, ')}")
    return "; ".join(lines)


def read_story(path: Path) -> str:
    if not path.exists():
        fail_input(f"no such file: {path}")
    if not path.is_file():
        fail_input(f"not a file: {path}")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        fail_input(f"{path} is not UTF-8 text (is it a binary file?)")


def _report(tale: TaleRecord) -> None:
    container = bootstrap.container()
    if tale.state is TaleState.COMPLETED:
        out.print(f"[green]✓[/green] {tale.title} ({tale.tale_id})")
        out.print("  " + said_in_story_language(tale), soft_wrap=True, highlight=False)
        for name, path in tale.outputs.items():
            if ":" in name:  # an earlier cut's (``cut<n>:<name>``): not this one
                continue
            shown = path if name == "email" else container.blobs.uri(path).removeprefix("file://")
            out.print(f"  {name:<10} {shown}", soft_wrap=True, highlight=False)
        cuts = sorted({n.split(":")[0] for n in tale.outputs if n.startswith("cut")})
        if cuts:
            out.print(f"  revision {tale.revision}; earlier cuts kept: {', '.join(cuts)}")
        _email_to(tale)
        return
    if tale.state is TaleState.AWAITING_APPROVAL:
        out.print(
            f"Storyboard of {tale.tale_id} is ready. Approve with: "
            f"[bold]tale approve {tale.tale_id}[/bold]"
        )
        return
    out.print(f"[red]✗[/red] {tale.tale_id} {tale.state}: {tale.error_stage}: {tale.error_reason}")
    out.print("  " + said_in_story_language(tale), soft_wrap=True, highlight=False)
    if "email" in tale.outputs:
        out.print(f"  email      {tale.outputs['email']}", soft_wrap=True, highlight=False)
        _email_to(tale)
    raise typer.Exit(1)


def _email_to(tale: TaleRecord) -> None:
    """Say where an operator's run was emailed (a user's tale goes to their profile's address,
    which the operator's console does not show)."""
    settings = bootstrap.container().settings
    if tale.owner == settings.owner and "email" in tale.outputs:
        out.print(
            f"  to         {settings.owner_email} (TALE_OWNER_EMAIL: operator runs go there)",
            soft_wrap=True,
            highlight=False,
        )


@app.command()
def run(
    story: Annotated[
        Path,
        typer.Argument(
            help="A UTF-8 text file with the story (Korean, English, Japanese or "
            "Chinese; an optional first line is the title)."
        ),
    ],
    language: Annotated[
        str | None,
        typer.Option(
            help="ko, en, ja or zh (default: detected by script: Hangul ko, kana ja, "
            "Han without kana zh, otherwise en)."
        ),
    ] = None,
    style: Annotated[Style, typer.Option(help="Visual style.")] = Style.STORYBOOK,
    aspect: Annotated[str, typer.Option(help="9:16, 16:9 or 1:1.")] = "9:16",
    shots: Annotated[int, typer.Option(help="Number of shots (1-16).")] = 8,
    seconds: Annotated[int, typer.Option(help="Seconds per shot: 4, 6 or 8.")] = 8,
    approval: Annotated[
        bool, typer.Option("--approval", help="Stop for storyboard approval.")
    ] = False,
    voice: Annotated[
        str,
        typer.Option(
            help="The narrator: one of the scenario's voices for the story's language "
            "(default: that language's first); 'none': no narration."
        ),
    ] = "",
    captions: Annotated[
        str,
        typer.Option(
            help="off (only the .srt/.vtt files), soft (a subtitle track) or burned (drawn "
            "into the frames)."
        ),
    ] = "soft",
    music: Annotated[
        Path | None,
        typer.Option(
            help="Background music: an audio file (MP3, AAC, MP4/M4A, WAV, Ogg, FLAC or "
            "WebM; at most 20 MiB and 10 minutes), looped under the video and ducked under "
            "the narration."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live progress.")] = False,
) -> None:
    """Submit a story and run it to a finished video; print where the outputs are. The
    notification email of an operator's run goes to TALE_OWNER_EMAIL."""
    from shared.cli.music import described, read_track

    text = read_story(story)
    settings = bootstrap.container().settings
    try:
        submission = StorySubmission.model_validate(
            {
                "text": text,
                "language": language,
                "style": style,
                "aspect_ratio": aspect,
                "shot_count": shots,
                "shot_seconds": seconds,
                "options": {
                    "approval_required": approval,
                    "voice": voice,
                    "captions": captions,
                },
            }
        )
        service.check_submission(submission, settings.max_story_chars)
        service.check_renderable(submission, settings)
        service.check_voice(submission, settings)
    except ValidationError as exc:
        fail_input(describe(exc))
    except InvalidStory as exc:
        fail_input(str(exc))
    _check_font(settings)
    track = read_track(music) if music is not None else None
    container = bootstrap.container()
    with local_runtime() as runtime:
        tale = service.submit(
            submission,
            owner=settings.owner,
            store=container.store,
            bus=container.bus,
            max_chars=settings.max_story_chars,
        )
        out.print(f"Submitted {tale.tale_id} ({tale.language}, {shots} shots × {seconds} s)")
        if track is not None:  # before the runtime runs: the tale is only submitted
            from shared.usecases.set_music import set_music

            result = set_music(tale.tale_id, track, store=container.store, blobs=container.blobs)
            out.print(f"Music: {described(result.track)}", highlight=False)
        out.print(language_line(tale.language, detected=language is None), highlight=False)
        out.print(
            f"The email goes to {settings.owner_email} (TALE_OWNER_EMAIL), as for every "
            "operator run",
            soft_wrap=True,
            highlight=False,
        )
        drive(runtime, [tale.tale_id], quiet)
    final = container.store.find(tale.tale_id)
    assert final is not None
    _report(final)


def _check_font(settings: Settings) -> None:
    """The offline renderers draw Korean text: without a Hangul font, say so before starting."""
    from shared.media.fonts import FontMissing, find_font

    try:
        find_font(settings.font)
    except FontMissing as exc:
        fail_input(str(exc))


def _tale(tale_id: str) -> TaleRecord:
    tale = bootstrap.container().store.find(tale_id)
    if tale is None:
        fail_input(f"no tale {tale_id}")
    return tale


@app.command()
def status(
    tale_id: Annotated[str | None, typer.Argument(help="A tale id; all when omitted.")] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="As JSON: the API's GET /v1/tales, or /v1/tales/ID."),
    ] = False,
) -> None:
    """Show every tale, or one tale with its shots and outputs."""
    container = bootstrap.container()
    if as_json:
        from shared.api.reads import tale_view
        from shared.api.views import TaleList, TaleView

        if tale_id is None:
            tales = container.store.list_tales(limit=1000)
            print(TaleList(tales=[TaleView.of(t) for t in tales]).model_dump_json(indent=2))
        else:
            print(tale_view(container, _tale(tale_id)).model_dump_json(indent=2))
        return
    if tale_id is None:
        out.print(tales_table(container.store.list_tales()))
        return
    tale = _tale(tale_id)
    uris = {
        k: (v if k.split(":")[-1] == "email" else container.blobs.uri(v))
        for k, v in tale.outputs.items()
    }
    out.print(tale_detail(tale, container.store.shots(tale_id), uris))


@app.command()
def resume(
    tale_id: Annotated[
        str | None, typer.Argument(help="A tale id; all unfinished when omitted.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Finish tales that a killed run left behind (completed shots are not redone)."""
    store = bootstrap.container().store
    if tale_id is not None:
        tales = [_tale(tale_id)]
    else:
        tales = [t for t in store.list_tales(limit=1000) if not t.state.terminal]
        if not tales:
            out.print("Nothing to resume.")
            return
    with local_runtime() as runtime:
        drive(runtime, [t.tale_id for t in tales], quiet)
    for t in tales:
        final = store.find(t.tale_id)
        assert final is not None
        _report(final)


@app.command()
def events(tale_id: Annotated[str, typer.Argument(help="A tale id.")]) -> None:
    """Print a tale's event log."""
    _tale(tale_id)
    out.print(events_table(tale_id, bootstrap.container().store.events(tale_id)))


@app.command()
def approve(
    tale_id: Annotated[str, typer.Argument(help="A tale awaiting approval.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Approve a tale's storyboard and render it."""
    container = bootstrap.container()
    with local_runtime() as runtime:
        try:
            service.approve(_tale(tale_id).tale_id, store=container.store, bus=container.bus)
        except (IllegalTransition, TaleNotFound) as exc:
            fail_input(str(exc))
        drive(runtime, [tale_id], quiet)
    final = container.store.find(tale_id)
    assert final is not None
    _report(final)


@app.command()
def revise(
    tale_id: Annotated[str, typer.Argument(help="A tale with a finished video.")],
    shot: Annotated[list[int], typer.Option("--shot", help="A shot to render again (from 1).")],
    prompt: Annotated[
        str | None, typer.Option(help="A new visual prompt (with one --shot).")
    ] = None,
    narration: Annotated[str | None, typer.Option(help="New narration (with one --shot).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Revise a finished tale: render the chosen shots again and re-stitch (the earlier cut
    stays). An operator's revision on this machine is not charged."""
    from shared.domain.errors import InvalidRevision, TooManyRevisions
    from shared.usecases.revise_tale import ReviseTale, ShotChange, revise_tale

    if (prompt is not None or narration is not None) and len(shot) != 1:
        fail_input("--prompt and --narration change one shot: give exactly one --shot")
    tale = _tale(tale_id)
    changes = tuple(ShotChange(n, narration=narration, prompt=prompt) for n in shot)
    container = bootstrap.container()
    with local_runtime() as runtime:
        try:
            revised = revise_tale(
                ReviseTale(tale.tale_id, tale.owner, changes, charge=False),
                store=container.store,
                bus=container.bus,
                claims=container.claims,
                ledger=container.ledger,
                settings=container.settings,
            )
        except (InvalidRevision, TooManyRevisions, IllegalTransition, TaleNotFound) as exc:
            fail_input(str(exc))
        out.print(f"revision {revised.revision} of {tale_id}: shots {', '.join(map(str, shot))}")
        drive(runtime, [tale_id], quiet)
    final = container.store.find(tale_id)
    assert final is not None
    _report(final)


@app.command()
def cancel(tale_id: Annotated[str, typer.Argument(help="A tale that has not finished.")]) -> None:
    """Cancel a tale; nothing more is rendered for it."""
    container = bootstrap.container()
    with local_runtime() as runtime:
        try:
            service.cancel(_tale(tale_id).tale_id, store=container.store, bus=container.bus)
        except (IllegalTransition, TaleNotFound) as exc:
            fail_input(str(exc))
        drive(runtime, [tale_id], quiet=True)
    out.print(f"Cancelled {tale_id}.")


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8080,
) -> None:
    """Serve the HTTP API (/v1) and the auth webhook (/hooks/auth), running tales locally."""
    from shared.api.webhook import local_secret
    from shared.cli.serve import serve

    container = bootstrap.container()
    out.print(
        f"Tale API on http://{host}:{port}/v1 (OpenAPI: /v1/openapi.json), "
        f"webhook on /hooks/auth, signed media on /media, home {container.home}"
    )
    if container.signer is not None:
        out.print(
            f"Webhook secret: {local_secret(container)}  ·  tokens: tale token --user ID",
            soft_wrap=True,
            highlight=False,
        )
    try:
        serve(host, port)
    except OSError as exc:
        fail_input(f"cannot listen on {host}:{port}: {exc}")


@app.command()
def token(
    user: Annotated[str, typer.Option(help="User id (a UUID, as Supabase issues).")],
    email: Annotated[str, typer.Option(help="The user's email.")] = "dev@localhost",
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 3600,
) -> None:
    """Mint a local development access token (only while the local signing key is in use)."""
    import uuid

    signer = bootstrap.container().signer
    if signer is None:
        fail_input(
            "tokens are issued by Supabase in this configuration (TALE_SUPABASE_URL is "
            "set); tale token only works with the local signing key"
        )
    try:
        uuid.UUID(user)
    except ValueError:
        fail_input(f"--user must be a UUID, not {user!r}")
    if not 60 <= ttl <= 7 * 24 * 3600:
        fail_input("--ttl must be between 60 and 604800 seconds")
    print(signer.mint(user, email, ttl))


@app.command()
def chaos(
    tales: Annotated[int, typer.Option(help="Tales to submit.", min=1, max=10_000)] = 30,
    seed: Annotated[int, typer.Option(help="Seed of every fault decision.")] = 7,
    home: Annotated[
        Path | None,
        typer.Option("--home", help="A new or empty folder for the run (default: a temp one)."),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(help="Workers (1 makes the run reproducible).", min=1, max=64)
    ] = 4,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as one JSON document.")
    ] = False,
) -> None:
    """Fault-injection run: many users' tales under duplicated, delayed and reordered
    messages, crashes before and after each effect, provider failures and runtime kills;
    then the invariants (exit 1 if any fails)."""
    import tempfile

    from shared.chaos.faults import FaultPlan
    from shared.chaos.run import run_chaos
    from shared.chaos.summary import summary

    if home is None:
        home = Path(tempfile.mkdtemp(prefix="tale-chaos-"))
    elif home.exists() and (not home.is_dir() or any(home.iterdir())):
        fail_input(f"--home {home} must be a new or empty folder")
    if not as_json:
        out.print(f"chaos run: {tales} tales, seed {seed}, home {home}")
    report = run_chaos(tales, seed, home, FaultPlan.default(), concurrency=concurrency)
    if as_json:
        print(json.dumps({**report.to_json(), "home": str(home)}, ensure_ascii=False))
    else:
        out.print(summary(report))
    if not report.ok:
        raise typer.Exit(1)


def main() -> None:
    from shared.cli import backup, costs, doctor, edit, music, stats, storyboard
    from shared.cli import trends as trends_cli
    from shared.cli.ops import register

    register(app)
    doctor.register(app)
    costs.register(app)
    trends_cli.register(app)
    stats.register(app)
    backup.register(app)
    storyboard.register(app)
    edit.register(app)
    music.register(app)
    app()


if __name__ == "__main__":
    main()
