"""An authenticated client of a CRM's REST API: paging, retries and errors, built on dlt's REST client.

:class:`CrmClient` is what every connector fetches with, and what a write-back (``hitrate score push``) is
meant to write with: one client per CRM, made by :func:`hitrate.sync.connect` from the credentials, with

- **paging** by dlt's paginators (:meth:`CrmClient.pages` takes one: HubSpot's ``paging.next.after``, Pipedrive's
  ``additional_data.next_cursor``, Salesforce's ``nextRecordsUrl``);
- **retries** by dlt's ``requests`` helper (tenacity underneath): HTTP 429 waits what ``Retry-After`` says,
  5xx, dropped connections and timeouts wait ``backoff``, ``2 × backoff``, ``4 × backoff``... (capped at
  ``max_wait``), up to ``attempts`` tries in all (:class:`RetryPolicy`);
- **errors** as one line naming the CRM and what to do (:class:`~hitrate.errors.SyncError`): an expired or
  invalid token (401), a missing permission (403), rate limits that did not ease (429), a server that kept
  failing (5xx), a timeout, a server that cannot be reached, an answer that is not the API's JSON.
  No message holds a credential, a URL's query or a response body;
- **credentials** sent in headers only (never in a URL), by an auth object whose ``repr`` hides them, so
  neither dlt's request log nor a traceback can show them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from requests.auth import AuthBase

from hitrate.errors import SyncError
from hitrate.i18n import Message, Param

if TYPE_CHECKING:
    import requests
    from dlt.sources.helpers.rest_client.paginators import BasePaginator

    from hitrate.sync.credentials import Secret

#: How each CRM is named in messages.
LABELS = {"hubspot": "HubSpot", "pipedrive": "Pipedrive", "salesforce": "Salesforce"}


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a client tries: ``attempts`` tries per request in all, waits of ``backoff`` seconds doubling per
    try up to ``max_wait`` after a 5xx, a dropped connection or a timeout (a 429 waits its ``Retry-After``), and
    ``timeout`` seconds for each answer. The defaults suit the vendors' guidance; tests make the waits tiny."""

    attempts: int = 5
    backoff: float = 1.0
    max_wait: float = 60.0
    timeout: float = 60.0


class HeaderAuth(AuthBase):
    """A ``requests`` auth that sets one header from a :class:`~hitrate.sync.credentials.Secret` as the request
    is sent (so the request as logged before carries no credential)."""

    def __init__(self, header: str, secret: Secret, prefix: str = "") -> None:
        self.header = header
        self.secret = secret
        self.prefix = prefix

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self.header] = self.prefix + self.secret.reveal()
        return request

    def __repr__(self) -> str:
        return f"HeaderAuth({self.header!r}, ***)"


