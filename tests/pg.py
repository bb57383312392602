"""A real PostgreSQL for the tests, dressed as Supabase.

``PgServer.start()`` uses the server at ``TALE_TEST_DATABASE_URL`` (a superuser's URL) when it
is set, else starts a private one with ``pgserver`` in a temporary directory. Each test gets a
fresh database cloned from a template that holds:

1. what a Supabase project has before any migration of ours runs:
   * the roles ``anon``, ``authenticated`` (``nologin noinherit``) and ``service_role``
     (``nologin noinherit bypassrls``), and ``authenticator``, the role PostgREST logs in as,
     which may switch to the other three;
   * ``tale_migrator``, standing in for Supabase's ``postgres`` role: not a superuser,
     ``createrole bypassrls``, owner of the database (so of schema ``public``), with
     Supabase's default privileges (everything it creates in ``public`` is granted to
     ``anon``, ``authenticated`` and ``service_role``, functions are executable by PUBLIC);
   * schema ``auth`` with ``auth.users(id, email)`` and ``auth.uid()``, ``auth.role()``,
     ``auth.email()`` and ``auth.jwt()`` exactly as Supabase defines them: they read the
     ``request.jwt.claim.*`` settings or ``request.jwt.claims``, which PostgREST sets per
     request from the caller's JWT;
2. every file of ``supabase/migrations/`` in name order, each in one transaction, run as
   ``tale_migrator`` (as ``supabase db push`` runs them as ``postgres``).

``Database.as_role(role, sub)`` runs SQL the way PostgREST does for a request: inside a
transaction, ``set local role <role>`` and ``request.jwt.claims`` set to
``{"sub": ..., "role": ...}``.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import shutil
import stat
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.peers import missing_peer

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "supabase" / "migrations"
ENV_URL = "TALE_TEST_DATABASE_URL"
MIGRATOR = "tale_migrator"

# Cluster-wide: roles exist once per server (they may already, e.g. on a Supabase dev server).
ROLES_SQL = f"""
do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = '{MIGRATOR}') then
    create role {MIGRATOR} nologin noinherit createrole bypassrls;
  end if;
end;
$$;
grant anon, authenticated, service_role to authenticator;
"""

# Per database, as the superuser: Supabase's auth schema and default privileges.
SUPABASE_SQL = f"""
create schema if not exists auth;
create table if not exists auth.users (id uuid primary key, email text);

create or replace function auth.uid() returns uuid language sql stable as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.sub', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

create or replace function auth.role() returns text language sql stable as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.role', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;

create or replace function auth.email() returns text language sql stable as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.email', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$$;

create or replace function auth.jwt() returns jsonb language sql stable as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

grant usage on schema auth to anon, authenticated, service_role, {MIGRATOR};
grant all on table auth.users to service_role, {MIGRATOR};

grant usage on schema public to anon, authenticated, service_role;
alter default privileges for role {MIGRATOR} in schema public
  grant all on tables to anon, authenticated, service_role;
alter default privileges for role {MIGRATOR} in schema public
  grant all on functions to anon, authenticated, service_role;
alter default privileges for role {MIGRATOR} in schema public
  grant all on sequences to anon, authenticated, service_role;
