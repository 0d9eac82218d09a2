"""Upload the graph to a SPARQL Graph Store Protocol endpoint (``bmlkg push``).

:func:`push` uploads the graph as N-Triples to a Graph Store Protocol URL (``PUT`` replaces the target
graph, ``POST`` adds to it): ``?default`` or ``?graph=IRI`` (``--graph``) is added to the URL.

* Where the Graph Store lives: Oxigraph ``http://HOST:PORT/store``, Fuseki ``http://HOST:PORT/DATASET/data``,
  Virtuoso ``http://HOST:PORT/sparql-graph-crud`` (``/sparql-graph-crud-auth`` with digest authentication).
  Given a server root, or when an upload fails, :func:`identify` asks the server who it is (its ``Server``
  header, Fuseki's ``Fuseki-Request-Id``) and the error says where that server's Graph Store is.
* Credentials are never a command-line argument: they come from the environment (``BMLKG_PUSH_USER`` and
  ``BMLKG_PUSH_PASSWORD``) or from a netrc entry for the host (``$NETRC``, default ``~/.netrc``). They are sent
  only when the server asks (a ``401`` with ``WWW-Authenticate``), as digest authentication when the server
  offers it (MD5, MD5-sess, SHA-256; ``qop=auth``), else as basic authentication.
"""

from __future__ import annotations

import base64
import hashlib
import json
import netrc
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import quote, urlsplit

import pyoxigraph as ox

from ..store.errors import EndpointError, InputError

from .remote import N_TRIPLES, Answer, _split, request

USER_ENV = "BMLKG_PUSH_USER"
PASSWORD_ENV = "BMLKG_PUSH_PASSWORD"
#: How long the identification request (GET of the server root) may take, at most.
IDENTIFY_TIMEOUT = 5.0


# -- Graph Store Protocol --------------------------------------------------------------------------
@dataclass(frozen=True)
class PushResult:
    url: str
    method: str
    triples: int
    status: int
    auth: str | None = None  # "basic" or "digest" when credentials were sent


def store_url(url: str, graph: str | None = None) -> str:
    """The Graph Store Protocol URL: ``url`` as given if it names a graph, else ``?default`` or ``?graph=``."""
    _split(url)
    if "?" in url:
        if graph:
            raise InputError(f"{url}: the URL already names a graph; leave out --graph")
        return url
    if graph:
        try:
            ox.NamedNode(graph)
        except ValueError:
            raise InputError(f"--graph {graph!r} is not a valid IRI") from None
        return f"{url}?graph={quote(graph, safe='')}"
    return f"{url}?default"


def push(triples, url: str, *, graph: str | None = None, replace: bool = True, timeout: float | None = None,
         environ: Mapping[str, str] | None = None) -> PushResult:
    """Upload ``triples`` (pyoxigraph Triples) as N-Triples: PUT replaces the graph, POST adds to it.

    A server root is refused before anything is sent, with where that server's Graph Store is. Credentials come
    from ``environ`` (default ``os.environ``: ``BMLKG_PUSH_USER``/``BMLKG_PUSH_PASSWORD``, ``NETRC``) and are sent
    only when the server asks for them.
    """
    environ = os.environ if environ is None else environ
    _scheme, host, _port, path = _split(url)
    if urlsplit(url).path in ("", "/"):
        raise InputError(root_message(url, identify(url, timeout)))
    target = store_url(url, graph)
    creds = credentials(host, environ)  # read (and checked) before anything is sent
    triples = list(triples)
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    method = "PUT" if replace else "POST"
    headers = {"Content-Type": N_TRIPLES, "Content-Length": str(len(data))}
    target_path = _split(target)[3]
    authorization, scheme = None, None
    try:
        if creds is not None:  # learn the challenge, and try the credentials, without sending the graph
            probe = request("HEAD", target, timeout=timeout)
            if probe.status == 401:
                trial, scheme = authorize(probe, creds, "HEAD", target_path, target, count=1)
                checked = request("HEAD", target, timeout=timeout, headers={"Authorization": trial})
                if checked.status == 401:
                    raise EndpointError(_unauthorized(target, checked, creds, scheme))
                authorization, scheme = authorize(probe, creds, method, target_path, target, count=2)
        answer = request(method, target, body=data, timeout=timeout,
                         headers={**headers, **({"Authorization": authorization} if authorization else {})})
        if answer.status == 401 and creds is not None and (authorization is None or _stale(answer)):
            authorization, scheme = authorize(answer, creds, method, target_path, target)
            answer = request(method, target, body=data, timeout=timeout,
                             headers={**headers, "Authorization": authorization})
    except EndpointError as exc:
        if "HTTP 401" in str(exc):
            raise
        raise type(exc)(_with_hint(str(exc), url, target, timeout)) from None
    if answer.status == 401:
        raise EndpointError(_unauthorized(target, answer, creds, scheme))
    if not 200 <= answer.status < 300:
        raise EndpointError(_with_hint(_status_message(target, answer), url, target, timeout, answer))
    return PushResult(target, method, len(triples), answer.status, scheme)


