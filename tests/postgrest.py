"""A minimal PostgREST (behind Supabase's API gateway) as an ``httpx.MockTransport`` handler.

There is no PostgREST binary here, so this implements the few requests the Supabase adapters
make, executed on a real PostgreSQL (``tests.pg.Database``) the way PostgREST executes them:

* the gateway: ``apikey`` must be a known key (else 401); ``Authorization: Bearer <key>``
  picks the database role (PostgREST reads it from the JWT's ``role`` claim; here the keys
  are opaque and mapped to roles);
* one transaction per request, logged in as ``authenticator``, with ``set local role <role>``
  and ``request.jwt.claims`` set, so grants, RLS and ``auth.*()`` apply as on Supabase;
* only the ``public`` schema is exposed (``Accept-Profile``/``Content-Profile`` → 406);
* ``POST /rest/v1/rpc/<fn>``: JSON object of named arguments → ``select public.<fn>(a => $1::type,
  …)`` with the types from the catalog; a scalar result comes back as a bare JSON value, the
  rows of a set-returning function (``returns table``/``setof``) as a JSON array of objects;
* ``GET /rest/v1/<table>?select=a,b&col=op.value&order=col.asc&limit=n&offset=n`` and
  ``PATCH`` with a JSON object and the same filters (``Prefer: return=representation`` →
  the updated rows, else 204); operators ``eq neq gt gte lt lte is``;
* ``POST /rest/v1/<table>`` with a JSON object or array of objects: an insert (201), an upsert
  with ``Prefer: resolution=merge-duplicates`` (``on conflict (…) do update`` of the given
  columns) or ``resolution=ignore-duplicates`` (``do nothing``), the conflict target from
  ``?on_conflict=a,b`` or else the primary key; the columns are ``?columns=a,b`` or else the
  keys of the payload (a key missing from a row is null: ``Prefer: missing=default`` is not
  implemented); ``Prefer: return=representation`` → the rows written, else no body;
* errors as PostgREST sends them: ``{"code", "message", "details", "hint"}`` with PostgREST's
  mapping of SQLSTATE to HTTP status.

``fail_next`` injects faults in front of the next requests, to test retries: an exception the
transport raises, an HTTP status (answered with a gateway's HTML page), or a whole response.

Requests run one at a time on one connection, unless ``concurrent=True``: then each calling
thread has its own connection and requests overlap in the database as they do behind
PostgREST's connection pool (for races between requests).
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from typing import Any

import httpx
import psycopg
from psycopg import sql

from tests.pg import Database

SERVICE_KEY = "test-service-role-key"
ANON_KEY = "test-anon-key"
KEYS = {SERVICE_KEY: "service_role", ANON_KEY: "anon"}
BASE_URL = "http://supabase.test"

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
OPERATORS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
IS_VALUES = {"null": "null", "true": "true", "false": "false", "unknown": "unknown"}
RESERVED_PARAMS = {"select", "order", "limit", "offset", "columns", "on_conflict"}

Fault = Exception | int | httpx.Response


class Problem(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def response(self) -> httpx.Response:
        body = {"code": self.code, "message": self.message, "details": self.details, "hint": None}
        return httpx.Response(self.status, json=body)


def status_of(sqlstate: str, role: str) -> int:
    """PostgREST's mapping of a SQLSTATE to an HTTP status."""
    exact = {
        "23503": 409,
        "23505": 409,
        "25006": 405,
        "42883": 404,
        "42P01": 404,
        "P0001": 400,
        "42501": 401 if role == "anon" else 403,
    }
    if sqlstate in exact:
        return exact[sqlstate]
    by_class = {
        "08": 503,
        "09": 500,
        "0L": 403,
        "0P": 403,
        "25": 500,
        "28": 403,
        "2D": 500,
        "38": 500,
        "39": 500,
        "3B": 500,
        "40": 500,
        "53": 503,
        "54": 500,
        "55": 500,
        "57": 500,
        "58": 500,
        "F0": 500,
        "HV": 500,
        "P0": 500,
        "XX": 500,
    }
    return by_class.get(sqlstate[:2], 400)


def _identifier(name: str) -> sql.Identifier:
    if not IDENTIFIER.match(name):
        raise Problem(400, "PGRST100", f'"failed to parse" {name!r}')
    return sql.Identifier(name)


