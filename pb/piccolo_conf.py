"""Piccolo's configuration module (PICCOLO_CONF=pb.piccolo_conf): the engine and the app registry.

``DB`` starts from the settings (PB_DATABASE_URL); ``pb.db.bind_engine`` replaces it when the app
or the tests choose another engine, so the Piccolo CLI, migrations and the app always agree.
"""

from piccolo.conf.apps import AppRegistry

from pb.db import make_engine
from pb.settings import get_settings

DB = make_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(apps=["pb.piccolo_app"])