# -- credentials -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Credentials:
    user: str
    password: str
    origin: str  # where they came from, for messages (never the password)

    def __repr__(self) -> str:  # never print the password
        return f"Credentials(user={self.user!r}, origin={self.origin!r})"


def credentials(host: str, environ: Mapping[str, str] | None = None) -> Credentials | None:
    """The credentials for ``host``: the environment first, then a netrc entry; None when there are none."""
    environ = os.environ if environ is None else environ
    user, password = environ.get(USER_ENV), environ.get(PASSWORD_ENV)
    if user is not None or password is not None:
        if not user or password is None:
            missing = USER_ENV if not user else PASSWORD_ENV
            raise InputError(f"{missing} is not set: set both {USER_ENV} and {PASSWORD_ENV}, or neither")
        return Credentials(user, password, f"{USER_ENV}/{PASSWORD_ENV}")
    path = Path(environ["NETRC"]) if environ.get("NETRC") else Path(environ.get("HOME") or Path.home()) / ".netrc"
    if not path.is_file():
        return None
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except netrc.NetrcParseError as exc:
        raise InputError(f"{exc.filename or path}:{exc.lineno}: {exc.msg}") from None
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    if entry is None:
        return None
    login, _account, secret = entry
    if not login or not secret:
        raise InputError(f"{path}: the entry for {host} needs both login and password")
    return Credentials(login, secret, f"{path} (machine {host})")


_ITEM = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\.)*")+')
_STARTS = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)(?:\s+(.*))?$", re.S)
_KEYVALUE = re.compile(r'^([A-Za-z0-9_-]+)\s*=\s*(.*)$', re.S)


def challenges(answer: Answer) -> list[tuple[str, dict[str, str]]]:
    """The ``WWW-Authenticate`` challenges of an answer: (scheme in lower case, parameters), in order."""
    found: list[tuple[str, dict[str, str]]] = []
    for value in answer.header_values("WWW-Authenticate"):
        for item in (i.strip() for i in _ITEM.findall(value)):
            if not item:
                continue
            start = None if _KEYVALUE.match(item) else _STARTS.match(item)
            if start:  # "Digest realm=..." or a scheme alone: a new challenge
                found.append((start.group(1).lower(), {}))
                item = (start.group(2) or "").strip()
                if not item:
                    continue
            pair = _KEYVALUE.match(item)
            if pair and found:
                raw = pair.group(2).strip()
                if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
                    raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
                found[-1][1][pair.group(1).lower()] = raw
    return found


_HASHES = {"md5": hashlib.md5, "md5-sess": hashlib.md5, "sha-256": hashlib.sha256, "sha-256-sess": hashlib.sha256}


