"""URL canonicalisation: one spelling per page.

The same article reaches us as ``HTTP://Example.com:80/a?utm_source=x#top``
and ``http://example.com/a``; both must map to one key, or the store keeps
two records. courlan does the heavy lifting (case, default ports, tracking
parameters, sorted query); we add what it leaves: fragments, a few more
tracking parameters, and a guard against ``rel=canonical`` tags that point
at a home page::

    >>> canonical_url("HTTP://Example.com:80/a/?utm_source=x&b=2&a=1#top")
    'http://example.com/a/?a=1&b=2'
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from courlan import normalize_url

# courlan removes utm_*, fbclid, gclid and similar; these are also seen on news sites.
_TRACKING = frozenset({
    "mc_cid", "mc_eid", "igshid", "_ga", "_gl", "ocid", "cmpid", "xtor", "at_medium",
    "at_campaign", "at_source", "ito", "smid", "sr_share", "icid", "ns_mchannel",
    "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "wt_mc", "dclid", "msclkid",
    "yclid", "spm", "share", "amp",
})
_TRACKING_PREFIXES = ("utm_", "at_", "pk_", "hsa_", "mtm_")


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) URL with a host: the only kind we fetch.

    >>> is_web_url("https://a.example/x"), is_web_url("/x"), is_web_url("ftp://a.example/")
    (True, False, False)
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def canonical_url(url: str) -> str:
    """Return the canonical spelling of an absolute http(s) URL.

    Raises ``ValueError`` for a URL that is not absolute http(s).
    """
    if not is_web_url(url):
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    parts = urlsplit(url.strip())
    try:
        normalised = normalize_url(urlunsplit(parts._replace(fragment="")))
    except (ValueError, AttributeError):
        normalised = urlunsplit(parts._replace(fragment=""))
    parts = urlsplit(normalised)
    query = urlencode(sorted(_keep_params(parts.query)), doseq=True)
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def _keep_params(query: str) -> list[tuple[str, str]]:
    return [
        (k, v)
        for k, v in parse_qsl(query, keep_blank_values=True)
        if k.lower() not in _TRACKING and not k.lower().startswith(_TRACKING_PREFIXES)
    ]


def declared_canonical(page_url: str, declared: str | None) -> str:
    """The canonical URL of a fetched page: its ``rel=canonical``/``og:url`` if usable.

    AMP and mobile copies declare the main article as canonical; we trust the
    declaration unless it points at a site's root while the page does not
    (a common template bug that would fold every article into one record)::

        >>> declared_canonical("https://a.example/amp/x", "/x")
        'https://a.example/x'
        >>> declared_canonical("https://a.example/news/x", "https://a.example/")
        'https://a.example/news/x'
    """
    page = canonical_url(page_url)
    if not declared:
        return page
    try:
        target = canonical_url(urljoin(page_url, declared.strip()))
    except ValueError:
        return page
    if urlsplit(target).path in ("", "/") and urlsplit(page).path not in ("", "/"):
        return page
    return target


_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")


def identity_key(url: str) -> str:
    """The key two spellings of one page share, for lookups only (not a fetchable URL).

    Beyond :func:`canonical_url`: scheme, ``www.``/``m.``/``amp.`` host prefixes,
    ``amp`` path segments and a trailing slash do not make another page::

        >>> identity_key("https://m.example.com/amp/news/x/")
        'example.com/news/x'
        >>> identity_key("http://www.example.com/news/x")
        'example.com/news/x'
    """
    parts = urlsplit(canonical_url(url))
    host = parts.hostname or ""
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and "." in host[len(prefix):]:
            host = host[len(prefix):]
            break
    netloc = f"{host}:{parts.port}" if parts.port else host
    path = "/".join(s for s in parts.path.split("/") if s.lower() != "amp").rstrip("/")
    return netloc + (path or "/") + (f"?{parts.query}" if parts.query else "")


def host_key(url: str) -> str:
    """``host[:port]`` of a URL, lower-case: the unit of politeness and of site learning."""
    return urlsplit(url).netloc.lower()
