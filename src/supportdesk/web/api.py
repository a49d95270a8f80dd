"""Pages: the widget loader (``/widget.js``), the widget iframe (``/widget``), its static
files (``/static/...``) and, in demo mode only, a stand-in host product (``/demo/host``).

Every page gets a Content-Security-Policy without inline scripts: all JavaScript is in
files under ``static/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from supportdesk.core.clock import utcnow
from supportdesk.core.errors import DomainError
from supportdesk.core.i18n import normalize_locale
from supportdesk.demo import DEMO_CUSTOMERS
from supportdesk.deps import SvcDep
from supportdesk.identity.tokens import mint_identity_token
from supportdesk.web.i18n import catalogue, page_strings

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

router = APIRouter(tags=["pages"], include_in_schema=False)


def _csp(request: Request, frame_ancestors: str) -> str:
    host = request.headers.get("host", "")
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            # blob: lets the pages show attachments fetched with fetch() (the widget
            # authenticates with a header, so it cannot point <img src> at the API).
            "img-src 'self' data: blob:",
            "media-src 'self' blob:",
            "font-src 'self'",
            f"connect-src 'self' ws://{host} wss://{host}",
            "frame-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


def _page(
    request: Request, name: str, context: Mapping[str, object], frame_ancestors: str
) -> Response:
    response = templates.TemplateResponse(request, name, dict(context))
    response.headers["Content-Security-Policy"] = _csp(request, frame_ancestors)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/widget", response_class=HTMLResponse)
async def widget(request: Request, svc: SvcDep) -> Response:
    """The widget itself, loaded in an iframe by ``/widget.js``; the token arrives by
    ``postMessage``, never in the URL."""
    strings = page_strings("widget")
    return _page(request, "widget.html", {"strings": strings}, svc.settings.widget_frame_ancestors)


@router.get("/widget.js")
async def widget_loader() -> FileResponse:
    return FileResponse(
        STATIC / "loader.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/static/{name}")
async def static(name: str) -> FileResponse:
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise DomainError("not_found", 404)
    media = {".js": "text/javascript", ".css": "text/css"}.get(path.suffix)
    if media is None:
        raise DomainError("not_found", 404)
    return FileResponse(
        path,
        media_type=media,
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/console", response_class=HTMLResponse)
async def console(request: Request) -> Response:
    """The agent console. The page itself is public: its script signs in with the staff
    cookie session and reads everything through the API."""
    strings = page_strings("staff", "console", "replies")
    return _page(request, "console.html", {"strings": strings}, "'none'")


@router.get("/supervisor", response_class=HTMLResponse)
async def supervisor(request: Request) -> Response:
    """The supervisor page: live queues and agents, reports and the audit log. Like the
    console, the page is a shell; its script signs in, and shows non-supervisors a
    refusal (the reports API refuses them with 403 anyway)."""
    strings = page_strings("staff", "supervisor")
    return _page(request, "supervisor.html", {"strings": strings}, "'none'")


@router.get("/supervisor/replies", response_class=HTMLResponse)
async def saved_replies(request: Request) -> Response:
    """Saved replies for supervisors: list, filter, create, edit, delete, and a practice
    box with the composer's ``/`` picker. A shell like the console; its script shows
    other agents a refusal (the API refuses their changes with 403 anyway)."""
    strings = page_strings("staff", "replies")
    return _page(request, "replies.html", {"strings": strings}, "'none'")


@router.get("/supervisor/kb", response_class=HTMLResponse)
async def kb_editor(request: Request) -> Response:
    """The help-article editor for admins and supervisors: the list with drafts, create
    and edit with a live preview, version history. A shell like the console; its script
    shows other agents a refusal (the API refuses them with 403 anyway)."""
    strings = page_strings("staff", "kb")
    return _page(request, "kb.html", {"strings": strings}, "'none'")


@router.get("/console/partners", response_class=HTMLResponse)
async def partners_admin(request: Request) -> Response:
    """The partner directory for admins: list, add and edit, deactivate, CSV import. A
    shell like the console; its script shows other agents a refusal (the admin API
    refuses them with 403 anyway)."""
    strings = page_strings("staff", "partners")
    return _page(request, "partners.html", {"strings": strings}, "'none'")


@router.get("/board", response_class=HTMLResponse)
async def board(request: Request) -> Response:
    """The product board for staff with the product role: ranked topics, their wishes and
    bugs and internal discussion, accept/decline/merge, and the request queue. A shell
    like the console; its script shows other staff a refusal (the API refuses them too)."""
    strings = page_strings("staff", "board")
    return _page(request, "board.html", {"strings": strings}, "'none'")


@router.get("/demo/host", response_class=HTMLResponse)
async def demo_host(request: Request, svc: SvcDep, user: int = 0) -> Response:
    """A stand-in host product, with a switch for the demo user (demo mode only)."""
    settings = svc.settings
    if not settings.demo or not 0 <= user < len(DEMO_CUSTOMERS):
        raise DomainError("not_found", 404)
    label, portal, external_user, role, plan, locale_code, name = DEMO_CUSTOMERS[user]
    locale = normalize_locale(locale_code)
    token = mint_identity_token(
        settings,
        portal=portal,
        user=external_user,
        role=role,
        plan=plan,
        locale=locale,
        name=name,
        now=utcnow(),
    )
    strings = catalogue("demo", locale)
    users = [
        {
            "index": i,
            "label": f"{strings[f'demo.user.{i}']} — {c[6]} ({c[4]})",
            "selected": i == user,
        }
        for i, c in enumerate(DEMO_CUSTOMERS)
    ]
    context = {
        "locale": locale,
        "s": {code.removeprefix("demo."): text for code, text in strings.items()},
        "articles": [text for code, text in strings.items() if code.startswith("demo.article.")],
        "users": users,
        "current": label,
        "token": token,
    }
    return _page(request, "demo_host.html", context, "'none'")