def authorize(answer: Answer, creds: Credentials, method: str, path: str, url: str,
              count: int = 1) -> tuple[str, str]:
    """The ``Authorization`` header answering the server's challenge: digest when offered, else basic.

    ``count`` is the digest nonce count (the n-th request answering the same challenge)."""
    offered = challenges(answer)
    schemes = {scheme: params for scheme, params in reversed(offered)}
    if "digest" in schemes and schemes["digest"].get("algorithm", "MD5").lower() in _HASHES:
        return digest_authorization(schemes["digest"], creds, method, path, count=count), "digest"
    if "basic" in schemes:
        token = base64.b64encode(f"{creds.user}:{creds.password}".encode("utf-8")).decode("ascii")
        return f"Basic {token}", "basic"
    names = ", ".join(sorted({s for s, _p in offered})) or "none"
    raise EndpointError(f"{url}: HTTP 401 asks for an authentication scheme bmlkg does not speak ({names}); "
                        "bmlkg answers basic and digest (MD5, SHA-256)")


def digest_authorization(params: dict[str, str], creds: Credentials, method: str, path: str,
                         cnonce: str | None = None, count: int = 1) -> str:
    """RFC 7616 digest response for one request (``qop=auth`` when offered; ``count`` is the nonce count)."""
    algorithm = params.get("algorithm", "MD5")
    h = _HASHES[algorithm.lower()]

    def digest(text: str) -> str:
        return h(text.encode("utf-8")).hexdigest()

    realm, nonce = params.get("realm", ""), params.get("nonce", "")
    cnonce = cnonce or secrets.token_hex(16)
    nc = f"{count:08x}"
    ha1 = digest(f"{creds.user}:{realm}:{creds.password}")
    if algorithm.lower().endswith("-sess"):
        ha1 = digest(f"{ha1}:{nonce}:{cnonce}")
    ha2 = digest(f"{method}:{path}")
    qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    if "auth" in qops:
        response = digest(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    elif qops:
        raise EndpointError(f"digest authentication with qop={','.join(qops)} is not supported (only auth)")
    else:
        response = digest(f"{ha1}:{nonce}:{ha2}")

    def q(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    fields = [f"username={q(creds.user)}", f"realm={q(realm)}", f"nonce={q(nonce)}", f"uri={q(path)}",
              f"response={q(response)}", f"algorithm={algorithm}"]
    if "auth" in qops:
        fields += ["qop=auth", f"nc={nc}", f"cnonce={q(cnonce)}"]
    if "opaque" in params:
        fields.append(f"opaque={q(params['opaque'])}")
    return "Digest " + ", ".join(fields)


def _status_message(target: str, answer: Answer) -> str:
    """``URL: HTTP status reason: text`` with an HTML error page reduced to its text, on one line."""
    text = answer.body[:2000].decode("utf-8", "replace")
    if "html" in answer.content_type.lower() or text.lstrip().startswith("<"):
        text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
        text = re.sub(r"(?s)<[^>]*>", " ", text)
    detail = " ".join(text.split())[:300]
    return f"{target}: HTTP {answer.status} {answer.reason}" + (f": {detail}" if detail else "")


def _stale(answer: Answer) -> bool:
    return any(s == "digest" and p.get("stale", "").lower() == "true" for s, p in challenges(answer))


def _unauthorized(target: str, answer: Answer, creds: Credentials | None, scheme: str | None) -> str:
    offered = ", ".join(f"{s}" + (f" realm {p['realm']!r}" if "realm" in p else "") for s, p in challenges(answer))
    asks = f" ({offered})" if offered else ""
    host = urlsplit(target).hostname
    if creds is None:
        return (f"{target}: HTTP 401: the server asks for credentials{asks}; set {USER_ENV} and {PASSWORD_ENV}, "
                f"or add 'machine {host} login USER password PASSWORD' to ~/.netrc (or the file $NETRC names)")
    return (f"{target}: HTTP 401: the credentials of user {creds.user!r} from {creds.origin} were refused"
            + (f" ({scheme} authentication)" if scheme else asks))


# -- where the Graph Store is ---------------------------------------------------------------------
@dataclass(frozen=True)
class ServerKind:
    name: str              # "Oxigraph", "Fuseki", "Virtuoso"
    version: str           # as the server states it, or ""
    stores: tuple[str, ...]  # Graph Store URLs on this server (absolute)
    note: str = ""         # what else to know (default graph, permissions)


def _base(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def identify(url: str, timeout: float | None = None) -> ServerKind | None:
    """Which SPARQL server answers at ``url``'s host: from a GET of its root (``Server``, ``Fuseki-Request-Id``)."""
    base = _base(url)
    wait = min(IDENTIFY_TIMEOUT, timeout) if timeout else IDENTIFY_TIMEOUT
    try:
        answer = request("GET", base + "/", timeout=wait)
    except EndpointError:
        return None
    server = " ".join(answer.header_values("Server")).strip()
    if server.lower().startswith("oxigraph"):
        return ServerKind("Oxigraph", _version(server), (base + "/store",))
    if server.lower().startswith("virtuoso"):
        return ServerKind("Virtuoso", _version(server), (base + "/sparql-graph-crud", base + "/sparql-graph-crud-auth"),
                          "it has no default graph (give --graph IRI); /sparql-graph-crud needs "
                          "GRANT SPARQL_UPDATE TO \"SPARQL\", /sparql-graph-crud-auth digest credentials")
    if answer.header_values("Fuseki-Request-Id") or "fuseki" in server.lower():
        return ServerKind("Fuseki", _version(server), _fuseki_stores(base, wait))
    return None


def _version(server: str) -> str:
    match = re.search(r"[/(]\s*v?(\d[\w.+-]*)", server)
    return match.group(1) if match else ""


def _fuseki_stores(base: str, timeout: float) -> tuple[str, ...]:
    """Fuseki's datasets from its admin API (``/$/datasets``) when it answers; else the URL pattern."""
    try:
        answer = request("GET", base + "/$/datasets", timeout=timeout, headers={"Accept": "application/json"})
        if answer.status == 200:
            names = sorted(d["ds.name"] for d in json.loads(answer.body)["datasets"]
                           if isinstance(d.get("ds.name"), str))
            if names:
                return tuple(f"{base}/{name.strip('/')}/data" for name in names)
    except (EndpointError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return (base + "/DATASET/data",)


def _where(kind: ServerKind) -> str:
    version = f" {kind.version}" if kind.version else ""
    stores = " or ".join(kind.stores)
    note = f"; {kind.note}" if kind.note else ""
    return f"this is {kind.name}{version}: its Graph Store is {stores}{note}"


def root_message(url: str, kind: ServerKind | None) -> str:
    if kind is None:
        return (f"{url} is a server root, not a Graph Store URL: give the Graph Store URL with --endpoint "
                "(Oxigraph: /store, Fuseki: /DATASET/data, Virtuoso: /sparql-graph-crud)")
    return f"{url} is the server root, not a Graph Store URL; {_where(kind)} (bmlkg push --endpoint {kind.stores[0]})"


def _with_hint(message: str, url: str, target: str, timeout: float | None, answer: Answer | None = None) -> str:
    """``message`` plus where the Graph Store is, when the server is known and the URL is not its store."""
    kind = identify(url, timeout)
    if kind is None:
        return message
    given = url.split("?", 1)[0].rstrip("/")
    if given not in {s.rstrip("/") for s in kind.stores}:
        return f"{message}; {_where(kind)}"
    if kind.name == "Virtuoso" and target.endswith("?default"):
        return f"{message}; Virtuoso's Graph Store has no default graph: give --graph IRI"
    if kind.name == "Virtuoso" and answer is not None and answer.status == 403:
        return (f"{message}; grant Virtuoso's SPARQL user the right to update (isql: GRANT SPARQL_UPDATE TO "
                f"\"SPARQL\";) or push to {_base(url)}/sparql-graph-crud-auth with credentials")
    return message
