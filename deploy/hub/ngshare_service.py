"""Run ngshare (the exchange) as a hub-managed service, bound to the address of its service URL only.

ngshare 0.6.0 listens on ``0.0.0.0`` (``ngshare.main``: "Must listen on all interfaces for proxy"); on
one machine the proxy reaches it on loopback, so this wrapper binds the host of
``JUPYTERHUB_SERVICE_URL`` (``127.0.0.1`` here) and then runs ngshare's own ``main`` with the same
arguments. On Kubernetes (deploy/k8s/) ngshare runs in its own pod and needs no wrapper.

It runs in ngshare's own environment (``.venv-ngshare``, SQLAlchemy<2: with SQLAlchemy 2 ngshare 0.6.0
prints "Successfully released" and stores nothing, LibreTexts/ngshare#167), so it imports only ngshare
and tornado.

    .venv-ngshare/bin/python deploy/hub/ngshare_service.py --admins attnkit-admin \
        --database sqlite:////srv/ngshare/ngshare.db --storage /srv/ngshare/files/
"""
import os
import sys
from urllib.parse import urlparse

from tornado.httpserver import HTTPServer

__all__ = ["main"]


def main(argv: list[str]) -> None:
    host = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"]).hostname or "127.0.0.1"
    listen = HTTPServer.listen

    def listen_on_service_host(self, port, address=""):  # noqa: ARG001 (ngshare passes 0.0.0.0)
        return listen(self, port, host)

    HTTPServer.listen = listen_on_service_host
    from ngshare.ngshare import main as ngshare_main

    ngshare_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
