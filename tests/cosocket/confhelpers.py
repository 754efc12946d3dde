"""Writing and loading test confs for the conf parser tests."""
import pytest

from cosocket.server import conf
from cosocket.server.conf import ConfError


def write(prefix, text, name="conf/nginx.conf"):
    """Write `text` to prefix/name (directories made); its path."""
    path = prefix / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def load(prefix, text, extra=""):
    """conf.load() of `text` written as prefix/conf/nginx.conf."""
    write(prefix, text)
    return conf.load("conf/nginx.conf", str(prefix), extra)


def error(prefix, text, extra=""):
    """The ConfError message loading `text` raises."""
    with pytest.raises(ConfError) as info:
        load(prefix, text, extra)
    return str(info.value)
