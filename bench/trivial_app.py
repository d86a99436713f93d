"""The webhook bench's baseline app: one Falcon route that reads the body and answers JSON.

Served by `gunicorn 'bench.trivial_app:get_app()'` with the Procfile's web settings (see
bench/web.py), so the figure it gives is what the web tier costs with no work in it at all:
HTTP parsing, gunicorn's threads, Falcon's routing and a JSON answer.
"""

from __future__ import annotations

import falcon


class Echo:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.bounded_stream.read()
        resp.media = {"received": True, "bytes": len(body)}


def get_app() -> falcon.App:
    app = falcon.App()
    app.add_route("/echo", Echo())
    return app
