import pytest
from axe_playwright_python.sync_playwright import Axe
pytestmark = pytest.mark.browser
def test_debug(page, live_server, public_pages):
    for vp in ({"width": 1280, "height": 800}, {"width": 360, "height": 740}):
        page.set_viewport_size(vp)
        for label, path, status in public_pages:
            page.goto(live_server.url + path)
            r = Axe().run(page, options={"resultTypes": ["violations"]})
            for v in r.response["violations"]:
                print(vp["width"], path, v["id"], v["impact"], v["tags"][:3], [n["target"] for n in v["nodes"][:3]])
