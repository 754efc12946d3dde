# Serves conf/html/index.html, the browser demo of /echo.
import os

from cosocket import ngx

_PAGE = os.path.join(ngx.config.prefix(), "conf", "html", "index.html")

with open(_PAGE, "rb") as f:
    body = f.read()
ngx.header["Content-Type"] = "text/html; charset=utf-8"
ngx.print(body)
