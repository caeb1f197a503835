"""make run's demo pages: the sandbox platform serves the referred items' pages (http and https, any host) behind a
local egress proxy, and takes a page down when it answers `removed`; the desk's liveness fetch, through that proxy
and trusting the demo CA, sees 200 then 404."""

import pytest

from devtools.sandbox_pages import DemoPages, make_demo_ca
from liveness import fetching
from tests.devtools.test_sandbox_platform import api, deliver, entry, make_sandbox, payload, settle  # noqa: F401

URL = "https://www.tube.example/watch?v=demo1"


@pytest.fixture
def demo_pages(tmp_path, settings):
    ca_path, cert_path = make_demo_ca(tmp_path, ["tube.example", "www.tube.example"])
    pages = DemoPages(removed_urls=set(), cert_path=cert_path).start()
    settings.LIVENESS_PROXY, settings.LIVENESS_CA_BUNDLE = pages.proxy_url, str(ca_path)
    settings.LIVENESS_TIMEOUT_SECONDS = 5
    yield pages
    pages.stop()


def fetch(url: str):
    with fetching.build_client(2) as client:
        return fetching.fetch(client, url)


def test_pages_answer_through_the_proxy_until_taken_down(demo_pages):
    for url in (URL, "http://tube.example/watch?v=demo2"):
        answer = fetch(url)
        assert (answer.status_code, answer.error, answer.via_proxy) == (200, "", True)
        assert b"Sandbox page of" in answer.body
        demo_pages.removed_urls.add(url)
        assert fetch(url).status_code == 404


def test_the_sandbox_takes_down_the_pages_it_answers_removed(demo_pages, api, make_sandbox):  # noqa: F811
    sandbox = make_sandbox(api_url=api.url)
    demo_pages.removed_urls = sandbox.removed_urls  # as sandbox_platform --pages-proxy-port wires them
    referral = {**entry(51, api.url), "url": URL}
    assert fetch(URL).status_code == 200
    assert deliver(sandbox, payload([referral])).status_code == 200
    settle(sandbox, 0.5)  # acknowledged, then removed (the stand-in API answers 200)
    assert URL in sandbox.removed_urls
    assert fetch(URL).status_code == 404
