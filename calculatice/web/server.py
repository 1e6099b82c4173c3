"""``calculatice serve``: Voilà, set up for a class of pupils on one machine.

The pupil page is published by Voilà with a preheated kernel pool sized to a
class, culling always on, no code and no traceback on pages, no template or
theme switch from the URL, and a page template that asks no third party for
anything. Our own HTTP handlers (health, home, the rally, the pupils' endpoint)
are added to the same server.

The pupil page's kernels play nothing themselves: they relay the player's
messages to ``/eleve/api`` on this server (:mod:`calculatice.web.pupil_api`),
which holds every pupil's session. The server draws a key at each start and
gives it, with the endpoint's address, to its kernels in their environment;
the endpoint refuses any request without it.
"""

from __future__ import annotations

import logging
import os
import resource
import secrets
from pathlib import Path
from typing import Any

import zmq
from tornado import web
from traitlets.config import Config
from voila.app import Voila
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

from calculatice.rally.handlers import rally_handlers
from calculatice.web.pupil_api import pupil_api_handlers
from calculatice.web.relay import relay_environment
from calculatice.web.settings import PUPIL_NOTEBOOK, ServeSettings
from calculatice.web.static import precompressed

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent
TEMPLATES = PACKAGE / "share"
ZMQ_SOCKETS = 16_384
"""ZeroMQ sockets allowed in the kernels' context: a few per kernel and per open page."""
PAGE_EXTENSIONS = [
    "@voila-dashboards/widgets-manager8",
    "@jupyter-widgets/jupyterlab-manager",
    "anywidget",
]
"""The only front-end extensions a page loads: the rest only weighs on pupils' pages."""


def voila_config(settings: ServeSettings) -> Config:
    """The Voilà and Jupyter configuration that the settings stand for."""
    config = Config()
    configuration = config.VoilaConfiguration
    configuration.template = "calculatice"
    configuration.allow_template_override = "NO"
    configuration.allow_theme_override = "NO"
    configuration.show_tracebacks = False
    configuration.strip_sources = True
    configuration.extension_allowlist = PAGE_EXTENSIONS
    configuration.preheat_kernel = settings.pool_size > 0
    configuration.default_pool_size = settings.pool_size

    config.VoilaKernelManager.fill_delay = settings.fill_delay
    config.VoilaKernelManager.kernel_pools_config = {
        "default": {"pool_size": 0},
        PUPIL_NOTEBOOK: {"pool_size": settings.pool_size},
    }
    # Only the pupil page is preheated; a teacher page gets a kernel on demand. Voilà
    # matches these patterns against each notebook's absolute path, not the relative one.
    config.VoilaKernelManager.preheat_denylist = [r"^(?!(?:.*/)?eleve\.ipynb$).*"]
    config.MappingKernelManager.cull_idle_timeout = settings.cull_idle_seconds
    config.MappingKernelManager.cull_interval = 60
    config.MappingKernelManager.cull_connected = False
    # Kernels started together collide on TCP ports; ipc sockets don't (VOILA.md).
    config.KernelManager.transport = "ipc"
    # Under load the executor waits longer than 4 s for a cell's output.
    config.VoilaExecutor.iopub_timeout = 60
    config.VoilaExecutor.cell_error_instruction = "Voir le journal du serveur."
    config.Voila.ip = settings.host
    config.Voila.port = settings.port
    config.Voila.port_retries = 0
    config.Voila.open_browser = False
    # A closing tab must be able to shut its kernel down (voila issue 1458); the pupil
    # page has no login and no action a forged cross-site request could abuse.
    config.Voila.tornado_settings = {"disable_check_xsrf": True}
    return config


class HomeHandler(web.RequestHandler):
    """``/``: straight to the pupil page, rather than a list of notebooks."""

    def get(self) -> None:
        self.redirect(f"{self.settings.get('base_url', '/')}voila/render/{PUPIL_NOTEBOOK}")


class HealthHandler(web.RequestHandler):
    """``/calculatice/health``: a cheap answer for load balancers and tests."""

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.finish({"status": "ok"})


class NoDelayKernelWebsocketHandler(VoilaKernelWebsocketHandler):
    """The kernel websocket, each reply sent at once.

    A reply comes as a few small frames written back to back (busy, the
    message, idle); with Nagle's algorithm on, tornado's default, the
    second one waits for the browser's delayed acknowledgement: about 40 ms
    added to every answer's feedback.
    """

    async def open(self, kernel_id: str) -> None:
        self.set_nodelay(True)
        await super().open(kernel_id)