class PostgrestStandIn:
    """``httpx.MockTransport(PostgrestStandIn(db))``: PostgREST over ``db``."""

    def __init__(
        self, db: Database, keys: dict[str, str] | None = None, *, concurrent: bool = False
    ) -> None:
        self.db = db
        self.keys = dict(KEYS if keys is None else keys)
        self.requests: list[tuple[str, str]] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._concurrent = concurrent
        self._local = threading.local()
        self._conns: list[psycopg.Connection[Any]] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def fail_next(self, *faults: Fault) -> None:
        """The next requests meet these faults, in order, before reaching the database."""
        self._faults.extend(faults)

    def close(self) -> None:
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
        self._local = threading.local()

    # -- handling ---------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append((request.method, request.url.path))
            fault = self._faults.popleft() if self._faults else None
            if fault is None and not self._concurrent:
                return self._answer(request)
        if isinstance(fault, Exception):
            raise fault
        if isinstance(fault, httpx.Response):
            return fault
        if fault is not None:
            page = f"<html><body><h1>{fault}</h1>upstream trouble</body></html>"
            return httpx.Response(fault, text=page, headers={"Content-Type": "text/html"})
        return self._answer(request)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._handle(request)
        except Problem as problem:
            return problem.response()

    def _connection(self) -> psycopg.Connection[Any]:
        """This thread's connection (the one connection unless ``concurrent``)."""
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if not self._concurrent and self._conns:
            conn = self._conns[0]
        if conn is None or conn.closed:
            conn = self.db.connect(autocommit=False)
            conn.execute("set role authenticator")
            conn.commit()
            self._local.conn = conn
            if self._concurrent:
                with self._lock:
                    self._conns.append(conn)
            else:
                self._conns[:] = [conn]
        return conn

    def _handle(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("apikey")
        if key not in self.keys:
            return httpx.Response(401, json={"message": "Invalid API key"})
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        if token not in self.keys:
            raise Problem(401, "PGRST301", "JWSError JWSInvalidSignature")
        role = self.keys[token]
        path = request.url.path
        if not path.startswith("/rest/v1/"):
            raise Problem(404, "PGRST125", f"Invalid path specified in request URL: {path}")
        profile_header = (
            "Accept-Profile" if request.method in {"GET", "HEAD"} else "Content-Profile"
        )
        schema = request.headers.get(profile_header, "public")
        if schema != "public":
            raise Problem(406, "PGRST106", "The schema must be one of the following: public")
        resource = path.removeprefix("/rest/v1/")
        if resource.startswith("rpc/") and request.method == "POST":
            return self._run(
                role, lambda cur: self._rpc(cur, resource.removeprefix("rpc/"), request)
            )
        if "/" not in resource and request.method == "GET":
            return self._run(role, lambda cur: self._select(cur, resource, request))
        if "/" not in resource and request.method == "PATCH":
            return self._run(role, lambda cur: self._update(cur, resource, request))
        if "/" not in resource and request.method == "POST":
            return self._run(role, lambda cur: self._insert(cur, resource, request))
        raise Problem(405, "PGRST117", f"Unsupported HTTP method: {request.method} {path}")

    def _run(self, role: str, body: Any) -> httpx.Response:
        conn = self._connection()
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
                cur.execute(
                    "select set_config('request.jwt.claims', %s, true)",
                    [json.dumps({"role": role})],
                )
                response: httpx.Response = body(cur)
                return response
        except psycopg.Error as exc:
            diag = exc.diag
            sqlstate = diag.sqlstate or "XX000"
            payload = {
                "code": sqlstate,
                "message": diag.message_primary or str(exc),
                "details": diag.message_detail,
                "hint": diag.message_hint,
            }
            return httpx.Response(status_of(sqlstate, role), json=payload)

    # -- rpc -------------------------------------------------------------------------------

    def _rpc(self, cur: psycopg.Cursor[Any], fn: str, request: httpx.Request) -> httpx.Response:
        args = json.loads(request.content or b"{}")
        if not isinstance(args, dict):
            raise Problem(400, "PGRST102", "An RPC call takes a JSON object of named arguments")
        resolved = self._resolve(cur, fn, set(args))
        if resolved is None:
            names = ", ".join(sorted(args))
            raise Problem(
                404,
                "PGRST202",
                f"Could not find the function public.{fn}({names}) in the schema cache",
            )
        signature, returns_set = resolved
        call = sql.SQL(", ").join(
            sql.SQL("{} => {}::{}").format(
                sql.Identifier(name), sql.Placeholder(), sql.SQL(signature[name])
            )
            for name in args
        )
        template = (
            "select coalesce(json_agg(to_json(r)), '[]'::json) from {}({}) r"
            if returns_set
            else "select to_json({}({}))"
        )
        query = sql.SQL(template).format(sql.Identifier("public", fn), call)
        # JSON objects and arrays are the text of a json/jsonb argument, as PostgREST passes them
        values = [json.dumps(v) if isinstance(v, dict | list) else v for v in args.values()]
        cur.execute(query, values)
        row = cur.fetchone()
        assert row is not None
        return httpx.Response(200, json=row[0])

    @staticmethod
    def _resolve(
        cur: psycopg.Cursor[Any], fn: str, given: set[str]
    ) -> tuple[dict[str, str], bool] | None:
        """The named arguments' types of the overload of ``public.fn`` these arguments fit,
        and whether it returns a set of rows."""
        cur.execute(
            """
            select p.proargnames,
                   array(select format_type(t, null) from unnest(p.proargtypes) t),
                   p.pronargdefaults, p.proretset
            from pg_catalog.pg_proc p
            join pg_catalog.pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'public' and p.proname = %s
            """,
            [fn],
        )
        for names, types, defaults, returns_set in cur.fetchall():
            names = list(names or [])
            inputs = names[: len(types)]  # a ``returns table`` also names its columns
            required = set(inputs[: len(inputs) - defaults])
            if required <= given <= set(inputs):
                return dict(zip(inputs, types, strict=True)), bool(returns_set)
        return None

    # -- tables ----------------------------------------------------------------------------

    def _where(self, params: httpx.QueryParams) -> tuple[sql.Composable, list[Any]]:
        clauses: list[sql.Composable] = []
        values: list[Any] = []
        for column, condition in params.multi_items():
            if column in RESERVED_PARAMS:
                continue
            op, _, value = condition.partition(".")
            if op == "is" and value in IS_VALUES:
                clauses.append(
                    sql.SQL("{} is {}").format(_identifier(column), sql.SQL(IS_VALUES[value]))
                )
            elif op in OPERATORS:
                clauses.append(
                    sql.SQL("{} {} %s").format(_identifier(column), sql.SQL(OPERATORS[op]))
                )
                values.append(value)
            else:
                raise Problem(400, "PGRST100", f'"failed to parse filter ({condition})"')
        if not clauses:
            return sql.SQL(""), values
        return sql.SQL(" where ") + sql.SQL(" and ").join(clauses), values

    def _select(
        self, cur: psycopg.Cursor[Any], table: str, request: httpx.Request
    ) -> httpx.Response:
        params = request.url.params
        columns = params.get("select", "*")
        selected: sql.Composable = (
            sql.SQL("*")
            if columns == "*"
            else sql.SQL(", ").join(_identifier(c) for c in columns.split(","))
        )
        where, values = self._where(params)
        query = sql.SQL("select {} from {}").format(selected, sql.Identifier("public", table))
        query += where
        if "order" in params:
            terms: list[sql.Composable] = []
            for term in params["order"].split(","):
                column, *modifiers = term.split(".")
                direction = {"asc": "asc", "desc": "desc"}[modifiers[0]] if modifiers else "asc"
                terms.append(sql.SQL("{} " + direction).format(_identifier(column)))
            query += sql.SQL(" order by ") + sql.SQL(", ").join(terms)
        for clause in ("limit", "offset"):
            if clause in params:
                query += sql.SQL(f" {clause} {{}}").format(sql.Literal(int(params[clause])))
        wrapped = sql.SQL("select coalesce(json_agg(t), '[]') from ({}) t").format(query)
        cur.execute(wrapped, values)
        row = cur.fetchone()
        assert row is not None
        return self._rows(request, row[0])

    def _update(
        self, cur: psycopg.Cursor[Any], table: str, request: httpx.Request
    ) -> httpx.Response:
        changes = json.loads(request.content or b"{}")
        if not isinstance(changes, dict) or not changes:
            raise Problem(400, "PGRST102", "Empty or invalid JSON object")
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = %s").format(_identifier(column)) for column in changes
        )
        where, values = self._where(request.url.params)
        query = sql.SQL("update {} set {}").format(sql.Identifier("public", table), assignments)
        query += where + sql.SQL(" returning *")
        wrapped = sql.SQL("with t as ({}) select coalesce(json_agg(t), '[]') from t").format(query)
        cur.execute(wrapped, [*changes.values(), *values])
        row = cur.fetchone()
        assert row is not None
        if "return=representation" not in request.headers.get("prefer", ""):
            return httpx.Response(204)
        return self._rows(request, row[0])

    def _insert(
        self, cur: psycopg.Cursor[Any], table: str, request: httpx.Request
    ) -> httpx.Response:
        """An insert or upsert, as PostgREST builds it: the payload becomes rows of the table's
        type (``json_populate_recordset``) of which the given columns are inserted."""
        payload = json.loads(request.content or b"null")
        rows = [payload] if isinstance(payload, dict) else payload
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise Problem(400, "PGRST102", "Empty or invalid JSON object or array")
        params = request.url.params
        prefer = {p.strip() for p in request.headers.get("prefer", "").split(",")}
        if "missing=default" in prefer:
            raise Problem(400, "PGRST122", "the stand-in does not implement missing=default")
        if "columns" in params:
            names = [c.strip() for c in params["columns"].split(",")]
        else:
            names = list(dict.fromkeys(key for row in rows for key in row))
        if not names:
            raise Problem(400, "PGRST102", "Empty or invalid JSON object or array")
        columns = sql.SQL(", ").join(_identifier(c) for c in names)
        target = sql.Identifier("public", table)
        query = sql.SQL(
            "insert into {} ({}) select {} from json_populate_recordset(null::{}, %s::json)"
        ).format(target, columns, columns, target)
        query += self._on_conflict(cur, table, params, prefer, names)
        if "return=representation" not in prefer:
            cur.execute(query, [json.dumps(rows)])
            return httpx.Response(201)
        query += sql.SQL(" returning *")
        wrapped = sql.SQL("with t as ({}) select coalesce(json_agg(t), '[]') from t").format(query)
        cur.execute(wrapped, [json.dumps(rows)])
        row = cur.fetchone()
        assert row is not None
        return self._rows(request, row[0], status=201)

    def _on_conflict(
        self,
        cur: psycopg.Cursor[Any],
        table: str,
        params: httpx.QueryParams,
        prefer: set[str],
        names: list[str],
    ) -> sql.Composable:
        """``Prefer: resolution=…`` as an ``on conflict`` clause; none without it."""
        resolution = next((p for p in prefer if p.startswith("resolution=")), None)
        if resolution is None:
            return sql.SQL("")
        if resolution not in {"resolution=merge-duplicates", "resolution=ignore-duplicates"}:
            raise Problem(400, "PGRST122", f"Invalid preferences: {resolution}")
        conflict = (
            [c.strip() for c in params["on_conflict"].split(",")]
            if "on_conflict" in params
            else self._primary_key(cur, table)
        )
        clause = sql.SQL(" on conflict ({})").format(
            sql.SQL(", ").join(_identifier(c) for c in conflict)
        )
        if resolution == "resolution=ignore-duplicates":
            return clause + sql.SQL(" do nothing")
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = excluded.{0}").format(_identifier(c)) for c in names
        )
        return clause + sql.SQL(" do update set ") + updates

    @staticmethod
    def _primary_key(cur: psycopg.Cursor[Any], table: str) -> list[str]:
        cur.execute(
            """
            select a.attname
            from pg_catalog.pg_index i
            join pg_catalog.pg_attribute a
              on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
            where i.indrelid = format('public.%%I', %s::text)::regclass and i.indisprimary
            order by array_position(i.indkey::int2[], a.attnum)
            """,
            [table],
        )
        return [name for (name,) in cur.fetchall()]

    @staticmethod
    def _rows(request: httpx.Request, rows: list[Any], status: int = 200) -> httpx.Response:
        if request.headers.get("accept", "").startswith("application/vnd.pgrst.object+json"):
            if len(rows) != 1:
                raise Problem(
                    406,
                    "PGRST116",
                    "Cannot coerce the result to a single JSON object",
                    f"The result contains {len(rows)} rows",
                )
            return httpx.Response(status, json=rows[0])
        end = f"0-{len(rows) - 1}" if rows else "*"
        return httpx.Response(status, json=rows, headers={"Content-Range": f"{end}/*"})


def supabase_client(stand_in: PostgrestStandIn, key: str = SERVICE_KEY) -> Any:
    """A real ``supabase.Client`` whose HTTP goes to the stand-in."""
    from supabase import ClientOptions, create_client

    options = ClientOptions(
        httpx_client=httpx.Client(transport=stand_in.transport()),
        postgrest_client_retry=False,
        auto_refresh_token=False,
        persist_session=False,
    )
    return create_client(BASE_URL, key, options=options)
