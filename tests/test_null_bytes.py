"""A NUL character in a request's query string or path gets a 400 with a message, from one
middleware (portal.security.NullCharacterMiddleware), on every database: PostgreSQL refuses
such strings in queries, which used to answer 500 on the search, the API and the downloads."""

import pytest

pytestmark = pytest.mark.django_db

MESSAGE = "null character"

URLS = [
    "/search/?q=traff%00icking",
    "/api/observations?metric=new-cases%00",
    "/api/observations?jurisdiction=%00MO",
    "/api/jurisdictions?kind=state%00",
    "/data/download/csv/?metric=x%00y",
    "/data/download/json/?source=%00",
    "/data/download/xlsx/?jurisdiction=MO&period_from=2019%00",
    "/api/observations?metric%00=cases",
    "/federal-prosecutions%00/",
]


@pytest.mark.parametrize("url", URLS)
def test_a_nul_character_is_a_400_with_a_message(client, url):
    response = client.get(url)
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert response["Content-Type"].startswith("application/json")
        assert MESSAGE in response.json()["detail"]
    else:
        assert MESSAGE in response.content.decode()
    assert "Permissions-Policy" in response  # the security headers are still added


@pytest.mark.parametrize(
    "url",
    ["/search/?q=trafficking", "/api/observations", "/data/download/csv/?jurisdiction=MO"],
)
def test_ordinary_requests_pass(client, url):
    assert client.get(url).status_code == 200