class CalculaticeVoila(Voila):
    """Voilà with calcul@TICE's own handlers in front of its own."""

    name = "calculatice-serve"

    relay_key = secrets.token_urlsafe(32)
    """Opens ``/eleve/api``: drawn at each start, known only to this server and its kernels."""

    def init_settings(self) -> dict[str, Any]:
        # The kernel manager made here copies the environment for the pool's kernels:
        # the pupils' endpoint's address and key must be in it first.
        server_url = self.server_url or self.base_url
        os.environ.update(relay_environment(self.ip, self.port, server_url, self.relay_key))
        # Gzip, which tornado only sets up when the application is built (not from
        # ``tornado_settings``, applied after): the page's JavaScript and CSS weigh
        # 5.2 MB as they are.
        settings = {**super().init_settings(), "compress_response": True}
        give_room_for_pages(self.kernel_manager)
        return settings

    def init_handlers(self) -> list[Any]:
        base = self.server_url.rstrip("/")
        ours = [
            (rf"{base}/", HomeHandler),
            (rf"{base}/calculatice/health", HealthHandler),
            *rally_handlers(base),
            *pupil_api_handlers(base, self.relay_key),
        ]
        theirs = [
            (route[0], NoDelayKernelWebsocketHandler, *route[2:])
            if route[1] is VoilaKernelWebsocketHandler
            else route
            for route in super().init_handlers()
        ]
        # Every static file (Voilà's, the extensions', the rally page's) goes out gzipped.
        return [(route[0], precompressed(route[1]), *route[2:]) for route in ours + theirs]


def give_room_for_pages(kernel_manager: Any) -> None:
    """Let the kernels' ZeroMQ sockets outnumber libzmq's default of 1,023 per context.

    Every kernel of the server, and every page connected to one, holds
    sockets in the kernel manager's one context: past about 155 open pupil
    pages with a pool of 200, a new page's websocket was refused with "Too
    many open files" (``benchmarks/pupil_capacity.py``). The limit must be
    set before the context's first socket: the manager's context is made
    here, still empty, and given the limit at once. The process's own file
    limit is raised to its ceiling to match.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        ceiling = ZMQ_SOCKETS if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, ceiling), hard))
    if kernel_manager.trait_has_value("context"):
        log.warning("The kernels' ZeroMQ context already exists: it keeps its socket limit")
        return
    kernel_manager.context.set(zmq.MAX_SOCKETS, ZMQ_SOCKETS)


def prepare_environment(settings: ServeSettings) -> None:
    """Point Jupyter at our templates and a private state folder, before Voilà starts.

    Kernels inherit this environment, so the pupil page finds the same database
    and bank as the command.
    """
    state = settings.state_dir.resolve()
    for sub in ("runtime", "config", "data", "ipython"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    os.environ["JUPYTER_RUNTIME_DIR"] = str(state / "runtime")
    os.environ["JUPYTER_CONFIG_DIR"] = str(state / "config")
    os.environ["JUPYTER_DATA_DIR"] = str(state / "data")
    os.environ["IPYTHONDIR"] = str(state / "ipython")
    existing = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(TEMPLATES), existing]))


def trust_dashboards(folder: Path) -> list[Path]:
    """Sign the pages we publish in the server's own signature store; the ones signed now.

    They are this project's own notebooks. Unsigned, Jupyter warns « not
    trusted » for every kernel the pool starts: thirty lines that bury the
    ones saying where the server listens. The store and its secret are in the
    private state folder (:func:`prepare_environment`), so nothing else is
    trusted by this.
    """
    import nbformat
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary()
    signed = []
    for path in sorted(folder.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        if not notary.check_signature(notebook):
            notary.sign(notebook)
            signed.append(path)
    return signed


def serve(settings: ServeSettings) -> None:
    """Start the server and block until it is stopped (SIGTERM or Ctrl-C)."""
    prepare_environment(settings)
    trust_dashboards(settings.dashboards.resolve())
    app = CalculaticeVoila(config=voila_config(settings))
    app.initialize([str(settings.dashboards.resolve())])
    log.info(
        "Serving %s on http://%s:%d/ with %d preheated kernels",
        settings.dashboards,
        settings.host,
        settings.port,
        settings.pool_size,
    )
    app.start()
