"""zhenshen-server: the joint review desk as an authenticated HTTP service.

``create_app(Settings(store_url=..., desks={"default": "cn.chengdu.gaoxin"}))`` is an ASGI app
(FastAPI) to run with uvicorn or mount in a host application; ``zhenshen serve`` runs it and
``zhenshen keys`` manages its API keys.
"""

from zhenshen_server.app import create_app
from zhenshen_server.auth import Principal
from zhenshen_server.settings import Settings

__all__ = ["Principal", "Settings", "create_app"]
