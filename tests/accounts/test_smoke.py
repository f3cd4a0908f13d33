from fastapi.testclient import TestClient

from tests.conftest import Cast, login


def test_owner_logs_in_and_sees_the_dashboard(client: TestClient, cast: Cast) -> None:
    login(client, cast.owner.user.email)
    page = client.get("/w/alpha/")
    assert page.status_code == 200
    assert "Alpha Coffee" in page.text