class CrmClient:
    """An authenticated REST client of one CRM (``crm``: ``hubspot``, ``pipedrive`` or ``salesforce``) at
    ``base_url``, with ``retry``'s behaviour; ``secrets`` are the values no message may hold (a last guard: the
    messages are made without them); ``retry_on``: the statuses retried (default 429 and every 5xx).
    ``requests`` counts the requests sent (retries included), ``records`` the records read from pages;
    ``on_page(records)``, when set, is told the records read so far after each page (a progress display)."""

    def __init__(
        self,
        crm: str,
        base_url: str,
        auth: HeaderAuth | None,
        retry: RetryPolicy | None = None,
        secrets: Sequence[str] = (),
        retry_on: Sequence[int] | None = None,
    ) -> None:
        try:
            from dlt.sources.helpers.requests import Client
            from dlt.sources.helpers.rest_client.client import RESTClient
        except ImportError as exc:
            from hitrate.errors import MissingDependencyError

            raise MissingDependencyError("sync.needs_crm_extra", error=str(exc)) from None
        self.crm = crm
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.requests = 0
        self.records = 0
        self.on_page: Callable[[int], None] | None = None
        self._secrets = [s for s in secrets if len(s) >= 8]  # a shorter one would match ordinary words
        http = Client(
            request_timeout=self.retry.timeout,
            raise_for_status=False,
            status_codes=tuple(retry_on) if retry_on is not None else (429, *range(500, 600)),
            request_max_attempts=max(1, self.retry.attempts),
            request_backoff_factor=self.retry.backoff,
            request_max_retry_delay=self.retry.max_wait,
            respect_retry_after_header=True,
        )
        self.session = http.session
        counted = _CountingAdapter(self)
        self.session.mount("http://", counted)
        self.session.mount("https://", counted)
        self._rest = RESTClient(base_url=self.base_url, auth=auth, session=self.session)

    @property
    def label(self) -> str:
        """The CRM's name as people write it (``HubSpot``)."""
        return LABELS.get(self.crm, self.crm)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        auth: Any = None,
    ) -> Any:
        """One request (retried as :class:`RetryPolicy` says); the answer's JSON, or a
        :class:`~hitrate.errors.SyncError` naming the CRM and what to do."""
        with self.errors(path):
            kwargs: dict[str, Any] = {"params": params, "json": json, "data": data}
            if auth is not None:
                kwargs["auth"] = auth
            response = self._rest.request(path, method=method, **kwargs)  # type: ignore[arg-type]
            response.raise_for_status()
            return response.json() if response.content else None

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """``GET path``: its JSON."""
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None) -> Any:
        """``POST path`` with a JSON body: the answer's JSON."""
        return self.request("POST", path, json=json)

    def patch(self, path: str, json: Any = None) -> Any:
        """``PATCH path`` with a JSON body (a write-back's update): the answer's JSON."""
        return self.request("PATCH", path, json=json)

    def send_secret(self, path: str, *, data: Any, headers: dict[str, str] | None = None) -> requests.Response:
        """``POST path`` with a body that holds credentials (a sign-in), straight through the session: dlt's
        request log, which writes bodies at debug level, never sees it. The response as it came (its status is
        the caller's to read); transport failures as :meth:`errors` says."""
        with self.errors(path):
            return self.session.post(self.base_url + path, data=data, headers=headers or {}, timeout=self.retry.timeout)

    def pages(
        self,
        path: str,
        *,
        paginator: BasePaginator,
        data_selector: str,
        method: str = "GET",
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """The records at ``data_selector`` (a JSON path) of each page, following ``paginator`` until the last
        page; each page is retried as :class:`RetryPolicy` says."""
        with self.errors(path):
            for page in self._rest.paginate(
                path,
                method=method,  # type: ignore[arg-type]
                params=params,
                json=json,
                paginator=paginator,
                data_selector=data_selector,
            ):
                records = list(page)
                self.records += len(records)
                if self.on_page is not None:
                    self.on_page(self.records)
                yield records

    @contextlib.contextmanager
    def errors(self, path: str) -> Iterator[None]:
        """Turn what ``requests`` and dlt raise into a :class:`~hitrate.errors.SyncError` (no traceback, no
        credential, no URL query); the chain is cut so no earlier text rides along."""
        try:
            yield
        except SyncError:
            raise
        except Exception as exc:
            raise self._guarded(self._translated(exc, path)) from None

    def _translated(self, exc: Exception, path: str) -> Exception:
        """The :class:`~hitrate.errors.SyncError` for what ``requests`` or dlt raised; anything else as it is."""
        import requests

        if isinstance(exc, requests.HTTPError):
            return self._http_error(exc.response.status_code if exc.response is not None else 0, path)
        if isinstance(exc, requests.Timeout):
            return SyncError(
                "sync.timeout",
                crm=self.label,
                seconds=self.retry.timeout,
                tries=self.retry.attempts,
                param=Param("timeout"),
            )
        if isinstance(exc, requests.RequestException):  # a refused or dropped connection, a bad URL
            return self._unreachable()
        if isinstance(exc, ValueError | KeyError | TypeError):  # not JSON, or not the API's shape
            return SyncError("sync.bad_response", crm=self.label, path=_path_only(path), param=Param("api_base"))
        return exc

    def _guarded(self, error: Exception) -> Exception:
        """The last guard: an error whose text would hold one of the credentials is replaced by one that says
        only that it is not shown (the messages are made without them; this catches what no one foresaw)."""
        text = f"{error} {getattr(error, 'params', '')}"
        if any(secret in text for secret in self._secrets):
            return SyncError("sync.hidden", crm=self.label)
        return error

    def _http_error(self, status: int, path: str) -> SyncError:
        """The message for an HTTP error status that retries did not cure."""
        if status == 401:
            return SyncError("sync.unauthorized", crm=self.label, variables=_variables(self.crm))
        if status == 403:
            return SyncError("sync.forbidden", crm=self.label, path=_path_only(path))
        if status == 404:
            return SyncError(
                "sync.not_found", crm=self.label, path=_path_only(path), base=self._host(), param=Param("api_base")
            )
        if status == 429:
            return SyncError("sync.rate_limited", crm=self.label, tries=self.retry.attempts)
        if status >= 500:
            return SyncError("sync.server_error", crm=self.label, status=status, tries=self.retry.attempts)
        return SyncError("sync.refused", crm=self.label, status=status, path=_path_only(path))

    def _unreachable(self) -> SyncError:
        return SyncError(
            "sync.unreachable", crm=self.label, host=self._host(), tries=self.retry.attempts, param=Param("api_base")
        )

    def _host(self) -> str:
        parsed = urlparse(self.base_url)
        return f"{parsed.scheme}://{parsed.netloc}" if parsed.netloc else self.base_url


def _CountingAdapter(client: CrmClient) -> Any:
    """A ``requests`` transport adapter that counts each request it sends (every retry too) on ``client``."""
    from requests.adapters import HTTPAdapter

    class CountingAdapter(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            client.requests += 1
            return super().send(request, *args, **kwargs)

    return CountingAdapter()


def _path_only(path: str) -> str:
    """A path or URL without its query (which may hold a search or a cursor)."""
    return urlparse(path).path or path


def _variables(crm: str) -> str | Message:
    """The environment variables that hold ``crm``'s credentials, for a message."""
    if crm == "salesforce":
        return Message("sync.salesforce_variables")
    return f"HITRATE_{crm.upper()}_TOKEN"