"""

# Only for a server the harness started itself: speed over durability.
FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "250",
}


class ServerUnavailable(RuntimeError):
    """No PostgreSQL to test against."""


def migrations() -> list[Path]:
    return sorted(MIGRATIONS.glob("*.sql"))


@dataclass
class Database:
    """A fresh database with Supabase's environment and every migration applied."""

    name: str
    url: str
    _conn: psycopg.Connection[Any] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def connect(self, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        """A new superuser connection (the caller closes it)."""
        return psycopg.connect(self.url, autocommit=autocommit)

    def _shared(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = self.connect(autocommit=False)
        return self._conn

    @contextmanager
    def as_role(
        self, role: str, sub: str | None = None, *, claims: dict[str, Any] | None = None
    ) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor in a transaction acting as ``role`` with JWT claims ``sub``/``role``:
        committed when the block ends, rolled back when it raises. One at a time per
        database (they share a connection): do not nest them."""
        payload: dict[str, Any] = {"role": role}
        if sub is not None:
            payload["sub"] = sub
        payload.update(claims or {})
        with self._lock:
            conn = self._shared()
            with conn.transaction():
                conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
                conn.execute(
                    "select set_config('request.jwt.claims', %s, true)", [json.dumps(payload)]
                )
                with conn.cursor() as cur:
                    yield cur

    def query(
        self, statement: str, params: Any = None, *, role: str | None = None, sub: str | None = None
    ) -> list[tuple[Any, ...]]:
        """Run one statement (as ``role`` when given, else as the superuser); its rows."""
        if role is None:
            with self.connect() as conn:
                cur = conn.execute(statement, params)
                return cur.fetchall() if cur.description else []
        with self.as_role(role, sub) as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []

    def scalar(self, statement: str, params: Any = None, **kw: Any) -> Any:
        rows = self.query(statement, params, **kw)
        return rows[0][0]

    def add_user(self, email: str | None = None) -> str:
        """Sign a user up (a row in ``auth.users``, as Supabase Auth writes it); its id."""
        user_id = str(uuid.uuid4())
        self.query(
            "insert into auth.users (id, email) values (%s, %s)",
            [user_id, email or f"{user_id[:8]}@example.com"],
        )
        return user_id

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PgServer:
    """A PostgreSQL server: external (``TALE_TEST_DATABASE_URL``) or started here."""

    def __init__(self, url: str, *, owned: Any = None, tmp: Path | None = None) -> None:
        self.url = url
        self._owned = owned  # the pgserver handle when this process started the server
        self._tmp = tmp
        self._names = (f"tale_test_{os.getpid()}_{n}" for n in itertools.count())
        self._template: str | None = None
        self._databases: list[str] = []

    # -- starting ---------------------------------------------------------------------------

    @classmethod
    def start(cls) -> PgServer:
        url = os.environ.get(ENV_URL)
        if url:
            try:
                server = cls(url)
                server._prepare()
            except psycopg.Error as exc:
                raise ServerUnavailable(f"{ENV_URL} is set but unusable: {exc}") from exc
            return server
        return cls._start_pgserver()

    @classmethod
    def _start_pgserver(cls) -> PgServer:
        tmp = Path(tempfile.mkdtemp(prefix="tale-pg-", dir=_memory_dir()))
        handle: Any = None
        try:
            pgserver = _import_pgserver()
            first = pgserver.get_server(tmp / "data", cleanup_mode="stop")
            try:
                with psycopg.connect(first.get_uri(), autocommit=True) as conn:
                    for name, value in FAST_SETTINGS.items():
                        conn.execute(
                            sql.SQL("alter system set {} = {}").format(
                                sql.Identifier(name), sql.Literal(value)
                            )
                        )
            finally:
                _stop(first)  # max_connections needs a restart
            handle = pgserver.get_server(tmp / "data", cleanup_mode="stop")
            server = cls(handle.get_uri(), owned=handle, tmp=tmp)
            server._prepare()
        except Exception as exc:
            if handle is not None:
                _stop(handle)
            shutil.rmtree(tmp, ignore_errors=True)
            raise ServerUnavailable(f"could not start PostgreSQL with pgserver: {exc!r}") from exc
        return server

    def _admin(self, dbname: str | None = None) -> psycopg.Connection[Any]:
        url = self.url if dbname is None else make_conninfo(self.url, dbname=dbname)
        return psycopg.connect(url, autocommit=True)

    def _prepare(self) -> None:
        with self._admin() as conn:
            conn.execute(ROLES_SQL)
            version = conn.execute("show server_version_num").fetchone()
            assert version is not None and int(version[0]) >= 150000, "PostgreSQL 15+ needed"

    # -- databases --------------------------------------------------------------------------

    def template(self) -> str:
        """The database with Supabase's environment and the migrations (built once)."""
        if self._template is None:
            name = next(self._names) + "_template"
            self._create(name)
            with self._admin(name) as conn:
                conn.execute(SUPABASE_SQL)
                for path in migrations():
                    with conn.transaction():
                        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(MIGRATOR)))
                        try:
                            conn.execute(path.read_text())
                        except psycopg.Error as exc:
                            raise AssertionError(f"migration {path.name} failed: {exc}") from exc
            self._template = name
        return self._template

    def _create(self, name: str, template: str | None = None) -> None:
        query = sql.SQL("create database {} owner {}").format(
            sql.Identifier(name), sql.Identifier(MIGRATOR)
        )
        if template is not None:
            query += sql.SQL(" template {}").format(sql.Identifier(template))
        with self._admin() as conn:
            conn.execute(query)
        self._databases.append(name)

    def database(self) -> Database:
        """A new database cloned from the template."""
        template = self.template()
        name = next(self._names)
        self._create(name, template)
        return Database(name, make_conninfo(self.url, dbname=name))

    def drop(self, db: Database) -> None:
        db.close()
        with self._admin() as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db.name))
            )
        if db.name in self._databases:
            self._databases.remove(db.name)

    def close(self) -> None:
        """Drop what this process created; stop the server if this process started it."""
        try:
            with self._admin() as conn:
                for name in reversed(self._databases):
                    conn.execute(
                        sql.SQL("drop database if exists {} with (force)").format(
                            sql.Identifier(name)
                        )
                    )
        except psycopg.Error:
            pass
        self._databases.clear()
        if self._owned is not None:
            _stop(self._owned)
            self._owned = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def _memory_dir() -> str | None:
    """A RAM-backed directory for the server's data when there is one: cloning a database
    from the template takes ~20 ms there, ten times less than on a disk."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _stop(handle: Any) -> None:
    """Stop a server pgserver started (and forget its exit hook, which would stop it again)."""
    handle.cleanup()
    atexit.unregister(handle._cleanup)


def _runtime_dir() -> Path:
    """A private runtime directory (owned by this user, mode 0700, as the XDG spec wants),
    kept across sessions like ``/run/user/<uid>``."""
    path = Path(tempfile.gettempdir()) / f"tale-pg-runtime-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    info = path.lstat()
    if (
        not stat.S_ISDIR(info.st_mode)
        or info.st_uid != os.getuid()
        or stat.S_IMODE(info.st_mode) != 0o700
    ):
        return Path(tempfile.mkdtemp(prefix="tale-pg-runtime-"))
    return path


def _import_pgserver() -> Any:
    """Import pgserver without platformdirs' RuntimeDirWarning (pytest turns warnings into
    errors): pgserver looks up the user's runtime directory (for its lock file) when
    imported, so point ``XDG_RUNTIME_DIR`` at a private one during the import when it is
    unset."""
    if os.environ.get("XDG_RUNTIME_DIR"):
        import pgserver

        return pgserver
    os.environ["XDG_RUNTIME_DIR"] = str(_runtime_dir())
    try:
        import pgserver
    finally:
        del os.environ["XDG_RUNTIME_DIR"]
    return pgserver


# -- pytest fixtures ----------------------------------------------------------------------------
# Import them where needed (``from tests.pg import pg_db, pg_server``). The server is shared by
# every importer: one per test session, closed when the last session fixture is torn down.

_shared: PgServer | None = None
_users = 0
_failure: ServerUnavailable | None = None


def _acquire() -> PgServer:
    global _shared, _users, _failure
    if _failure is not None:
        raise _failure
    if _shared is None:
        try:
            _shared = PgServer.start()
        except ServerUnavailable as exc:
            _failure = exc
            raise
    _users += 1
    return _shared


def _release() -> None:
    global _shared, _users
    _users -= 1
    if _users == 0 and _shared is not None:
        _shared.close()
        _shared = None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The shared server. Without one: a failure under ``CI=true``, else a skip."""
    try:
        server = _acquire()
    except ServerUnavailable as exc:
        missing_peer(f"no PostgreSQL for the tests: {exc}")
    try:
        yield server
    finally:
        _release()


@pytest.fixture
def pg_db(pg_server: PgServer) -> Iterator[Database]:
    """A fresh database with Supabase's environment and all migrations applied."""
    db = pg_server.database()
    try:
        yield db
    finally:
        pg_server.drop(db)
